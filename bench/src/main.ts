// `pnpm bench`: @mnist/core-wasm (1 thread and all threads, plain and relaxed SIMD) against its peers, all measured in
// this one run: plain JS, TensorFlow.js (wasm), onnxruntime-web (WASM) and onnxruntime-node (native), NumPy on
// OpenBLAS and PyTorch, each on 1 and all threads where it has threads. Prints the tables BENCHMARKS.md records: dense
// forward GFLOP/s, the sparse first layer against the dense one by input density, training s/epoch with test
// accuracy (ours through the library's train(), the peers on the same batches), the augmentation's cost, inference
// images/s at batch 1 to 1024 with ratios against each peer's best batch size, two-thread scaling, the issue targets,
// what each activation costs against ReLU (activations.ts); then the loader's benchmark.
// Flags: --epochs N (training epochs, default 1), --quick (fewer runs, for trying changes), --no-loader,
// --only SECTIONS (comma-separated: dense, sparse, training, augment, inference, activations, loader),
// --activations (= --only activations).
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AUGMENT_PRESETS,
  Mlp,
  relaxedSimdSupported,
  seededRandom,
  type LayerParams,
  type SgdOptions,
  type TrainConfig,
} from '@mnist/core-wasm';
import { inputSparsity, instantiateKernels, type KernelExports } from '@mnist/core-wasm/kernels';
import { loadMlpSync } from '@mnist/loader';
import { MNIST_CLASSES, MNIST_PIXELS } from '@mnist/loader/data';
import { activationBench, printActivationTable, type ActivationOptions } from './activations.js';
import {
  augmentBench,
  augmentShares,
  augmentTrainingBench,
  printAugmentTraining,
  type AugmentTrainingOptions,
  type AugmentTrainingRow,
} from './augment.js';
import { coreWasm, plainJs, tfjsWasm, type Engine } from './engines.js';
import { BATCH1_IMAGES, BATCHES, bestBatch, measureInference, pool, rate, type Passes } from './inference.js';
import { loadMnist, type Dataset } from './mnist.js';
import { makeOnnx, runNumpy, runOrt, runTorch, type Outcome } from './peers.js';
import { denseForwardJs } from './plainjs.js';
import { fmt, fmtInt, loadNow, median, printTable, timeRuns } from './stats.js';
import { torchAvailable, trainNumpy, trainTorch } from './train-peers.js';
import { benchConfig, epochOrder, trainPeer, trainTimed } from './training.js';
import { writeWeights } from './weights.js';

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
const LOADER = !flag('no-loader');
/** --only a,b runs only those sections (dense, sparse, training, augment, inference, activations, loader). */
const ONLY = (() => {
  const i = args.indexOf('--only');
  if (flag('activations')) return ['activations'];
  return i >= 0 ? (args[i + 1] ?? '').split(',') : null;
})();
const section = (name: string) => ONLY === null || ONLY.includes(name);
const ALL = Math.min(availableParallelism(), 8);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIZES = [MNIST_PIXELS, 512, MNIST_CLASSES];
const relaxed = relaxedSimdSupported();
const variants: ('plain' | 'relaxed')[] = relaxed ? ['plain', 'relaxed'] : ['plain'];

function header(): void {
  let cpu = cpus()[0]?.model ?? 'unknown CPU';
  try {
    // the family and model tell two 'AMD EPYC' or 'Intel Xeon' hosts apart
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) => info.match(new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm'))?.[1];
    cpu += ` (family ${field('cpu family')}, model ${field('model')})`;
  } catch {
    /* not Linux */
  }
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a git checkout */
  }
  console.log(`mnist-wasm benchmark  ${new Date().toISOString()}  ${commit}`);
  console.log(`node ${process.version}, ${cpu} x ${cpus().length}, load average ${loadNow()}`);
  console.log(
    relaxed
      ? 'relaxed SIMD: available (node --experimental-wasm-relaxed-simd)'
      : 'relaxed SIMD: not available in this engine, relaxed rows skipped',
  );
  console.log(
    `threads: "all" = Mlp's threads: 'auto' = ${Math.min(availableParallelism(), 8)} here; times are medians of several runs after a warm-up (the machine may be shared)`,
  );
}

// ------------------------------------------------------------------------------------------ dense forward

