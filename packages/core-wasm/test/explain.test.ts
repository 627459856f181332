// Explanations on the engine (issue 14): Mlp.inputGradients and layerGradients, saliency (gradient, gradient x input,
// SmoothGrad, integrated gradients) and the counterfactuals (FGSM, PGD, towardsClass) against PyTorch's float64
// autograd (test/golden/explain.json, make_explain.py) and the float64 reference (test/explain-reference.ts) with
// central finite differences; the same bits on 1 and 2 threads; attacks on real test digits; refused arguments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivationSpec } from '../src/activations.js';
import {
  CoreError,
  EXPLAIN_DEFAULTS,
  fgsm,
  gaussianNoise,
  hiddenContributions,
  Mlp,
  pgd,
  pgdStepSize,
  SALIENCY_METHODS,
  saliency,
  towardsClass,
  type Activation,
  type ClassScore,
} from '../src/index.js';
import { tuning } from '../src/threads.js';
import * as ex from './explain-reference.js';
import { expectSameBits, randomF32, rng, variants } from './helpers.js';
import { softmax, toRef } from './reference.js';

const golden = ex.explainGolden();
const { manifest, tensor } = golden;
const B = manifest.images.indices.length;
const IN = 784;
const x = tensor('images');
const noise = tensor('smoothgrad.noise');
const CLASS = manifest.class;

/**
 * The float32 engine against a float64 value: max_i |a_i - b_i| / (|b_i| + floor), floor = 1e-2 * max |b|. Relative
 * per element down to 1% of the tensor's largest value, absolute at 1% of it below: a float32 backward sums hundreds
 * of terms, so a value that cancels to near 0 carries the rounding of its largest terms.
 */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const floor = 1e-2 * scale;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(e <= worst)) worst = e; // NaN sticks
  }
  return worst;
}

/** max |a - b| / max |b|: the error on the tensor's own scale (logged beside relErr). */
function normErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst / scale;
}

/** Worst normErr of every tensor compared, over the whole file, for the summary line. */
const norms = new Map<string, number>();

/** The engine's values within 1e-4 (relErr) of PyTorch's; records the error for the log. */
function expectGolden(actual: ArrayLike<number>, name: string, log: Map<string, number>): void {
  const err = relErr(actual, tensor(name));
  log.set(name, err);
  norms.set(name, Math.max(norms.get(name) ?? 0, normErr(actual, tensor(name))));
  expect(err, name).toBeLessThan(1e-4);
}

function summary(log: Map<string, number>): string {
  const worst = [...log].sort((p, q) => q[1] - p[1])[0];
  return `${log.size} tensors, max rel err ${worst[1].toExponential(2)} (${worst[0]})`;
}

afterAll(() => {
  const worst = [...norms].sort((p, q) => q[1] - p[1])[0];
  if (worst)
    console.log(
      `explain engine vs PyTorch: max |error| / max |value| over ${norms.size} tensors ${worst[1].toExponential(2)} (${worst[0]})`,
    );
});

const simdOf = (variant: string) => (variant === 'simd' ? 'plain' : 'relaxed');

async function goldenNet(name: string, variant?: string): Promise<Mlp> {
  const net = golden.net(name);
  return Mlp.fromLayers(golden.layers(name), {
    activation: net.activations as Activation[],
    ...(variant && { simd: simdOf(variant) }),
  });
}

const targetOf = (t: (typeof ex.TARGETS)[number]) => (t === 'class' ? CLASS : 'predicted');

