// The Mlp API against the float64 reference: init, set/get, forward (chunked past 256 rows), probabilities, predict,
// trace, evaluate, training steps with and without momentum, memory growth, and every argument error's code.
import { describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, CoreError, Mlp, type Activation } from '../src/index.js';
import { MEMORY_LIMIT_BYTES, parameterBytes } from '../src/mlp.js';
import { maxdiff, randomF32, rng, variants } from './helpers.js';
import * as ref from './reference.js';

const layersOf = (net: Mlp) => Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i));

function expectCode(fn: () => unknown, code: string, message?: RegExp) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a CoreError ${code}`).toBeInstanceOf(CoreError);
  expect((caught as CoreError).code).toBe(code);
  if (message) expect((caught as CoreError).message).toMatch(message);
}

describe('Mlp.create', () => {
  it("initialises like PyTorch's nn.Linear: U(-1/sqrt(in), 1/sqrt(in)), seeded and reproducible", async () => {
    const a = await Mlp.create([784, 512, 10], { seed: 1 });
    const b = await Mlp.create([784, 512, 10], { seed: 1 });
    const c = await Mlp.create([784, 512, 10], { seed: 2 });
    expect(a.sizes).toEqual([784, 512, 10]);
    expect(a.layerCount).toBe(2);
    const [L0, L1] = layersOf(a);
    expect([L0.in, L0.out, L0.weight.length, L0.bias.length]).toEqual([784, 512, 784 * 512, 512]);
    for (const L of [L0, L1]) {
      const bound = 1 / Math.sqrt(L.in);
      let maxAbs = 0,
        sum = 0,
        sumSq = 0;
      for (const v of L.weight) {
        maxAbs = Math.max(maxAbs, Math.abs(v));
        sum += v;
        sumSq += v * v;
      }
      expect(maxAbs).toBeLessThanOrEqual(bound);
      expect(maxAbs).toBeGreaterThan(0.99 * bound);
      expect(Math.abs(sum / L.weight.length)).toBeLessThan(0.02 * bound);
      // variance of U(-k, k) is k^2 / 3
      expect(sumSq / L.weight.length).toBeCloseTo((bound * bound) / 3, 3);
      expect(Math.max(...L.bias.map(Math.abs))).toBeLessThanOrEqual(bound);
    }
    expect(maxdiff(b.getLayer(0).weight, L0.weight)).toBe(0);
    expect(maxdiff(c.getLayer(0).weight, L0.weight)).toBeGreaterThan(0.01);
    for (const n of [a, b, c]) n.dispose();
  });

  it('fromLayers builds the same network from PyTorch-layout layers and checks the chain', async () => {
    const a = await Mlp.create([12, 7, 5, 3], { seed: 4 });
    const layers = layersOf(a);
    const b = await Mlp.fromLayers(layers, { simd: 'plain' });
    expect(b.sizes).toEqual([12, 7, 5, 3]);
    expect(b.classes).toBe(3);
    const x = randomF32(2 * 12, rng(30));
    expect(maxdiff(b.forward(x, 2), a.forward(x, 2))).toBeLessThan(1e-6);
    await expect(Mlp.fromLayers([layers[0], layers[2]])).rejects.toMatchObject({
      code: 'CORE_BAD_SHAPE',
      message: expect.stringMatching(/layer 1 has in = 5 but layer 0 has out = 7/),
    });
    await expect(Mlp.fromLayers([{ ...layers[0], weight: new Float32Array(3) }])).rejects.toMatchObject({
      code: 'CORE_BAD_SHAPE',
    });
    await expect(Mlp.fromLayers([])).rejects.toMatchObject({ code: 'CORE_BAD_SHAPE' });
  });

  it('picks the variant asked for', async () => {
    const plain = await Mlp.create([3, 2], { simd: 'plain' });
    expect(plain.variant).toBe('simd');
    for (const v of variants()) {
      const net = await Mlp.create([3, 2], { simd: v === 'simd' ? 'plain' : 'relaxed' });
      expect(net.variant).toBe(v);
    }
    const auto = await Mlp.create([3, 2]);
    expect(auto.variant).toBe(variants().includes('relaxed-simd') ? 'relaxed-simd' : 'simd');
  });

  it('rejects bad sizes and options with CoreError codes', async () => {
    for (const sizes of [[], [784], [784, 0, 10], [784, 1.5, 10], [784, -1], [784, 300]]) {
      await expect(Mlp.create(sizes)).rejects.toMatchObject({ code: 'CORE_BAD_SHAPE' });
    }
    await expect(Mlp.create([4, 2], { simd: 'fast' as never })).rejects.toMatchObject({ code: 'CORE_BAD_ARGUMENT' });
    await expect(Mlp.create([4, 2], { seed: NaN })).rejects.toMatchObject({ code: 'CORE_BAD_ARGUMENT' });
  });

  it('refuses a network too large for one WebAssembly memory before allocating anything, naming its sizes', async () => {
    // 65536 x 65536 x 4 bytes = 2^34: a 32-bit size would wrap to 0 inside the allocator and then fill 16 GB
    for (const threads of [1, 2, 'auto'] as const) {
      const err = await Mlp.create([784, 65536, 65536, 10], { threads }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CoreError);
      expect(err).toMatchObject({
        code: 'CORE_TOO_LARGE',
        message: expect.stringMatching(
          /^a 784-65536-65536-10 network needs 4\d\.\d GiB of engine memory for its weights, gradients and packed copies, more than the (2|1)\.0 GiB one WebAssembly instance holds here; use /,
        ),
      });
    }
    // just over the single-instance limit (2 GiB less 1 MiB): 784-H-10 takes about 9.5 kB per hidden unit
    const perUnit = (parameterBytes([784, 16, 10]) - parameterBytes([784, 8, 10])) / 8;
    const over = Math.ceil((MEMORY_LIMIT_BYTES.single - parameterBytes([784, 0, 10])) / perUnit) + 8;
    expect(parameterBytes([784, over, 10])).toBeGreaterThan(MEMORY_LIMIT_BYTES.single);
    await expect(Mlp.create([784, over, 10], { threads: 1 })).rejects.toMatchObject({
      code: 'CORE_TOO_LARGE',
      message: expect.stringContaining(`a 784-${over}-10 network needs 2.0 GiB`),
    });
    // the threaded instance's 1 GiB: refused with threads: 2 (saying what would fit), while 'auto' falls back to one thread
    const mid = Math.floor(over * 0.6);
    await expect(Mlp.create([784, mid, 10], { threads: 2 })).rejects.toMatchObject({
      code: 'CORE_TOO_LARGE',
      message: expect.stringContaining('use threads: 1'),
    });
  });

  it('parameterBytes counts W, b, packed panels, dW and db of every layer (what the refusal message quotes)', () => {
    // 784-512-10: W 401,408 + b 512 + packed 512 x 785 + dW 401,408 + db 512 floats, and 10 outputs padded to 16
    const floats = 401_408 + 512 + 512 * 785 + 401_408 + 512 + (5_120 + 10 + 16 * 513 + 5_120 + 10);
    expect(parameterBytes([784, 512, 10]) - 4 * floats).toBeGreaterThan(0);
    expect(parameterBytes([784, 512, 10]) - 4 * floats).toBeLessThan(2 ** 14);
    expect((parameterBytes([784, 512, 10]) / 2 ** 20).toFixed(1)).toBe('4.7');
  });
});

for (const variant of variants()) {
  const simd = variant === 'simd' ? 'plain' : 'relaxed';
  describe(`Mlp (${variant})`, () => {
    const sizes = [50, 37, 23, 10];

    it('setLayer/getLayer round-trip exactly in PyTorch layout', async () => {
      const net = await Mlp.create(sizes, { simd });
      const rand = rng(21);
      const w = randomF32(37 * 50, rand),
        b = randomF32(37, rand);
      net.setLayer(0, w, b);
      const L = net.getLayer(0);
      expect(L.weight).toEqual(w);
      expect(L.bias).toEqual(b);
      expect([L.in, L.out]).toEqual([50, 37]);
      L.weight[0] = 99; // a copy: changing it changes nothing inside
      expect(net.getLayer(0).weight[0]).toBe(w[0]);
    });

    it('forward, probabilities and predict match float64, across the 256-row chunking', async () => {
      const net = await Mlp.create(sizes, { simd, seed: 3 });
      const layers = ref.toRef(layersOf(net));
      const rand = rng(22);
      for (const batch of [1, 7, 256, 300]) {
        const x = randomF32(batch * 50, rand, 0, 1);
        const logits = net.forward(x, batch);
        const want = ref.forward(layers, x, batch).a[layers.length - 1];
        expect(maxdiff(logits, want)).toBeLessThan(1e-5);
        const probs = net.probabilities(x, batch);
        expect(maxdiff(probs, ref.softmax(want, batch, 10))).toBeLessThan(1e-6);
        for (let r = 0; r < batch; r++)
          expect(probs.subarray(r * 10, r * 10 + 10).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
        const pred = net.predict(x, batch);
        for (let r = 0; r < batch; r++) {
          const row = Array.from(want.subarray(r * 10, r * 10 + 10));
          expect(pred[r]).toBe(row.indexOf(Math.max(...row)));
        }
      }
    });

    it('trace gives every z and a for one input, consistent with forward', async () => {
      const net = await Mlp.create(sizes, { simd, seed: 4 });
      const layers = ref.toRef(layersOf(net));
      const x = randomF32(50, rng(23), 0, 1);
      const t = net.trace(x);
      const want = ref.forward(layers, x, 1);
      expect(t.z.length).toBe(3);
      expect(t.a.length).toBe(3);
      t.z.forEach((z, i) => expect(maxdiff(z, want.z[i])).toBeLessThan(1e-5));
      expect(maxdiff(t.a[0], want.a[0])).toBeLessThan(1e-5);
      expect(maxdiff(t.a[1], want.a[1])).toBeLessThan(1e-5);
      expect(Array.from(t.a[0]).every((v) => v >= 0)).toBe(true);
      expect(maxdiff(t.a[2], t.probabilities)).toBe(0);
      expect(maxdiff(t.probabilities, ref.softmax(want.z[2], 1, 10))).toBeLessThan(1e-6);
      expect(maxdiff(t.z[2], net.forward(x, 1))).toBe(0);
    });

    it('evaluate reports the reference accuracy and loss over a prefix, in chunks', async () => {
      const net = await Mlp.create(sizes, { simd, seed: 5 });
      const layers = ref.toRef(layersOf(net));
      const rand = rng(24);
      const n = 103;
      const x = randomF32((n + 5) * 50, rand, 0, 1);
      const labels = Uint8Array.from({ length: n + 5 }, () => Math.floor(rand() * 10));
      const r = net.evaluate(x, labels, n, 16);
      const logits = ref.forward(layers, x.subarray(0, n * 50), n).a[2];
      let correct = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
        const p = row.indexOf(Math.max(...row));
        expect(r.predictions[i]).toBe(p);
        if (p === labels[i]) correct++;
      }
      expect(r.accuracy).toBe(correct / n);
      expect(r.loss).toBeCloseTo(ref.crossEntropy(logits, labels, n, 10), 5);
    });

    it('trainBatch follows float64 SGD with and without momentum, returning the loss before each update', async () => {
      for (const momentum of [0, 0.9]) {
        const net = await Mlp.create(sizes, { simd, seed: 6 });
        const layers = ref.toRef(layersOf(net));
        const velocity = layers.map((L) => ({
          weight: new Float64Array(L.weight.length),
          bias: new Float64Array(L.bias.length),
        }));
        const rand = rng(25);
        for (let step = 0; step < 5; step++) {
          const batch = [1, 5, 8, 3, 17][step];
          const x = randomF32(batch * 50, rand, 0, 1);
          const labels = Uint8Array.from({ length: batch }, () => Math.floor(rand() * 10));
          const { loss, grads } = ref.lossAndGradients(layers, x, labels, batch);
          ref.sgdStep(layers, grads, 0.05, momentum, velocity);
          expect(net.trainBatch(x, labels, batch, { lr: 0.05, momentum })).toBeCloseTo(loss, 5);
        }
        layersOf(net).forEach((L, i) => {
          expect(maxdiff(L.weight, layers[i].weight)).toBeLessThan(1e-5);
          expect(maxdiff(L.bias, layers[i].bias)).toBeLessThan(1e-5);
        });
      }
    });

    it('keeps working after memory grows (views are re-created), at depth 6 and width 1', async () => {
      const net = await Mlp.create([20, 1, 9, 4, 3, 8, 2], { simd, seed: 7 });
      const rand = rng(26);
      const x1 = randomF32(20, rand);
      const before = net.forward(x1, 1);
      const big = 4000;
      const xb = randomF32(big * 20, rand);
      const labels = Uint8Array.from({ length: big }, (_, i) => i % 2);
      net.trainBatch(xb, labels, big, { lr: 0 }); // grows the workspace; lr 0 leaves the weights alone
      expect(maxdiff(net.forward(x1, 1), before)).toBe(0);
      const layers = ref.toRef(layersOf(net));
      expect(
        maxdiff(net.forward(xb.subarray(0, 20 * 300), 300), ref.forward(layers, xb.subarray(0, 20 * 300), 300).a[5]),
      ).toBeLessThan(1e-5);
    });
  });
}

describe('argument errors', () => {
  it('gives one CoreError class with stable codes and a message that says what to do', async () => {
    const net = await Mlp.create([6, 4, 3], { seed: 1 });
    const x = new Float32Array(12);
    expectCode(() => net.forward(x, 3), 'CORE_BAD_SHAPE', /expected batch x 6 = 18/);
    expectCode(() => net.forward(x, 0), 'CORE_BAD_SHAPE', /batch must be an integer >= 1/);
    expectCode(() => net.forward(x, 1.5), 'CORE_BAD_SHAPE');
    expectCode(() => net.forward([1, 2] as never, 1), 'CORE_BAD_ARGUMENT', /Float32Array/);
    expectCode(() => net.predict(new Float32Array(5), 1), 'CORE_BAD_SHAPE');
    expectCode(() => net.trace(new Float32Array(7)), 'CORE_BAD_SHAPE', /one input of 6/);
    expectCode(
      () => net.setLayer(0, new Float32Array(23), new Float32Array(4)),
      'CORE_BAD_SHAPE',
      /out x in = 4 x 6 = 24/,
    );
    expectCode(
      () => net.setLayer(1, new Float32Array(12), new Float32Array(4)),
      'CORE_BAD_SHAPE',
      /bias has 4 values, expected 3/,
    );
    expectCode(
      () => net.setLayer(2, new Float32Array(1), new Float32Array(1)),
      'CORE_BAD_ARGUMENT',
      /layer index 2 out of range/,
    );
    expectCode(() => net.getLayer(-1), 'CORE_BAD_ARGUMENT');
    expectCode(
      () => net.trainBatch(x, Uint8Array.from([0, 3]), 2, { lr: 0.1 }),
      'CORE_BAD_ARGUMENT',
      /label 3 at index 1 is not a class of this network \(0..2\)/,
    );
    expectCode(
      () => net.trainBatch(x, Uint8Array.from([0]), 2, { lr: 0.1 }),
      'CORE_BAD_SHAPE',
      /1 labels for 2 inputs/,
    );
    expectCode(() => net.trainBatch(x, Uint8Array.from([0, 1]), 2, { lr: -1 }), 'CORE_BAD_ARGUMENT', /lr must be/);
    expectCode(() => net.trainBatch(x, Uint8Array.from([0, 1]), 2, { lr: NaN }), 'CORE_BAD_ARGUMENT');
    expectCode(
      () => net.trainBatch(x, Uint8Array.from([0, 1]), 2, { lr: 0.1, momentum: -0.5 }),
      'CORE_BAD_ARGUMENT',
      /momentum/,
    );
    expectCode(() => net.evaluate(x, Uint8Array.from([0, 1]), 3), 'CORE_BAD_SHAPE');
    expectCode(() => net.evaluate(x, Uint8Array.from([0, 1]), 2, 0), 'CORE_BAD_SHAPE');
    // nothing above changed the weights
    const w = net.getLayer(0).weight;
    net.dispose();
    net.dispose();
    expectCode(() => net.forward(x, 2), 'CORE_DISPOSED', /disposed/);
    expectCode(() => net.getLayer(0), 'CORE_DISPOSED');
    expectCode(() => net.trainBatch(x, Uint8Array.from([0, 1]), 2, { lr: 0.1 }), 'CORE_DISPOSED');
    expect(w.length).toBe(24);
  });

  it('NaN weights give NaN logits and a NaN loss, not an exception', async () => {
    const net = await Mlp.create([3, 2], { seed: 1 });
    net.setLayer(0, Float32Array.from([NaN, 0, 0, 1, 1, 1]), Float32Array.from([0, 0]));
    const logits = net.forward(Float32Array.from([1, 2, 3]), 1);
    expect(logits[0]).toBeNaN();
    expect(logits[1]).toBe(6);
    expect(net.evaluate(Float32Array.from([1, 2, 3]), Uint8Array.from([1]), 1).loss).toBeNaN();
  });
});

describe('activations', () => {
  it("the activation option: 'relu' by default, one for every hidden layer or one each, parameters defaulted; net.activations says what runs", async () => {
    const relu = await Mlp.create([6, 5, 4, 3], { threads: 1 });
    expect(relu.activations).toEqual([{ name: 'relu' }, { name: 'relu' }]);
    expect(Object.isFrozen(relu.activations) && Object.isFrozen(relu.activations[0])).toBe(true);
    const all = await Mlp.create([6, 5, 4, 3], { threads: 1, activation: 'tanh' });
    expect(all.activations).toEqual([{ name: 'tanh' }, { name: 'tanh' }]);
    const each = await Mlp.create([6, 5, 4, 3], { threads: 1, activation: ['leaky_relu', { name: 'elu' }] });
    expect(each.activations).toEqual([
      { name: 'leaky_relu', slope: 0.01 },
      { name: 'elu', alpha: 1 },
    ]);
    const params = await Mlp.create([6, 5, 4, 3], {
      threads: 1,
      activation: [
        { name: 'leaky_relu', slope: 0.2 },
        { name: 'elu', alpha: 0.5 },
      ],
    });
    expect(params.activations).toEqual([
      { name: 'leaky_relu', slope: 0.2 },
      { name: 'elu', alpha: 0.5 },
    ]);
    expect(JSON.stringify(params.activations)).toBe('[{"name":"leaky_relu","slope":0.2},{"name":"elu","alpha":0.5}]');
    // no hidden layer: nothing to apply, a single activation is accepted, an array must be empty
    expect((await Mlp.create([6, 3], { threads: 1, activation: 'gelu' })).activations).toEqual([]);
    expect((await Mlp.create([6, 3], { threads: 1, activation: [] })).activations).toEqual([]);
    // fromLayers takes the same option
    const copy = await Mlp.fromLayers(layersOf(each), { threads: 1, activation: ['leaky_relu', 'elu'] });
    expect(copy.activations).toEqual(each.activations);
    const x = randomF32(4 * 6, rng(40));
    expect(maxdiff(copy.forward(x, 4), each.forward(x, 4))).toBe(0);
    for (const n of [relu, all, each, params, copy]) n.dispose();
  });

  it('refuses unknown names, wrong counts and bad parameters with CORE_BAD_ARGUMENT, saying what to use', async () => {
    const bad: [unknown, RegExp][] = [
      [
        'swish',
        /invalid activation: 'swish': use one of relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh, silu, elu, identity/,
      ],
      ['ReLU', /invalid activation: 'ReLU'/],
      [['relu'], /activation: 1 given for a 6-5-4-3 network, which has 2 hidden layers: give one per hidden layer/],
      [['relu', 'relu', 'relu'], /3 given/],
      [
        { name: 'leaky_relu', slope: NaN },
        /invalid leaky_relu slope: NaN: use a finite number \(PyTorch's default is 0.01\)/,
      ],
      [{ name: 'leaky_relu', slope: Infinity }, /invalid leaky_relu slope/],
      [{ name: 'leaky_relu', slope: '0.2' }, /invalid leaky_relu slope: '0.2'/],
      [{ name: 'elu', alpha: -Infinity }, /invalid elu alpha/],
      [{ name: 'leaky_relu', negative_slope: 0.2 }, /unknown key 'negative_slope': leaky_relu takes 'slope'/],
      [{ name: 'tanh', alpha: 1 }, /unknown key 'alpha': tanh takes no parameter/],
      [{ name: 'gelu', approximate: 'tanh' }, /unknown key 'approximate'/],
      [{ slope: 0.2 }, /its name must be one of/],
      [42, /invalid activation: 42/],
      [null, /invalid activation: null/],
      [[['relu'], 'relu'], /invalid activation: \["relu"\]/],
    ];
    for (const [activation, message] of bad) {
      await expect(
        Mlp.create([6, 5, 4, 3], { activation: activation as never }),
        JSON.stringify(activation),
      ).rejects.toMatchObject({ code: 'CORE_BAD_ARGUMENT', message: expect.stringMatching(message) });
    }
    const layers = layersOf(await Mlp.create([6, 5, 3], { threads: 1 }));
    await expect(Mlp.fromLayers(layers, { activation: ['tanh', 'tanh'] })).rejects.toMatchObject({
      code: 'CORE_BAD_ARGUMENT',
      message: expect.stringMatching(/2 given for a 6-5-3 network, which has 1 hidden layer:/),
    });
  });

  for (const variant of variants()) {
    const simd = variant === 'simd' ? 'plain' : 'relaxed';
    const nets: Activation[][] = [
      ...ACTIVATION_NAMES.map((name) => [name, name] as Activation[]),
      [
        { name: 'leaky_relu', slope: -0.5 },
        { name: 'elu', alpha: 2 },
      ],
      ['gelu', 'sigmoid'],
    ];
    for (const activation of nets) {
      it(`${JSON.stringify(activation)} (${variant}): forward, trace, gradients and 3 momentum steps match float64`, async () => {
        const sizes = [50, 37, 23, 10];
        const net = await Mlp.create(sizes, { simd, seed: 8, activation });
        const acts = net.activations;
        const layers = ref.toRef(layersOf(net));
        const rand = rng(41);
        const x = randomF32(300 * 50, rand, -1, 2);
        const want = ref.forward(layers, x, 300, acts);
        expect(maxdiff(net.forward(x, 300), want.a[2])).toBeLessThan(1e-5);
        const t = net.trace(x.subarray(0, 50));
        t.z.forEach((z, i) => expect(maxdiff(z, want.z[i].subarray(0, sizes[i + 1]))).toBeLessThan(1e-5));
        t.a.slice(0, 2).forEach((a, i) => expect(maxdiff(a, want.a[i].subarray(0, sizes[i + 1]))).toBeLessThan(1e-5));
        const labels = Uint8Array.from({ length: 300 }, () => Math.floor(rand() * 10));
        const g = net.gradients(x.subarray(0, 17 * 50), labels.subarray(0, 17), 17);
        const wantG = ref.lossAndGradients(layers, x.subarray(0, 17 * 50), labels.subarray(0, 17), 17, acts);
        expect(g.loss).toBeCloseTo(wantG.loss, 5);
        g.layers.forEach((L, i) => {
          expect(maxdiff(L.weight, wantG.grads[i].weight)).toBeLessThan(1e-5);
          expect(maxdiff(L.bias, wantG.grads[i].bias)).toBeLessThan(1e-5);
        });
        const velocity = layers.map((L) => ({
          weight: new Float64Array(L.weight.length),
          bias: new Float64Array(L.bias.length),
        }));
        for (let step = 0; step < 3; step++) {
          const xs = x.subarray(step * 20 * 50, (step * 20 + 20) * 50),
            ys = labels.subarray(step * 20, step * 20 + 20);
          const r = ref.lossAndGradients(layers, xs, ys, 20, acts);
          ref.sgdStep(layers, r.grads, 0.1, 0.9, velocity);
          expect(net.trainBatch(xs, ys, 20, { lr: 0.1, momentum: 0.9 })).toBeCloseTo(r.loss, 5);
        }
        layersOf(net).forEach((L, i) => {
          expect(maxdiff(L.weight, layers[i].weight)).toBeLessThan(1e-5);
          expect(maxdiff(L.bias, layers[i].bias)).toBeLessThan(1e-5);
        });
        net.dispose();
      });
    }
  }
});