async function denseBench(test: Dataset): Promise<void> {
  const B = 256,
    C = MNIST_PIXELS,
    OC = 512;
  const flops = 2 * B * C * OC;
  const rand = seededRandom(7);
  const x = Float32Array.from({ length: B * C }, () => rand());
  const w = Float32Array.from({ length: OC * C }, () => rand() - 0.5);
  const b = Float32Array.from({ length: OC }, () => rand() - 0.5);
  const rows: (string | number)[][] = [];
  const out = new Float32Array(B * OC);
  const js = timeRuns(() => denseForwardJs(out, x, w, b, B, C, OC), QUICK ? 3 : 5, 1);
  const jsMs = js.median;
  rows.push([
    'plain JS (dot per output)',
    fmt(jsMs, 2),
    fmt(flops / jsMs / 1e6, 2),
    fmt(flops / js.best / 1e6, 2),
    '1.0x',
  ]);
  const run = async (label: string, variant: 'simd' | 'relaxed-simd', scalar: boolean) => {
    const { exports: k } = await instantiateKernels(variant);
    const put = (a: Float32Array) => {
      const p = k.alloc(a.length * 4);
      new Float32Array(k.memory.buffer, p, a.length).set(a);
      return p;
    };
    const px = put(x),
      pw = put(w),
      pb = put(b),
      py = put(new Float32Array(B * OC));
    const ppk = put(new Float32Array(k.dense_packed_size(C, OC)));
    k.dense_pack_f32(ppk, pw, pb, OC, C);
    const t = scalar
      ? timeRuns(() => k.dense_forward_f32_scalar(py, px, pw, pb, B, C, OC), QUICK ? 3 : 7, 1)
      : timeRuns(() => k.dense_forward_f32(py, px, ppk, B, C, OC), QUICK ? 7 : 31, 3);
    checkClose(new Float32Array(k.memory.buffer, py, B * OC), x, w, b, B, C, OC, label);
    const gflops = flops / t.median / 1e6;
    const share = scalar || !Number.isFinite(ceiling) ? '' : `, ${fmt((gflops / ceiling) * 100, 0)}% of the ceiling`;
    rows.push([
      `${label}${share}`,
      fmt(t.median, 2),
      fmt(gflops, 2),
      fmt(flops / t.best / 1e6, 2),
      `${fmt(jsMs / t.median, 1)}x`,
    ]);
  };
  // the ceiling of any f32x4 kernel here: fused multiply-adds from registers only (no loads, no stores), 12 chains.
  // (A mul + add loop of the same shape puts both ops on each chain, so it measures latency, not a ceiling.)
  let ceiling = NaN;
  if (relaxed) {
    const { exports: k } = await instantiateKernels('relaxed-simd');
    const iters = 2_000_000,
      peakFlops = iters * 12 * 8;
    const t = timeRuns(() => k.simd_madd_peak_f32(iters, 1), QUICK ? 3 : 7, 1);
    ceiling = peakFlops / t.median / 1e6;
    rows.push([
      'ceiling: register-only f32x4 relaxed_madd loop',
      '',
      fmt(ceiling, 2),
      fmt(peakFlops / t.best / 1e6, 2),
      '',
    ]);
  }
  await run('core-wasm scalar (reference kernel)', 'simd', true);
  await run('core-wasm simd (f32x4, 4x8 tiles, mul + add)', 'simd', false);
  if (relaxed) await run('core-wasm relaxed-simd (relaxed_madd)', 'relaxed-simd', false);
  // the first layer as the network runs it on MNIST: zero pixels skipped (GFLOP/s counts the dense product's FLOPs)
  const xm = test.x.subarray(0, B * C);
  const density = xm.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0) / (B * C);
  for (const variant of variants) {
    const v = variant === 'plain' ? 'simd' : 'relaxed-simd';
    const { exports: k } = await instantiateKernels(v);
    const t = timeSparse(k, xm, w, b, B, C, OC, C, `${v} sparse`);
    rows.push([
      `core-wasm ${v}, zero inputs skipped (256 MNIST test images, ${fmt(density * 100, 1)}% nonzero; dense-equivalent)`,
      fmt(t.median, 2),
      fmt(flops / t.median / 1e6, 2),
      fmt(flops / t.best / 1e6, 2),
      `${fmt(jsMs / t.median, 1)}x`,
    ]);
  }
  printTable(
    'Dense forward 256x784 @ W^T (784 -> 512), f32',
    ['engine', 'median ms', 'GFLOP/s', 'best GFLOP/s', 'vs plain JS'],
    rows,
  );
}

/** Times dense_forward_sparse_f32 (rows with <= maxNonzero nonzero inputs skip their zeros) and checks its output. */
function timeSparse(
  k: KernelExports,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  B: number,
  C: number,
  OC: number,
  maxNonzero: number,
  label: string,
): { median: number; best: number } {
  const put = (a: Float32Array) => {
    const p = k.alloc(a.length * 4);
    new Float32Array(k.memory.buffer, p, a.length).set(a);
    return p;
  };
  const px = put(x),
    pw = put(w),
    pb = put(b),
    py = put(new Float32Array(B * OC)),
    list = k.alloc(k.dense_sparse_list_bytes(C)); // the kernel's scratch for its nonzero lists
  const ppk = put(new Float32Array(k.dense_packed_size(C, OC)));
  k.dense_pack_f32(ppk, pw, pb, OC, C);
  const t = timeRuns(() => k.dense_forward_sparse_f32(py, px, ppk, list, B, C, OC, maxNonzero), QUICK ? 5 : 15, 2);
  checkClose(new Float32Array(k.memory.buffer, py, B * OC), x, w, b, B, C, OC, label);
  for (const p of [ppk, list, py, pb, pw, px]) k.free(p); // the stub runtime frees the latest block: reverse order
  return t;
}