for (const variant of variants()) {
  for (const name of ['relu', 'tanh', 'default']) {
    const ref = golden.net(name);
    describe(`${name} net ${ref.sizes.join('-')} against PyTorch (${variant})`, () => {
      let net: Mlp;
      beforeAll(async () => {
        net = await goldenNet(name, variant);
      });
      afterAll(() => net.dispose());

      it('inputGradients: d logit / dx and d log-probability / dx of a class and of the prediction', () => {
        const log = new Map<string, number>();
        for (const score of ex.SCORES)
          for (const target of ex.TARGETS) {
            const logits = new Float32Array(B * 10);
            const g = net.inputGradients(x, B, targetOf(target), { score, logits });
            expectGolden(g, `${name}/gradient.${score}.${target}`, log);
            expect(relErr(logits, tensor(`${name}/logits`))).toBeLessThan(1e-5);
          }
        // a class per image, as an array, is the same as each image's own class
        const perImage = net.inputGradients(x, B, ref.predicted, { score: 'logprob' });
        expectSameBits(perImage, net.inputGradients(x, B, 'predicted', { score: 'logprob' }), 'array of targets');
        console.log(`explain engine ${name} ${variant} input gradients vs PyTorch: ${summary(log)}`);
      });

      it('saliency: every method, score and target matches PyTorch within 1e-4', () => {
        const log = new Map<string, number>();
        for (const score of ex.SCORES)
          for (const target of ex.TARGETS)
            for (const method of SALIENCY_METHODS) {
              const s = saliency(net, x, targetOf(target), {
                method,
                score,
                noiseValues: noise,
                steps: manifest.integrated.steps,
              });
              expect(Array.from(s.targets)).toEqual(target === 'class' ? Array(B).fill(CLASS) : ref.predicted);
              expectGolden(s.attribution, `${name}/${method}.${score}.${target}`, log);
            }
        console.log(`explain engine ${name} ${variant} saliency vs PyTorch: ${summary(log)}`);
      });

      it('fgsm: untargeted and targeted steps give PyTorch images, logits and classes', () => {
        const { eps } = manifest.fgsm;
        const log = new Map<string, number>();
        for (const kind of ['untargeted', 'targeted'] as const) {
          const results = fgsm(net, x, { eps, ...(kind === 'targeted' && { target: CLASS }) });
          const images = new Float32Array(B * IN);
          results.forEach((r, b) => images.set(r.image, b * IN));
          // every pixel's sign agrees: the same float32 image
          expectSameBits(images, tensor(`${name}/fgsm.${kind}`), `${name} fgsm.${kind}`);
          expectGolden(net.forward(images, B), `${name}/fgsm.${kind}.logits`, log);
          expect(results.map((r) => r.predicted)).toEqual(ref.fgsm_predicted[kind]);
          for (const [b, r] of results.entries()) {
            expect(r.original).toBe(ref.predicted[b]);
            expect(r.target).toBe(kind === 'targeted' ? CLASS : null);
            expect(r.steps).toBe(1);
            expect(r.linf).toBeLessThanOrEqual(eps + 3e-8);
            expect(r.linf).toBeGreaterThan(eps - 3e-8);
            expect(r.reached).toBe(kind === 'targeted' ? r.predicted === CLASS : r.predicted !== r.original);
            expect(relErr(r.probabilities, softmax(net.forward(r.image, 1), 1, 10))).toBeLessThan(1e-6);
          }
        }
        console.log(`explain engine ${name} ${variant} FGSM logits vs PyTorch: ${summary(log)}`);
      });

      it('layerGradients: the loss gradient of every weight and bias, the weights unchanged', () => {
        const labels = Uint8Array.from(manifest.images.labels);
        const before = Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i));
        const { loss, layers } = net.layerGradients(x, labels, B);
        expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
        const log = new Map<string, number>();
        layers.forEach((g, i) => {
          if (name === 'default' && i === 0) {
            const rows = ref.lossgrad_rows!;
            const picked = new Float32Array(rows.length * IN);
            rows.forEach((r, k) => picked.set(g.weight.subarray(r * IN, (r + 1) * IN), k * IN));
            expectGolden(picked, `${name}/lossgrad.0.weight.rows`, log);
            const sums = ref.lossgrad_0_weight_sums!;
            let sumAbs = 0;
            let sumSquares = 0;
            for (const v of g.weight) {
              sumAbs += Math.abs(v);
              sumSquares += v * v;
            }
            expect(Math.abs(sumAbs - sums.sum_abs) / sums.sum_abs).toBeLessThan(1e-4);
            expect(Math.abs(sumSquares - sums.sum_squares) / sums.sum_squares).toBeLessThan(1e-4);
          } else expectGolden(g.weight, `${name}/lossgrad.${i}.weight`, log);
          expectGolden(g.bias, `${name}/lossgrad.${i}.bias`, log);
        });
        const again = net.gradients(x, labels, B);
        layers.forEach((g, i) => expectSameBits(g.weight, again.layers[i].weight, `layer ${i} gradients()`));
        before.forEach((L, i) => expectSameBits(net.getLayer(i).weight, L.weight, `layer ${i} weight`));
        console.log(`explain engine ${name} ${variant} loss gradients vs PyTorch: ${summary(log)}`);
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Other activations and depths, against the float64 reference and central finite differences

/** Central-difference step for the float64 reference's scores (explain-reference.test.ts explains the choice). */
const H = 1e-5;

const shapes: { sizes: number[]; activation: ActivationSpec[] }[] = [
  { sizes: [784, 10], activation: [] },
  { sizes: [784, 48, 10], activation: [{ name: 'gelu' }] },
  {
    sizes: [784, 40, 24, 16, 10],
    activation: [{ name: 'silu' }, { name: 'elu', alpha: 0.7 }, { name: 'leaky_relu', slope: -0.2 }],
  },
  { sizes: [784, 32, 20, 10], activation: [{ name: 'sigmoid' }, { name: 'gelu_tanh' }] },
];

describe('inputGradients on other activations and depths, against float64 and finite differences', () => {
  for (const { sizes, activation } of shapes) {
    const label = `${sizes.join('-')} ${activation.map((a) => a.name).join(', ') || '(no hidden layer)'}`;
    it(label, async () => {
      const net = await Mlp.create(sizes, { seed: sizes.length, activation: activation as Activation[] });
      try {
        const layers = toRef(Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i)));
        let worstRef = 0;
        let worstFd = 0;
        const rand = rng(sizes[1]);
        const v = Float64Array.from({ length: B * IN }, () => rand(-1, 1));
        for (const score of ['logit', 'logprob'] as ClassScore[])
          for (const target of [CLASS, 'predicted'] as const) {
            const t = ex.resolveTargets(layers, x, B, target, activation);
            const g = net.inputGradients(x, B, target, { score });
            worstRef = Math.max(worstRef, relErr(g, ex.inputGradient(layers, x, B, t, score, activation)));
            // <G_b, v_b> against the float64 central difference of each image's score along v_b
            const up = ex.scores(
              layers,
              Float64Array.from(x, (e, i) => e + H * v[i]),
              B,
              t,
              score,
              activation,
            );
            const down = ex.scores(
              layers,
              Float64Array.from(x, (e, i) => e - H * v[i]),
              B,
              t,
              score,
              activation,
            );
            for (let b = 0; b < B; b++) {
              let dot = 0;
              for (let i = b * IN; i < (b + 1) * IN; i++) dot += g[i] * v[i];
              const fd = (up[b] - down[b]) / (2 * H);
              worstFd = Math.max(worstFd, Math.abs(dot - fd) / Math.max(1e-3, Math.abs(dot) + Math.abs(fd)));
            }
          }
        console.log(
          `explain engine ${label}: input gradient vs float64 ${worstRef.toExponential(2)}, vs finite differences ${worstFd.toExponential(2)}`,
        );
        expect(worstRef).toBeLessThan(1e-4);
        expect(worstFd).toBeLessThan(1e-4);
        // the sparse first layer and the dense kernel give the same bits
        const sparse = net.inputGradients(x, B, 'predicted');
        net.inputSparsity = false;
        expectSameBits(net.inputGradients(x, B, 'predicted'), sparse, 'dense first layer');
      } finally {
        net.dispose();
      }
    });
  }
});

it('SmoothGrad noise: seeded N(0, std^2), the same bits for the same seed', async () => {
  const a = gaussianNoise(200_001, 0.15, 7);
  expectSameBits(gaussianNoise(200_001, 0.15, 7), a, 'same seed');
  expect(gaussianNoise(10, 0.15, 8)).not.toEqual(a.subarray(0, 10));
  let sum = 0;
  let squares = 0;
  let beyond = 0;
  for (const v of a) {
    sum += v;
    squares += v * v;
    if (Math.abs(v) > 2 * 0.15) beyond++;
  }
  const mean = sum / a.length;
  const std = Math.sqrt(squares / a.length - mean * mean);
  // standard errors: 0.15 / sqrt(n) = 3.4e-4 for the mean, ~2.4e-4 for the std; P(|z| > 2) = 4.55%
  expect(Math.abs(mean)).toBeLessThan(1.5e-3);
  expect(Math.abs(std - 0.15)).toBeLessThan(1e-3);
  expect(Math.abs(beyond / a.length - 0.0455)).toBeLessThan(2.5e-3);
  // saliency draws it from options.seed: the same as passing it
  const net = await Mlp.fromLayers(golden.layers('relu'));
  try {
    const drawn = saliency(net, x, CLASS, { method: 'smoothgrad', samples: 3, seed: 7 }).attribution;
    const given = saliency(net, x, CLASS, { method: 'smoothgrad', noiseValues: gaussianNoise(3 * B * IN, 0.15, 7) });
    expectSameBits(drawn, given.attribution, 'seed vs noiseValues');
  } finally {
    net.dispose();
  }
});

it('nothing drops out: a network with dropout has the input gradients of the same network without', async () => {
  const layers = golden.layers('relu');
  const plain = await Mlp.fromLayers(layers);
  const dropping = await Mlp.fromLayers(layers, { dropout: 0.5 });
  try {
    for (const score of ['logit', 'logprob'] as ClassScore[])
      expectSameBits(
        dropping.inputGradients(x, B, CLASS, { score }),
        plain.inputGradients(x, B, CLASS, { score }),
        `dropout, ${score}`,
      );
  } finally {
    plain.dispose();
    dropping.dispose();
  }
});

// ---------------------------------------------------------------------------------------------------------------------
// Threads

describe('1 and 2 threads give the same bits', () => {
  let savedMinFlops = 0;
  beforeAll(() => {
    savedMinFlops = tuning.minFlops; // split even these small jobs across the threads
    tuning.minFlops = 0;
  });
  afterAll(() => {
    tuning.minFlops = savedMinFlops;
  });
  const cases: { name: string; activation?: Activation[] }[] = [
    { name: 'relu' },
    { name: 'tanh' },
    { name: 'default' },
    { name: 'gelu', activation: ['gelu', 'gelu'] },
  ];
  for (const { name, activation } of cases) {
    it(`${name}: input gradients, SmoothGrad, integrated gradients, PGD`, async () => {
      const source = name === 'gelu' ? 'relu' : name;
      const make = (threads: number) =>
        Mlp.fromLayers(golden.layers(source), {
          activation: activation ?? (golden.net(source).activations as Activation[]),
          threads,
        });
      const [one, two] = [await make(1), await make(2)];
      try {
        expect(two.threads).toBe(2);
        // 300 rows: two chunks of 256 + 44 rows on one thread, one of 300 on two; the last rows alone give the same
        const rand = rng(9);
        const batch = 300;
        const inputs = randomF32(batch * IN, rand, 0, 1);
        for (const score of ['logit', 'logprob'] as ClassScore[]) {
          const g = one.inputGradients(inputs, batch, 'predicted', { score });
          expectSameBits(two.inputGradients(inputs, batch, 'predicted', { score }), g, `${name} ${score}`);
          const tail = one.inputGradients(inputs.subarray(290 * IN), 10, 'predicted', { score });
          expectSameBits(tail, g.subarray(290 * IN), `${name} ${score}, rows 290..299 alone`);
        }
        for (const method of ['smoothgrad', 'integrated'] as const) {
          const options = { method, score: 'logprob' as ClassScore, samples: 8, seed: 5 };
          expectSameBits(
            saliency(two, x, CLASS, options).attribution,
            saliency(one, x, CLASS, options).attribution,
            `${name} ${method}`,
          );
        }
        const attack = { target: CLASS, eps: 0.1, steps: 10 };
        const [a, b] = [pgd(one, x, attack), pgd(two, x, attack)];
        a.forEach((r, i) => expectSameBits(b[i].image, r.image, `${name} pgd image ${i}`));
      } finally {
        one.dispose();
        two.dispose();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------------
// Counterfactuals on real test digits with the default model

describe('counterfactuals on test digits #149, #151, #247 (default model)', () => {
  let net: Mlp;
  const digits = [149, 151, 247];
  const image = (index: number) => {
    const b = manifest.images.indices.indexOf(index);
    return x.slice(b * IN, (b + 1) * IN);
  };
  beforeAll(async () => {
    net = await goldenNet('default');
  });
  afterAll(() => net.dispose());

  function expectValid(r: { image: Float32Array; linf: number }, clean: Float32Array, eps: number): void {
    let linf = 0;
    r.image.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      linf = Math.max(linf, Math.abs(v - clean[i]));
    });
    expect(r.linf).toBe(linf);
    expect(linf).toBeLessThanOrEqual(eps + 3e-8); // eps up to the float32 rounding of the pixel
  }

  it('PGD to the true label (eps 0.1) and to 3 (eps 0.15) is classified as the target', () => {
    const labels = manifest.images.labels;
    for (const index of digits) {
      const clean = image(index);
      const original = net.predict(clean, 1)[0];
      const label = labels[manifest.images.indices.indexOf(index)];
      expect(original, `#${index} is one the default model gets wrong`).not.toBe(label);
      for (const [target, eps] of [
        [label, 0.1],
        [CLASS, 0.15],
      ]) {
        const [r] = pgd(net, clean, { target, eps, steps: 40, stepSize: eps / 10 });
        expectValid(r, clean, eps);
        expect(r.original).toBe(original);
        expect(r.target).toBe(target);
        expect(r.predicted, `#${index} -> ${target}`).toBe(target);
        expect(r.reached).toBe(true);
        expect(net.predict(r.image, 1)[0]).toBe(target);
        expect(r.probabilities[target]).toBe(Math.max(...r.probabilities));
        console.log(
          `explain PGD #${index}: ${original} -> ${target} (${(100 * r.probabilities[target]).toFixed(1)}%) in ${r.steps} steps, L-inf ${r.linf.toFixed(3)} (eps ${eps})`,
        );
      }
    }
  });

  it('untargeted PGD flips each prediction, and stops at the first step that does', () => {
    for (const index of digits) {
      const clean = image(index);
      const [r] = pgd(net, clean, { eps: 0.1 });
      expectValid(r, clean, 0.1);
      expect(r.target).toBe(null);
      expect(r.predicted).not.toBe(r.original);
      expect(r.reached).toBe(true);
      // one step less was still the original class: the same search with steps - 1 does not flip
      const stepSize = pgdStepSize(0.1, EXPLAIN_DEFAULTS.pgdSteps);
      if (r.steps > 1) {
        const [before] = pgd(net, clean, { eps: 0.1, steps: r.steps - 1, stepSize, stopWhenReached: false });
        expect(before.predicted).toBe(r.original);
      }
      console.log(
        `explain PGD untargeted #${index}: ${r.original} -> ${r.predicted} (${(100 * r.probabilities[r.predicted]).toFixed(1)}%) in ${r.steps} steps, L-inf ${r.linf.toFixed(3)}`,
      );
    }
  });

  it('towardsClass(3) makes each digit a 3, and one step k times is k steps', () => {
    for (const index of digits) {
      const clean = image(index);
      const [r] = towardsClass(net, clean, CLASS, { steps: 10, stepSize: 0.03 });
      expectValid(r, clean, 10 * 0.03);
      expect(r.steps).toBe(10);
      expect(r.predicted).toBe(CLASS);
      let step: Float32Array = clean;
      for (let k = 0; k < 10; k++) step = towardsClass(net, step, CLASS, { steps: 1, stepSize: 0.03 })[0].image;
      expectSameBits(step, r.image, `#${index} stepwise`);
      console.log(
        `explain towardsClass #${index}: ${r.original} -> ${r.predicted} (${(100 * r.probabilities[CLASS]).toFixed(1)}%), L-inf ${r.linf.toFixed(3)}`,
      );
    }
  });

  it('a normalized model: the pixel gradient is the input gradient / std (chain rule), attacks stay in pixel space', async () => {
    // the same function of the pixels: W' = W std, b' = b + W mean, run on x' = (x - mean) / std
    const normalize = { mean: 0.1307, std: 0.3081 };
    const layers = golden.layers('default').map((L, i) => {
      if (i > 0) return L;
      const weight = L.weight.map((w) => w * normalize.std);
      const bias = L.bias.map((b, o) => {
        let s = b;
        for (let c = 0; c < L.in; c++) s += L.weight[o * L.in + c] * normalize.mean;
        return s;
      });
      return { ...L, weight, bias };
    });
    const folded = await Mlp.fromLayers(layers);
    try {
      for (const method of SALIENCY_METHODS) {
        const options = { method, score: 'logprob' as ClassScore, samples: 4 };
        const a = saliency(net, x, CLASS, options).attribution;
        const b = saliency(folded, x, CLASS, { ...options, normalize }).attribution;
        expect(relErr(b, a), method).toBeLessThan(1e-3);
      }
      for (const index of digits) {
        const clean = image(index);
        const [r] = pgd(folded, clean, { target: CLASS, eps: 0.15, steps: 40, stepSize: 0.015, normalize });
        expectValid(r, clean, 0.15);
        expect(r.predicted).toBe(CLASS);
      }
    } finally {
      folded.dispose();
    }
  });

  it('hidden units: contributions a[j] W2[t, j] sum with the bias to the logit', () => {
    for (const index of digits) {
      const clean = image(index);
      const logits = net.forward(clean, 1);
      const t = net.predict(clean, 1)[0];
      const all = hiddenContributions(net, clean, t);
      expect(all.length).toBe(512);
      const sum = all.reduce((s, u) => s + u.contribution, 0) + net.getLayer(1).bias[t];
      expect(Math.abs(sum - logits[t])).toBeLessThan(1e-4 * Math.abs(logits[t]) + 1e-5);
      const top = hiddenContributions(net, clean, t, { top: 5 });
      expect(top).toEqual(all.slice(0, 5));
      for (let i = 1; i < all.length; i++)
        expect(Math.abs(all[i].contribution)).toBeLessThanOrEqual(Math.abs(all[i - 1].contribution));
      const trace = net.trace(clean);
      expect(top[0].activation).toBe(trace.a[0][top[0].unit]);
      expect(top[0].weight).toBe(net.getLayer(1).weight[t * 512 + top[0].unit]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Refused arguments

describe('bad arguments are refused with CoreError codes', () => {
  let net: Mlp;
  beforeAll(async () => {
    net = await Mlp.create([784, 16, 10]);
  });
  afterAll(() => net.dispose());
  const one = x.slice(0, IN);

  function expectCode(f: () => unknown, code: string, text?: RegExp): void {
    let error: unknown;
    try {
      f();
    } catch (e) {
      error = e;
    }
    expect(error, `expected ${code}`).toBeInstanceOf(CoreError);
    expect((error as CoreError).code).toBe(code);
    if (text) expect((error as CoreError).message).toMatch(text);
  }

  it('inputGradients', () => {
    expectCode(() => net.inputGradients(one, 1, 10), 'CORE_BAD_ARGUMENT', /target 10 is not a class .*0\.\.9/);
    expectCode(() => net.inputGradients(one, 1, -1), 'CORE_BAD_ARGUMENT');
    expectCode(() => net.inputGradients(one, 1, 1.5), 'CORE_BAD_ARGUMENT');
    expectCode(() => net.inputGradients(one, 1, 'best' as never), 'CORE_BAD_ARGUMENT', /invalid target/);
    expectCode(() => net.inputGradients(one, 1, [1, 2]), 'CORE_BAD_SHAPE', /2 targets for a batch of 1/);
    expectCode(() => net.inputGradients(x, B, [1, 2, 3, 12]), 'CORE_BAD_ARGUMENT', /at index 3/);
    expectCode(() => net.inputGradients(one, 2, 3), 'CORE_BAD_SHAPE');
    expectCode(() => net.inputGradients(one, 0, 3), 'CORE_BAD_SHAPE');
    expectCode(() => net.inputGradients([...one] as never, 1, 3), 'CORE_BAD_ARGUMENT', /Float32Array/);
    expectCode(() => net.inputGradients(one, 1, 3, { score: 'prob' as never }), 'CORE_BAD_ARGUMENT', /score/);
    expectCode(() => net.inputGradients(one, 1, 3, { logits: new Float32Array(9) }), 'CORE_BAD_SHAPE');
    expectCode(() => net.layerGradients(one, new Uint8Array([10]), 1), 'CORE_BAD_ARGUMENT');
  });

  it('saliency', () => {
    expectCode(() => saliency(net, one, 3, { method: 'lrp' as never }), 'CORE_BAD_ARGUMENT', /unknown method/);
    expectCode(() => saliency(net, one.subarray(0, 700), 3), 'CORE_BAD_SHAPE');
    expectCode(() => saliency(net, one, 10), 'CORE_BAD_ARGUMENT');
    expectCode(() => saliency(net, one, 3, { method: 'smoothgrad', samples: 0 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => saliency(net, one, 3, { method: 'smoothgrad', noise: -1 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => saliency(net, one, 3, { method: 'smoothgrad', seed: 0.5 }), 'CORE_BAD_ARGUMENT');
    expectCode(
      () => saliency(net, one, 3, { method: 'smoothgrad', noiseValues: new Float32Array(1000) }),
      'CORE_BAD_SHAPE',
    );
    expectCode(
      () => saliency(net, one, 3, { method: 'smoothgrad', noiseValues: new Float32Array(2 * IN), samples: 3 }),
      'CORE_BAD_SHAPE',
    );
    expectCode(() => saliency(net, one, 3, { method: 'integrated', steps: 2.5 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => saliency(net, one, 3, { normalize: { mean: 0, std: 0 } }), 'CORE_BAD_ARGUMENT', /normalize/);
  });

  it('attacks', () => {
    expectCode(() => fgsm(net, one, { eps: 0 }), 'CORE_BAD_ARGUMENT', /eps must be in \(0, 1\]/);
    expectCode(() => fgsm(net, one, { eps: Number.NaN }), 'CORE_BAD_ARGUMENT');
    expectCode(() => fgsm(net, one, { eps: 2 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => fgsm(net, one, { target: 10 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => fgsm(net, one, { target: 'predicted' as never }), 'CORE_BAD_ARGUMENT');
    // normalized inputs passed as pixels
    const normalized = one.map((v) => (v - 0.1307) / 0.3081);
    expectCode(() => fgsm(net, normalized), 'CORE_BAD_ARGUMENT', /not a pixel in \[0, 1\].*normalize/);
    expectCode(() => pgd(net, one, { steps: 0 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => pgd(net, one, { stepSize: -0.1 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => towardsClass(net, one, undefined as never), 'CORE_BAD_ARGUMENT', /missing target/);
    expectCode(() => towardsClass(net, one, 3, { steps: -1 }), 'CORE_BAD_ARGUMENT');
    expectCode(() => hiddenContributions(net, x, 3), 'CORE_BAD_SHAPE');
    expectCode(() => hiddenContributions(net, one, 11), 'CORE_BAD_ARGUMENT');
  });

  it('a disposed network', async () => {
    const gone = await Mlp.create([784, 8, 10]);
    gone.dispose();
    expectCode(() => gone.inputGradients(one, 1, 3), 'CORE_DISPOSED');
    expectCode(() => saliency(gone, one, 3), 'CORE_DISPOSED');
    expectCode(() => fgsm(gone, one), 'CORE_DISPOSED');
  });
});
