// Runs ONNX Runtime (onnxruntime-node, CPU provider) on a model with inputs read from .npy files
// and writes its outputs as .npy: the reference outputs package onnx's tests compare with.
//
//   NODE_PATH=/path/to/node_modules node onnx_ref.js MODEL.onnx [DIR]
//
// For MODEL = DIR0/NAME.onnx, input I is read from DIR/NAME.in.I.npy and output O is written to
// DIR/NAME.out.O.npy (DIR defaults to DIR0; I and O are the graph's names with characters
// outside [A-Za-z0-9_.-] replaced by '_'). Needs `npm install --ignore-scripts
// onnxruntime-node@1.31.1`. Graph optimisations are off and one thread is used, so the outputs
// are ONNX Runtime's plain kernels, not its fused ones.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const safe = (s) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

// npy descr -> [ort type, TypedArray, bytes per element]
const dtypes = {
  '<f4': ['float32', Float32Array, 4],
  '<f8': ['float64', Float64Array, 8],
  '<i8': ['int64', BigInt64Array, 8],
  '<i4': ['int32', Int32Array, 4],
  '<i2': ['int16', Int16Array, 2],
  '|i1': ['int8', Int8Array, 1],
  '|u1': ['uint8', Uint8Array, 1],
  '|b1': ['bool', Uint8Array, 1],
  '<f2': ['float16', Uint16Array, 2],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not an npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const dt = dtypes[descr];
  if (!dt) throw new Error(`${file}: dtype ${descr} not handled`);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const raw = buf.subarray(off, off + n * dt[2]);
  const ab = new ArrayBuffer(n * dt[2]);
  new Uint8Array(ab).set(raw);
  let data = new dt[1](ab);
  if (dt[0] === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return new ort.Tensor(dt[0], data, shape);
}

function writeNpy(file, t) {
  const inv = {float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', int16: '<i2', int8: '|i1', uint8: '|u1', bool: '|b1', float16: '<f2'};
  const descr = inv[t.type];
  if (!descr) throw new Error(`output type ${t.type} not handled`);
  const shp = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  while ((10 + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(h.length, 8);
  let data = t.data;
  if (t.type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(h, 'latin1'), body]));
}

(async () => {
  const model = process.argv[2];
  if (!model) { console.error('usage: onnx_ref.js MODEL.onnx [DIR]'); process.exit(2); }
  const dir = process.argv[3] || path.dirname(model);
  const name = path.basename(model).replace(/\.onnx$/, '');
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled',
  });
  const feeds = {};
  for (const inp of s.inputNames) feeds[inp] = readNpy(path.join(dir, `${name}.in.${safe(inp)}.npy`));
  const res = await s.run(feeds);
  for (const out of s.outputNames) {
    const f = path.join(dir, `${name}.out.${safe(out)}.npy`);
    writeNpy(f, res[out]);
    console.log(`${f} ${res[out].type} [${res[out].dims.join(',')}]`);
  }
})().catch((e) => { console.error(e.message || e); process.exit(1); });