/**
 * The sparse first layer against the dense kernel, one thread, 256 x 784 -> 512: the real MNIST rows, then rows with
 * nonzeros at random positions (no strokes: the worst case for the sparse kernel's cache lines) at rising densities.
 * Where the ratio crosses 1 is the crossover the library's inputSparsity.maxDensity is set from.
 */
async function sparseBench(test: Dataset): Promise<void> {
  const B = 256,
    C = MNIST_PIXELS,
    OC = 512;
  const rand = seededRandom(8);
  const w = Float32Array.from({ length: OC * C }, () => rand() - 0.5);
  const b = Float32Array.from({ length: OC }, () => rand() - 0.5);
  const inputs: [string, Float32Array][] = [['MNIST test images 0-255', test.x.subarray(0, B * C)]];
  for (const d of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1]) {
    inputs.push([
      `random positions, ${d * 100}%`,
      Float32Array.from({ length: B * C }, () => (rand() < d ? rand() + 0.01 : 0)),
    ]);
  }
  const kernels = await Promise.all(variants.map((v) => instantiateKernels(v === 'plain' ? 'simd' : 'relaxed-simd')));
  const rows: string[][] = [];
  const crossover: (string | null)[] = variants.map(() => null);
  for (const [label, x] of inputs) {
    const density = x.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0) / x.length;
    const row = [label, `${fmt(density * 100, 1)}%`];
    kernels.forEach(({ exports: k, variant }, i) => {
      const dense = timeSparse(k, x, w, b, B, C, OC, -1, `${variant} dense`).median;
      const sparse = timeSparse(k, x, w, b, B, C, OC, C, `${variant} sparse`).median;
      row.push(fmt(dense, 2), fmt(sparse, 2), `${fmt(dense / sparse, 2)}x`);
      if (crossover[i] === null && label.startsWith('random') && dense < sparse)
        crossover[i] = label.replace('random positions, ', '');
    });
    rows.push(row);
  }
  printTable(
    'Sparse first layer: 256 x 784 -> 512, one thread, ms per call (median): dense kernel vs zero inputs skipped',
    [
      'input rows',
      'nonzero',
      ...variants.flatMap((v) => [`${v === 'plain' ? 'simd' : 'relaxed'} dense`, 'sparse', 'speedup']),
    ],
    rows,
  );
  variants.forEach((v, i) => {
    const name = v === 'plain' ? 'simd' : 'relaxed-simd';
    console.log(
      `${name}: the sparse kernel first loses at ${crossover[i] ?? 'no density measured'} random nonzeros; ` +
        `the library takes it for rows with at most ${fmt(inputSparsity.maxDensity[name] * 100, 0)}% nonzero`,
    );
  });
}

/** Spot-checks a few outputs against a float64 dot product, so a fast wrong kernel cannot win. */
function checkClose(
  y: Float32Array,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  B: number,
  C: number,
  OC: number,
  label: string,
): void {
  for (const [r, o] of [
    [0, 0],
    [B - 1, OC - 1],
    [B >> 1, 7],
    [3, OC >> 1],
  ]) {
    let acc = b[o];
    for (let c = 0; c < C; c++) acc += x[r * C + c] * w[o * C + c];
    if (Math.abs(y[r * OC + o] - acc) > 1e-3 * (1 + Math.abs(acc)))
      throw new Error(`${label}: wrong result at (${r}, ${o}): ${y[r * OC + o]} vs ${acc}`);
  }
}

// ------------------------------------------------------------------------------------------ training

interface TrainRow {
  name: string;
  optimizer: string;
  threads: string;
  kind: 'ours' | 'peer';
  epochSeconds: number[]; // every timed epoch, all rounds
  accuracy: number[]; // after each epoch, first round
  firstLosses: number[];
  layers: LayerParams[] | null; // ours: the weights after the first round
  extrapolated?: boolean;
}

const optimizerLabel = (c: TrainConfig) => {
  const o = c.optimizer;
  const name =
    o.optimizer === 'adam' || o.optimizer === 'adamw'
      ? `${o.optimizer === 'adam' ? 'Adam' : 'AdamW'} ${o.lr}`
      : `SGD ${o.lr} m ${(o as SgdOptions).momentum ?? 0}`;
  return c.augment ? `${name} + ${c.augment.elastic ? 'elastic' : 'affine'}` : name;
};

export interface TrainingSummary {
  ours1: number;
  oursAll: number;
  oursAllBest: number;
  acc1: number;
  accAll: number;
  torchAll: number;
  numpyAll: number;
  tfjs: number;
}

