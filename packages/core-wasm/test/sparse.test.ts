// The first layer's sparse path (zero inputs skipped) through the Mlp API: the same bits as the dense path on real
// MNIST, mixed with dense and all-zero rows, on 1, 2 and 3 threads and at batch 1; the float64 reference; and the
// dense path whenever a first-layer weight is not finite (0 * Inf must stay NaN, as in PyTorch).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mlp } from '../src/index.js';
import { inputSparsity } from '../src/kernels.js';
import { tuning } from '../src/threads.js';
import { expectSameBits, maxdiff, mnist, randomF32, rng, variants, withDense } from './helpers.js';
import * as ref from './reference.js';

/** 300 rows: real MNIST test images, with every 7th row fully dense (random) and every 11th all zero. */
function mixedRows(): Float32Array {
  const { x } = mnist('t10k', 300);
  const rand = rng(4);
  for (let r = 0; r < 300; r++) {
    const row = x.subarray(r * 784, (r + 1) * 784);
    if (r % 7 === 3) row.set(randomF32(784, rand, 0, 1));
    if (r % 11 === 5) row.fill(0);
  }
  return x;
}

let savedMinFlops = 0;
beforeAll(() => {
  savedMinFlops = tuning.minFlops;
  tuning.minFlops = 0; // split even small jobs across the threads
});
afterAll(() => {
  tuning.minFlops = savedMinFlops;
});

