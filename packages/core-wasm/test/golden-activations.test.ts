// PyTorch golden test for every hidden-layer activation: test/golden/make_activations.py (real torch 1.13) built
// 784-20-14-10 nets from the same initial weights, one per activation (leaky_relu 0.01 and 0.2, elu alpha 1, and a
// mixed ['tanh', 'relu'] net), on the MNIST batches of golden.test.ts. Each must give PyTorch's logits, loss, every
// gradient, pre-activations and activations, and 20-step SGD trajectories (momentum 0.9 and plain) within the
// ReLU golden's maxdiffs: logits and loss 1e-6, gradients 1e-7, losses, final weights and logits 1e-5.
import { describe, expect, it } from 'vitest';
import { Mlp, type Activation } from '../src/index.js';
import { inputSparsity } from '../src/kernels.js';
import { goldenFile, maxdiff, mnist, variants } from './helpers.js';

interface GoldenNet {
  name: string;
  activations: string[];
  negative_slope?: number;
  alpha?: number;
  batch0_loss: number;
  losses_momentum: number[];
  losses_plain: number[];
}

interface Golden {
  sizes: number[];
  batch: number;
  steps: number;
  lr: number;
  momentum: number;
  nets: GoldenNet[];
  tensors: Record<string, { offset: number; shape: number[] }>;
}

const { manifest: golden, tensor } = goldenFile<Golden>('activations');

const { sizes, batch, steps, lr, momentum } = golden;
const data = mnist('train', steps * batch);
const batchX = (k: number) => data.x.subarray(k * batch * 784, (k + 1) * batch * 784);
const batchY = (k: number) => data.labels.subarray(k * batch, (k + 1) * batch);

/** The API's form of a golden net's activations: PyTorch's negative_slope is the API's slope. */
function activationsOf(net: GoldenNet): Activation[] {
  return net.activations.map((name) => {
    if (name === 'leaky_relu') return { name, slope: net.negative_slope };
    if (name === 'elu') return { name, alpha: net.alpha };
    return name as Activation;
  });
}

async function netFromGolden(g: GoldenNet, simd: 'plain' | 'relaxed'): Promise<Mlp> {
  const net = await Mlp.create(sizes, { simd, activation: activationsOf(g) });
  for (let i = 0; i < sizes.length - 1; i++) net.setLayer(i, tensor(`init.${i}.weight`), tensor(`init.${i}.bias`));
  return net;
}

describe('the activation goldens', () => {
  it('cover every activation, both leaky_relu slopes, elu and a mixed net, from one shared init', () => {
    expect(golden.nets.map((n) => n.name)).toEqual([
      'relu',
      'leaky_relu_0.01',
      'leaky_relu_0.2',
      'sigmoid',
      'tanh',
      'gelu',
      'gelu_tanh',
      'silu',
      'elu',
      'identity',
      'mixed_tanh_relu',
    ]);
    expect(sizes).toEqual([784, 20, 14, 10]);
  });
});

