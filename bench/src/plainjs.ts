// A plain-JavaScript MLP, the baseline peer of the benchmark: the same math as @mnist/core-wasm (Linear layers in
// PyTorch layout, ReLU, softmax cross-entropy, SGD with momentum) written as straightforward Float32Array loops.
import type { LayerParams } from '@mnist/core-wasm';

interface Layer {
  W: Float32Array; // (out, in)
  b: Float32Array; // (out)
  dW: Float32Array;
  db: Float32Array;
  vW: Float32Array; // momentum buffers
  vb: Float32Array;
  in: number;
  out: number;
}

/** out (B,OC) = inp (B,C) W^T + b: one dot product per output, both operands contiguous. */
export function denseForwardJs(
  out: Float32Array,
  inp: Float32Array,
  W: Float32Array,
  b: Float32Array | null,
  B: number,
  C: number,
  OC: number,
): void {
  for (let r = 0; r < B; r++) {
    const xo = r * C;
    for (let o = 0; o < OC; o++) {
      const wo = o * C;
      let acc = b ? b[o] : 0;
      for (let c = 0; c < C; c++) acc += inp[xo + c] * W[wo + c];
      out[r * OC + o] = acc;
    }
  }
}

export class PlainJsMlp {
  layers: Layer[];
  constructor(layers: LayerParams[]) {
    this.layers = layers.map((L) => ({
      W: L.weight.slice(),
      b: L.bias.slice(),
      dW: new Float32Array(L.weight.length),
      db: new Float32Array(L.out),
      vW: new Float32Array(L.weight.length),
      vb: new Float32Array(L.out),
      in: L.in,
      out: L.out,
    }));
  }

  /** Returns the activations of every layer (ReLU applied to hidden ones; logits last). */
  private activations(x: Float32Array, B: number): Float32Array[] {
    const acts: Float32Array[] = [];
    let inp = x;
    this.layers.forEach((L, i) => {
      const out = new Float32Array(B * L.out);
      denseForwardJs(out, inp, L.W, L.b, B, L.in, L.out);
      if (i + 1 < this.layers.length) for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0;
      acts.push(out);
      inp = out;
    });
    return acts;
  }

  forward(x: Float32Array, B: number): Float32Array {
    const acts = this.activations(x, B);
    return acts[acts.length - 1];
  }

  predict(x: Float32Array, count: number, batchSize: number): Int32Array {
    const C = this.layers[0].in,
      V = this.layers[this.layers.length - 1].out;
    const pred = new Int32Array(count);
    for (let s = 0; s < count; s += batchSize) {
      const n = Math.min(batchSize, count - s);
      const logits = this.forward(x.subarray(s * C, (s + n) * C), n);
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[r * V + v] > logits[r * V + best]) best = v;
        pred[s + r] = best;
      }
    }
    return pred;
  }

  /** One SGD step with momentum (buf = momentum * buf + g; p -= lr * buf, as torch.optim.SGD), the loss before it. */
  trainBatch(
    x: Float32Array,
    labels: Uint8Array,
    B: number,
    { lr, momentum }: { lr: number; momentum: number },
  ): number {
    const acts = this.activations(x, B);
    const logits = acts[acts.length - 1];
    const V = this.layers[this.layers.length - 1].out;
    let dout = new Float32Array(B * V);
    let loss = 0;
    for (let r = 0; r < B; r++) {
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, logits[r * V + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(logits[r * V + v] - m);
      loss += m + Math.log(s) - logits[r * V + labels[r]];
      for (let v = 0; v < V; v++)
        dout[r * V + v] = (Math.exp(logits[r * V + v] - m) / s - (v === labels[r] ? 1 : 0)) / B;
    }
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const L = this.layers[i];
      const inp = i > 0 ? acts[i - 1] : x;
      L.dW.fill(0);
      L.db.fill(0);
      for (let r = 0; r < B; r++) {
        for (let o = 0; o < L.out; o++) {
          const g = dout[r * L.out + o];
          L.db[o] += g;
          const wo = o * L.in,
            xo = r * L.in;
          for (let c = 0; c < L.in; c++) L.dW[wo + c] += g * inp[xo + c];
        }
      }
      if (i > 0) {
        const dinp = new Float32Array(B * L.in);
        for (let r = 0; r < B; r++) {
          for (let o = 0; o < L.out; o++) {
            const g = dout[r * L.out + o];
            const wo = o * L.in,
              xo = r * L.in;
            for (let c = 0; c < L.in; c++) dinp[xo + c] += g * L.W[wo + c];
          }
        }
        for (let j = 0; j < dinp.length; j++) if (inp[j] <= 0) dinp[j] = 0;
        dout = dinp;
      }
    }
    for (const L of this.layers) {
      for (let j = 0; j < L.W.length; j++) {
        L.vW[j] = momentum * L.vW[j] + L.dW[j];
        L.W[j] -= lr * L.vW[j];
      }
      for (let j = 0; j < L.b.length; j++) {
        L.vb[j] = momentum * L.vb[j] + L.db[j];
        L.b[j] -= lr * L.vb[j];
      }
    }
    return loss / B;
  }
}
