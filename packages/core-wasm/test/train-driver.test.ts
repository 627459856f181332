// The training driver (src/train.ts) on real MNIST images: it equals a hand-written loop of shuffledOrder + trainBatch
// (the reference for batching and the last-batch rule); one seed gives the same bits on 1 and 2 threads; a run
// resumed from an epoch's checkpoint equals the uninterrupted run bit for bit (Adam, cosine schedule, dropout, label
// smoothing, augmentation); validation keeps the best epoch and early stopping stops; divergence restores the last
// finite weights; an abort stops after the current batch; bad configurations are refused.
import { describe, expect, it } from 'vitest';
import {
  Augmenter,
  Mlp,
  mixSeed,
  seededRandom,
  shuffledOrder,
  train,
  trainConfig,
  type TrainCheckpoint,
  type TrainConfig,
} from '../src/index.js';
import { expectSameBits, mnist } from './helpers.js';

const N = 1200;
const data = mnist('train', N);
const trainData = { images: data.x, labels: data.labels, count: N };
const test = mnist('t10k', 500);
const SIZES = [784, 48, 10];

const weights = (net: Mlp) => Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i));
function sameWeights(a: Mlp, b: Mlp, what: string): void {
  weights(a).forEach((L, i) => {
    expectSameBits(L.weight, b.getLayer(i).weight, `${what}: layer ${i} weight`);
    expectSameBits(L.bias, b.getLayer(i).bias, `${what}: layer ${i} bias`);
  });
}

