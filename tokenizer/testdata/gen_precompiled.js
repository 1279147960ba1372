// gen_precompiled.js makes the Precompiled normalizer's parity fixture,
// testdata/precompiled_ref.json.gz: tokenizer.json files with a
// SentencePiece precompiled_charsmap, and what the Rust Hugging Face
// tokenizers library (npm @anush008/tokenizers@0.6.0, tokenizers 0.22.2,
// spm_precompiled 0.1.4) makes of a mixed corpus with them: the normalized
// string (Normalizer.normalizeString), and full encodings (ids, tokens,
// character offsets, decode). Nothing here is computed by the Go package.
//
// Two charsmaps:
//   - nmt_nfkc: SentencePiece's default normalization rule (NFKC plus
//     SentencePiece's control/space rules), the charsmap of T5, ALBERT,
//     XLM-RoBERTa, mBART. It is the file src/nmt_nfkc.bin of
//     github.com/huggingface/spm_precompiled (Apache-2.0, built by
//     SentencePiece, Apache-2.0), committed gzipped as
//     testdata/nmt_nfkc.charsmap.gz.
//   - probe: a small charsmap built here (Darts-clone double-array layout)
//     with edge cases: multi-character keys, keys that are prefixes of
//     keys, removals, expansions, values inside other strings, a value at
//     the end of the string table, and identity entries that show where
//     the library's grapheme clusters end.
//
// Run from the repository root:
//   NODE_PATH=/path/to/node_modules node tokenizer/testdata/gen_precompiled.js [nmt_nfkc.bin]
// (without the argument the committed testdata/nmt_nfkc.charsmap.gz is used).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const tk = require('@anush008/tokenizers');

const OUT = __dirname;

// ---------- charsmaps ----------

function nmtNfkc() {
  const arg = process.argv[2];
  if (arg) {
    const b = fs.readFileSync(arg);
    fs.writeFileSync(path.join(OUT, 'nmt_nfkc.charsmap.gz'), zlib.gzipSync(b, { level: 9 }));
    return b;
  }
  return zlib.gunzipSync(fs.readFileSync(path.join(OUT, 'nmt_nfkc.charsmap.gz')));
}

// buildCharsmap lays out a double-array trie the way Darts-clone's units
// read (label in bits 0-7, has-leaf bit 8, offset from bit 10, value units
// with bit 31) and appends the string table. entries: [key, value offset].
function buildCharsmap(entries, strs) {
  const root = { kids: new Map(), value: undefined };
  for (const [key, v] of entries) {
    let n = root;
    for (const c of Buffer.from(key, 'utf8')) {
      if (!n.kids.has(c)) n.kids.set(c, { kids: new Map(), value: undefined });
      n = n.kids.get(c);
    }
    n.value = v;
  }
  const units = [];
  const used = [];
  const bases = new Set();
  const enc = off => {
    if (off < (1 << 21)) return off << 10;
    throw new Error('offset too large');
  };
  used[0] = true;
  const place = (node, pos, label) => {
    const labels = [...node.kids.keys()].sort((a, b) => a - b);
    if (node.value !== undefined) labels.unshift(0);
    let base = 1;
    for (;; base++) {
      if (bases.has(base) || (pos ^ base) >= (1 << 21)) continue;
      if (labels.every(l => !used[base ^ l])) break;
    }
    bases.add(base);
    for (const l of labels) used[base ^ l] = true;
    units[pos] = (enc(pos ^ base) | (node.value !== undefined ? 1 << 8 : 0) | label) >>> 0;
    if (node.value !== undefined) units[base] = ((1 << 31) | node.value) >>> 0;
    for (const [c, kid] of node.kids) place(kid, base ^ c, c);
  };
  place(root, 0, 0);
  // As Darts-clone, whole blocks of 256 units: every base ^ byte a lookup
  // can reach is inside the array.
  let n = units.length;
  for (const b of bases) n = Math.max(n, (b | 255) + 1);
  n = Math.ceil(n / 256) * 256;
  const b = Buffer.alloc(4 + 4 * n);
  b.writeUInt32LE(4 * n, 0);
  for (let i = 0; i < n; i++) b.writeUInt32LE(units[i] || 0, 4 + 4 * i);
  return Buffer.concat([b, strs]);
}

