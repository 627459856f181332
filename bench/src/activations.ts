// The cost of each hidden activation in @mnist/core-wasm, against ReLU in the same run: a 784-512-10 network on one
// thread, inference over the 10,000 MNIST test images at batch 256 and training on 200 batches of 64 (SGD), images/s
// and time relative to ReLU, from the fastest of several interleaved runs (the least disturbed on a shared machine).
// activationBench measures and returns rows; printActivationTable renders them.
import { ACTIVATION_NAMES, Mlp, train, trainConfig, type ActivationName } from '@mnist/core-wasm';
import { MNIST_CLASSES, MNIST_PIXELS } from '@mnist/loader/data';
import type { Dataset } from './mnist.js';
import { fmt, fmtInt, median, printTable } from './stats.js';

const SIZES = [MNIST_PIXELS, 512, MNIST_CLASSES];
const INFER_BATCH = 256;
const TRAIN_BATCH = 64;
const TRAIN_BATCHES = 200;
/** Plain SGD lr 0.1, batch 64, through the library's driver (its seeded shuffle of the first epoch). */
const TRAIN_CONFIG = trainConfig({ epochs: 1, batchSize: TRAIN_BATCH, seed: 1, optimizer: { lr: 0.1 } });

export interface ActivationRow {
  activation: ActivationName;
  /** images/s of every timed inference pass and training run */
  inference: number[];
  training: number[];
  /** test accuracy after the 200 training batches (the same in every run: same init, same order) */
  accuracy: number;
}

export interface ActivationOptions {
  simd: 'plain' | 'relaxed';
  /** timed runs per activation, interleaved across activations (so drift on a shared machine hits them alike) */
  rounds: number;
  /** inference passes over the test set per run (each timed on its own) */
  passes: number;
}

/**
 * Each round, for each activation: a network from the same seeded weights trains the first 200 batches of 64 of
 * train()'s first epoch (the same shuffled order for all; timed by the driver), then runs `passes` inference passes over the test images at batch 256 (timed) and is
 * tested. A first, untimed round warms up every activation's code.
 */
export async function activationBench(
  trainSet: Dataset,
  test: Dataset,
  opt: ActivationOptions,
): Promise<ActivationRow[]> {
  const data = { images: trainSet.x, labels: trainSet.labels, count: trainSet.count };
  const rows: ActivationRow[] = ACTIVATION_NAMES.map((activation) => ({
    activation,
    inference: [],
    training: [],
    accuracy: Number.NaN,
  }));
  for (let round = 0; round <= opt.rounds; round++) {
    const warmup = round === 0;
    for (const row of rows) {
      const net = await Mlp.create(SIZES, { seed: 1, activation: row.activation, threads: 1, simd: opt.simd });
      try {
        // the first batches of the driver's first epoch: train() stops after the batch on which the signal aborts
        const batches = warmup ? 20 : TRAIN_BATCHES;
        const stop = new AbortController();
        const r = await train(net, data, TRAIN_CONFIG, {
          signal: stop.signal,
          onStep: (s) => {
            if (s.step === batches) stop.abort();
          },
        });
        if (r.steps !== batches) throw new Error(`activation bench: trained ${r.steps} batches, not ${batches}`);
        const trainMs = r.seconds * 1000;
        const inferMs: number[] = [];
        for (let p = 0; p < (warmup ? 1 : opt.passes); p++) {
          const t1 = performance.now();
          for (let s = 0; s < test.count; s += INFER_BATCH) {
            const n = Math.min(INFER_BATCH, test.count - s);
            net.forward(test.x.subarray(s * MNIST_PIXELS, (s + n) * MNIST_PIXELS), n);
          }
          inferMs.push(performance.now() - t1);
        }
        if (warmup) continue;
        row.training.push(((TRAIN_BATCHES * TRAIN_BATCH) / trainMs) * 1000);
        for (const ms of inferMs) row.inference.push((test.count / ms) * 1000);
        if (Number.isNaN(row.accuracy)) row.accuracy = net.evaluate(test.x, test.labels, test.count).accuracy;
      } finally {
        net.dispose();
      }
    }
  }
  return rows;
}

/** The table: images/s (fastest and median run) and time relative to ReLU (fastest runs), inference and training. */
export function printActivationTable(rows: ActivationRow[], opt: ActivationOptions): void {
  const relu = rows.find((r) => r.activation === 'relu')!;
  const best = (rates: number[]) => Math.max(...rates);
  const vsRelu = (rates: number[], reluRates: number[]) => `${fmt(best(reluRates) / best(rates), 2)}x`;
  printTable(
    `Activations: core-wasm ${opt.simd === 'plain' ? 'simd' : 'relaxed-simd'}, 1 thread, 784-512-10 from the same ` +
      `seeded weights; inference over the 10,000 test images at batch ${INFER_BATCH} (${opt.rounds} x ${opt.passes} ` +
      `passes), training ${TRAIN_BATCHES} batches of ${TRAIN_BATCH}, SGD lr ${TRAIN_CONFIG.optimizer.lr} through train() (${opt.rounds} runs), interleaved; ` +
      'images/s of the fastest run and the median; time = this / ReLU, fastest runs',
    [
      'activation',
      'infer img/s',
      'median',
      'time',
      'train img/s',
      'median',
      'time',
      `test acc after ${TRAIN_BATCHES} batches`,
    ],
    rows.map((r) => [
      r.activation,
      fmtInt(best(r.inference)),
      fmtInt(median(r.inference)),
      vsRelu(r.inference, relu.inference),
      fmtInt(best(r.training)),
      fmtInt(median(r.training)),
      vsRelu(r.training, relu.training),
      `${fmt(r.accuracy * 100, 2)}%`,
    ]),
  );
}