/**
 * One epoch (or --epochs N) of 784-512-10 from the same initial weights: ours through train() (training.ts) with
 * the library's default SGD with momentum, and Adam with and without elastic augmentation; the peers on the same
 * batches: PyTorch (SGD and Adam) and NumPy (SGD) on 1 and all threads, tfjs and plain JS (SGD, 1 thread). `runs`
 * rounds, each running every configuration once (tfjs and plain JS only in the first), so load drift hits all alike.
 */
async function trainingBench(train: Dataset, test: Dataset, init: LayerParams[]): Promise<TrainingSummary> {
  const sgd = benchConfig({ epochs: EPOCHS });
  const adam = benchConfig({ epochs: EPOCHS, optimizer: { optimizer: 'adam', lr: 0.001 } });
  const adamElastic = { ...adam, augment: AUGMENT_PRESETS.elastic };
  const sgdStep = sgd.optimizer as { lr: number; momentum: number };
  const data = { images: train.x, labels: train.labels, count: train.count };
  const testSet = { x: test.x, labels: test.labels, count: test.count };
  const orders = Array.from({ length: EPOCHS }, (_, e) => epochOrder(train.count, sgd.seed, e + 1));
  const runs = QUICK || EPOCHS > 1 ? 1 : 3;
  const best = variants[variants.length - 1];
  const binary = (v: 'plain' | 'relaxed') => (v === 'plain' ? 'simd' : 'relaxed-simd');

  const ours: { simd: 'plain' | 'relaxed'; threads: 1 | 'auto'; dense: boolean; config: TrainConfig }[] = [];
  for (const t of [1, 'auto'] as const) {
    for (const v of variants) ours.push({ simd: v, threads: t, dense: false, config: sgd });
    ours.push({ simd: best, threads: t, dense: true, config: sgd });
    ours.push({ simd: best, threads: t, dense: false, config: adam });
    ours.push({ simd: best, threads: t, dense: false, config: adamElastic });
  }
  const rows = new Map<string, TrainRow>();
  const rowFor = (key: string, make: () => TrainRow) => {
    const row = rows.get(key) ?? make();
    rows.set(key, row);
    return row;
  };
  const record = (row: TrainRow, run: { epochSeconds: number[]; accuracy: number[]; firstLosses: number[] }) => {
    row.epochSeconds.push(...run.epochSeconds);
    if (!row.accuracy.length) row.accuracy = run.accuracy;
    if (!row.firstLosses.length) row.firstLosses = run.firstLosses;
  };
  const skipped = new Set<string>();
  const torchMissing = torchAvailable();
  if (torchMissing) skipped.add(`PyTorch and NumPy rows: ${torchMissing}`);

  for (let round = 0; round < runs; round++) {
    for (const o of ours) {
      const net = await Mlp.fromLayers(init, { simd: o.simd, threads: o.threads, inputSparsity: !o.dense });
      const name = `core-wasm ${binary(o.simd)}${o.dense ? ', dense only' : ''}`;
      const row = rowFor(`${name}|${optimizerLabel(o.config)}|${o.threads}`, () =>
        newRow(name, optimizerLabel(o.config), net.threads, 'ours'),
      );
      try {
        record(row, await trainTimed(net, data, o.config, testSet));
        row.layers ??= Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i));
      } finally {
        net.dispose();
      }
    }
    if (!torchMissing) {
      for (const t of [1, ALL]) {
        const torch = trainTorch(init, orders, sgd.batchSize, t, [
          { name: optimizerLabel(sgd), optimizer: 'sgd', kwargs: { lr: sgdStep.lr, momentum: sgdStep.momentum } },
          { name: optimizerLabel(adam), optimizer: 'adam', kwargs: { lr: 0.001 } },
        ]);
        if ('skipped' in torch) skipped.add(torch.skipped);
        else
          for (const r of torch.runs) {
            const name = `PyTorch ${torch.torch} (same init and batches)`;
            record(
              rowFor(`torch|${r.name}|${t}`, () => newRow(name, r.name, t, 'peer')),
              { epochSeconds: r.epoch_seconds, accuracy: r.accuracy, firstLosses: r.first_losses },
            );
          }
        const np = trainNumpy(init, orders, sgd.batchSize, t, sgdStep);
        if ('skipped' in np) skipped.add(np.skipped);
        else {
          const name = `NumPy ${np.numpy} (${np.blas.split('/').pop()}), hand-written backprop`;
          record(
            rowFor(`numpy|${t}`, () => newRow(name, optimizerLabel(sgd), t, 'peer')),
            {
              epochSeconds: np.epoch_seconds,
              accuracy: np.accuracy,
              firstLosses: np.first_losses,
            },
          );
        }
      }
    }
    if (round === 0) {
      for (const [engine, maxSteps] of [
        [tfjsWasm(), undefined],
        [plainJs(), QUICK ? 5 : 20],
      ] as const) {
        await engine.load(init);
        const run = trainPeer(engine as Required<Engine>, data, sgd, { test: testSet, maxSteps });
        const name = maxSteps ? `${engine.name} (extrapolated from ${maxSteps} batches)` : `${engine.name}, 1 run`;
        const row = rowFor(engine.name, () => newRow(name, optimizerLabel(sgd), 1, 'peer'));
        row.extrapolated = maxSteps !== undefined;
        record(row, run);
        engine.dispose();
      }
    }
  }

  // ratios: against ours (the best binary, default input sparsity) with the same optimizer (augmentation aside) and
  // the same thread count
  const all = [...rows.values()];
  const oursRef = (r: TrainRow) =>
    all.find(
      (o) =>
        o.kind === 'ours' &&
        o.name === `core-wasm ${binary(best)}` &&
        o.threads === (r.threads === '1' ? '1' : String(ALL)) &&
        o.optimizer === r.optimizer.replace(/ \+ .*/, ''),
    );
  const table = all.map((r) => {
    const ref = oursRef(r);
    return [
      r.name,
      r.optimizer,
      r.threads,
      String(r.epochSeconds.length),
      fmt(median(r.epochSeconds), r.extrapolated ? 1 : 2),
      r.extrapolated ? '' : fmt(Math.min(...r.epochSeconds), 2),
      ...accCols(r.accuracy),
      ref ? `${fmt(median(r.epochSeconds) / median(ref.epochSeconds), 2)}x` : '',
    ];
  });
  printTable(
    `Training 784-512-10, ${fmtInt(train.count)} images, batch ${sgd.batchSize} (last batch of 32 kept), PyTorch default init (seed 1), ` +
      `train()'s seeded order for every engine; ours through train(); time = this / ours (${binary(best)}, same optimizer, same threads)`,
    [
      'engine',
      'optimizer',
      'threads',
      'epochs timed',
      'median s/epoch',
      'best s',
      ...Array.from({ length: EPOCHS }, (_, e) => `test acc after ${e + 1}`),
      'time / ours',
    ],
    table,
  );
  for (const s of skipped) console.log(`skipped: ${s}`);
  const find = (name: string, optimizer: string, threads: string) =>
    all.find((r) => r.name.startsWith(name) && r.optimizer === optimizer && r.threads === threads);
  const oursSgd1 = find(`core-wasm ${binary(best)}`, optimizerLabel(sgd), '1')!;
  const oursSgdAll = find(`core-wasm ${binary(best)}`, optimizerLabel(sgd), String(ALL))!;
  const oursAdam1 = find(`core-wasm ${binary(best)}`, optimizerLabel(adam), '1')!;
  const lossDiff = (a: TrainRow | undefined, b: TrainRow) =>
    a ? Math.max(...a.firstLosses.map((l, i) => Math.abs(l - b.firstLosses[i]))).toExponential(2) : 'n/a';
  console.log(
    `first 20 batch losses, max |diff| against ours (1 thread): PyTorch SGD ${lossDiff(find('PyTorch', optimizerLabel(sgd), '1'), oursSgd1)}, ` +
      `PyTorch Adam ${lossDiff(find('PyTorch', optimizerLabel(adam), '1'), oursAdam1)}, NumPy ${lossDiff(find('NumPy', optimizerLabel(sgd), '1'), oursSgd1)}, ` +
      `tfjs ${lossDiff(find('TensorFlow', optimizerLabel(sgd), '1'), oursSgd1)}, plain JS ${lossDiff(find('plain JS', optimizerLabel(sgd), '1'), oursSgd1)}`,
  );
  const sameBits = (a: TrainRow | undefined, b: TrainRow | undefined) =>
    !!a?.layers &&
    !!b?.layers &&
    a.layers.every(
      (L, i) =>
        L.weight.every((w, j) => Object.is(w, b.layers![i].weight[j])) &&
        L.bias.every((w, j) => Object.is(w, b.layers![i].bias[j])),
    );
  const denseAll = find(`core-wasm ${binary(best)}, dense only`, optimizerLabel(sgd), String(ALL));
  const adamAll = find(`core-wasm ${binary(best)}`, optimizerLabel(adam), String(ALL));
  const word = (same: boolean) => (same ? 'bit-identical' : 'DIFFERENT');
  console.log(
    `ours ends with ${word(sameBits(oursSgd1, oursSgdAll))} weights on 1 and ${ALL} threads (SGD; Adam: ${word(sameBits(oursAdam1, adamAll))}), ` +
      `and ${word(sameBits(oursSgdAll, denseAll))} with zero pixels skipped and dense only; two-thread scaling ` +
      `${fmt(median(oursSgd1.epochSeconds) / median(oursSgdAll.epochSeconds), 2)}x (SGD)`,
  );
  const med = (r: TrainRow | undefined) => (r ? median(r.epochSeconds) : NaN);
  return {
    ours1: med(oursSgd1),
    oursAll: med(oursSgdAll),
    oursAllBest: Math.min(...oursSgdAll.epochSeconds),
    acc1: oursSgd1.accuracy[0],
    accAll: oursSgdAll.accuracy[0],
    torchAll: med(find('PyTorch', optimizerLabel(sgd), String(ALL))),
    numpyAll: med(find('NumPy', optimizerLabel(sgd), String(ALL))),
    tfjs: med(find('TensorFlow', optimizerLabel(sgd), '1')),
  };
}

