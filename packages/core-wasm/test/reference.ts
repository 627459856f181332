// A plain float64 MLP (Linear + an activation per hidden layer, softmax cross-entropy, SGD with momentum): the
// independent reference the WASM kernels and the Mlp API are checked against. Written for clarity, not speed; weights
// in PyTorch layout; the activations from their textbook formulas (erf by its series and continued fraction).
import type { ActivationSpec } from '../src/activations.js';

const RELU: ActivationSpec = { name: 'relu' };

export interface RefLayer {
  weight: Float64Array; // (out, in)
  bias: Float64Array; // (out)
  in: number;
  out: number;
}

export function toRef(layers: { weight: Float32Array; bias: Float32Array; in: number; out: number }[]): RefLayer[] {
  return layers.map((L) => ({
    weight: Float64Array.from(L.weight),
    bias: Float64Array.from(L.bias),
    in: L.in,
    out: L.out,
  }));
}

/** out (B,OC) = inp (B,C) W^T + b, in float64. */
export function denseForward(
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  B: number,
  C: number,
  OC: number,
): Float64Array {
  const out = new Float64Array(B * OC);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < OC; o++) {
      let acc = bias ? bias[o] : 0;
      for (let c = 0; c < C; c++) acc += inp[b * C + c] * weight[o * C + c];
      out[b * OC + o] = acc;
    }
  }
  return out;
}

/** dinp = dout W; dweight = dout^T inp; dbias = sum_b dout (fresh, not accumulated). */
export function denseBackward(
  dout: ArrayLike<number>,
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  B: number,
  C: number,
  OC: number,
) {
  const dinp = new Float64Array(B * C),
    dweight = new Float64Array(OC * C),
    dbias = new Float64Array(OC);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < OC; o++) {
      const g = dout[b * OC + o];
      dbias[o] += g;
      for (let c = 0; c < C; c++) {
        dinp[b * C + c] += g * weight[o * C + c];
        dweight[o * C + c] += g * inp[b * C + c];
      }
    }
  }
  return { dinp, dweight, dbias };
}

/** Row softmax, stable. */
export function softmax(logits: ArrayLike<number>, B: number, V: number): Float64Array {
  const p = new Float64Array(B * V);
  for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[b * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[b * V + v] - m);
    for (let v = 0; v < V; v++) p[b * V + v] = Math.exp(logits[b * V + v] - m) / s;
  }
  return p;
}

/** Mean cross-entropy of softmax(logits) against targets, via log-sum-exp. */
export function crossEntropy(logits: ArrayLike<number>, targets: ArrayLike<number>, B: number, V: number): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[b * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[b * V + v] - m);
    total += m + Math.log(s) - logits[b * V + targets[b]];
  }
  return total / B;
}