function probe() {
  // String table: each replacement NUL-terminated; some values point
  // inside other strings (as SentencePiece shares suffixes).
  const parts = [];
  const at = {};
  let off = 0;
  for (const s of ['a', 'E', 'X', 'Y', 'Z', '', 'www', 'fi', 'TM', '\u0301', 'ga', 'G', 'A', 'F', ':+1:', '+', '<3', 'K', '_',
    'ka', '"', '\u30AC', 'P', '\u00B6', 'R', 'abc', '\u00DF', ' ', '  x  ', 'C', '!!']) {
    at[s] = off;
    const b = Buffer.from(s + '\0', 'utf8');
    parts.push(b);
    off += b.length;
  }
  const tail = Buffer.from('end', 'utf8'); // not NUL-terminated: runs to the end
  const strs = Buffer.concat([...parts, tail]);
  const entries = [
    ['a', at.a], ['e', at.E], ['ab', at.X], ['x\u0301', at.Y], ['x\u0301\u0302', at.Z], ['q', at['']], ['\u0301', at['']],
    ['w', at.www], ['\uFB01', at.fi], ['\u2122', at.TM], ['\u001E', at['']], ['k', at['\u0301']], ['\uAC00', at.ga],
    ['\u1100', at.G], ['\u1161', at.A], ['\u{1F1EB}', at.F], ['\u{1F44D}', at[':+1:']], ['\u200D', at['+']], ['\u2764', at['<3']],
    ['\u0915', at.K], ['\u094D', at._], ['\uFF76', at.ka], ['\uFF9E', at['"']], ['\uFF76\uFF9E', at['\u30AC']], ['\u0600', at.P],
    ['\r\n', at['\u00B6']], ['\r', at.R], ['y', at.abc + 1], ['z', strs.length], ['t', off], ['\u1E9E', at['\u00DF']],
    ['\u3000', at[' ']], ['\u00A0', at['  x  ']], ['s', at.E], ['\u0308', at.a], ['n\u0303', at['']], ['\u{1F3FD}', at.K],
    ['\u0E49', at['\u0301']], ['\u0627\u0653', at.A], ['\u00A9', at.C], ['\u203C', at['!!']],
  ];
  return buildCharsmap(entries, strs);
}

// ---------- inputs ----------

// Inputs are byte strings; the Rust library sees every invalid byte as
// U+FFFD, as the Go package documents.
function rustText(buf) {
  let text = '';
  let i = 0;
  while (i < buf.length) {
    const c = buf[i];
    let n = 0, cp = 0, min = 0;
    if (c < 0x80) { n = 1; cp = c; } else if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; } else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; } else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
    let ok = n > 0 && i + n <= buf.length;
    for (let k = 1; ok && k < n; k++) { const x = buf[i + k]; if ((x & 0xC0) !== 0x80) ok = false; else cp = (cp << 6) | (x & 0x3F); }
    if (ok && n > 1 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) { text += String.fromCodePoint(cp); i += n; } else { text += '\uFFFD'; i += 1; }
  }
  return text;
}
function inField(buf) {
  if (Buffer.from(rustText(buf), 'utf8').equals(buf)) return { in: buf.toString('utf8') };
  return { in_hex: buf.toString('hex') };
}

