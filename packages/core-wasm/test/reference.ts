// A plain float64 MLP (Linear + ReLU, softmax cross-entropy, SGD with momentum): the independent reference the
// WASM kernels and the Mlp API are checked against. Written for clarity, not speed; weights in PyTorch layout.

export interface RefLayer {
  weight: Float64Array; // (out, in)
  bias: Float64Array; // (out)
  in: number;
  out: number;
}

export function toRef(layers: { weight: Float32Array; bias: Float32Array; in: number; out: number }[]): RefLayer[] {
  return layers.map((L) => ({ weight: Float64Array.from(L.weight), bias: Float64Array.from(L.bias), in: L.in, out: L.out }));
}

/** out (B,OC) = inp (B,C) W^T + b, in float64. */
export function denseForward(inp: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number> | null,
                             B: number, C: number, OC: number): Float64Array {
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
export function denseBackward(dout: ArrayLike<number>, inp: ArrayLike<number>, weight: ArrayLike<number>,
                              B: number, C: number, OC: number) {
  const dinp = new Float64Array(B * C), dweight = new Float64Array(OC * C), dbias = new Float64Array(OC);
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

export interface RefForward {
  z: Float64Array[]; // pre-activations per layer
  a: Float64Array[]; // ReLU(z) for hidden layers, z itself (logits) for the last
}

export function forward(layers: RefLayer[], x: ArrayLike<number>, B: number): RefForward {
  const z: Float64Array[] = [], a: Float64Array[] = [];
  let inp: ArrayLike<number> = x;
  layers.forEach((L, i) => {
    const zi = denseForward(inp, L.weight, L.bias, B, L.in, L.out);
    const ai = i + 1 < layers.length ? zi.map((v) => Math.max(v, 0)) : zi;
    z.push(zi);
    a.push(ai);
    inp = ai;
  });
  return { z, a };
}

export function loss(layers: RefLayer[], x: ArrayLike<number>, targets: ArrayLike<number>, B: number): number {
  const { a } = forward(layers, x, B);
  return crossEntropy(a[a.length - 1], targets, B, layers[layers.length - 1].out);
}

/** Mean loss and its gradient w.r.t. every weight and bias. */
export function lossAndGradients(layers: RefLayer[], x: ArrayLike<number>, targets: ArrayLike<number>, B: number) {
  const { z, a } = forward(layers, x, B);
  const V = layers[layers.length - 1].out;
  const logits = a[a.length - 1];
  const probs = softmax(logits, B, V);
  let dout = new Float64Array(B * V);
  for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) dout[b * V + v] = (probs[b * V + v] - (v === targets[b] ? 1 : 0)) / B;
  const grads: { weight: Float64Array; bias: Float64Array }[] = new Array(layers.length);
  for (let i = layers.length - 1; i >= 0; i--) {
    const L = layers[i];
    const inp = i > 0 ? a[i - 1] : x;
    const { dinp, dweight, dbias } = denseBackward(dout, inp, L.weight, B, L.in, L.out);
    grads[i] = { weight: dweight, bias: dbias };
    if (i > 0) {
      const zp = z[i - 1];
      dout = dinp.map((g, j) => (zp[j] > 0 ? g : 0));
    }
  }
  return { loss: crossEntropy(logits, targets, B, V), grads };
}

/** One SGD step in PyTorch's convention; velocity (same shapes as the layers) is updated in place when given. */
export function sgdStep(layers: RefLayer[], grads: { weight: Float64Array; bias: Float64Array }[], lr: number,
                        momentum = 0, velocity?: { weight: Float64Array; bias: Float64Array }[]): void {
  layers.forEach((L, i) => {
    for (const key of ['weight', 'bias'] as const) {
      const p = L[key], g = grads[i][key];
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
