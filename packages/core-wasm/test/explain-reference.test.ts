// The float64 explanation reference (test/explain-reference.ts) against its two independent checks: PyTorch's values
// in test/golden/explain.json (float64 autograd, stored as float32: within 1e-6 relative) and central finite
// differences in float64, for the small ReLU and tanh nets and the default 784-512-10 model on real test digits.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as ex from './explain-reference.js';
import { mnist, rng } from './helpers.js';
import * as ref from './reference.js';

const golden = ex.explainGolden();
const { manifest, tensor } = golden;
const B = manifest.images.indices.length;
const IN = 784;
const x = tensor('images');
const noise = tensor('smoothgrad.noise');
// Central-difference step. A score of ~10 carries float64 rounding of ~1e-15, i.e. ~1e-10 on the difference quotient;
// h = 1e-6 left ~1e-6 relative error on the default model's smallest checked pixel gradients. The truncation error is
// ~h^2 = 1e-10 for tanh and log-softmax, and 0 for ReLU logits, which are piecewise linear: a step moves each
// pre-activation by at most ~h |W row| ~ 1e-5 x 0.05, below min_relu_margin (>= 7.7e-6) at every point checked.
const H = 1e-5;

/**
 * max_i |a_i - b_i| / (|b_i| + floor), floor = 1e-6 * max |b|: relative per element, so small values are checked
 * too, without failing on values that are 0 up to float64 rounding of much larger terms.
 */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const floor = 1e-6 * scale;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(e <= worst)) worst = e; // NaN sticks
  }
  return worst;
}

function expectGolden(actual: ArrayLike<number>, name: string, log: string[]): void {
  const err = relErr(actual, tensor(name));
  log.push(`${name} ${err.toExponential(1)}`);
  expect(err, name).toBeLessThan(1e-6);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Seeded unit-norm direction of length n. */
function direction(seed: number, n: number): Float64Array {
  const rand = rng(seed);
  const v = Float64Array.from({ length: n }, () => rand(-1, 1));
  const norm = Math.sqrt(dot(v, v));
  return v.map((e) => e / norm);
}

/** Central difference of each image's score along its own slice of v: (s(x + h v) - s(x - h v)) / 2h, per image. */
function directional(
  net: ReturnType<typeof golden.net>,
  at: ArrayLike<number>,
  v: ArrayLike<number>,
  targets: number[],
  score: ex.Score,
): Float64Array {
  const up = ex.scores(
    net.ref,
    Float64Array.from(at, (e, i) => e + H * v[i]),
    B,
    targets,
    score,
    net.acts,
  );
  const down = ex.scores(
    net.ref,
    Float64Array.from(at, (e, i) => e - H * v[i]),
    B,
    targets,
    score,
    net.acts,
  );
  return up.map((u, b) => (u - down[b]) / (2 * H));
}

/** The same inner product taken image by image: <g_b, v_b> for each image b. */
function perImageDot(g: ArrayLike<number>, v: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: B }, (_, b) => {
    let s = 0;
    for (let i = b * IN; i < (b + 1) * IN; i++) s += g[i] * v[i];
    return s;
  });
}

/** |a - b| / max(1e-3, |a| + |b|), the measure of gradcheck.test.ts. */
function fdErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(a[i]) + Math.abs(b[i])));
  return worst;
}

describe('explain golden file', () => {
  it('holds the real MNIST test digits it names, and the default model it was made from', () => {
    manifest.images.indices.forEach((index, b) => {
      const digit = mnist('t10k', 1, index);
      expect(x.subarray(b * IN, (b + 1) * IN)).toEqual(digit.x);
      expect(digit.labels[0]).toBe(manifest.images.labels[b]);
    });
    const sha256 = createHash('sha256').update(golden.modelBytes()).digest('hex');
    expect(sha256, `${manifest.default_model.file} changed: rerun test/golden/make_explain.py`).toBe(
      manifest.default_model.sha256,
    );
    expect(manifest.nets.map((n) => n.name)).toEqual(['relu', 'tanh', 'default']);
    expect(noise.length).toBe(manifest.smoothgrad.samples * B * IN);
  });
});

