// PyTorch golden test: the same initial weights and MNIST batches as test/golden/make_golden.py (real torch 1.13)
// must give the same logits, loss, gradients and SGD loss trajectory (momentum 0.9 and plain), within stated maxdiffs:
// logits and loss 1e-6, gradients 1e-7, 20-step losses, final weights and logits 1e-5 (measured: ~1e-7 or better).
import { describe, expect, it } from 'vitest';
import { Mlp } from '../src/index.js';
import { inputSparsity } from '../src/kernels.js';
import { goldenFile, maxdiff, mnist, variants } from './helpers.js';

interface Golden {
  sizes: number[];
  batch: number;
  steps: number;
  lr: number;
  momentum: number;
  batch0_loss: number;
  losses_momentum: number[];
  losses_plain: number[];
  tensors: Record<string, { offset: number; shape: number[] }>;
}

const { manifest: golden, tensor } = goldenFile<Golden>('golden');

const { sizes, batch, steps, lr, momentum } = golden;
const data = mnist('train', steps * batch);
const batchX = (k: number) => data.x.subarray(k * batch * 784, (k + 1) * batch * 784);
const batchY = (k: number) => data.labels.subarray(k * batch, (k + 1) * batch);

async function netFromGolden(simd: 'plain' | 'relaxed'): Promise<Mlp> {
  const net = await Mlp.create(sizes, { simd });
  for (let i = 0; i < sizes.length - 1; i++) net.setLayer(i, tensor(`init.${i}.weight`), tensor(`init.${i}.bias`));
  return net;
}

for (const variant of variants()) {
  const simd = variant === 'simd' ? 'plain' : 'relaxed';
  describe(`PyTorch golden ${sizes.join('-')}, batch ${batch} (${variant})`, () => {
    it('logits, loss and every gradient of one batch match PyTorch', async () => {
      const net = await netFromGolden(simd);
      const sparseJobs = inputSparsity.jobs;
      const logits = net.forward(batchX(0), batch);
      expect(
        inputSparsity.jobs,
        'the first layer skipped the zero pixels (the default path for MNIST)',
      ).toBeGreaterThan(sparseJobs);
      const dLogits = maxdiff(logits, tensor('batch0.logits'));
      const g = net.gradients(batchX(0), batchY(0), batch);
      const gradDiffs = g.layers.flatMap((L, i) => [
        maxdiff(L.weight, tensor(`grad.${i}.weight`)),
        maxdiff(L.bias, tensor(`grad.${i}.bias`)),
      ]);
      console.log(
        `golden ${variant}: logits maxdiff ${dLogits.toExponential(2)}, loss diff ${Math.abs(g.loss - golden.batch0_loss).toExponential(2)}, grads maxdiff ${gradDiffs.map((d) => d.toExponential(1)).join(' ')}`,
      );
      expect(dLogits).toBeLessThan(1e-6);
      expect(Math.abs(g.loss - golden.batch0_loss)).toBeLessThan(1e-6);
      for (const d of gradDiffs) expect(d).toBeLessThan(1e-7);
      net.dispose();
    });

    for (const [name, mu, losses] of [
      ['momentum', momentum, golden.losses_momentum],
      ['plain SGD', 0, golden.losses_plain],
    ] as const) {
      it(`${steps} steps of ${name} (lr ${lr}) track PyTorch's loss trajectory`, async () => {
        const net = await netFromGolden(simd);
        const ours = Array.from({ length: steps }, (_, k) =>
          net.trainBatch(batchX(k), batchY(k), batch, { lr, momentum: mu }),
        );
        const d = maxdiff(ours, losses);
        console.log(
          `golden ${variant} ${name}: loss ${losses[0].toFixed(4)} -> ${losses[steps - 1].toFixed(4)}, trajectory maxdiff ${d.toExponential(2)}`,
        );
        expect(d).toBeLessThan(1e-5);
        expect(losses[steps - 1]).toBeLessThan(losses[0] - 0.1); // the trajectory itself goes somewhere
        if (mu !== 0) {
          for (let i = 0; i < sizes.length - 1; i++) {
            const L = net.getLayer(i);
            const dw = maxdiff(L.weight, tensor(`final.${i}.weight`)),
              db = maxdiff(L.bias, tensor(`final.${i}.bias`));
            console.log(
              `golden ${variant}: final layer ${i} weight maxdiff ${dw.toExponential(2)}, bias ${db.toExponential(2)}`,
            );
            expect(dw).toBeLessThan(1e-5);
            expect(db).toBeLessThan(1e-5);
          }
          expect(maxdiff(net.forward(batchX(0), batch), tensor('final.batch0.logits'))).toBeLessThan(1e-5);
        }
        net.dispose();
      });
    }
  });
}