const fixed = [
  'Hello, world! plain ASCII text', 'ＡＢＣ ｆｕｌｌｗｉｄｔｈ １２３ ！？', 'ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ ligatures', '① ② ⑳ ⒜ ㈱ ㍻ ℃ ℉ № ™ ℡ ½ ¼ ¾',
  'e\u0301 cafe\u0301 café naïve Å Å', 'Z\u0351\u0344\u0300a\u0310l\u0353go̸', '\u0301\u0302 leading marks', 'x\u0301 x\u0301\u0302 x\u0302\u0301',
  '中文字符测试 日本語のテキスト 한국어 텍스트', 'ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟ ｱｲｳｴｵ ｶ ﾞ', '\u1100\u1161\u11A8 \u1100\u1161 가 각 \u110B\u1175', 'ᄀᄀᄀ각ᆨᆨ',
  '👨‍👩‍👧‍👦 family 👍🏽 🇫🇷🇩🇪 flags ❤️ 🥰🫠', '🏳️‍🌈🏴‍☠️ 👍\u200D👍 \u200D👍', '🇫🇫🇫 🇫', 'a\u0000b\u0007c\u200Bd\uFEFFe\u00ADf\u001Eg',
  '\t\ttabs\tand\nnewlines\n\n\r\n', 'a    b     c', '   leading and trailing   ', '\u3000ideographic\u3000space\u00A0nbsp\u2003em',
  'ภาษาไทยไม่มีช่องว่าง', 'เขาไม่ได้พูดสักคำ', 'ड़ी दुख', 'क्षत्रिय क्\u200Dक', 'क्क\u0301 क\u094D\u0915\u093C', 'آپ \u0627\u0653 مرحبا بالعالم',
  'שלום עולם \u200Frtl\u200E', '\u0600\u0661\u0662 \u0600a', 'İstanbul ΣΊΣΥΦΟΣ straße ẞ ǅ', '𝔾𝕠𝕠𝕘𝕝𝕖 𝐁𝐨𝐥𝐝 ℌ ℍ',
  'Ⅻ ⅻ ㎏ ㎞ ㏄ ㌔', '™\u001Eg ™ \u001E', 'qqq wq qw aq a\u0301 k\u0301 kk', 'e\u0301\u0301 a\u0308 s\u0308 n\u0303 n\u0303\u0303',
  'ab abc yz zt ty', '\r\n\r\r\n\n\r', '\uFFFD\uFFFE\uFFFF', '\u{E0001}\u{E0041}tags', '\u2028\u2029\u0085\u180E',
  'func main() {\n\tfmt.Println("hi")\n}', 'https://example.com/path?q=1&b=2#frag', '∑∫√∞≠≤ αβγ Ωmega Привет мир',
  '\u0E01\u0E49 \u0E01\u0E49\u0E49 \u0E49', 'a\u0903 a\u0E33 e\u0903 \u0E33 \u0E04\u0E33',
  'a\u200D\u00A9 a\u200D\u203C \u00A9\u200D\u00A9 \u203C\u200D\u00A9 \u00A9\u0301\u200D\u00A9 \u00A9\u0302\u200D\u00A9',
  '\u0915\u094D\u0915\u0302 \u0915\u094D\u200D\u0915\u0302 \u0915\u094D\u094D\u0915\u0302 \u0915\u0301\u094D\u0915\u0302 \u0915\u0302\u0915\u0302',
  '\u0600\u0600a \u0600\u0301 \u08E2a \u0600\r\n \u0600 ', 'a'.repeat(20) + '\u0301', ' '.repeat(30) + 'x', '',
].map(s => Buffer.from(s, 'utf8'));
const invalid = [
  Buffer.from([0xff, 0x61, 0xc3, 0x62, 0xe2, 0x82, 0x63, 0xf0, 0x9f, 0x98, 0x20, 0xed, 0xa0, 0x80, 0x64]),
  Buffer.concat([Buffer.from('ok '), Buffer.from([0xc0, 0xaf, 0x80, 0x80]), Buffer.from(' x\u0301')]),
];

// Random strings over troublesome pieces (seeded, fixed).
function randomInputs(n) {
  let seed = 4242;
  const rnd = k => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % k; };
  const pieces = ['a', 'b', 'e', 'k', 'n', 'q', 's', 't', 'w', 'x', 'y', 'z', 'Hello', ' ', ' ', '  ', '\t', '\n', '\r', '\r\n',
    '\u00A0', '\u3000', '\u2003', '\u200B', '\u200D', '\uFEFF', '\u00AD', '\u001E', '\u0000', '\u0007', '\u007F', '\u0085',
    '\u0301', '\u0302', '\u0308', '\u0303', '\u093C', '\u094D', '\u0915', '\u0924', '\u0E49', '\u0E01', '\u0627', '\u0653', '\u0600',
    'ﬁ', '™', '½', '①', 'Ａ', 'ｆ', '３', 'ｶ', 'ﾞ', 'ﾟ', '\u1100', '\u1161', '\u11A8', '가', '각', '中', 'の', '𝔾', 'ẞ', 'İ', 'ǅ',
    '😀', '👍', '\u{1F3FD}', '\uFE0F', '❤', '\u0903', '\u0E33', '\u00A9', '\u203C', '\u0302', '\u08E2', '\u{1F1EB}', '\u{1F1F7}', '\u{1F3F3}', '\uFFFD', '▁', '.', ',', '!', '\u0651', 'Ⅻ', '㎏'];
  const out = [];
  for (let i = 0; i < n; i++) {
    const parts = [];
    const k = 1 + rnd(12);
    for (let j = 0; j < k; j++) parts.push(Buffer.from(pieces[rnd(pieces.length)], 'utf8'));
    if (rnd(10) === 0) parts.splice(rnd(parts.length + 1), 0, Buffer.from([[0xff], [0x80], [0xc3], [0xe2, 0x82]][rnd(4)]));
    out.push(Buffer.concat(parts));
  }
  return out;
}
const inputs = [...fixed, ...invalid, ...randomInputs(400)];

// ---------- tokenizers ----------

