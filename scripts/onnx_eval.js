// Scores an ONNX model written by vggexport with ONNX Runtime (npm's
// onnxruntime-node, scripts/install-onnxruntime) on a CIFAR-10 binary test
// split, the way vggeval scores the checkpoint:
//
//   node scripts/onnx_eval.js MODEL.onnx DATA_DIR --classes a,b,c
//        [--logits OUT.csv] [--batch N] [--threads N] [--limit N]
//
// --classes: the model's class names in label order (vggexport's metadata
// class_names); test records of those names (batches.meta.txt) are kept in
// file order and relabelled 0..K-1, as vggeval does. Prints the image count
// and correct answers; --logits writes vggeval --logits' CSV layout.
// Finds onnxruntime-node in $VGG_ORT_DIR (default
// ~/.cache/vgg-onnxruntime) or on Node's usual path.
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');

function loadOrt() {
  const dir = process.env.VGG_ORT_DIR || path.join(os.homedir(), '.cache', 'vgg-onnxruntime');
  try {
    return require(path.join(dir, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    return require('onnxruntime-node');
  }
}

function parseArgs(argv) {
  const o = { batch: 100, threads: 1, limit: 0, logits: null, classes: null };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--classes') o.classes = argv[++i].split(',');
    else if (a === '--logits') o.logits = argv[++i];
    else if (a === '--batch') o.batch = parseInt(argv[++i], 10);
    else if (a === '--threads') o.threads = parseInt(argv[++i], 10);
    else if (a === '--limit') o.limit = parseInt(argv[++i], 10);
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 2 || !o.classes || !(o.batch >= 1))
    throw new Error('usage: onnx_eval.js MODEL.onnx DATA_DIR --classes a,b,c ' +
                    '[--logits OUT.csv] [--batch N] [--threads N] [--limit N]');
  [o.model, o.data] = pos;
  return o;
}

// --latency MODEL.onnx [--threads N] [--reps N] [--warmup N]: vggbench's
// comparison. Random images [N,3,32,32] in [0,1]; prints "version ..." and
// "latency B1 B100", the median milliseconds of one run() at batch 1
// and 100.
async function latency(argv) {
  const o = { threads: 1, reps: 10, warmup: 2 };
  const model = argv[0];
  for (let i = 1; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = parseInt(argv[++i], 10);
  }
  const ort = loadOrt();
  const net = await ort.InferenceSession.create(model, {
    intraOpNumThreads: o.threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  let r = 1;
  const x = new Float32Array(100 * 3072).map(() => {
    r = (r * 1103515245 + 12345) >>> 0;
    return (r >>> 8) / 16777216;
  });
  const out = [];
  for (const n of [1, 100]) {
    const t = new ort.Tensor('float32', x.subarray(0, n * 3072), [n, 3, 32, 32]);
    const times = [];
    for (let k = 0; k < o.warmup + o.reps; k++) {
      const t0 = process.hrtime.bigint();
      await net.run({ input: t });
      if (k >= o.warmup) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const m = times.length;
    out.push(m % 2 ? times[(m - 1) / 2] : (times[m / 2 - 1] + times[m / 2]) / 2);
  }
  const v = require(path.join(path.dirname(require.resolve('onnxruntime-node', {
    paths: [path.join(process.env.VGG_ORT_DIR || path.join(os.homedir(), '.cache',
      'vgg-onnxruntime'), 'node_modules')] })), '..', 'package.json')).version;
  console.log(`version onnxruntime-node ${v}`);
  console.log(`latency ${out[0].toFixed(4)} ${out[1].toFixed(4)}`);
}

async function main() {
  if (process.argv[2] === '--latency') return latency(process.argv.slice(3));
  const o = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const names = fs.readFileSync(path.join(o.data, 'batches.meta.txt'), 'utf8')
    .split('\n').map((s) => s.trim()).filter((s) => s.length);
  const map = new Map(); // file label -> model label
  o.classes.forEach((c, k) => {
    const j = names.indexOf(c);
    if (j < 0) throw new Error(`${o.data}/batches.meta.txt has no class '${c}'`);
    map.set(j, k);
  });
  const raw = fs.readFileSync(path.join(o.data, 'test_batch.bin'));
  const R = 3073, P = 3072, K = o.classes.length;
  const keep = [];
  for (let i = 0; i * R < raw.length; i++) {
    if (map.has(raw[i * R])) keep.push(i);
    if (o.limit && keep.length === o.limit) break;
  }
  const net = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: o.threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  let correct = 0;
  const rows = ['label,' + o.classes.join(',')];
  for (let s = 0; s < keep.length; s += o.batch) {
    const n = Math.min(o.batch, keep.length - s);
    const x = new Float32Array(n * P);
    const labels = [];
    for (let i = 0; i < n; i++) {
      const off = keep[s + i] * R;
      labels.push(map.get(raw[off]));
      for (let j = 0; j < P; j++) x[i * P + j] = raw[off + 1 + j] / 255;
    }
    const out = await net.run({ input: new ort.Tensor('float32', x, [n, 3, 32, 32]) });
    const z = out.logits.data;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (z[i * K + k] > z[i * K + best]) best = k;
      if (best === labels[i]) correct++;
      const r = [labels[i]];
      for (let k = 0; k < K; k++) r.push(z[i * K + k].toPrecision(9));
      rows.push(r.join(','));
    }
  }
  if (o.logits) fs.writeFileSync(o.logits, rows.join('\n') + '\n');
  console.log(`onnxruntime ${ort.env.versions ? ort.env.versions.common || '' : ''}: ` +
              `images ${keep.length}  correct ${correct}  ` +
              `test_acc ${(100 * correct / keep.length).toFixed(2)}%`);
}

main().catch((e) => {
  console.error(`onnx_eval: ${e.message}`);
  process.exit(1);
});
