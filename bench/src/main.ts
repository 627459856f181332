// `pnpm bench`: measures @mnist/core-wasm against a plain-JS peer in one run and prints the tables that go into
// BENCHMARKS.md: dense forward GFLOP/s, inference images/s over the MNIST test set, training seconds per epoch.
// Flags: --epochs N (training epochs for the accuracy column, default 1; 3 matches the issue), --quick.
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Mlp, relaxedSimdSupported, type LayerParams } from '@mnist/core-wasm';
import { instantiateKernels } from '@mnist/core-wasm/kernels';
import { coreWasm, plainJs, type Engine } from './engines.js';
import { loadMnist, type Dataset } from './mnist.js';
import { denseForwardJs } from './plainjs.js';
import { torchAvailable, trainTorch } from './pytorch.js';
import { fmt, fmtInt, printTable, timeRuns } from './stats.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : Number(process.env[`MNIST_BENCH_${name.toUpperCase()}`] ?? fallback);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number, got ${args[i + 1]}`);
  return v;
};
const EPOCHS = option('epochs', 1);
const QUICK = flag('quick');
const SIZES = [784, 512, 10];
const BATCH = 64, LR = 0.1;
const relaxed = relaxedSimdSupported();
const variants: ('plain' | 'relaxed')[] = relaxed ? ['plain', 'relaxed'] : ['plain'];

