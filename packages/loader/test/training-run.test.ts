// A training run's file for the engine's callers (the CLI and the web app share it): saveTrainingRun writes the
// driver's checkpoint (TrainCheckpoint, structurally) with our run record, readTrainingRun gives back the same
// weights, optimizer state, schedule position, record and best epoch (runStateOf: what the driver resumes), a
// bias=False layer has no bias tensor, and a tampered run record is refused field by field with PTH_BAD_CHECKPOINT.
import { describe, expect, it } from 'vitest';
import {
  type EngineLayer,
  type EngineRunState,
  isPthError,
  parseRunRecord,
  readTrainingRun,
  runStateOf,
  saveTrainingRun,
  stateDictLayout,
} from '../src/index.js';

const ramp = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.fround((i % 17) * k - 0.5));
const layer = (inp: number, out: number, k: number): EngineLayer => ({
  weight: ramp(out * inp, k),
  bias: ramp(out, 2 * k),
  in: inp,
  out,
});
const layers = [layer(6, 4, 0.01), layer(4, 3, 0.02)];
const best = [layer(6, 4, 0.03), layer(4, 3, 0.04)];
const config = {
  epochs: 4,
  batchSize: 8,
  seed: 3,
  optimizer: { optimizer: 'adam' as const, lr: 0.002, weightDecay: 0 },
  schedule: { kind: 'cosine', minLr: 0, warmup: 1, interval: 'epoch', total: 3 },
  validation: 10,
};
const run: EngineRunState = {
  epoch: 2,
  layers,
  optimizer: {
    optimizer: 'adam',
    step: 14,
    layers: layers.map((L, i) => ({
      weight: { exp_avg: ramp(L.weight.length, 0.001 * (i + 1)), exp_avg_sq: ramp(L.weight.length, 0.0001) },
      bias: i === 1 ? null : { exp_avg: ramp(L.out, 0.003), exp_avg_sq: ramp(L.out, 0.0003) },
    })),
  },
  schedule: {
    spec: { kind: 'cosine', minLr: 0, warmup: 1, total: 3 },
    baseLr: 0.002,
    steps: 2,
    lr: 0.0015,
  },
  config,
  history: [{ epoch: 1 }, { epoch: 2 }],
  best: { epoch: 1, accuracy: 0.9, layers: best },
  sinceBest: 1,
};
const info = {
  biasFree: [1],
  settings: { activations: [{ name: 'tanh' }], normalize: { mean: 0.1307, std: 0.3081 } },
  dropout: [0.2],
  images: 50,
};
const tensors = (ls: readonly EngineLayer[]) =>
  ls.flatMap((l, i) => [
    { name: `fc${i + 1}.weight`, shape: [l.out, l.in], data: l.weight },
    ...(info.biasFree.includes(i) ? [] : [{ name: `fc${i + 1}.bias`, shape: [l.out], data: l.bias }]),
  ]);

describe('saveTrainingRun / readTrainingRun', () => {
  it('gives back what the driver resumes: weights, optimizer state, schedule position, record, best epoch', async () => {
    const read = await readTrainingRun(saveTrainingRun(run, tensors, info));
    expect(read.epoch).toBe(2);
    expect(read.model.map((t) => t.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight']);
    expect(stateDictLayout(read.model)).toEqual([
      { out: 4, in: 6, hasBias: true },
      { out: 3, in: 4, hasBias: false },
    ]);
    expect(read.record).toEqual({
      config,
      history: run.history,
      best: { epoch: 1, accuracy: 0.9 },
      sinceBest: 1,
      settings: info.settings,
      dropout: [0.2],
      images: 50,
    });
    // the run's base lr (the param group's initial_lr under a scheduler), not where the schedule has got to (0.0015)
    expect(read.optimizerConfig).toMatchObject({ optimizer: 'adam', lr: 0.002, weightDecay: 0 });
    const state = runStateOf(read);
    expect(state.epoch).toBe(2);
    expect(state.schedule).toEqual({ steps: 2 });
    expect(state.config).toEqual(config);
    expect(state.layers[0]!.weight).toEqual(layers[0]!.weight);
    expect(state.layers[0]!.bias).toEqual(layers[0]!.bias);
    expect(state.layers[1]!.weight).toEqual(layers[1]!.weight);
    expect(state.layers[1]!.bias).toEqual(new Float32Array(3)); // bias=False: zeros, as the engine keeps it
    expect(state.best!.layers[0]!.weight).toEqual(best[0]!.weight);
    expect(state.optimizer!.step).toBe(14);
    expect(state.optimizer!.layers[0]!.weight.exp_avg).toEqual(run.optimizer!.layers[0]!.weight.exp_avg);
    expect(state.optimizer!.layers[1]!.bias).toBeNull();
  });

  it('refuses a tampered run record, naming the field', () => {
    const good = { config, history: [], best: null, sinceBest: 0, settings: info.settings, dropout: [0], images: 5 };
    const refused = (change: Record<string, unknown>) => {
      try {
        parseRunRecord({ ...good, ...change });
      } catch (err) {
        if (isPthError(err)) return [err.code, err.message];
      }
      return null;
    };
    expect(refused({})).toBeNull();
    expect(refused({ images: 0 })).toEqual([
      'PTH_BAD_CHECKPOINT',
      "its 'mnist_wasm' run description has no valid image count: resume it with the options it was trained with, or start a new run",
    ]);
    expect(refused({ config: { optimizer: {} } })?.[1]).toMatch(/no valid config:/);
    expect(refused({ settings: { activations: [], normalize: 'mnist' } })?.[1]).toMatch(/no valid normalization:/);
    expect(refused({ dropout: ['0.1'] })?.[1]).toMatch(/no valid dropout:/);
  });
});