const base = (normalizer, pre, model, post, decoder, added) => ({
  version: '1.0', truncation: null, padding: null, added_tokens: added || [],
  normalizer, pre_tokenizer: pre, post_processor: post || null, decoder: decoder || null, model,
});
// chars: every normalized character is its own token (Split on any
// character), so tokens and offsets show the normalized string and its
// alignment to the input character by character.
const charsPre = { type: 'Split', pattern: { Regex: '\\S|\\s' }, behavior: 'Isolated', invert: false };
const charsModel = { type: 'WordLevel', vocab: { '[UNK]': 0, a: 1, ' ': 2 }, unk_token: '[UNK]' };

function t5(charsmapB64) {
  const uni = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(OUT, 'unigram_metaspace.tokenizer.json.gz'))).toString());
  const vocab = uni.model.vocab.slice();
  const eos = vocab.length;
  vocab.push(['</s>', 0.0]);
  const at = (id, c) => ({ id, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return base(
    { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: charsmapB64 }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
    { type: 'Unigram', unk_id: 0, vocab, byte_fallback: false },
    { type: 'TemplateProcessing', single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [eos], tokens: ['</s>'] } } },
    { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    [at(0, '<unk>'), at(eos, '</s>')]);
}

// xlmr and albert: the pipelines of XLM-RoBERTa's and ALBERT's hub
// tokenizer.json files (legacy Metaspace fields, RobertaProcessing, a
// [CLS]/[SEP] template), on the same Unigram vocabulary.
function xlmr(charsmapB64) {
  const j = t5(charsmapB64);
  const vocab = j.model.vocab.slice(0, -1);
  const ids = {};
  for (const tok of ['<s>', '<pad>', '</s>']) { ids[tok] = vocab.length; vocab.push([tok, 0.0]); }
  const at = (id, c, o = {}) => Object.assign({ id, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }, o);
  j.model.vocab = vocab;
  j.added_tokens = [at(0, '<unk>'), at(ids['<s>'], '<s>'), at(ids['<pad>'], '<pad>'), at(ids['</s>'], '</s>')];
  j.normalizer.normalizers[1].content = '\u2581';
  j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true };
  j.post_processor = { type: 'RobertaProcessing', sep: ['</s>', ids['</s>']], cls: ['<s>', ids['<s>']], trim_offsets: true, add_prefix_space: true };
  j.decoder = { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true };
  return j;
}
function albert(charsmapB64) {
  const j = t5(charsmapB64);
  const vocab = j.model.vocab.slice(0, -1);
  const ids = {};
  for (const tok of ['[CLS]', '[SEP]']) { ids[tok] = vocab.length; vocab.push([tok, 0.0]); }
  const at = (id, c) => ({ id, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  j.model.vocab = vocab;
  j.added_tokens = [at(0, '<unk>'), at(ids['[CLS]'], '[CLS]'), at(ids['[SEP]'], '[SEP]')];
  j.normalizer = { type: 'Sequence', normalizers: [
    { type: 'Replace', pattern: { String: '``' }, content: '"' }, { type: 'Replace', pattern: { String: "''" }, content: '"' },
    { type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' },
    { type: 'Precompiled', precompiled_charsmap: charsmapB64 }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] };
  j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  j.post_processor = { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] } } };
  return j;
}

function encJSON(enc) {
  const o = { ids: enc.getIds(), tokens: enc.getTokens(), offsets: enc.getOffsets() };
  const t = enc.getTypeIds(), sp = enc.getSpecialTokensMask();
  if (t.some(x => x !== 0)) o.type_ids = t;
  if (sp.some(x => x !== 0)) o.special = sp;
  return o;
}