function header(): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch { /* not a git checkout */ }
  console.log(`mnist-wasm benchmark  ${new Date().toISOString()}  ${commit}`);
  console.log(`node ${process.version}, ${cpu} x ${cpus().length}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log(relaxed ? 'relaxed SIMD: available (node --experimental-wasm-relaxed-simd)' : 'relaxed SIMD: not available in this engine, relaxed rows skipped');
  console.log('one thread everywhere; times are medians of several runs after a warm-up (best = fastest run; the machine may be shared)');
}

// ------------------------------------------------------------------------------------------ dense forward

async function denseBench(): Promise<void> {
  const B = 256, C = 784, OC = 512;
  const flops = 2 * B * C * OC;
  const rand = mulberry32(7);
  const x = Float32Array.from({ length: B * C }, () => rand());
  const w = Float32Array.from({ length: OC * C }, () => rand() - 0.5);
  const b = Float32Array.from({ length: OC }, () => rand() - 0.5);
  const rows: (string | number)[][] = [];
  const out = new Float32Array(B * OC);
  const js = timeRuns(() => denseForwardJs(out, x, w, b, B, C, OC), QUICK ? 3 : 5, 1);
  const jsMs = js.median;
  rows.push(['plain JS (dot per output)', fmt(jsMs, 2), fmt(flops / jsMs / 1e6, 2), fmt(flops / js.best / 1e6, 2), '1.0x']);
  const run = async (label: string, variant: 'simd' | 'relaxed-simd', scalar: boolean) => {
    const { exports: k } = await instantiateKernels(variant);
    const put = (a: Float32Array) => {
      const p = k.alloc(a.length * 4);
      new Float32Array(k.memory.buffer, p, a.length).set(a);
      return p;
    };
    const px = put(x), pw = put(w), pb = put(b), py = put(new Float32Array(B * OC));
    const ppk = put(new Float32Array(k.dense_packed_size(C, OC)));
    k.dense_pack_f32(ppk, pw, pb, OC, C);
    const t = scalar
      ? timeRuns(() => k.dense_forward_f32_scalar(py, px, pw, pb, B, C, OC), QUICK ? 3 : 7, 1)
      : timeRuns(() => k.dense_forward_f32(py, px, ppk, B, C, OC), QUICK ? 7 : 31, 3);
    checkClose(new Float32Array(k.memory.buffer, py, B * OC), x, w, b, B, C, OC, label);
    rows.push([label, fmt(t.median, 2), fmt(flops / t.median / 1e6, 2), fmt(flops / t.best / 1e6, 2), `${fmt(jsMs / t.median, 1)}x`]);
  };
  await run('core-wasm scalar (reference kernel)', 'simd', true);
  await run('core-wasm simd (f32x4, 4x8 tiles)', 'simd', false);
  if (relaxed) await run('core-wasm relaxed-simd (relaxed_madd)', 'relaxed-simd', false);
  printTable('Dense forward 256x784 @ W^T (784 -> 512), f32', ['engine', 'median ms', 'GFLOP/s', 'best GFLOP/s', 'vs plain JS'], rows);
}

/** Spot-checks a few outputs against a float64 dot product, so a fast wrong kernel cannot win. */
function checkClose(y: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, B: number, C: number, OC: number, label: string): void {
  for (const [r, o] of [[0, 0], [B - 1, OC - 1], [B >> 1, 7], [3, OC >> 1]]) {
    let acc = b[o];
    for (let c = 0; c < C; c++) acc += x[r * C + c] * w[o * C + c];
    if (Math.abs(y[r * OC + o] - acc) > 1e-3 * (1 + Math.abs(acc))) throw new Error(`${label}: wrong result at (${r}, ${o}): ${y[r * OC + o]} vs ${acc}`);
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------------------------------ training

interface TrainResult {
  name: string;
  epochSeconds: number[]; // one per epoch; a slow engine has one extrapolated value
  accuracy: number[];
  firstLosses: number[];
  layers: LayerParams[] | null;
}

/**
 * Trains an engine from `init` for one epoch per shuffle order (batch 64, lr 0.1) and tests after each epoch.
 * A slow engine is timed on the first 20 batches of the first order instead, and its epoch time extrapolated.
 */
async function trainEngine(engine: Engine, train: Dataset, test: Dataset, orders: Uint32Array[], init: LayerParams[]): Promise<TrainResult> {
  await engine.load(init);
  const xb = new Float32Array(BATCH * 784), yb = new Uint8Array(BATCH);
  const result: TrainResult = { name: engine.name, epochSeconds: [], accuracy: [], firstLosses: [], layers: null };
  const batches = Math.floor(train.count / BATCH);
  const steps = engine.slow ? (QUICK ? 5 : 20) : batches;
  for (const order of engine.slow ? orders.slice(0, 1) : orders) {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < BATCH; i++) {
        const j = order[s * BATCH + i];
        xb.set(train.x.subarray(j * 784, j * 784 + 784), i * 784);
        yb[i] = train.labels[j];
      }
      const loss = engine.trainBatch!(xb, yb, BATCH, LR);
      if (result.firstLosses.length < 20) result.firstLosses.push(loss);
    }
    result.epochSeconds.push(((performance.now() - t0) / 1000) * (batches / steps));
    if (!engine.slow) {
      const predictions = engine.predict(test.x, test.count, 256);
      let correct = 0;
      for (let i = 0; i < test.count; i++) if (predictions[i] === test.labels[i]) correct++;
      result.accuracy.push(correct / test.count);
    }
  }
  result.layers = engine.layers?.() ?? null;
  engine.dispose();
  return result;
}

function shuffled(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  header();

  // dense forward
  await denseBench();

  const train = loadMnist('train');
  const test = loadMnist('t10k');
  const init = await Mlp.create(SIZES, { seed: 1 });
  const initLayers = Array.from({ length: init.layerCount }, (_, i) => init.getLayer(i));
  init.dispose();

  // training: every engine that can train, from the same initial weights and shuffle orders, then PyTorch
  const orders = Array.from({ length: EPOCHS }, (_, e) => shuffled(train.count, 1000 + e));
  const trainers: Engine[] = [...variants.map((v) => coreWasm(v)), plainJs()];
  const trained: TrainResult[] = [];
  for (const engine of trainers) if (engine.trainBatch) trained.push(await trainEngine(engine, train, test, orders, initLayers));
  const baseline = trained.find((r) => r.name === 'plain JS')!;
  const jsEpoch = baseline.epochSeconds[0];
  const accCols = (acc: number[]) => Array.from({ length: EPOCHS }, (_, e) => (acc[e] === undefined ? '' : `${fmt(acc[e] * 100, 2)}%`));
  const trainRows = trained.filter((r) => r !== baseline).map((r) => [
    r.name, fmt(r.epochSeconds[0], 2), fmt(median(r.epochSeconds), 2), ...accCols(r.accuracy), `${fmt(jsEpoch / median(r.epochSeconds), 1)}x`,
  ]);
  const noTorch = torchAvailable();
  let torchLossDiff = NaN;
  if (!noTorch) {
    const t = trainTorch(initLayers, orders, BATCH, LR, EPOCHS);
    trainRows.push([`PyTorch ${t.torch} (1 thread, same init and order)`, fmt(t.epoch_seconds[0], 2), fmt(median(t.epoch_seconds), 2), ...accCols(t.accuracy), `${fmt(jsEpoch / median(t.epoch_seconds), 1)}x`]);
    torchLossDiff = Math.max(...t.first_losses.map((l, i) => Math.abs(l - trained[0].firstLosses[i])));
  }
  trainRows.push([`plain JS (extrapolated from ${QUICK ? 5 : 20} batches)`, fmt(jsEpoch, 1), '', ...accCols([]), '1.0x']);
  printTable(
    `Training 784-512-10, 60,000 images, batch ${BATCH}, SGD lr ${LR}, PyTorch default init (seed 1), seeded shuffle per epoch`,
    ['engine', 'epoch 1 s', 'median s', ...Array.from({ length: EPOCHS }, (_, e) => `test acc after ${e + 1}`), 'vs plain JS'],
    trainRows,
  );
  if (noTorch) console.log(`PyTorch row skipped: ${noTorch}`);
  else console.log(`first 20 batch losses, PyTorch vs ${trained[0].name}: max |diff| ${torchLossDiff.toExponential(2)}`);
  console.log('issue 2 reference (PyTorch with its own init and shuffle, measured here): 93.1% after 1 epoch, 96.1% after 3.');

  // inference over the 10,000 test images with the trained weights; every engine must agree with core-wasm
  // the baseline (plain JS) first: its rate and predictions are what the others are compared with
  const engines: Engine[] = [plainJs(), ...variants.map((v) => coreWasm(v))];
  const weights = trained.find((r) => r.layers && r !== baseline)!.layers!;
  const infRows: (string | number)[][] = [];
  let jsRate = NaN;
  let reference: Int32Array | null = null;
  for (const engine of engines) {
    await engine.load(weights);
    // a slow engine (plain JS is ~30x slower) runs once over the first 2,560 images (10 batches), not 9 times over 10,000
    const slow = engine.slow === true;
    const count = slow ? 2560 : test.count;
    let predictions: Int32Array = new Int32Array(0);
    const t = timeRuns(() => {
      predictions = engine.predict(test.x, count, 256);
    }, slow || QUICK ? 1 : 9, slow ? 0 : 2);
    const ms = t.median;
    engine.dispose();
    let correct = 0;
    for (let i = 0; i < count; i++) if (predictions[i] === test.labels[i]) correct++;
    let agree = '';
    if (reference) {
      let same = 0;
      for (let i = 0; i < reference.length; i++) if (predictions[i] === reference[i]) same++;
      agree = `${same}/${reference.length}`;
    } else reference = predictions;
    const rate = (count / ms) * 1000;
    if (engine.name === 'plain JS') jsRate = rate;
    infRows.push([slow ? `${engine.name} (first ${count} images)` : engine.name, fmtInt(count), fmt(ms, 1), fmtInt(rate), fmtInt((count / t.best) * 1000), `${fmt((correct / count) * 100, 2)}%`, agree, `${fmt(rate / jsRate, 1)}x`]);
  }
  printTable('Inference 784-512-10 over the 10,000 MNIST test images, batch 256 (trained weights from above)',
    ['engine', 'images', 'median ms', 'images/s', 'best images/s', 'accuracy', 'same predictions as plain JS', 'vs plain JS'], infRows);
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
