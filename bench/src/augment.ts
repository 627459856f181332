// Augmentation speed: ms per 60,000 training images (one epoch) for the affine, elastic and combined settings, the
// SIMD kernel against its scalar reference in the same run, called per batch of 64 as the training driver does.
// Part of `pnpm bench`; alone: `node --experimental-wasm-relaxed-simd dist/augment.js [--quick]` (after tsc).
import { pathToFileURL } from 'node:url';
import { Augmenter, type AugmentOptions } from '@mnist/core-wasm';
import { loadMnist, type Dataset } from './mnist.js';
import { fmt, fmtInt, median, printTable } from './stats.js';

const BATCH = 64;
/** The budget on one thread, per 60,000 images (augmentation <= 25% of a 0.75 s epoch on 2 threads). */
const BUDGET_MS = { affine: 150, elastic: 200 };

export interface AugmentReport {
  /** Median ms per 60,000 images with the SIMD kernel, by setting. */
  affine: number;
  elastic: number;
  combined: number;
}

export async function augmentBench(train: Dataset, quick = false): Promise<AugmentReport> {
  const settings: [string, keyof AugmentReport, AugmentOptions][] = [
    ['affine: shift 2, rotate 15, scale 0.15', 'affine', { shift: 2, rotate: 15, scale: 0.15 }],
    ['elastic: alpha 34, sigma 4', 'elastic', { elastic: true }],
    ['elastic + affine (one pass)', 'combined', { shift: 2, rotate: 15, scale: 0.15, elastic: true }],
  ];
  const n = train.count,
    P = train.x.length / n;
  const out = new Float32Array(BATCH * P);
  const rows: (string | number)[][] = [];
  const report: AugmentReport = { affine: NaN, elastic: NaN, combined: NaN };
  for (const [label, key, options] of settings) {
    for (const kernel of ['simd', 'scalar'] as const) {
      const t0 = performance.now();
      const aug = await Augmenter.create(options, { kernel });
      const createMs = performance.now() - t0;
      // one epoch in batches of 64, each batch under its own seed, as a training loop calls it
      const epoch = () => {
        for (let start = 0, b = 0; start < n; start += BATCH, b++) {
          const count = Math.min(BATCH, n - start);
          aug.apply(train.x.subarray(start * P, (start + count) * P), count, b, out);
        }
      };
      const t = timeEpochs(epoch, quick || kernel === 'scalar' ? 3 : 7);
      aug.dispose();
      if (kernel === 'simd') report[key] = t.cpu;
      const budget = key === 'affine' ? BUDGET_MS.affine : BUDGET_MS.elastic;
      rows.push([
        `${label}, ${kernel === 'simd' ? 'SIMD' : 'scalar reference'}`,
        fmt(t.wall, 0),
        fmt(t.cpu, 0),
        fmtInt((n / t.cpu) * 1000),
        fmt(((t.cpu / n) * 1e6) / P, 2),
        fmt(createMs, 0),
        kernel === 'simd' ? `${fmt(t.cpu, 0)} / ${budget}: ${t.cpu <= budget ? 'met' : 'MISSED'}` : '',
      ]);
    }
  }
  printTable(
    `Augmentation, 1 thread, ${fmtInt(n)} images per epoch in batches of ${BATCH} (apply per batch: drawing, copies in and out included)`,
    ['setting, kernel', 'wall ms/epoch', 'CPU ms/epoch', 'images/s (CPU)', 'ns/pixel', 'create ms', 'budget ms (CPU)'],
    rows,
  );
  console.log(
    "medians after a warm-up; CPU ms is this process's CPU time (process.cpuUsage), which a busy shared machine inflates less than wall time",
  );
  return report;
}

/** Median wall and CPU milliseconds of `runs` calls after one warm-up. */
function timeEpochs(fn: () => void, runs: number): { wall: number; cpu: number } {
  fn();
  const wall: number[] = [],
    cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await augmentBench(loadMnist('train'), process.argv.includes('--quick'));
}