/** erf(x) in float64, to ~1e-14: its Taylor series below |x| = 3, 1 - erfc(|x|) by Laplace's continued fraction above. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(a)) return NaN;
  if (a < 3) {
    // erf(a) = 2 / sqrt(pi) * sum_n (-1)^n a^(2n+1) / (n! (2n+1)); the terms peak near 170 at a = 3, so ~1e-14
    let term = a,
      sum = a;
    for (let n = 1; n < 100; n++) {
      term *= (-a * a) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (Math.sign(x) * sum * 2) / Math.sqrt(Math.PI);
  }
  // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + 2 / (a + ...))))), evaluated bottom-up
  let f = a;
  for (let k = 120; k >= 1; k--) f = a + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const SQRT_2_PI = Math.sqrt(2 / Math.PI);

/** f(z) for one activation, float64 (PyTorch's definitions, see test/golden/activations.json's `activations`). */
export function activate(act: ActivationSpec, v: number): number {
  switch (act.name) {
    case 'relu':
      return Math.max(v, 0);
    case 'leaky_relu':
      return v > 0 ? v : act.slope * v;
    case 'sigmoid':
      return sigmoid(v);
    case 'tanh':
      return Math.tanh(v);
    case 'gelu':
      return 0.5 * v * (1 + erf(v / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * v * (1 + Math.tanh(SQRT_2_PI * (v + 0.044715 * v ** 3)));
    case 'silu':
      return v * sigmoid(v);
    case 'elu':
      return v > 0 ? v : act.alpha * Math.expm1(v);
    case 'identity':
      return v;
  }
}

/** f'(z) for one activation, float64 (at exactly 0: relu' = 0, leaky_relu' = slope, elu' = alpha, as PyTorch). */
export function activateGrad(act: ActivationSpec, v: number): number {
  switch (act.name) {
    case 'relu':
      return v > 0 ? 1 : 0;
    case 'leaky_relu':
      return v > 0 ? 1 : act.slope;
    case 'sigmoid':
      return sigmoid(v) * (1 - sigmoid(v));
    case 'tanh':
      return 1 - Math.tanh(v) ** 2;
    case 'gelu':
      return 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
    case 'gelu_tanh': {
      const t = Math.tanh(SQRT_2_PI * (v + 0.044715 * v ** 3));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_PI * (1 + 3 * 0.044715 * v * v);
    }
    case 'silu':
      return sigmoid(v) * (1 + v * (1 - sigmoid(v)));
    case 'elu':
      return v > 0 ? 1 : act.alpha * Math.exp(v);
    case 'identity':
      return 1;
  }
}

export interface RefForward {
  z: Float64Array[]; // pre-activations per layer
  a: Float64Array[]; // f_i(z) for hidden layers, z itself (logits) for the last
}

/** acts: one activation per hidden layer (default relu everywhere). */
export function forward(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  acts: readonly ActivationSpec[] = [],
): RefForward {
  const z: Float64Array[] = [],
    a: Float64Array[] = [];
  let inp: ArrayLike<number> = x;
  layers.forEach((L, i) => {
    const zi = denseForward(inp, L.weight, L.bias, B, L.in, L.out);
    const act = acts[i] ?? RELU;
    const ai = i + 1 < layers.length ? zi.map((v) => activate(act, v)) : zi;
    z.push(zi);
    a.push(ai);
    inp = ai;
  });
  return { z, a };
}

export function loss(
  layers: RefLayer[],
  x: ArrayLike<number>,
  targets: ArrayLike<number>,
  B: number,
  acts: readonly ActivationSpec[] = [],
): number {
  const { a } = forward(layers, x, B, acts);
  return crossEntropy(a[a.length - 1], targets, B, layers[layers.length - 1].out);
}

/**
 * Mean loss and its gradient w.r.t. every weight and bias. Optional: dropout masks per hidden layer (multipliers of
 * its activations, B x out, null for none) and label smoothing eps (targets (1 - eps) onehot + eps / V).
 */
export function lossAndGradients(
  layers: RefLayer[],
  x: ArrayLike<number>,
  targets: ArrayLike<number>,
  B: number,
  acts: readonly ActivationSpec[] = [],
  options: { masks?: readonly (ArrayLike<number> | null)[]; smoothing?: number } = {},
) {
  const masks = options.masks ?? [];
  const eps = options.smoothing ?? 0;
  const z: Float64Array[] = [],
    a: Float64Array[] = [];
  let inp: ArrayLike<number> = x;
  layers.forEach((L, i) => {
    const zi = denseForward(inp, L.weight, L.bias, B, L.in, L.out);
    const act = acts[i] ?? RELU;
    const hidden = i + 1 < layers.length;
    const ai = hidden ? zi.map((v) => activate(act, v)) : zi;
    const m = hidden ? masks[i] : null;
    z.push(zi);
    a.push(m ? ai.map((v, j) => v * m[j]) : ai); // what the next layer reads
    inp = a[i];
  });
  const V = layers[layers.length - 1].out;
  const logits = a[a.length - 1];
  const probs = softmax(logits, B, V);
  let dout = new Float64Array(B * V);
  for (let b = 0; b < B; b++)
    for (let v = 0; v < V; v++) dout[b * V + v] = (probs[b * V + v] - ((v === targets[b] ? 1 - eps : 0) + eps / V)) / B;
  const grads: { weight: Float64Array; bias: Float64Array }[] = new Array(layers.length);
  for (let i = layers.length - 1; i >= 0; i--) {
    const L = layers[i];
    const inp = i > 0 ? a[i - 1] : x;
    const { dinp, dweight, dbias } = denseBackward(dout, inp, L.weight, B, L.in, L.out);
    grads[i] = { weight: dweight, bias: dbias };
    if (i > 0) {
      const zp = z[i - 1],
        act = acts[i - 1] ?? RELU,
        m = masks[i - 1];
      dout = dinp.map((g, j) => g * (m ? m[j] : 1) * activateGrad(act, zp[j]));
    }
  }
  let total = 0;
  for (let b = 0; b < B; b++) {
    let lse = -Infinity;
    for (let v = 0; v < V; v++) lse = Math.max(lse, logits[b * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[b * V + v] - lse);
    lse += Math.log(s);
    let smooth = 0;
    for (let v = 0; v < V; v++) smooth += lse - logits[b * V + v];
    total += (1 - eps) * (lse - logits[b * V + targets[b]]) + (eps / V) * smooth;
  }
  return { loss: total / B, grads };
}

/** One SGD step in PyTorch's convention; velocity (same shapes as the layers) is updated in place when given. */
export function sgdStep(
  layers: RefLayer[],
  grads: { weight: Float64Array; bias: Float64Array }[],
  lr: number,
  momentum = 0,
  velocity?: { weight: Float64Array; bias: Float64Array }[],
): void {
  layers.forEach((L, i) => {
    for (const key of ['weight', 'bias'] as const) {
      const p = L[key],
        g = grads[i][key];
      const v = velocity?.[i][key];
      for (let j = 0; j < p.length; j++) {
        let step = g[j];
        if (v) {
          v[j] = momentum * v[j] + g[j];
          step = v[j];
        }
        p[j] -= lr * step;
      }
    }
  });
}
