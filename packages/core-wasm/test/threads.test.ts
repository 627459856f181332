// Threads: every result is bit-identical for 1, 2 and 3 threads (forward, probabilities, evaluate, gradients, and the
// weights after training steps with and without momentum), on both binaries; the option's errors; dispose.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mlp, type Activation } from '../src/index.js';
import { MAX_AUTO_THREADS, stats, tuning } from '../src/threads.js';
import { expectSameBits, mnist, randomF32, rng, variants } from './helpers.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// odd widths (tails of every kind), depth 3, plus the real shape; and every other activation, mixed, including those
// that keep z for their backward (gelu, silu, elu, gelu_tanh, leaky_relu with a negative slope)
const shapes: { sizes: number[]; batch: number; activation?: Activation[] }[] = [
  { sizes: [37, 29, 13, 10], batch: 50 },
  { sizes: [784, 64, 10], batch: 64 },
  { sizes: [21, 9, 3], batch: 17 },
  {
    sizes: [37, 29, 13, 11, 7, 10],
    batch: 50,
    activation: ['gelu', { name: 'leaky_relu', slope: -0.2 }, 'tanh', { name: 'elu', alpha: 0.7 }],
  },
  { sizes: [21, 9, 6, 5, 3], batch: 17, activation: ['silu', 'sigmoid', 'gelu_tanh'] },
  { sizes: [22, 15, 4], batch: 30, activation: ['identity'] },
];

let savedMinFlops = 0;
beforeAll(() => {
  // split even the small test shapes across threads (the default keeps jobs under ~3 MFLOP on the caller)
  savedMinFlops = tuning.minFlops;
  tuning.minFlops = 0;
});
afterAll(() => {
  tuning.minFlops = savedMinFlops;
});

for (const variant of variants()) {
  const simd = variant === 'simd' ? 'plain' : 'relaxed';
  describe(`threads are bit-identical to one thread (${variant})`, () => {
    for (const { sizes, batch, activation } of shapes) {
      it(`${sizes.join('-')}${activation ? ` ${JSON.stringify(activation)}` : ''}, batch ${batch}: forward, probabilities, evaluate, gradients, 6 training steps`, async () => {
        const nets = await Promise.all(
          [1, 2, 3].map((threads) => Mlp.create(sizes, { seed: 11, simd, threads, activation })),
        );
        expect(nets.map((n) => n.threads)).toEqual([1, 2, 3]);
        expect(nets.every((n) => n.variant === variant)).toBe(true);
        const rand = rng(sizes[0] + batch);
        const C = sizes[0];
        // 300 rows: more than one internal chunk for 1 thread, uneven blocks for 3
        const x = randomF32(300 * C, rand, 0, 1);
        const labels = Uint8Array.from({ length: 300 }, () => Math.floor(rand() * sizes[sizes.length - 1]));
        const before = stats.parallelJobs;
        const [one, ...many] = nets;
        const logits = one.forward(x, 300),
          probs = one.probabilities(x, 300),
          ev = one.evaluate(x, labels, 300, 64);
        for (const net of many) {
          expectSameBits(net.forward(x, 300), logits, `forward, ${net.threads} threads`);
          expectSameBits(net.probabilities(x, 300), probs, `probabilities, ${net.threads} threads`);
          const e = net.evaluate(x, labels, 300, 64);
          expect(Object.is(e.loss, ev.loss) && e.accuracy === ev.accuracy).toBe(true);
          expectSameBits(e.predictions, ev.predictions, 'predictions');
          // batch 1 stays on the calling thread, and agrees too
          expectSameBits(net.forward(x.subarray(0, C), 1), logits.subarray(0, sizes[sizes.length - 1]), 'batch 1');
        }
        const g1 = one.gradients(x.subarray(0, batch * C), labels.subarray(0, batch), batch);
        for (const net of many) {
          const g = net.gradients(x.subarray(0, batch * C), labels.subarray(0, batch), batch);
          expect(Object.is(g.loss, g1.loss)).toBe(true);
          g.layers.forEach((L, i) => {
            expectSameBits(L.weight, g1.layers[i].weight, `dW${i}`);
            expectSameBits(L.bias, g1.layers[i].bias, `db${i}`);
          });
        }
        // 3 plain steps, then 3 with momentum (buffers appear mid-run), each from a different slice of the data
        for (let step = 0; step < 6; step++) {
          const xs = x.subarray(step * 40 * C, step * 40 * C + batch * C),
            ys = labels.subarray(step * 40, step * 40 + batch);
          const opts = step < 3 ? { lr: 0.1 } : { lr: 0.05, momentum: 0.9 };
          const losses = nets.map((n) => n.trainBatch(xs, ys, batch, opts));
          expect(
            losses.every((l) => Object.is(l, losses[0])),
            `step ${step} losses ${losses}`,
          ).toBe(true);
        }
        for (let i = 0; i < one.layerCount; i++) {
          const ref = one.getLayer(i);
          for (const net of many) {
            const L = net.getLayer(i);
            expectSameBits(L.weight, ref.weight, `layer ${i} weight after training, ${net.threads} threads`);
            expectSameBits(L.bias, ref.bias, `layer ${i} bias after training, ${net.threads} threads`);
          }
        }
        // and the trained networks still agree on a forward pass (the panels were repacked by the right threads)
        for (const net of many) expectSameBits(net.forward(x, 300), one.forward(x, 300), 'forward after training');
        // the helpers really ran: every call above on `many` split its jobs
        expect(stats.parallelJobs - before).toBeGreaterThan(40);
        for (const n of nets) n.dispose();
      });
    }

    it('one epoch-like run on real MNIST (784-512-10, 30 batches of 64, lr 0.1): same weights and test predictions', async () => {
      tuning.minFlops = savedMinFlops; // the default threshold, as users get it
      try {
        const train = mnist('train', 30 * 64),
          test = mnist('t10k', 1000);
        const [a, b] = await Promise.all(
          [1, 2].map((threads) => Mlp.create([784, 512, 10], { seed: 1, simd, threads })),
        );
        for (let s = 0; s < 30; s++) {
          const xs = train.x.subarray(s * 64 * 784, (s + 1) * 64 * 784),
            ys = train.labels.subarray(s * 64, (s + 1) * 64);
          expect(Object.is(a.trainBatch(xs, ys, 64, { lr: 0.1 }), b.trainBatch(xs, ys, 64, { lr: 0.1 }))).toBe(true);
        }
        expectSameBits(b.getLayer(0).weight, a.getLayer(0).weight, 'W1');
        const ea = a.evaluate(test.x, test.labels, 1000),
          eb = b.evaluate(test.x, test.labels, 1000);
        expect(eb.accuracy).toBe(ea.accuracy);
        expect(ea.accuracy).toBeGreaterThan(0.6);
        expectSameBits(eb.predictions, ea.predictions, 'test predictions');
        a.dispose();
        b.dispose();
      } finally {
        tuning.minFlops = 0;
      }
    });
  });
}