for (const name of ['relu', 'tanh', 'default']) {
  const net = golden.net(name);
  const V = net.sizes[net.sizes.length - 1];
  const labels = manifest.images.labels;
  const targetsOf = (target: (typeof ex.TARGETS)[number]) =>
    ex.resolveTargets(net.ref, x, B, target === 'class' ? manifest.class : 'predicted', net.acts);

  describe(`${name} net ${net.sizes.join('-')} (${net.activations.join(', ')})`, () => {
    it('logits and predictions match PyTorch', () => {
      const z = ex.logits(net.ref, x, B, net.acts);
      expect(relErr(z, net.logits_f64.flat())).toBeLessThan(1e-12);
      expect(ex.argmaxRows(z, B, V)).toEqual(net.predicted);
      expect(relErr(z, tensor(`${name}/logits`))).toBeLessThan(1e-6);
    });

    it('every attribution (gradient, gradient x input, SmoothGrad, integrated gradients) matches PyTorch within 1e-6 relative', () => {
      const log: string[] = [];
      for (const score of ex.SCORES)
        for (const target of ex.TARGETS) {
          const t = targetsOf(target);
          const key = `${score}.${target}`;
          expectGolden(ex.inputGradient(net.ref, x, B, t, score, net.acts), `${name}/gradient.${key}`, log);
          expectGolden(ex.gradientTimesInput(net.ref, x, B, t, score, net.acts), `${name}/gradxinput.${key}`, log);
          expectGolden(ex.smoothGrad(net.ref, x, B, t, score, noise, net.acts), `${name}/smoothgrad.${key}`, log);
          expectGolden(
            ex.integratedGradients(net.ref, x, B, t, score, manifest.integrated.steps, net.acts),
            `${name}/integrated.${key}`,
            log,
          );
        }
      console.log(`explain ${name} relative error vs PyTorch: ${log.join(', ')}`);
    });

    it('FGSM (untargeted from the prediction, targeted to the class) matches PyTorch and stays in budget and [0, 1]', () => {
      const { eps } = manifest.fgsm;
      const log: string[] = [];
      for (const kind of ['untargeted', 'targeted'] as const) {
        const t = targetsOf(kind === 'untargeted' ? 'predicted' : 'class');
        const adv = ex.fgsm(net.ref, x, B, t, eps, kind, net.acts);
        expectGolden(adv, `${name}/fgsm.${kind}`, log);
        const z = ex.logits(net.ref, adv, B, net.acts);
        expectGolden(z, `${name}/fgsm.${kind}.logits`, log);
        expect(ex.argmaxRows(z, B, V)).toEqual(net.fgsm_predicted[kind]);
        let moved = 0;
        adv.forEach((v, i) => {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
          expect(Math.abs(v - x[i])).toBeLessThanOrEqual(eps + 1e-12);
          if (v !== x[i]) moved++;
        });
        expect(moved).toBeGreaterThan(B * 100); // not a no-op: most pixels move (the others were clamped)
        // the step lowers (untargeted) or raises (targeted) the log-probability it was taken for, on every image
        const before = ex.scores(net.ref, x, B, t, 'logprob', net.acts);
        const after = ex.scores(net.ref, adv, B, t, 'logprob', net.acts);
        after.forEach((s, b) =>
          kind === 'untargeted' ? expect(s).toBeLessThan(before[b]) : expect(s).toBeGreaterThan(before[b]),
        );
      }
      console.log(`explain ${name} FGSM: ${log.join(', ')}`);
    });

    it('the loss gradient of every weight and bias matches PyTorch, and test/reference.ts', () => {
      const { loss, grads } = ex.lossGradients(net.ref, x, labels, B, net.acts);
      expect(Math.abs(loss - net.loss) / net.loss).toBeLessThan(1e-12);
      const log: string[] = [];
      grads.forEach((g, i) => {
        if (name === 'default' && i === 0) {
          const rows = net.lossgrad_rows!;
          const picked = new Float64Array(rows.length * IN);
          rows.forEach((r, k) => picked.set(g.weight.subarray(r * IN, (r + 1) * IN), k * IN));
          expectGolden(picked, `${name}/lossgrad.0.weight.rows`, log);
          const sums = net.lossgrad_0_weight_sums!;
          let sum = 0;
          let sumAbs = 0;
          let sumSquares = 0;
          for (const v of g.weight) {
            sum += v;
            sumAbs += Math.abs(v);
            sumSquares += v * v;
          }
          expect(Math.abs(sum - sums.sum) / sums.sum_abs).toBeLessThan(1e-12);
          expect(Math.abs(sumAbs - sums.sum_abs) / sums.sum_abs).toBeLessThan(1e-12);
          expect(Math.abs(sumSquares - sums.sum_squares) / sums.sum_squares).toBeLessThan(1e-12);
          let nonzeroRows = 0;
          for (let r = 0; r < g.weight.length / IN; r++)
            if (g.weight.subarray(r * IN, (r + 1) * IN).some((v) => v !== 0)) nonzeroRows++;
          expect(nonzeroRows).toBe(sums.nonzero_rows);
        } else expectGolden(g.weight, `${name}/lossgrad.${i}.weight`, log);
        expectGolden(g.bias, `${name}/lossgrad.${i}.bias`, log);
      });
      console.log(`explain ${name} loss gradients: ${log.join(', ')}`);
      // the training reference computes the same gradients by its own loop
      const training = ref.lossAndGradients(net.ref, x, labels, B, net.acts);
      expect(training.loss).toBe(loss);
      training.grads.forEach((g, i) => {
        expect(relErr(grads[i].weight, g.weight)).toBeLessThan(1e-12);
        expect(relErr(grads[i].bias, g.bias)).toBeLessThan(1e-12);
      });
    });

    it('input gradients agree with central differences (pixels and random directions)', () => {
      let worst = 0;
      let checked = 0;
      for (const score of ex.SCORES)
        for (const target of ex.TARGETS) {
          const t = targetsOf(target);
          const g = ex.inputGradient(net.ref, x, B, t, score, net.acts);
          // single pixels: the 4 largest |G| of each image and 4 seeded others (the same pixel in every image)
          const rand = rng(100 + net.sizes[1]);
          const pixels = new Set<number>(Array.from({ length: 4 }, () => Math.floor(rand() * IN)));
          for (let b = 0; b < B; b++) {
            const row = Array.from(g.subarray(b * IN, (b + 1) * IN));
            for (const i of row
              .map((v, i) => [Math.abs(v), i])
              .sort((p, q) => q[0] - p[0])
              .slice(0, 4))
              pixels.add(i[1]);
          }
          for (const i of pixels) {
            const v = new Float64Array(B * IN);
            for (let b = 0; b < B; b++) v[b * IN + i] = 1;
            worst = Math.max(worst, fdErr(perImageDot(g, v), directional(net, x, v, t, score)));
            checked += B;
          }
          for (let seed = 1; seed <= 3; seed++) {
            const v = direction(seed, B * IN);
            worst = Math.max(worst, fdErr(perImageDot(g, v), directional(net, x, v, t, score)));
            checked += B;
          }
        }
      console.log(
        `explain ${name} input gradient vs finite differences: ${checked} checks, max rel err ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-6);
    });

    it('SmoothGrad and integrated gradients agree with finite differences of the score at their points', () => {
      // <SG, v> = mean_k D_v s(x + noise_k); <IG, v> = mean_k D_{x v} s(x_k) (x_k the Riemann points, (x v)_i = x_i v_i)
      const { steps } = manifest.integrated;
      const samples = manifest.smoothgrad.samples;
      let worst = 0;
      for (const score of ex.SCORES)
        for (const target of ex.TARGETS) {
          const t = targetsOf(target);
          const v = direction(7, B * IN);
          const sg = ex.smoothGrad(net.ref, x, B, t, score, noise, net.acts);
          const fdSg = new Float64Array(B);
          for (let k = 0; k < samples; k++) {
            const at = Float64Array.from(x, (e, i) => e + noise[k * B * IN + i]);
            directional(net, at, v, t, score).forEach((d, b) => (fdSg[b] += d / samples));
          }
          worst = Math.max(worst, fdErr(perImageDot(sg, v), fdSg));
          const ig = ex.integratedGradients(net.ref, x, B, t, score, steps, net.acts);
          const xv = Float64Array.from(x, (e, i) => e * v[i]);
          const fdIg = new Float64Array(B);
          for (const point of ex.integrationPoints(x, new Float64Array(x.length), steps))
            directional(net, point, xv, t, score).forEach((d, b) => (fdIg[b] += d / steps));
          worst = Math.max(worst, fdErr(perImageDot(ig, v), fdIg));
        }
      console.log(
        `explain ${name} SmoothGrad / integrated gradients vs finite differences: max rel err ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-6);
    });

    it('weight and bias gradients agree with central differences of the loss', () => {
      const { grads } = ex.lossGradients(net.ref, x, labels, B, net.acts);
      const loss = () => ref.loss(net.ref, x, labels, B, net.acts);
      const rand = rng(31);
      let worst = 0;
      let checked = 0;
      net.ref.forEach((L, i) => {
        for (const key of ['weight', 'bias'] as const) {
          const p = L[key];
          const g = grads[i][key];
          // the largest |gradient| and seeded others (many first-layer weights see a 0 pixel: gradient exactly 0)
          const picks = new Set<number>(Array.from({ length: 6 }, () => Math.floor(rand() * p.length)));
          picks.add(Array.from(g).reduce((best, v, j) => (Math.abs(v) > Math.abs(g[best]) ? j : best), 0));
          for (const j of picks) {
            const keep = p[j];
            p[j] = keep + H;
            const up = loss();
            p[j] = keep - H;
            const down = loss();
            p[j] = keep;
            worst = Math.max(worst, fdErr([g[j]], [(up - down) / (2 * H)]));
            checked++;
          }
          // and all of them at once along a seeded direction
          const v = direction(40 + i, p.length);
          const keep = Float64Array.from(p);
          p.set(keep.map((e, j) => e + H * v[j]));
          const up = loss();
          p.set(keep.map((e, j) => e - H * v[j]));
          const down = loss();
          p.set(keep);
          worst = Math.max(worst, fdErr([dot(g, v)], [(up - down) / (2 * H)]));
          checked++;
        }
      });
      console.log(
        `explain ${name} loss gradients vs finite differences: ${checked} checks, max rel err ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-6);
    });
  });
}
