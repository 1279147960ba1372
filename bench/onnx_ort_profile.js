// Profiles onnxruntime-node (CPU provider) node by node on one model, as bench/onnx_ort_bench.js
// runs it (same session options and inputs), and prints each node's best and median kernel time
// over RUNS runs, slowest first, with the sum of the bests:
//
//   NODE_PATH=/path/to/node_modules node onnx_ort_profile.js THREADS model.onnx [RUNS]
//
// The per-layer counterpart of onnx/optimes_test.go and BenchmarkConvMobileNetV2
// (docs/onnx-vs-ort.md). ORT writes its JSON trace to a fresh temporary folder; this script reads it
// back and deletes it.
'use strict';
const ort = require('onnxruntime-node');
const fs = require('fs');
const os = require('os');
const path = require('path');
(async () => {
  const t = parseInt(process.argv[2]);
  const f = process.argv[3];
  const runs = parseInt(process.argv[4] || '100');
  const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ortprof')), 'p');
  const s = await ort.InferenceSession.create(f, {intraOpNumThreads: t, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: prefix});
  const feeds = {};
  s.inputNames.forEach((name) => {
    const meta = s.inputMetadata ? s.inputMetadata.find(m => m.name === name) : null;
    const shape = meta && meta.shape ? meta.shape.map(d => typeof d === 'number' && d > 0 ? d : 1) : [1];
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[name] = /int64/.test(meta && meta.type)
      ? new ort.Tensor('int64', BigInt64Array.from({length: n}, (_, i) => BigInt((i * 7919) % 30000)), shape)
      : new ort.Tensor('float32', Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.37) * 0.5), shape);
  });
  for (let i = 0; i < runs; i++) await s.run(feeds);
  await s.endProfiling();
  // endProfiling's return value (the trace's name) is not passed through by every
  // onnxruntime-node version: take the one file in the folder made for it.
  const dir = path.dirname(prefix);
  const file = path.join(dir, fs.readdirSync(dir).find(n => n.endsWith('.json')));
  const ev = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(dir, {recursive: true, force: true});
  const per = new Map();
  for (const e of ev) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const shapes = (e.args.input_type_shape || []).map(o => JSON.stringify(Object.values(o)[0])).join(' ');
    const key = `${e.args.op_name} ${shapes} ${e.name.slice(0, -12)}`;
    if (!per.has(key)) per.set(key, []);
    per.get(key).push(e.dur);
  }
  const rows = [...per].map(([k, v]) => { v.sort((a, b) => a - b); return [v[0], v[v.length >> 1], k]; });
  rows.sort((a, b) => b[1] - a[1]);
  const sum = rows.reduce((a, r) => a + r[0], 0);
  console.log(`ort ${path.basename(f)} threads=${t}: ${rows.length} nodes, sum of bests ${sum} µs`);
  for (const [b, m, k] of rows) console.log(`${String(b).padStart(7)} ${String(m).padStart(7)}  ${k}`);
})();