describe('the threads option', () => {
  it("'auto' (the default) takes the cores Node reports, capped", async () => {
    const net = await Mlp.create([4, 3, 2]);
    expect(net.threads).toBe(Math.min(availableParallelism(), MAX_AUTO_THREADS));
    net.dispose();
    const auto = await Mlp.create([4, 3, 2], { threads: 'auto' });
    expect(auto.threads).toBe(net.threads);
    auto.dispose();
  });

  it('refuses nonsense with CORE_BAD_ARGUMENT', async () => {
    for (const threads of [0, -1, 1.5, 65, NaN, 'many']) {
      await expect(Mlp.create([4, 2], { threads: threads as never })).rejects.toMatchObject({
        code: 'CORE_BAD_ARGUMENT',
        message: expect.stringMatching(/threads/),
      });
    }
  });

  it('dispose stops the helpers; later calls throw CORE_DISPOSED', async () => {
    const net = await Mlp.create([8, 4, 2], { threads: 2 });
    net.dispose();
    net.dispose();
    expect(() => net.forward(new Float32Array(8), 1)).toThrow(expect.objectContaining({ code: 'CORE_DISPOSED' }));
  });

  // a CLI must exit when its work is done, whether or not it disposed its networks
  for (const dispose of [true, false]) {
    it(`a Node process with a 2-thread network exits by itself (${dispose ? 'after dispose' : 'never disposed: the helpers are unref()d'})`, () => {
      const program = `
        import { Mlp } from '@mnist/core-wasm';
        const net = await Mlp.create([784, 128, 10], { threads: 2, seed: 1 });
        const x = new Float32Array(512 * 784).fill(0.25);
        const out = net.predict(x, 512);
        ${dispose ? 'net.dispose();' : ''}
        console.log(JSON.stringify({ threads: net.threads, n: out.length }));
      `;
      // a process that never exits is killed by the timeout (sized for a busy machine; it takes ~0.3 s idle) and fails
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
        cwd: pkgDir,
        encoding: 'utf8',
        timeout: 100_000,
      });
      expect(JSON.parse(out)).toEqual({ threads: 2, n: 512 });
    });
  }
});