describe('train()', () => {
  it('equals a hand-written loop (per-epoch seeded shuffle, last partial batch kept) and reports what it did', async () => {
    const config: Partial<TrainConfig> = { epochs: 2, batchSize: 100, seed: 7, optimizer: { lr: 0.1, momentum: 0.9 } };
    const trainCount = 1150; // batch 100: 11 full batches and one of 50
    const a = await Mlp.create(SIZES, { seed: 1 });
    const steps: number[] = [];
    const r = await train(a, { ...trainData, count: trainCount }, config, {
      onStep: (s) => {
        steps.push(s.batch);
      },
      test: { x: test.x, labels: test.labels, count: 500 },
    });
    expect(r.stopped).toBe('done');
    expect(r.epochs).toBe(2);
    expect(r.steps).toBe(24);
    expect(steps.slice(0, 12)).toEqual([...Array(11).fill(100), 50]);
    const b = await Mlp.create(SIZES, { seed: 1 });
    for (let epoch = 1; epoch <= 2; epoch++) {
      const order = shuffledOrder(trainCount, seededRandom(mixSeed(7, epoch)));
      for (let start = 0; start < trainCount; start += 100) {
        const n = Math.min(100, trainCount - start);
        const x = new Float32Array(n * 784);
        const y = new Uint8Array(n);
        for (let k = 0; k < n; k++) {
          x.set(data.x.subarray(order[start + k] * 784, (order[start + k] + 1) * 784), k * 784);
          y[k] = data.labels[order[start + k]];
        }
        b.trainBatch(x, y, n, { lr: 0.1, momentum: 0.9, dropoutSeed: 0 });
      }
    }
    sameWeights(a, b, 'driver vs loop');
    expect(r.history).toHaveLength(2);
    const e = b.evaluate(test.x, test.labels, 500, 1000);
    expect(r.history[1].test).toEqual({ loss: e.loss, accuracy: e.accuracy });
    expect(r.history[1].train.accuracy).toBeGreaterThan(0.5);
    for (const n of [a, b]) n.dispose();
  });

  it("with augmentation equals a loop of Augmenter.apply, normalization and trainBatch (the engine's warp, any thread count)", async () => {
    const augment = { shift: 2, rotate: 10, scale: 0.1, elastic: true };
    const normalize = { mean: 0.1307, std: 0.3081 };
    const config: Partial<TrainConfig> = {
      epochs: 1,
      batchSize: 64,
      seed: 11,
      optimizer: { lr: 0.05, momentum: 0.9 },
      augment,
      normalize,
    };
    const count = 640;
    const augmenter = await Augmenter.create(augment);
    const mean = Math.fround(normalize.mean),
      std = Math.fround(normalize.std);
    for (const threads of [1, 2]) {
      const a = await Mlp.create(SIZES, { seed: 4, threads });
      await train(a, { ...trainData, count }, config);
      expect(a.augmentation).toBeNull(); // the driver turns it off again
      const b = await Mlp.create(SIZES, { seed: 4 });
      const order = shuffledOrder(count, seededRandom(mixSeed(11, 1)));
      for (let s = 0; s < count / 64; s++) {
        const x = new Float32Array(64 * 784);
        const y = new Uint8Array(64);
        for (let k = 0; k < 64; k++) {
          const i = order[s * 64 + k];
          x.set(data.x.subarray(i * 784, (i + 1) * 784), k * 784);
          y[k] = data.labels[i];
        }
        const warped = augmenter.apply(x, 64, mixSeed(11 ^ 0x5a17, s));
        for (let j = 0; j < warped.length; j++) warped[j] = Math.fround(warped[j] - mean) / std;
        b.trainBatch(warped, y, 64, { lr: 0.05, momentum: 0.9, dropoutSeed: mixSeed(11 ^ 0xd70, s) });
      }
      sameWeights(a, b, `driver with augmentation (${threads} threads) vs loop`);
      for (const n of [a, b]) n.dispose();
    }
    augmenter.dispose();
  });

  it('refuses an augmentSeed without setAugmentation, and augmentation of inputs that are not square images', async () => {
    const net = await Mlp.create(SIZES, { seed: 1 });
    const x = data.x.subarray(0, 4 * 784);
    expect(() => net.trainBatch(x, data.labels.subarray(0, 4), 4, { lr: 0.1, augmentSeed: 1 })).toThrow(
      /augmentSeed given but no augmentation is set/,
    );
    expect(() => net.setAugmentation({ shift: 1 }, { mean: 0, std: 0 })).toThrow(/invalid normalize/);
    expect(() => net.setAugmentation({ shift: 99 })).toThrow(/invalid shift/);
    net.setAugmentation({ shift: 1 });
    expect(net.augmentation).toEqual({ shift: 1, rotate: 0, scale: 0, elastic: false });
    expect(() => net.trainBatch(x, data.labels.subarray(0, 4), 4, { lr: 0.1, augmentSeed: 1.5 })).toThrow(
      /invalid seed/,
    );
    net.dispose();
    const odd = await Mlp.create([30, 8, 10], { seed: 1 });
    expect(() => odd.setAugmentation({ shift: 1 })).toThrow(/30 values, not a square image/);
    odd.dispose();
  });

  it('dropLast drops the short batch', async () => {
    const net = await Mlp.create(SIZES, { seed: 1 });
    const r = await train(net, { ...trainData, count: 1150 }, { epochs: 1, batchSize: 100, dropLast: true });
    expect(r.steps).toBe(11);
    net.dispose();
  });

  it('one seed gives the same weights on 1 and 2 threads, with dropout, smoothing, augmentation and Adam', async () => {
    const config: Partial<TrainConfig> = {
      epochs: 2,
      batchSize: 64,
      seed: 3,
      optimizer: { optimizer: 'adam', lr: 2e-3 },
      labelSmoothing: 0.1,
      augment: { shift: 2, rotate: 10, scale: 0.1, elastic: true },
      schedule: { kind: 'onecycle', maxLr: 4e-3 },
    };
    const nets = await Promise.all(
      [1, 2].map((threads) => Mlp.create([784, 256, 10], { seed: 2, threads, dropout: 0.2 })),
    );
    for (const net of nets) await train(net, trainData, config);
    sameWeights(nets[0], nets[1], '1 vs 2 threads');
    for (const n of nets) n.dispose();
  });

  it('a run resumed from a checkpoint equals the uninterrupted run bit for bit', async () => {
    const config: Partial<TrainConfig> = {
      epochs: 3,
      batchSize: 50,
      seed: 5,
      optimizer: { optimizer: 'adamw', lr: 3e-3, amsgrad: true },
      schedule: { kind: 'cosine', warmup: 2, interval: 'step' },
      labelSmoothing: 0.05,
      augment: { shift: 1.5, rotate: 8 },
      validation: 200,
    };
    const straight = await Mlp.create(SIZES, { seed: 9, dropout: 0.1 });
    const whole = await train(straight, trainData, config);
    let saved: TrainCheckpoint | null = null;
    const first = await Mlp.create(SIZES, { seed: 9, dropout: 0.1 });
    await train(
      first,
      trainData,
      { ...config, keepBest: false },
      {
        onEpoch: (info, checkpoint) => {
          if (info.epoch === 1) saved = structuredClone(checkpoint());
        },
      },
    );
    expect(saved).not.toBeNull();
    const resumed = await Mlp.create(SIZES, { seed: 123, dropout: 0.1 }); // different init: the checkpoint's weights win
    const r = await train(resumed, trainData, {}, {}, { ...saved!, config: { ...saved!.config, keepBest: true } });
    expect(r.epochs).toBe(3);
    expect(r.steps).toBe(whole.steps);
    expect(r.bestEpoch).toBe(whole.bestEpoch);
    sameWeights(resumed, straight, 'resumed vs straight');
    expect(r.history.map((h) => h.validation)).toEqual(whole.history.map((h) => h.validation));
    for (const n of [straight, first, resumed]) n.dispose();
  });

  it('validation: keeps the best epoch; patience stops a run that stopped improving', async () => {
    const net = await Mlp.create(SIZES, { seed: 1 });
    // lr 0 after the first epoch (a step schedule with gamma 0): validation accuracy cannot improve again
    const r = await train(net, trainData, {
      epochs: 6,
      validation: 300,
      patience: 2,
      optimizer: { lr: 0.1, momentum: 0.9 },
      schedule: { kind: 'step', stepSize: 1, gamma: 0 },
    });
    expect(r.stopped).toBe('early-stop');
    expect(r.epochs).toBe(3);
    expect(r.bestEpoch).toBe(1);
    expect(r.history.map((h) => h.best)).toEqual([true, false, false]);
    expect(r.history[0].validation!.accuracy).toBeGreaterThan(0.3); // 3x chance after 14 steps
    net.dispose();
  });

  it('divergence stops the run and restores the last finite weights; an abort stops after the current batch', async () => {
    const net = await Mlp.create(SIZES, { seed: 1 });
    const before = weights(net);
    const r = await train(net, trainData, { epochs: 2, optimizer: { lr: 1e30, momentum: 0.9 } });
    expect(r.stopped).toBe('diverged');
    expect(r.diverged!.what).toMatch(/loss|weights/);
    expectSameBits(net.getLayer(0).weight, before[0].weight, 'restored init');

    const controller = new AbortController();
    let seen = 0;
    const a = await train(
      net,
      trainData,
      { epochs: 3 },
      {
        signal: controller.signal,
        onStep: (s) => {
          seen = s.globalStep;
          if (s.globalStep === 5) controller.abort();
        },
      },
    );
    expect(a.stopped).toBe('aborted');
    expect(seen).toBe(5);
    expect(a.steps).toBe(5);
    expect(a.lastEpoch).toBeNull();
    net.dispose();
  });

  it('refuses bad configurations with CORE_BAD_ARGUMENT', () => {
    expect(() => trainConfig({ epochs: 0 })).toThrow(/epochs/);
    expect(() => trainConfig({ patience: 2 })).toThrow(/validation/);
    expect(() => trainConfig({ optimizer: { optimizer: 'adam', lr: -1 } })).toThrow(/lr/);
    expect(() => trainConfig({ labelSmoothing: 1 })).toThrow(/labelSmoothing/);
    expect(() => trainConfig({ normalize: { mean: 0, std: 0 } })).toThrow(/std/);
    expect(trainConfig({}).optimizer).toEqual({ optimizer: 'sgd', lr: 0.05, momentum: 0.9 });
  });
});
