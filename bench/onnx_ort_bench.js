// Times onnxruntime-node (CPU provider) on ONNX models, as shared/anchors/ort_bench.js does (best
// and median of 15 runs after 3 warm-ups, the same inputs: float i -> 0.5*sin(0.37*i), int64
// i -> 7919*i mod 30000), with symbolic dimensions set per model as bench/onnx_test.go sets them:
//
//   NODE_PATH=/path/to/node_modules node onnx_ort_bench.js THREADS model.onnx[=d0,d1,...] ...
//
// where d0,d1,... give the first input's shape (for models with symbolic dimensions).
'use strict';
const ort = require('onnxruntime-node');
(async () => {
  const t = parseInt(process.argv[2]);
  for (const arg of process.argv.slice(3)) {
    const [f, dimsArg] = arg.split('=');
    const dims = dimsArg ? dimsArg.split(',').map(Number) : null;
    const s = await ort.InferenceSession.create(f, {intraOpNumThreads: t, interOpNumThreads: 1, graphOptimizationLevel: 'all'});
    const feeds = {};
    s.inputNames.forEach((name, k) => {
      const meta = s.inputMetadata ? s.inputMetadata.find(m => m.name === name) : null;
      let shape = meta && meta.shape ? meta.shape.map((d, i) => typeof d === 'number' && d > 0 ? d : (k === 0 && dims ? dims[i] : 1)) : [1];
      const isInt = meta && /int64/.test(meta.type);
      const n = shape.reduce((a, b) => a * b, 1);
      feeds[name] = isInt ? new ort.Tensor('int64', BigInt64Array.from({length: n}, (_, i) => BigInt((i * 7919) % 30000)), shape)
                          : new ort.Tensor('float32', Float32Array.from({length: n}, (_, i) => Math.sin(i * 0.37) * 0.5), shape);
    });
    for (let i = 0; i < 3; i++) await s.run(feeds);
    const ts = [];
    const c0 = process.cpuUsage();
    for (let i = 0; i < 15; i++) { const a = process.hrtime.bigint(); await s.run(feeds); ts.push(Number(process.hrtime.bigint() - a) / 1e6); }
    const c = process.cpuUsage(c0);
    ts.sort((a, b) => a - b);
    // CPU time per run (user + system, all threads): on a loaded machine closer to the work
    // than wall time, as bench/onnx_test.go's cpu-ms/run.
    const cpu = (c.user + c.system) / 1e3 / 15;
    console.log(`ort ${f.split('/').pop().replace('.onnx', '')} threads=${t} best ${ts[0].toFixed(2)} ms median ${ts[7].toFixed(2)} ms cpu ${cpu.toFixed(2)} ms/run`);
  }
})();
