// Finite-difference gradient check of a whole network with 2 hidden layers: the float64 reference's analytic
// gradients against central differences, then the WASM net's (float32) analytic gradients against the same; with
// ReLU, and with every other activation in mixed pairs.
import { describe, expect, it } from 'vitest';
import type { ActivationSpec } from '../src/activations.js';
import { Mlp, type Activation } from '../src/index.js';
import { randomF32, rng, variants } from './helpers.js';
import * as ref from './reference.js';

const SIZES = [7, 6, 5, 4];
const B = 3;
const H = 1e-6;

function finiteDifferences(
  layers: ref.RefLayer[],
  x: Float32Array,
  targets: Uint8Array,
  acts: readonly ActivationSpec[],
) {
  return layers.map((L) => {
    const fd = (p: Float64Array) =>
      p.map((_, j) => {
        const keep = p[j];
        p[j] = keep + H;
        const up = ref.loss(layers, x, targets, B, acts);
        p[j] = keep - H;
        const down = ref.loss(layers, x, targets, B, acts);
        p[j] = keep;
        return (up - down) / (2 * H);
      });
    return { weight: fd(L.weight), bias: fd(L.bias) };
  });
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-3, Math.abs(a) + Math.abs(b));
}

describe('gradient check (784-free small net 7-6-5-4, batch 3)', async () => {
  const rand = rng(11);
  const x = randomF32(B * SIZES[0], rand);
  const targets = Uint8Array.from([0, 3, 2]);

  const nets: Activation[][] = [
    ['relu', 'relu'],
    ['gelu', 'tanh'],
    ['silu', { name: 'elu', alpha: 0.7 }],
    ['sigmoid', 'gelu_tanh'],
    [{ name: 'leaky_relu', slope: -0.3 }, 'identity'],
  ];
  for (const variant of variants())
    for (const activation of nets) {
      it(`${JSON.stringify(activation)}: float64 reference and WASM ${variant} gradients agree with central differences`, async () => {
        const net = await Mlp.create(SIZES, { seed: 5, simd: variant === 'simd' ? 'plain' : 'relaxed', activation });
        const acts = net.activations;
        const layers = ref.toRef(Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i)));
        const fd = finiteDifferences(layers, x, targets, acts);
        const analytic = ref.lossAndGradients(layers, x, targets, B, acts);
        const wasm = net.gradients(x, targets, B);
        let refWorst = 0,
          wasmWorst = 0,
          count = 0;
        layers.forEach((_, i) => {
          for (const key of ['weight', 'bias'] as const) {
            fd[i][key].forEach((g, j) => {
              refWorst = Math.max(refWorst, relErr(analytic.grads[i][key][j], g));
              wasmWorst = Math.max(wasmWorst, Math.abs(wasm.layers[i][key][j] - g));
              count++;
            });
          }
        });
        console.log(
          `gradcheck ${variant} ${JSON.stringify(activation)}: ${count} parameters, reference max rel err ${refWorst.toExponential(2)}, wasm max abs err ${wasmWorst.toExponential(2)}`,
        );
        // float64 central differences with h = 1e-6 are good to ~1e-9 relative; 1e-6 leaves room for ReLU curvature
        expect(refWorst).toBeLessThan(1e-6);
        // float32 gradients of O(0.1) carry ~1e-7 rounding per operation
        expect(wasmWorst).toBeLessThan(1e-5);
        expect(wasm.loss).toBeCloseTo(analytic.loss, 6);
        // the check must be about something: gradients are not all tiny
        expect(Math.max(...fd[0].weight.map(Math.abs))).toBeGreaterThan(1e-2);
        net.dispose();
      });
    }
});