for (const variant of variants()) {
  const simd = variant === 'simd' ? 'plain' : 'relaxed';
  describe(`sparse first layer (${variant})`, () => {
    it("784-512-10 on real MNIST with dense and all-zero rows: the dense path's bits on 1, 2 and 3 threads, float64 within 2e-6", async () => {
      const nets = await Promise.all(
        [1, 2, 3].map((threads) => Mlp.create([784, 512, 10], { seed: 3, simd, threads })),
      );
      const x = mixedRows();
      const dense = withDense(nets[0], () => nets[0].forward(x, 300));
      for (const net of nets) {
        const before = inputSparsity.jobs;
        expectSameBits(net.forward(x, 300), dense, `forward, ${net.threads} threads`);
        expectSameBits(
          net.probabilities(x, 300),
          withDense(net, () => net.probabilities(x, 300)),
          `probabilities, ${net.threads} threads`,
        );
        expect(inputSparsity.jobs, 'the sparse path ran').toBeGreaterThan(before);
      }
      // batch 1 (the drawing canvas): one row at a time, on the calling thread
      for (const r of [0, 3, 5, 6]) {
        const row = x.subarray(r * 784, (r + 1) * 784);
        expectSameBits(nets[1].forward(row, 1), dense.subarray(r * 10, (r + 1) * 10), `batch 1, row ${r}`);
      }
      const want = ref.forward(ref.toRef([nets[0].getLayer(0), nets[0].getLayer(1)]), x, 300).a[1];
      const d = maxdiff(nets[0].forward(x, 300), want);
      console.log(`sparse ${variant}: logits vs float64 maxdiff ${d.toExponential(2)}`);
      expect(d).toBeLessThan(2e-6);
      nets.forEach((n) => n.dispose());
    });

    it("training steps with the sparse forward keep the dense path's losses and weights, bit for bit", async () => {
      const { x, labels } = mnist('train', 64, 500);
      const [a, b] = await Promise.all([0, 1].map(() => Mlp.create([784, 64, 10], { seed: 9, simd, threads: 2 })));
      for (let step = 0; step < 4; step++) {
        const la = withDense(a, () => a.trainBatch(x, labels, 64, { lr: 0.1, momentum: 0.9 }));
        const before = inputSparsity.jobs;
        const lb = b.trainBatch(x, labels, 64, { lr: 0.1, momentum: 0.9 });
        expect(inputSparsity.jobs).toBeGreaterThan(before);
        expect(Object.is(la, lb), `step ${step}: loss ${la} vs ${lb}`).toBe(true);
      }
      for (let l = 0; l < 2; l++) expectSameBits(b.getLayer(l).weight, a.getLayer(l).weight, `layer ${l} weight`);
      a.dispose();
      b.dispose();
    });

    it("the sparse weight gradient (fused SGD, Adam, gradients in chunks, odd widths) keeps the dense path's bits on 1-3 threads", async () => {
      // random inputs at ~20% density with all-zero and dense rows; 37 inputs: C % 8 and C % 4 tails (the relaxed
      // binary's unfused columns), 29 hidden units: rows past OC & ~3 and a partial panel
      const rand = rng(21);
      const rows = 300;
      const x = new Float32Array(rows * 37);
      for (let i = 0; i < x.length; i++) {
        const r = Math.floor(i / 37);
        x[i] = r % 9 === 4 ? 0 : r % 13 === 6 || rand() < 0.2 ? rand(-1, 1) : 0;
      }
      const labels = Uint8Array.from({ length: rows }, () => Math.floor(rand() * 10));
      const steps: [
        string,
        { lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number; optimizer?: 'adam' },
      ][] = [
        ['sgd', { lr: 0.1 }],
        ['momentum', { lr: 0.1, momentum: 0.9 }],
        ['nesterov + decay', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }],
        ['adam', { lr: 1e-3, optimizer: 'adam' }],
      ];
      for (const [name, options] of steps) {
        const nets = await Promise.all(
          [1, 1, 2, 3].map((threads) => Mlp.create([37, 29, 13, 10], { seed: 4, simd, threads })),
        );
        for (let step = 0; step < 3; step++) {
          const at = step * 64;
          const xb = x.subarray(at * 37, (at + 64) * 37),
            yb = labels.subarray(at, at + 64);
          const want = withDense(nets[0], () => nets[0].trainBatch(xb, yb, 64, options));
          const before = inputSparsity.backwardJobs;
          for (const net of nets.slice(1)) {
            expect(Object.is(net.trainBatch(xb, yb, 64, options), want), `${name} step ${step}`).toBe(true);
          }
          expect(inputSparsity.backwardJobs).toBe(before + 3);
        }
        for (const net of nets.slice(1)) {
          for (let l = 0; l < 3; l++) {
            expectSameBits(
              net.getLayer(l).weight,
              nets[0].getLayer(l).weight,
              `${name}, ${net.threads} threads, W${l}`,
            );
            expectSameBits(net.getLayer(l).bias, nets[0].getLayer(l).bias, `${name}, ${net.threads} threads, b${l}`);
          }
        }
        // gradients over all 300 rows: more than one block list holds (256), so the sums continue chunk by chunk
        const g = withDense(nets[0], () => nets[0].gradients(x, labels, rows));
        for (const net of nets.slice(1)) {
          const h = net.gradients(x, labels, rows);
          expect(Object.is(h.loss, g.loss)).toBe(true);
          h.layers.forEach((L, l) => {
            expectSameBits(L.weight, g.layers[l].weight, `${name} gradients, ${net.threads} threads, dW${l}`);
            expectSameBits(L.bias, g.layers[l].bias, `${name} gradients, ${net.threads} threads, db${l}`);
          });
        }
        nets.forEach((n) => n.dispose());
      }
    });

    it('a NaN or Inf first-layer weight gives NaN logits (the dense path), set directly or reached by training', async () => {
      const net = await Mlp.create([784, 64, 10], { seed: 5, simd, threads: 2 });
      const { x, labels } = mnist('t10k', 32);
      const { weight, bias } = net.getLayer(0);
      for (const bad of [NaN, Infinity, -Infinity]) {
        const w = weight.slice();
        w[7 * 784] = bad; // pixel 0 of hidden unit 7: pixel 0 is 0 in every MNIST image, so a skipped term
        net.setLayer(0, w, bias);
        const before = inputSparsity.jobs;
        const logits = net.forward(x, 32);
        expect(inputSparsity.jobs, 'dense path').toBe(before);
        expect(logits.every(Number.isNaN), `weight ${bad}: every logit NaN (hidden unit 7 is NaN in every row)`).toBe(
          true,
        );
        expect(Number.isNaN(net.evaluate(x, labels, 32).loss)).toBe(true);
        expect(net.predict(x.subarray(0, 784), 1)[0]).toBe(0);
      }
      net.setLayer(0, weight, bias);
      const before = inputSparsity.jobs;
      expect(net.forward(x, 32).every(Number.isFinite)).toBe(true);
      expect(inputSparsity.jobs).toBeGreaterThan(before);
      // a huge learning rate overflows the weights: the next forward must see them (no stale "all finite")
      const dense = await Mlp.create([784, 64, 10], { seed: 5, simd, threads: 2 });
      let nonFinite = false;
      for (let step = 0; step < 4; step++) {
        const la = withDense(dense, () => dense.trainBatch(x, labels, 32, { lr: 1e30 }));
        const lb = net.trainBatch(x, labels, 32, { lr: 1e30 });
        expect(Object.is(la, lb), `step ${step}: loss ${la} vs ${lb}`).toBe(true);
        expectSameBits(
          net.forward(x, 32),
          withDense(dense, () => dense.forward(x, 32)),
          `forward after step ${step}`,
        );
        nonFinite ||= !net.getLayer(0).weight.every(Number.isFinite);
      }
      expect(nonFinite, 'the run reached non-finite first-layer weights').toBe(true);
      net.dispose();
      dense.dispose();
      // one step that overflows only the weights of pixel 0 (the one nonzero input of its batch; 0 in every MNIST
      // test image, so the sparse path would skip it): every later forward must be NaN where the dense one is
      const single = await Mlp.create([784, 10], { seed: 6, simd, threads: 1 });
      const xb = new Float32Array(784);
      xb[0] = 1e30;
      single.forward(x, 32); // the finite check runs here; the step below must invalidate it
      single.trainBatch(xb, Uint8Array.of(3), 1, { lr: 1e20 });
      const w0 = single.getLayer(0).weight;
      expect(Array.from({ length: 10 }, (_, o) => w0[o * 784]).some((v) => !Number.isFinite(v))).toBe(true);
      expect(w0.every((v, i) => i % 784 === 0 || Number.isFinite(v))).toBe(true);
      const after = single.forward(x, 32);
      expectSameBits(
        after,
        withDense(single, () => single.forward(x, 32)),
        'forward after the overflowing step',
      );
      expect(after.some(Number.isNaN)).toBe(true);
      single.dispose();
    });

    it('a NaN pixel still makes its row NaN on the sparse path', async () => {
      const net = await Mlp.create([784, 32, 10], { seed: 2, simd, threads: 1 });
      const { x } = mnist('t10k', 4);
      x[2 * 784 + 400] = NaN;
      const before = inputSparsity.jobs;
      const logits = net.forward(x, 4);
      expect(inputSparsity.jobs).toBeGreaterThan(before);
      expect(logits.subarray(20, 30).every(Number.isNaN)).toBe(true);
      expect([...logits.subarray(0, 20), ...logits.subarray(30)].every(Number.isFinite)).toBe(true);
      net.dispose();
    });
  });
}

describe('the inputSparsity option', () => {
  it('false keeps the dense kernel for that network only, with the same bits; anything but a boolean is refused', async () => {
    const { x } = mnist('t10k', 64);
    const [sparse, dense] = await Promise.all(
      [true, false].map((on) => Mlp.create([784, 32, 10], { seed: 8, threads: 1, inputSparsity: on })),
    );
    expect([sparse.inputSparsity, dense.inputSparsity]).toEqual([true, false]);
    let before = inputSparsity.jobs;
    const a = dense.forward(x, 64);
    expect(inputSparsity.jobs, 'dense network: no sparse job').toBe(before);
    before = inputSparsity.jobs;
    expectSameBits(sparse.forward(x, 64), a, 'sparse vs dense network');
    expect(inputSparsity.jobs, 'the other network still skips zeros').toBeGreaterThan(before);
    await expect(Mlp.create([4, 2], { inputSparsity: 'yes' as never })).rejects.toMatchObject({
      code: 'CORE_BAD_ARGUMENT',
    });
    sparse.dispose();
    dense.dispose();
  });
});
