// Dropout and label smoothing in training: one SGD step with dropout equals a float64 reference that draws the same
// masks (a TS mirror of assembly/dropout.ts's per-row mulberry32) within 1e-6; masks keep 1 - p of the units on
// average; the same dropoutSeed gives the same bits on 1 and 2 threads; inference, evaluate and gradients never drop;
// label smoothing's loss and gradients match PyTorch's (test/golden/make_optim.py) and the float64 reference.
import { describe, expect, it } from 'vitest';
import { Mlp } from '../src/index.js';
import { instantiateKernels } from '../src/kernels.js';
import { Heap, expectSameBits, goldenFile, maxdiff, mnist, randomF32, rng } from './helpers.js';
import * as ref from './reference.js';

/** The mask of assembly/dropout.ts, in TS: row r of layer l at step seed s keeps unit c where its mulberry32 u >= p. */
function maskRef(s: number, l: number, rows: number, C: number, p: number): Float64Array {
  const scale = Math.fround(1 / Math.fround(1 - p));
  const out = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let h = (s ^ Math.imul(l + 1, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = (h ^ Math.imul(r + 1, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    let a = (h ^ (h >>> 16)) >>> 0;
    for (let c = 0; c < C; c++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      out[r * C + c] = u >= Math.fround(p) ? scale : 0;
    }
  }
  return out;
}

describe('dropout', () => {
  for (const act of ['relu', 'tanh'] as const) {
    it(`one SGD step with dropout [0.3, 0.5] (${act}) equals the float64 reference with the same masks`, async () => {
      const sizes = [20, 16, 12, 5],
        B = 7,
        seed = 1234,
        lr = 0.1;
      const r = rng(11);
      const x = randomF32(B * 20, r, 0, 1);
      const y = Uint8Array.from({ length: B }, (_, i) => i % 5);
      const net = await Mlp.create(sizes, { seed: 2, activation: act, dropout: [0.3, 0.5] });
      expect(net.dropout).toEqual([0.3, 0.5]);
      const layers = ref.toRef(Array.from({ length: 3 }, (_, i) => net.getLayer(i)));
      const masks = [maskRef(seed, 0, B, 16, 0.3), maskRef(seed, 1, B, 12, 0.5)];
      const want = ref.lossAndGradients(layers, x, y, B, [{ name: act }, { name: act }], { masks });
      const loss = net.trainBatch(x, y, B, { lr, dropoutSeed: seed });
      expect(Math.abs(loss - want.loss)).toBeLessThan(1e-6);
      ref.sgdStep(layers, want.grads, lr);
      for (let i = 0; i < 3; i++) {
        expect(maxdiff(net.getLayer(i).weight, layers[i].weight), `layer ${i}`).toBeLessThan(1e-6);
        expect(maxdiff(net.getLayer(i).bias, layers[i].bias), `layer ${i} bias`).toBeLessThan(1e-6);
      }
      // some units really dropped (the reference without masks differs)
      const plain = ref.lossAndGradients(ref.toRef([0, 1, 2].map((i) => net.getLayer(i))), x, y, B, [
        { name: act },
        { name: act },
      ]);
      expect(Math.abs(plain.loss - loss)).toBeGreaterThan(1e-4);
      net.dispose();
    });
  }

  it('the mask kernel keeps 1 - p of the units, scaled by 1 / (1 - p), and equals the TS mirror', async () => {
    const { exports: k } = await instantiateKernels('simd');
    const h = new Heap(k);
    const rows = 64,
      C = 512,
      p = 0.25;
    const m = h.put(new Float32Array(rows * C));
    k.dropout_mask_f32(m, 0, rows, C, p, Math.fround(1 / 0.75), 99, 1);
    const got = h.get(m, rows * C);
    expect(maxdiff(got, maskRef(99, 1, rows, C, p))).toBe(0);
    const kept = got.filter((v) => v !== 0).length / got.length;
    expect(Math.abs(kept - 0.75)).toBeLessThan(0.01);
    expect(new Set(got).size).toBe(2);
  });

  it('the same dropoutSeed gives the same weights on 1 and 2 threads; inference, evaluate and gradients never drop', async () => {
    const data = mnist('train', 128);
    const nets = await Promise.all(
      [1, 2].map((threads) => Mlp.create([784, 256, 10], { seed: 4, threads, dropout: 0.5 })),
    );
    const plain = await Mlp.create([784, 256, 10], { seed: 4 });
    const before = nets[0].evaluate(data.x, data.labels, 128);
    expect(before).toEqual(plain.evaluate(data.x, data.labels, 128));
    expectSameBits(nets[0].forward(data.x, 128), plain.forward(data.x, 128), 'forward with dropout set');
    expectSameBits(
      nets[0].gradients(data.x.subarray(0, 64 * 784), data.labels.subarray(0, 64), 64).layers[0].weight,
      plain.gradients(data.x.subarray(0, 64 * 784), data.labels.subarray(0, 64), 64).layers[0].weight,
      'gradients with dropout set',
    );
    for (const net of nets) {
      for (let s = 0; s < 2; s++) {
        net.trainBatch(
          data.x.subarray(s * 64 * 784, (s + 1) * 64 * 784),
          data.labels.subarray(s * 64, (s + 1) * 64),
          64,
          {
            lr: 0.05,
            momentum: 0.9,
            dropoutSeed: 77 + s,
          },
        );
      }
    }
    expectSameBits(nets[0].getLayer(0).weight, nets[1].getLayer(0).weight, 'dropout on 1 vs 2 threads');
    for (const n of [...nets, plain]) n.dispose();
  });

  it('refuses bad dropout probabilities', async () => {
    await expect(Mlp.create([4, 3, 2], { dropout: 1 })).rejects.toMatchObject({ code: 'CORE_BAD_ARGUMENT' });
    await expect(Mlp.create([4, 3, 2], { dropout: [0.1, 0.2] })).rejects.toMatchObject({ code: 'CORE_BAD_ARGUMENT' });
    const net = await Mlp.create([4, 3, 2]);
    expect(() => net.setDropout(-0.1)).toThrow(/invalid dropout/);
    net.dispose();
  });
});

describe('label smoothing', () => {
  const { manifest, tensor } = goldenFile<{
    smoothing: { eps: number; loss: number };
    sizes: number[];
    batch: number;
    tensors: Record<string, { offset: number; shape: number[] }>;
  }>('optim');
  const init = goldenFile<{ tensors: Record<string, { offset: number; shape: number[] }> }>('golden').tensor;

  it("cross_entropy(label_smoothing=0.1): loss and every gradient match PyTorch's", async () => {
    const { sizes, batch } = manifest;
    const data = mnist('train', batch);
    const net = await Mlp.create(sizes);
    for (let i = 0; i < sizes.length - 1; i++) net.setLayer(i, init(`init.${i}.weight`), init(`init.${i}.bias`));
    const g = net.gradients(data.x, data.labels, batch, { labelSmoothing: manifest.smoothing.eps });
    expect(Math.abs(g.loss - manifest.smoothing.loss)).toBeLessThan(1e-6);
    const diffs = g.layers.flatMap((L, i) => [
      maxdiff(L.weight, tensor(`smooth.grad.${i}.weight`)),
      maxdiff(L.bias, tensor(`smooth.grad.${i}.bias`)),
    ]);
    console.log(
      `label smoothing: loss diff ${Math.abs(g.loss - manifest.smoothing.loss).toExponential(2)}, grads maxdiff ${Math.max(...diffs).toExponential(2)}`,
    );
    for (const d of diffs) expect(d).toBeLessThan(1e-7);
    // and the float64 reference
    const want = ref.lossAndGradients(
      ref.toRef([0, 1, 2].map((i) => net.getLayer(i))),
      data.x,
      data.labels,
      batch,
      [],
      {
        smoothing: 0.1,
      },
    );
    expect(Math.abs(g.loss - want.loss)).toBeLessThan(1e-6);
    // a training step with smoothing moves the weights by lr x that gradient
    const w0 = net.getLayer(2).weight;
    net.trainBatch(data.x, data.labels, batch, { lr: 1, labelSmoothing: 0.1 });
    expect(
      maxdiff(
        net.getLayer(2).weight,
        w0.map((w, j) => w - g.layers[2].weight[j]),
      ),
    ).toBeLessThan(1e-6);
    // evaluate afterwards is plain cross-entropy again
    const e = net.evaluate(data.x, data.labels, batch);
    const plain = ref.lossAndGradients(ref.toRef([0, 1, 2].map((i) => net.getLayer(i))), data.x, data.labels, batch);
    expect(Math.abs(e.loss - plain.loss)).toBeLessThan(1e-5);
    net.dispose();
  });
});
