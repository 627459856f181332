// PyTorch golden test for the optimizers and schedules (test/golden/make_optim.py, real torch 1.13): 20-step
// trajectories of SGD (weight decay, dampening, Nesterov), Adam and AdamW (weight decay, AMSGrad) from the same init
// and batches as golden.test.ts: losses, final weights and optimizer state within 1e-5; Adam under OneCycleLR (lr and
// beta1 cycled per step) the same; the lr_scheduler sequences step by step within 1e-12 relative; and the
// optimizer state round trip (optimizerState / setOptimizerState) continuing a run bit for bit.
import { describe, expect, it } from 'vitest';
import { Mlp, type TrainOptions } from '../src/index.js';
import { Schedule, type ScheduleSpec } from '../src/schedule.js';
import { expectSameBits, goldenFile, maxdiff, mnist, variants } from './helpers.js';

interface Config {
  optimizer: 'sgd' | 'adam' | 'adamw';
  options: Record<string, number | boolean | number[]>;
  losses: number[];
  lrs: number[];
}
interface Golden {
  sizes: number[];
  batch: number;
  steps: number;
  configs: Record<string, Config>;
  schedules: Record<string, { lr: number; spec: ScheduleSpec; lrs: number[] }>;
  tensors: Record<string, { offset: number; shape: number[] }>;
}

const { manifest: golden, tensor } = goldenFile<Golden>('optim');
const init = goldenFile<{ tensors: Record<string, { offset: number; shape: number[] }> }>('golden').tensor;
const { sizes, batch, steps } = golden;
const data = mnist('train', steps * batch);
const batchX = (k: number) => data.x.subarray(k * batch * 784, (k + 1) * batch * 784);
const batchY = (k: number) => data.labels.subarray(k * batch, (k + 1) * batch);

async function netFromGolden(simd: 'plain' | 'relaxed', threads = 1): Promise<Mlp> {
  const net = await Mlp.create(sizes, { simd, threads });
  for (let i = 0; i < sizes.length - 1; i++) net.setLayer(i, init(`init.${i}.weight`), init(`init.${i}.bias`));
  return net;
}

/** torch.optim keyword arguments (snake_case) as TrainOptions. */
function trainOptions(c: Config): TrainOptions {
  const o = c.options;
  if (c.optimizer === 'sgd') {
    return {
      optimizer: 'sgd',
      lr: o.lr as number,
      momentum: (o.momentum as number) ?? 0,
      dampening: (o.dampening as number) ?? 0,
      nesterov: (o.nesterov as boolean) ?? false,
      weightDecay: (o.weight_decay as number) ?? 0,
    };
  }
  return {
    optimizer: c.optimizer,
    lr: o.lr as number,
    betas: (o.betas as [number, number]) ?? undefined,
    eps: (o.eps as number) ?? undefined,
    weightDecay: (o.weight_decay as number) ?? undefined,
    amsgrad: (o.amsgrad as boolean) ?? false,
  };
}