// graphemeRef: extended grapheme clusters of random strings by ICU (node's
// Intl.Segmenter), an implementation independent of both the Rust crate
// and the Go code, as byte lengths. ICU here may be a later Unicode
// version than the Rust crate's 16.0, so the alphabet holds characters
// whose properties have not changed since Unicode 13: one or more of every
// Grapheme_Cluster_Break value, Extended_Pictographic and
// Indic_Conjunct_Break class.
function graphemeRef() {
  const seg = new Intl.Segmenter('en', { granularity: 'grapheme' });
  const alphabet = ['a', 'b', ' ', '\r', '\n', '\u0000', '\u0007', '\u00AD', '\u200B', '\u2028', '\uFEFF',
    '\u0301', '\u0308', '\u034F', '\u0488', '\u093C', '\u0E49', '\uFF9E', '\u200C', '\uFE0F', '\u{1F3FD}', '\u{E0041}',
    '\u200D', '\u{1F1EB}', '\u{1F1F7}', '\u0600', '\u0D4E', '\u{110BD}', '\u0903', '\u0E33', '\u093F', '\u0940',
    '\u1100', '\u1161', '\u11A8', '\uAC00', '\uAC01', '\u{1F44D}', '\u{1F600}', '\u00A9', '\u203C', '\u2764', '\u{1F3F3}',
    '\u0915', '\u0924', '\u0937', '\u094D', '\u09CD', '\u0995', '\u0A4D', '\u0A15', '\u4E2D', '\u0E01', '\u0627'];
  let seed = 777;
  const rnd = k => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % k; };
  const out = [];
  for (let i = 0; i < 3000; i++) {
    let str = '';
    for (let k = 1 + rnd(9); k > 0; k--) str += alphabet[rnd(alphabet.length)];
    out.push({ s: str, lens: [...seg.segment(str)].map(x => Buffer.byteLength(x.segment, 'utf8')) });
  }
  // Runs of regional indicators and emoji sequences need a small alphabet.
  const small = ['\u{1F1EB}', '\u{1F1F7}', 'a', '\u0301', '\u200D', '\u{1F44D}', '\u{1F3FD}', '\u00A9', '\uFE0F', '\u0915', '\u094D'];
  for (let i = 0; i < 1000; i++) {
    let str = '';
    for (let k = 1 + rnd(10); k > 0; k--) str += small[rnd(small.length)];
    out.push({ s: str, lens: [...seg.segment(str)].map(x => Buffer.byteLength(x.segment, 'utf8')) });
  }
  return { unicode: process.versions.unicode, icu: process.versions.icu, cases: out };
}

async function main() {
  const charsmaps = { nmt_nfkc: nmtNfkc(), probe: probe() };
  fs.writeFileSync(path.join(OUT, 'precompiled_probe.charsmap.gz'), zlib.gzipSync(charsmaps.probe, { level: 9 }));
  const ref = { charsmaps: {}, tokenizers: {}, inputs: inputs.map(inField), normalized: {}, encodings: {} };
  for (const [name, cm] of Object.entries(charsmaps)) {
    ref.charsmaps[name] = name + (name === 'probe' ? ' (precompiled_probe.charsmap.gz)' : ' (nmt_nfkc.charsmap.gz)');
    const norm = tk.precompiled([...cm]);
    ref.normalized[name] = inputs.map(b => norm.normalizeString(rustText(b)));
  }
  // Tokenizer files refer to a charsmap as "@name"; the Go test puts the
  // base64 of the committed file in its place.
  const specs = {
    t5_nmt_nfkc: ['nmt_nfkc', b64 => t5(b64)],
    chars_nmt_nfkc: ['nmt_nfkc', b64 => base({ type: 'Precompiled', precompiled_charsmap: b64 }, charsPre, charsModel)],
    chars_probe: ['probe', b64 => base({ type: 'Precompiled', precompiled_charsmap: b64 }, charsPre, charsModel)],
    t5_probe: ['probe', b64 => t5(b64)],
    xlmr_nmt_nfkc: ['nmt_nfkc', b64 => xlmr(b64)],
    albert_nmt_nfkc: ['nmt_nfkc', b64 => albert(b64)],
  };
  for (const [name, [cm, make]] of Object.entries(specs)) {
    const t = tk.Tokenizer.fromString(JSON.stringify(make(charsmaps[cm].toString('base64'))));
    ref.tokenizers[name] = make('@' + cm);
    const encs = [];
    for (const b of inputs) {
      const text = rustText(b);
      const enc = await t.encode(text, null, { addSpecialTokens: true });
      const e = encJSON(enc);
      e.decode = await t.decode(e.ids, true);
      encs.push(e);
    }
    ref.encodings[name] = encs;
    if (!name.startsWith('chars')) {
      const pairs = [];
      for (let i = 0; i + 1 < 12; i += 2) {
        const enc = await t.encode(rustText(inputs[i]), rustText(inputs[i + 1]), { addSpecialTokens: true });
        pairs.push(Object.assign({ a: i, b: i + 1 }, encJSON(enc)));
      }
      ref.encodings[name + '/pairs'] = pairs;
    }
  }
  ref.graphemes = graphemeRef();
  fs.writeFileSync(path.join(OUT, 'precompiled_ref.json.gz'), zlib.gzipSync(JSON.stringify(ref), { level: 9 }));
  console.log('inputs', inputs.length, 'bytes', fs.statSync(path.join(OUT, 'precompiled_ref.json.gz')).size);
}

main().catch(e => { console.error(e); process.exit(1); });
