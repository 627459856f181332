// The optimizer kernels (assembly/optim.ts) and their API: every SIMD step equals its scalar reference bit for bit
// and a float64 rendering of torch.optim's formulas within f32 rounding, for every flag combination and odd tails;
// bias=False layers stay at zero; switching optimizers starts from fresh state; bad options are refused.
import { describe, expect, it } from 'vitest';
import { Mlp } from '../src/index.js';
import { instantiateKernels } from '../src/kernels.js';
import { OPT_FLAG_AMSGRAD, OPT_FLAG_FIRST, OPT_FLAG_MOMENTUM, OPT_FLAG_NESTEROV } from '../src/layout.js';
import { Heap, expectSameBits, maxdiff, randomF32, rng, variants } from './helpers.js';

const SIZES = [0, 1, 3, 4, 5, 8, 33, 130];

for (const variant of variants()) {
  describe(`optimizer kernels (${variant})`, () => {
    it('sgd_step_f32 equals its scalar reference bit for bit and the f64 formula, every flag combination', async () => {
      const { exports: k } = await instantiateKernels(variant);
      const r = rng(5);
      for (const N of SIZES) {
        for (const flags of [
          0,
          OPT_FLAG_MOMENTUM,
          OPT_FLAG_MOMENTUM | OPT_FLAG_FIRST,
          OPT_FLAG_MOMENTUM | OPT_FLAG_NESTEROV,
        ]) {
          for (const wd of [0, 0.01]) {
            const p = randomF32(N, r),
              g = randomF32(N, r),
              v = randomF32(N, r);
            const [lr, mu, damp] = [0.05, 0.9, flags & OPT_FLAG_NESTEROV ? 0 : 0.1];
            const outs = [false, true].map((simd) => {
              const h = new Heap(k);
              const pp = h.put(p),
                gp = h.put(g),
                vp = h.put(v);
              (simd ? k.sgd_step_f32 : k.sgd_step_f32_scalar)(pp, gp, vp, N, lr, mu, damp, wd, flags);
              const out = { p: h.get(pp, N), v: h.get(vp, N) };
              return out;
            });
            expectSameBits(outs[1].p, outs[0].p, `sgd N ${N} flags ${flags} wd ${wd}: params`);
            expectSameBits(outs[1].v, outs[0].v, `sgd N ${N} flags ${flags} wd ${wd}: buffer`);
            // f64: torch.optim.SGD's formula
            const want = Array.from(p, (pi, i) => {
              let gi = g[i] + wd * pi;
              if (flags & OPT_FLAG_MOMENTUM) {
                const b = flags & OPT_FLAG_FIRST ? gi : v[i] * mu + (1 - damp) * gi;
                gi = flags & OPT_FLAG_NESTEROV ? gi + mu * b : b;
              }
              return pi - lr * gi;
            });
            expect(maxdiff(outs[1].p, want)).toBeLessThan(1e-6);
          }
        }
      }
    });

    it('adam_step_f32 equals its scalar reference bit for bit and the f64 formula (Adam, AdamW, AMSGrad)', async () => {
      const { exports: k } = await instantiateKernels(variant);
      const r = rng(6);
      for (const N of SIZES) {
        for (const [wd, decay, flags] of [
          [0, 1, 0],
          [0.01, 1, OPT_FLAG_AMSGRAD],
          [0, 1 - 1e-3 * 0.01, 0],
          [0, 1 - 1e-3 * 0.05, OPT_FLAG_AMSGRAD],
        ]) {
          const p = randomF32(N, r),
            g = randomF32(N, r),
            m = randomF32(N, r, -0.1, 0.1),
            v = randomF32(N, r, 0, 0.01),
            vmax = randomF32(N, r, 0, 0.01);
          const t = 3,
            lr = 1e-3,
            b1 = 0.9,
            b2 = 0.999,
            eps = 1e-8;
          const stepSize = lr / (1 - b1 ** t),
            bc2 = Math.sqrt(1 - b2 ** t);
          const outs = [false, true].map((simd) => {
            const h = new Heap(k);
            const ptrs = [p, g, m, v, vmax].map((a) => h.put(a));
            (simd ? k.adam_step_f32 : k.adam_step_f32_scalar)(
              ptrs[0],
              ptrs[1],
              ptrs[2],
              ptrs[3],
              ptrs[4],
              N,
              b1,
              1 - b1,
              b2,
              1 - b2,
              stepSize,
              bc2,
              eps,
              wd,
              decay,
              flags,
            );
            const out = [0, 2, 3, 4].map((i) => h.get(ptrs[i], N));
            return out;
          });
          outs[1].forEach((a, i) => expectSameBits(a, outs[0][i], `adam N ${N} flags ${flags} wd ${wd}: array ${i}`));
          const want = Array.from(p, (p0, i) => {
            const pi = p0 * decay;
            const gi = g[i] + wd * pi;
            const mi = m[i] * b1 + (1 - b1) * gi;
            const vi = v[i] * b2 + (1 - b2) * gi * gi;
            const s = flags & OPT_FLAG_AMSGRAD ? Math.max(vmax[i], vi) : vi;
            return pi - (stepSize * mi) / (Math.sqrt(s) / bc2 + eps);
          });
          expect(maxdiff(outs[1][0], want)).toBeLessThan(1e-6);
        }
      }
    });
  });
}