const STATE_KEYS = ['momentum_buffer', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'];

for (const variant of variants()) {
  const simd = variant === 'simd' ? 'plain' : 'relaxed';
  describe(`torch.optim golden ${sizes.join('-')}, batch ${batch} (${variant})`, () => {
    for (const [name, c] of Object.entries(golden.configs)) {
      it(`${name}: 20 steps track PyTorch's losses, final weights and optimizer state`, async () => {
        const net = await netFromGolden(simd);
        const options = trainOptions(c);
        // adam_onecycle: OneCycleLR(max_lr 0.01, total 20) stepped per batch, cycling beta1 as PyTorch does
        const schedule =
          name === 'adam_onecycle' ? new Schedule({ kind: 'onecycle', total: steps, maxLr: 0.01 }, 1e-3) : null;
        const losses: number[] = [];
        for (let k = 0; k < steps; k++) {
          let o = options;
          if (schedule) {
            expect(Math.abs(schedule.lr - c.lrs[k]) / c.lrs[k]).toBeLessThan(1e-12);
            o = { ...options, lr: schedule.lr, betas: [schedule.momentum!, 0.999] as const } as TrainOptions;
          }
          losses.push(net.trainBatch(batchX(k), batchY(k), batch, o));
          schedule?.step();
        }
        const dLoss = maxdiff(losses, c.losses);
        const state = net.optimizerState()!;
        expect(state.step).toBe(steps);
        let dW = 0,
          dState = 0,
          compared = 0;
        for (let i = 0; i < sizes.length - 1; i++) {
          const L = net.getLayer(i);
          dW = Math.max(
            dW,
            maxdiff(L.weight, tensor(`${name}.final.${i}.weight`)),
            maxdiff(L.bias, tensor(`${name}.final.${i}.bias`)),
          );
          for (const part of ['weight', 'bias'] as const) {
            for (const key of STATE_KEYS) {
              const ref = golden.tensors[`${name}.state.${i}.${part}.${key}`];
              if (!ref) continue;
              const ours = state.layers[i][part]![key];
              expect(ours, `${key} of layer ${i} ${part}`).toBeInstanceOf(Float32Array);
              dState = Math.max(dState, maxdiff(ours, tensor(`${name}.state.${i}.${part}.${key}`)));
              compared++;
            }
          }
        }
        console.log(
          `optim golden ${variant} ${name}: loss ${c.losses[0].toFixed(4)} -> ${c.losses[steps - 1].toFixed(4)}, losses maxdiff ${dLoss.toExponential(2)}, weights ${dW.toExponential(2)}, state ${dState.toExponential(2)} (${compared} buffers)`,
        );
        // plain SGD keeps no state; every other configuration has buffers to compare
        expect(compared > 0).toBe(c.optimizer !== 'sgd' || Boolean(c.options.momentum));
        expect(dLoss).toBeLessThan(1e-5);
        expect(dW).toBeLessThan(1e-5);
        expect(dState).toBeLessThan(1e-5);
        net.dispose();
      });
    }

    it('optimizerState / setOptimizerState continue a run bit for bit (Adam with AMSGrad, SGD with Nesterov), on 2 threads too', async () => {
      for (const [name, threads] of [
        ['adam_wd_amsgrad', 1],
        ['sgd_nesterov', 2],
      ] as const) {
        const options = trainOptions(golden.configs[name]);
        const amsgrad = 'amsgrad' in options && options.amsgrad === true;
        const straight = await netFromGolden(simd, threads);
        for (let k = 0; k < steps; k++) straight.trainBatch(batchX(k), batchY(k), batch, options);
        const first = await netFromGolden(simd);
        for (let k = 0; k < 10; k++) first.trainBatch(batchX(k), batchY(k), batch, options);
        const resumed = await netFromGolden(simd, threads);
        for (let i = 0; i < sizes.length - 1; i++) {
          const L = first.getLayer(i);
          resumed.setLayer(i, L.weight, L.bias);
        }
        resumed.setOptimizerState(first.optimizerState()!, { amsgrad });
        for (let k = 10; k < steps; k++) resumed.trainBatch(batchX(k), batchY(k), batch, options);
        for (let i = 0; i < sizes.length - 1; i++) {
          expectSameBits(
            resumed.getLayer(i).weight,
            straight.getLayer(i).weight,
            `${name} layer ${i} weight after resume`,
          );
        }
        for (const n of [straight, first, resumed]) n.dispose();
      }
    });
  });
}

describe('torch.optim.lr_scheduler golden', () => {
  for (const [name, s] of Object.entries(golden.schedules)) {
    it(`${name}: the lr before each of ${s.lrs.length} steps equals PyTorch's`, () => {
      const schedule = new Schedule(s.spec, s.lr);
      let worst = 0;
      s.lrs.forEach((ref, i) => {
        if (i > 0) schedule.step();
        worst = Math.max(worst, Math.abs(schedule.lr - ref) / Math.max(ref, 1e-300));
      });
      console.log(
        `schedule ${name}: ${s.lrs[0]} -> ${s.lrs[s.lrs.length - 1]}, max relative diff ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-12);
      // restored from its state halfway, it continues with the same lrs
      const half = new Schedule(s.spec, s.lr);
      for (let i = 0; i < 17; i++) half.step();
      const restored = Schedule.restore(half.state());
      expect(restored.lr).toBe(half.lr);
      restored.step();
      expect(Math.abs(restored.lr - s.lrs[18]) / s.lrs[18]).toBeLessThan(1e-12);
    });
  }
});