for (const variant of variants()) {
  const simd = variant === 'simd' ? 'plain' : 'relaxed';
  for (const g of golden.nets) {
    const p = `${g.name}/`;
    describe(`PyTorch golden ${g.name} [${g.activations.join(', ')}], ${sizes.join('-')}, batch ${batch} (${variant})`, () => {
      it("logits, loss, every gradient, and each layer's z and activation match PyTorch", async () => {
        const net = await netFromGolden(g, simd);
        expect(net.activations.map((a) => a.name)).toEqual(g.activations);
        const sparseJobs = inputSparsity.jobs;
        const logits = net.forward(batchX(0), batch);
        expect(
          inputSparsity.jobs,
          'the first layer skipped the zero pixels (the default path for MNIST)',
        ).toBeGreaterThan(sparseJobs);
        const dLogits = maxdiff(logits, tensor(`${p}batch0.logits`));
        const gr = net.gradients(batchX(0), batchY(0), batch);
        const dLoss = Math.abs(gr.loss - g.batch0_loss);
        const gradDiffs = gr.layers.flatMap((L, i) => [
          maxdiff(L.weight, tensor(`${p}grad.${i}.weight`)),
          maxdiff(L.bias, tensor(`${p}grad.${i}.bias`)),
        ]);
        // trace, row by row: z and f(z) of both hidden layers
        let dz = 0,
          da = 0;
        for (let r = 0; r < batch; r++) {
          const t = net.trace(batchX(0).subarray(r * 784, (r + 1) * 784));
          for (let j = 0; j < 2; j++) {
            const w = sizes[j + 1];
            dz = Math.max(dz, maxdiff(t.z[j], tensor(`${p}batch0.z.${j}`).subarray(r * w, (r + 1) * w)));
            da = Math.max(da, maxdiff(t.a[j], tensor(`${p}batch0.h.${j}`).subarray(r * w, (r + 1) * w)));
          }
          expect(maxdiff(t.z[2], logits.subarray(r * 10, (r + 1) * 10)), 'trace logits = forward logits').toBe(0);
        }
        console.log(
          `golden ${g.name} ${variant}: logits ${dLogits.toExponential(2)}, loss ${dLoss.toExponential(2)}, z ${dz.toExponential(1)}, a ${da.toExponential(1)}, grads ${gradDiffs.map((d) => d.toExponential(1)).join(' ')}`,
        );
        expect(dLogits).toBeLessThan(1e-6);
        expect(dLoss).toBeLessThan(1e-6);
        for (const d of gradDiffs) expect(d).toBeLessThan(1e-7);
        expect(dz).toBeLessThan(1e-6);
        expect(da).toBeLessThan(1e-6);
        net.dispose();
      });

      for (const [name, mu, losses] of [
        ['momentum', momentum, g.losses_momentum],
        ['plain SGD', 0, g.losses_plain],
      ] as const) {
        it(`${steps} steps of ${name} (lr ${lr}) track PyTorch's loss trajectory${mu ? ', final weights and logits' : ''}`, async () => {
          const net = await netFromGolden(g, simd);
          const ours = Array.from({ length: steps }, (_, k) =>
            net.trainBatch(batchX(k), batchY(k), batch, { lr, momentum: mu }),
          );
          const d = maxdiff(ours, losses);
          let dw = 0,
            dlog = 0;
          if (mu !== 0) {
            for (let i = 0; i < sizes.length - 1; i++) {
              const L = net.getLayer(i);
              dw = Math.max(
                dw,
                maxdiff(L.weight, tensor(`${p}final.${i}.weight`)),
                maxdiff(L.bias, tensor(`${p}final.${i}.bias`)),
              );
            }
            dlog = maxdiff(net.forward(batchX(0), batch), tensor(`${p}final.batch0.logits`));
          }
          console.log(
            `golden ${g.name} ${variant} ${name}: loss ${losses[0].toFixed(4)} -> ${losses[steps - 1].toFixed(4)}, trajectory ${d.toExponential(2)}${mu ? `, final weights ${dw.toExponential(2)}, logits ${dlog.toExponential(2)}` : ''}`,
          );
          expect(d).toBeLessThan(1e-5);
          expect(losses[steps - 1]).toBeLessThan(losses[0]); // the trajectory itself goes somewhere
          expect(dw).toBeLessThan(1e-5);
          expect(dlog).toBeLessThan(1e-5);
          net.dispose();
        });
      }
    });
  }

  it(`the trajectories tell gelu from gelu_tanh (${variant}): each net is 100x closer to its own PyTorch run than to the other's`, async () => {
    // at init |z| < 0.6, where the two agree to ~1e-6 (activations.json probe.why); after 20 momentum steps they part
    for (const [mine, other] of [
      ['gelu', 'gelu_tanh'],
      ['gelu_tanh', 'gelu'],
    ]) {
      const g = golden.nets.find((n) => n.name === mine)!;
      const net = await netFromGolden(g, simd);
      for (let k = 0; k < steps; k++) net.trainBatch(batchX(k), batchY(k), batch, { lr, momentum });
      const logits = net.forward(batchX(0), batch);
      const own = maxdiff(logits, tensor(`${mine}/final.batch0.logits`)),
        theirs = maxdiff(logits, tensor(`${other}/final.batch0.logits`));
      expect(theirs).toBeGreaterThan(100 * own);
      expect(theirs).toBeGreaterThan(1e-4);
      net.dispose();
    }
  });
}