describe('optimizer API', () => {
  const r = rng(7);
  const x = randomF32(4 * 6, r, 0, 1);
  const y = Uint8Array.from([0, 1, 2, 1]);

  it('a layer without bias (bias null, PyTorch bias=False) keeps b = 0 under SGD and Adam, and has no bias state', async () => {
    const net = await Mlp.create([6, 5, 3], { seed: 3 });
    net.setLayer(0, net.getLayer(0).weight, null);
    expect(net.hasBias(0)).toBe(false);
    expect(net.hasBias(1)).toBe(true);
    for (const o of [
      { lr: 0.1, momentum: 0.9 },
      { optimizer: 'adam', lr: 0.01 },
    ] as const) {
      for (let i = 0; i < 3; i++) net.trainBatch(x, y, 4, o);
      expect(Array.from(net.getLayer(0).bias)).toEqual([0, 0, 0, 0, 0]);
      expect(net.getLayer(1).bias.some((b, i) => b !== 0 && i >= 0)).toBe(true);
      const s = net.optimizerState()!;
      expect(s.layers[0].bias).toBeNull();
      expect(Object.keys(s.layers[1].bias!).length).toBeGreaterThan(0);
    }
    net.dispose();
  });

  it('switching optimizer starts from fresh state, as a new torch.optim object does; resetOptimizer forgets it', async () => {
    const a = await Mlp.create([6, 5, 3], { seed: 3 });
    const b = await Mlp.create([6, 5, 3], { seed: 3 });
    a.trainBatch(x, y, 4, { lr: 0.1, momentum: 0.9 });
    a.trainBatch(x, y, 4, { lr: 0.1, momentum: 0.9 });
    b.trainBatch(x, y, 4, { lr: 0.1, momentum: 0.9 });
    b.trainBatch(x, y, 4, { lr: 0.1, momentum: 0.9 });
    a.trainBatch(x, y, 4, { optimizer: 'adam', lr: 0.01 });
    b.resetOptimizer();
    expect(b.optimizerState()).toBeNull();
    b.trainBatch(x, y, 4, { optimizer: 'adam', lr: 0.01 });
    expectSameBits(a.getLayer(0).weight, b.getLayer(0).weight, 'adam after sgd = adam after reset');
    expect(a.optimizerState()!.step).toBe(1);
    a.dispose();
    b.dispose();
  });

  it('refuses bad optimizer options with CORE_BAD_ARGUMENT naming the option', async () => {
    const net = await Mlp.create([6, 5, 3], { seed: 3 });
    const bad: [object, RegExp][] = [
      [{ optimizer: 'rmsprop', lr: 0.1 }, /unknown optimizer/],
      [{ lr: 0.1, momentum: -1 }, /momentum/],
      [{ lr: 0.1, nesterov: true }, /Nesterov/],
      [{ lr: 0.1, momentum: 0.9, dampening: 2 }, /dampening/],
      [{ optimizer: 'adam', lr: 0.1, betas: [1, 0.9] }, /betas\[0\]/],
      [{ optimizer: 'adam', lr: 0.1, betas: [0.9] }, /pair/],
      [{ optimizer: 'adamw', lr: 0.1, eps: -1 }, /eps/],
      [{ optimizer: 'adam', lr: 0.1, amsgrad: 'yes' }, /amsgrad/],
    ];
    for (const [o, re] of bad) {
      let err: unknown;
      try {
        net.trainBatch(x, y, 4, o as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(o)).toMatchObject({ code: 'CORE_BAD_ARGUMENT', message: expect.stringMatching(re) });
    }
    expect(() =>
      net.setOptimizerState({ optimizer: 'adam', step: 2, layers: [{ weight: {}, bias: {} }] } as never),
    ).toThrow(/state for 1 layers/);
    net.dispose();
  });
});