function newRow(name: string, optimizer: string, threads: number, kind: TrainRow['kind']): TrainRow {
  return {
    name,
    optimizer,
    threads: String(threads),
    kind,
    epochSeconds: [],
    accuracy: [],
    firstLosses: [],
    layers: null,
  };
}

const accCols = (acc: number[]) =>
  Array.from({ length: EPOCHS }, (_, e) => (acc[e] === undefined ? '' : `${fmt(acc[e] * 100, 2)}%`));

// ------------------------------------------------------------------------------------------ inference

interface Row {
  name: string;
  threads: string;
  passes: Record<string, Passes>;
  predictions: Int32Array;
  subset?: boolean;
  ours?: boolean;
}

export interface InferenceSummary {
  rate: (name: string, threads: string, batch: number) => number;
  best: (prefix: string) => { name: string; threads: string; batch: number; rate: number } | null;
}

/**
 * Every engine over the 10,000 test images at each batch size of BATCHES, in `rounds` rounds: each round measures
 * every in-process engine (all loaded at once) and runs every out-of-process peer once, and the passes of all rounds
 * are pooled (median and best).
 */
async function inferenceBench(test: Dataset, layers: LayerParams[]): Promise<InferenceSummary> {
  const rounds = QUICK ? 1 : 2,
    passes = QUICK ? 3 : 4;
  const rows = new Map<string, Row>();
  const put = (r: Row) => {
    const key = `${r.name}|${r.threads}`;
    const row = rows.get(key);
    if (row) pool(row.passes, r.passes);
    else rows.set(key, { ...r, passes: { ...r.passes } });
  };
  const engines: Engine[] = [];
  for (const v of variants)
    for (const dense of [false, true]) for (const t of [1, 'auto'] as const) engines.push(coreWasm(v, t, dense));
  for (const t of [1, 'auto'] as const) engines.push(coreWasm(variants[variants.length - 1], t, false, 'int8'));
  engines.push(tfjsWasm(), plainJs());
  for (const engine of engines) await engine.load(layers);
  const dir = mkdtempSync(join(tmpdir(), 'mnist-bench-'));
  const skipped = new Set<string>();
  try {
    const weights = join(dir, 'weights.bin');
    writeWeights(weights, layers);
    const onnx = join(dir, 'mnist.onnx');
    const made = makeOnnx(weights, onnx);
    if ('skipped' in made) skipped.add(`onnxruntime-web and -node: ${made.skipped}`);
    const add = (o: Outcome) => ('skipped' in o ? skipped.add(o.skipped) : put(o));
    for (let round = 0; round < rounds; round++) {
      for (const engine of engines) {
        if (engine.slow && round > 0) continue;
        const images = engine.slow ? 512 : test.count;
        const r = await measureInference((x, batch) => engine.forward(x, batch), test.x, MNIST_PIXELS, MNIST_CLASSES, {
          images,
          passes: engine.slow ? 1 : passes,
        });
        put({
          name: engine.name,
          threads: engine.threads,
          ...r,
          subset: engine.slow,
          ours: engine.name.startsWith('core-wasm'),
        });
      }
      for (const t of [1, ALL]) {
        if (!('skipped' in made)) {
          add(runOrt('web', onnx, t, test.count, passes));
          add(runOrt('node', onnx, t, test.count, passes));
        }
        add(runTorch(weights, t, passes));
        add(runNumpy(weights, t, passes, false));
        if (process.env.OPENBLAS_CORETYPE || process.env.OPENBLAS_L2_SIZE) add(runNumpy(weights, t, passes, true));
      }
    }
  } finally {
    for (const engine of engines) engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const all = [...rows.values()];
  const oursName = `core-wasm ${relaxed ? 'relaxed-simd' : 'simd'}`;
  const ours1 = all.find((r) => r.name === oursName && r.threads === '1')!;
  const oursAll = all.find((r) => r.name === oursName && r.threads !== '1')!;
  const oursFor = (r: Row) => (r.threads === '1' ? ours1 : oursAll);
  const reference = oursAll.predictions;
  const med = (r: Row, b: number) => (r.passes[b] ? rate(r.passes[b]).median : NaN);
  printTable(
    `Inference 784-512-10 (models/mnist_model.pth) over the 10,000 MNIST test images: images/s (median of ${rounds} x ${passes} passes, ` +
      `interleaved rounds; batch 1: the first ${fmtInt(BATCH1_IMAGES)} images, half the passes)`,
    [
      'engine',
      'threads',
      ...BATCHES.map((b) => `batch ${b}`),
      'best batch',
      'fastest @256',
      'accuracy',
      'same as ours',
    ],
    all.map((r) => {
      let correct = 0,
        same = 0;
      const n = r.predictions.length;
      for (let i = 0; i < n; i++) {
        if (r.predictions[i] === test.labels[i]) correct++;
        if (r.predictions[i] === reference[i]) same++;
      }
      return [
        r.subset ? `${r.name} (first ${n} images)` : r.name,
        r.threads,
        ...BATCHES.map((b) => fmtInt(med(r, b))),
        String(bestBatch(r.passes).batch),
        fmtInt(r.passes[256] ? rate(r.passes[256]).best : NaN),
        `${fmt((correct / n) * 100, 2)}%`,
        `${same}/${n}`,
      ];
    }),
  );
  for (const s of skipped) console.log(`skipped: ${s}`);
  console.log('tfjs-wasm starts no threads in Node; plain JS runs 512 images (batch 1: 256), one round.');
  printTable(
    `Inference ratios: ours = core-wasm ${relaxed ? 'relaxed-simd' : 'simd'} (default: zero pixels skipped) with the ` +
      "peer's thread count; ours/this at each batch size, and ours at batch 256 (and at our best batch) against this " +
      'engine at ITS best batch size',
    ['engine', 'threads', ...BATCHES.map((b) => `@${b}`), 'ours@256 / its best', 'our best / its best'],
    all
      .filter((r) => r !== ours1 && r !== oursAll)
      .map((r) => {
        const o = oursFor(r);
        const its = bestBatch(r.passes);
        return [
          r.name,
          r.threads,
          ...BATCHES.map((b) => `${fmt(med(o, b) / med(r, b), 2)}x`),
          `${fmt(med(o, 256) / its.rate, 2)}x (its @${its.batch})`,
          `${fmt(bestBatch(o.passes).rate / its.rate, 2)}x (@${bestBatch(o.passes).batch} / @${its.batch})`,
        ];
      }),
  );
  printTable(
    `Two-thread scaling: images/s on ${ALL} threads / on 1 thread, same engine and batch size`,
    ['engine', ...BATCHES.map((b) => `@${b}`)],
    all
      .filter((r) => r.ours && r.threads === '1')
      .map((r1) => {
        const rAll = all.find((r) => r.name === r1.name && r.threads !== '1')!;
        return [r1.name, ...BATCHES.map((b) => `${fmt(med(rAll, b) / med(r1, b), 2)}x`)];
      }),
  );
  return {
    rate: (name, threads, batch) => {
      const r =
        all.find((x) => x.name === name && x.threads === threads) ??
        all.find((x) => x.name.startsWith(name) && x.threads === threads);
      return r ? med(r, batch) : NaN;
    },
    best: (prefix) => {
      let found: { name: string; threads: string; batch: number; rate: number } | null = null;
      for (const r of all.filter((x) => x.name.startsWith(prefix))) {
        const b = bestBatch(r.passes);
        if (!found || b.rate > found.rate) found = { name: r.name, threads: r.threads, ...b };
      }
      return found;
    },
  };
}

// ------------------------------------------------------------------------------------------ main

async function activations(train: Dataset, test: Dataset): Promise<void> {
  const opt: ActivationOptions = { simd: variants[variants.length - 1], rounds: QUICK ? 1 : 5, passes: QUICK ? 1 : 2 };
  printActivationTable(await activationBench(train, test, opt), opt);
}

async function main(): Promise<void> {
  header();
  const train = loadMnist('train');
  const test = loadMnist('t10k');
  if (section('dense')) await denseBench(test);
  if (section('sparse')) await sparseBench(test);

  const init = await Mlp.create(SIZES, { seed: 1, threads: 1 });
  const initLayers = Array.from({ length: init.layerCount }, (_, i) => init.getLayer(i));
  init.dispose();
  const t = section('training') ? await trainingBench(train, test, initLayers) : null;
  let aug: AugmentTrainingRow[] | null = null;
  if (section('augment')) {
    await augmentBench(train, QUICK);
    const opt: AugmentTrainingOptions = {
      init: initLayers,
      simd: variants[variants.length - 1],
      threads: QUICK ? ['auto'] : [1, 'auto'],
      rounds: QUICK ? 1 : 5,
    };
    aug = await augmentTrainingBench(train, test, opt);
    printAugmentTraining(aug, opt);
  }
  let inf: InferenceSummary | null = null;
  if (section('inference')) {
    const model = loadMlpSync(readFileSync(join(repo, 'models', 'mnist_model.pth')));
    inf = await inferenceBench(test, model.layers);
  }
  printTargets(t, aug, inf);
  if (section('activations')) await activations(train, test);

  if (section('loader') && LOADER) {
    // the loader's own benchmark script
    console.log('\n@mnist/loader: pnpm --filter @mnist/loader bench');
    try {
      execFileSync('pnpm', ['--filter', '@mnist/loader', '--silent', 'bench'], {
        cwd: repo,
        stdio: 'inherit',
        timeout: 300_000,
      });
    } catch (e) {
      console.log(`loader benchmark failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  console.log(`\nload average at the end: ${loadNow()}`);
}

/** The issue targets this run can judge (those of the sections that ran). */
function printTargets(t: TrainingSummary | null, aug: AugmentTrainingRow[] | null, inf: InferenceSummary | null): void {
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const x = (a: number, b: number) => `${fmt(a / b, 2)}x`;
  const all = String(ALL);
  const ours = `core-wasm ${relaxed ? 'relaxed-simd' : 'simd'}`;
  const rows: string[][] = [];
  if (inf) {
    const o = (threads: string, batch: number) => inf.rate(ours, threads, batch);
    const dense = (threads: string) => inf.rate(`${ours}, dense only`, threads, 256);
    const web = (threads: string) => inf.rate('onnxruntime-web', threads, 256);
    const natives = ['NumPy', 'onnxruntime-node', 'PyTorch'].map((p) => inf.best(p)).filter((b) => b !== null);
    const native = natives.reduce<(typeof natives)[number] | null>((a, b) => (a && a.rate >= b.rate ? a : b), null);
    rows.push(
      [
        '16: batch 256, all threads >= 1.0x the best native run (any batch, any threads)',
        native
          ? `${x(o(all, 256), native.rate)}: ${fmtInt(o(all, 256))} vs ` +
            natives.map((n) => `${n.name.split(' ')[0]} ${fmtInt(n.rate)} (${n.threads}t @${n.batch})`).join(', ')
          : 'no native peer ran',
        native ? mark(o(all, 256) >= native.rate) : '',
      ],
      [
        '16: two-thread scaling >= 1.8x at batch 256',
        `${x(o(all, 256), o('1', 256))} (${fmtInt(o(all, 256))} / ${fmtInt(o('1', 256))}); dense only ${x(dense(all), dense('1'))}`,
        mark(o(all, 256) / o('1', 256) >= 1.8),
      ],
      [
        '6: batch 256, all threads >= 2x onnxruntime-web (same threads)',
        `${x(o(all, 256), web(all))} (1 thread ${x(o('1', 256), web('1'))}; dense only ${x(dense(all), web(all))} and ${x(dense('1'), web('1'))})`,
        mark(o(all, 256) / web(all) >= 2),
      ],
      [
        '6: batch 256, all threads >= 2.5x tfjs-wasm',
        x(o(all, 256), inf.rate('TensorFlow', '1', 256)),
        mark(o(all, 256) / inf.rate('TensorFlow', '1', 256) >= 2.5),
      ],
      [
        '6: batch 256, all threads >= 0.5x NumPy at batch 256',
        x(o(all, 256), inf.rate('NumPy', all, 256)),
        mark(o(all, 256) / inf.rate('NumPy', all, 256) >= 0.5),
      ],
      [
        '6: batch 1 >= 25,000 images/s',
        `${fmtInt(o(all, 1))} (all threads), ${fmtInt(o('1', 1))} (1 thread)`,
        mark(Math.min(o(all, 1), o('1', 1)) >= 25_000),
      ],
    );
  }
  if (t) {
    rows.push(
      [
        `16: epoch <= 0.75 s on ${ALL} threads (SGD momentum), / faster than NumPy and PyTorch`,
        `${fmt(t.oursAll, 2)} s, fastest ${fmt(t.oursAllBest, 2)} s (1 thread ${fmt(t.ours1, 2)} s); ${ALL} threads: ` +
          `PyTorch ${fmt(t.torchAll, 2)} s, NumPy ${fmt(t.numpyAll, 2)} s`,
        `${mark(t.oursAll <= 0.75)} / ${mark(t.oursAll < t.torchAll && t.oursAll < t.numpyAll)}`,
      ],
      [
        '6: epoch <= 2.0 s on all threads, same accuracy as 1 thread',
        `${fmt(t.oursAll, 2)} s; accuracy ${fmt(t.accAll * 100, 2)}% vs ${fmt(t.acc1 * 100, 2)}%`,
        mark(t.oursAll <= 2 && t.accAll === t.acc1),
      ],
    );
  }
  if (aug) {
    const best = (v: number[]) => Math.min(...v);
    const pct = (v: number) => `${fmt(v * 100, 0)}%`;
    const shares = aug
      .filter((r) => r.augment && !r.pre && String(r.threads) === all)
      .map((r) => ({
        setting: r.setting.split(' ')[0],
        m: augmentShares(aug, r, median),
        b: augmentShares(aug, r, best),
      }));
    rows.push([
      `13: augmentation <= 25% of the epoch on ${ALL} threads (its own time in the loop)`,
      shares
        .map(
          (s) =>
            `${s.setting} ${pct(s.m.loop)} (fastest ${pct(s.b.loop)}); with denser inputs ${pct(s.m.total)} (${pct(s.b.total)})`,
        )
        .join('; '),
      mark(shares.every((s) => s.m.loop <= 0.25)),
    ]);
  }
  if (rows.length)
    printTable(`Targets by issue (this run, all threads = ${ALL}; medians)`, ['issue: target', 'measured', ''], rows);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
