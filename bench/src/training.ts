// How the bench trains. Ours: @mnist/core-wasm through the library's one training driver, train(), timed by its
// onStep / onEpoch callbacks (no loop of the bench's own). The peers (plain JS, TensorFlow.js here; PyTorch and NumPy
// in train-peers.ts) train on the very batches train() makes: per epoch
// shuffledOrder(count, seededRandom(mixSeed(seed, epoch))), in that order, the last partial batch kept.
// test/training.test.ts checks both against train() called directly, bit for bit.
import {
  mixSeed,
  seededRandom,
  shuffledOrder,
  train,
  trainConfig,
  TRAIN_DEFAULTS,
  type EvalData,
  type Mlp,
  type SgdOptions,
  type TrainConfig,
  type TrainData,
} from '@mnist/core-wasm';

/** The library's default configuration (SGD lr 0.05, momentum 0.9, batch 64, seed 1) for one epoch, or as changed. */
export function benchConfig(changes: Partial<TrainConfig> = {}): TrainConfig {
  return trainConfig({ ...TRAIN_DEFAULTS, epochs: 1, ...changes });
}

/** What one training run gives the tables. */
export interface TimedRun {
  /** Seconds of training per epoch (a slow peer's is extrapolated from its first batches). */
  epochSeconds: number[];
  /** Test accuracy after each epoch (empty without test data or for an extrapolated peer). */
  accuracy: number[];
  /** The first 20 batch losses (before each update). */
  firstLosses: number[];
  /** Batches trained. */
  steps: number;
}

const FIRST_LOSSES = 20;

/**
 * Trains `net` with train() and times it from the callbacks: onStep keeps the first losses; onEpoch takes the
 * driver's own seconds for the epoch (from the epoch's shuffle to its last step; no validation or test set is given to
 * the driver, so no evaluation is inside them) and then tests the network, outside that clock.
 */
export async function trainTimed(net: Mlp, data: TrainData, config: TrainConfig, test?: EvalData): Promise<TimedRun> {
  const run: TimedRun = { epochSeconds: [], accuracy: [], firstLosses: [], steps: 0 };
  const result = await train(net, data, config, {
    onStep: (s) => {
      if (run.firstLosses.length < FIRST_LOSSES) run.firstLosses.push(s.loss);
    },
    onEpoch: (e) => {
      run.epochSeconds.push(e.seconds);
      if (test) run.accuracy.push(net.evaluate(test.x, test.labels, test.count, 1000).accuracy);
    },
  });
  if (result.stopped !== 'done') throw new Error(`bench training stopped early: ${result.stopped}`);
  run.steps = result.steps;
  return run;
}

/** The batch order of `epoch` (1-based), as train() draws it. */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  return shuffledOrder(count, seededRandom(mixSeed(seed, epoch)));
}

/** One SGD-with-momentum step, PyTorch's rule: buf = momentum * buf + g; p -= lr * buf. */
export interface SgdStep {
  lr: number;
  momentum: number;
}

/** A peer that trains: one step on a batch, returning the batch's mean loss before the update. */
export interface PeerTrainer {
  trainBatch(x: Float32Array, labels: Uint8Array, batch: number, step: SgdStep): number;
  predict?(x: Float32Array, count: number): Int32Array;
}

/**
 * Trains a peer on train()'s batches for config.epochs epochs (SGD only: the peers implement no other optimizer).
 * `maxSteps` times only the first batches of the first epoch and extrapolates the epoch (for a slow peer).
 */
export function trainPeer(
  peer: PeerTrainer,
  data: { images: Float32Array; labels: Uint8Array; count: number },
  config: TrainConfig,
  options: { test?: EvalData; maxSteps?: number } = {},
): TimedRun {
  if (config.optimizer.optimizer === 'adam' || config.optimizer.optimizer === 'adamw')
    throw new Error(`the bench's peers train with SGD, not ${config.optimizer.optimizer}`);
  const o = config.optimizer as SgdOptions;
  if (o.dampening || o.nesterov || o.weightDecay)
    throw new Error("the bench's peers train SGD with momentum only: no dampening, Nesterov or weight decay");
  if (config.validation || config.augment || config.schedule || config.labelSmoothing || config.normalize)
    throw new Error("the bench's peers train without validation, augmentation, schedule, smoothing or normalization");
  const step: SgdStep = { lr: o.lr, momentum: o.momentum ?? 0 };
  const size = data.images.length / data.count;
  const B = Math.min(config.batchSize, data.count);
  const steps = config.dropLast ? Math.floor(data.count / B) : Math.ceil(data.count / B);
  const x = new Float32Array(B * size);
  const y = new Uint8Array(B);
  const run: TimedRun = { epochSeconds: [], accuracy: [], firstLosses: [], steps: 0 };
  const timed = Math.min(steps, options.maxSteps ?? steps);
  for (let epoch = 1; epoch <= (timed < steps ? 1 : config.epochs); epoch++) {
    const t0 = performance.now();
    const order = epochOrder(data.count, config.seed, epoch);
    for (let s = 0; s < timed; s++) {
      const n = Math.min(B, data.count - s * B);
      for (let k = 0; k < n; k++) {
        const j = order[s * B + k];
        x.set(data.images.subarray(j * size, (j + 1) * size), k * size);
        y[k] = data.labels[j];
      }
      const loss = peer.trainBatch(x.subarray(0, n * size), y.subarray(0, n), n, step);
      if (run.firstLosses.length < FIRST_LOSSES) run.firstLosses.push(loss);
      run.steps++;
    }
    run.epochSeconds.push(((performance.now() - t0) / 1000) * (steps / timed));
    if (options.test && peer.predict && timed === steps) {
      const { x: tx, labels, count } = options.test;
      const predictions = peer.predict(tx, count);
      let correct = 0;
      for (let i = 0; i < count; i++) if (predictions[i] === labels[i]) correct++;
      run.accuracy.push(correct / count);
    }
  }
  return run;
}
