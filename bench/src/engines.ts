// The in-process engines the benchmark compares. Each runs the same MLP (PyTorch-layout weights, ReLU between layers):
// inference on batches and, for the peers, SGD with momentum on the batches training.ts gives them (ours trains
// through the library's driver, train(), in training.ts). Out-of-process peers are in peers.ts and train-peers.ts.
import { createRequire } from 'node:module';
import { Mlp, argmaxRows, type LayerParams } from '@mnist/core-wasm';
import { PlainJsMlp } from './plainjs.js';
import type { PeerTrainer } from './training.js';

export interface Engine {
  /** Row label in the tables. */
  name: string;
  /** Threads it runs on, as printed ('1', '2', 'all'). */
  threads: string;
  /** Too slow for whole passes here: measured on a subset (inference) or a few batches (training, extrapolated). */
  slow?: boolean;
  /** Builds the network from layers in PyTorch layout (the same weights for every engine). */
  load(layers: LayerParams[]): Promise<void>;
  /** Logits for `batch` rows of x. */
  forward(x: Float32Array, batch: number): Float32Array;
  /** A peer's SGD step with momentum (training.ts trainPeer), returning the mean loss before it. */
  trainBatch?: PeerTrainer['trainBatch'];
  /** Predicted classes for `count` rows, in batches of 256. */
  predict(x: Float32Array, count: number): Int32Array;
  /** The current weights in PyTorch layout (after training), if the engine can give them back. */
  layers?(): LayerParams[];
  dispose(): void;
}

/**
 * @mnist/core-wasm with a given binary and thread count ('auto' = all cores), for inference. By default the first
 * layer skips zero pixels, as the library does; `denseOnly` turns that off for this engine's calls (the dense kernels
 * alone); `precision: 'int8'` runs the optional int8 inference path (MlpOptions.precision).
 */
export function coreWasm(
  simd: 'plain' | 'relaxed',
  threads: number | 'auto',
  denseOnly = false,
  precision: 'float32' | 'int8' = 'float32',
): Engine {
  let net: Mlp | null = null;
  const engine: Engine = {
    name: `core-wasm ${simd === 'plain' ? 'simd' : 'relaxed-simd'}${denseOnly ? ', dense only' : ''}${precision === 'int8' ? ', int8' : ''}`,
    threads: String(threads),
    async load(layers) {
      net?.dispose();
      net = await Mlp.fromLayers(layers, { simd, threads, inputSparsity: !denseOnly, precision });
      engine.threads = String(net.threads);
    },
    forward: (x, batch) => net!.forward(x, batch),
    predict: (x, count) => net!.predict(x.subarray(0, count * net!.sizes[0]), count),
    layers: () => Array.from({ length: net!.layerCount }, (_, i) => net!.getLayer(i)),
    dispose: () => {
      net?.dispose();
      net = null;
    },
  };
  return engine;
}

/** The plain-JS peer: straightforward Float32Array loops, no SIMD, no WASM. */
export function plainJs(): Engine {
  let net: PlainJsMlp | null = null;
  return {
    name: 'plain JS',
    threads: '1',
    slow: true,
    async load(layers) {
      net = new PlainJsMlp(layers);
    },
    forward: (x, batch) => net!.forward(x, batch),
    trainBatch: (x, labels, batch, step) => net!.trainBatch(x, labels, batch, step),
    predict: (x, count) => net!.predict(x, count, 256),
    dispose: () => {
      net = null;
    },
  };
}

// ------------------------------------------------------------------------------------------ TensorFlow.js (wasm)

type Tf = typeof import('@tensorflow/tfjs-core');
let tfReady: Promise<Tf> | null = null;
async function tfjs(): Promise<Tf> {
  tfReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const tf = require('@tensorflow/tfjs-core') as Tf;
    require('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    return tf;
  })();
  return tfReady;
}

/**
 * TensorFlow.js 4.22 with @tensorflow/tfjs-backend-wasm (XNNPACK). Weights are kept transposed (in x out) so every
 * product is a plain matMul; training is hand-written backprop in tf ops (no autodiff) and SGD with momentum, one
 * dataSync per step for the loss. Its threads do not start in Node, so it runs on one.
 */
export function tfjsWasm(): Engine {
  let tf: Tf;
  let Wt: import('@tensorflow/tfjs-core').Variable[] = [];
  let b: import('@tensorflow/tfjs-core').Variable[] = [];
  // momentum buffers, zero at load (so the first step's buffer is the gradient, as in PyTorch)
  let vW: import('@tensorflow/tfjs-core').Variable[] = [];
  let vb: import('@tensorflow/tfjs-core').Variable[] = [];
  let sizes: number[] = [];
  const forwardT = (x: import('@tensorflow/tfjs-core').Tensor2D) => {
    let h: import('@tensorflow/tfjs-core').Tensor2D = x;
    Wt.forEach((W, i) => {
      h = tf.add(tf.matMul(h, W), b[i]);
      if (i + 1 < Wt.length) h = tf.relu(h);
    });
    return h;
  };
  const free = () => {
    for (const v of [...Wt, ...b, ...vW, ...vb]) v.dispose();
    Wt = [];
    b = [];
    vW = [];
    vb = [];
  };
  return {
    name: 'TensorFlow.js 4.22 (tfjs-backend-wasm)',
    threads: '1',
    async load(layers) {
      tf = await tfjs();
      free();
      sizes = [layers[0].in, ...layers.map((L) => L.out)];
      for (const L of layers) {
        Wt.push(tf.variable(tf.tidy(() => tf.transpose(tf.tensor2d(L.weight, [L.out, L.in])))));
        b.push(tf.variable(tf.tensor1d(L.bias)));
      }
      vW = Wt.map((W) => tf.variable(tf.zerosLike(W)));
      vb = b.map((v) => tf.variable(tf.zerosLike(v)));
    },
    forward(x, batch) {
      return tf.tidy(() => forwardT(tf.tensor2d(x, [batch, sizes[0]])).dataSync() as Float32Array);
    },
    trainBatch(x, labels, batch, { lr, momentum }) {
      return tf.tidy(() => {
        const L = Wt.length;
        const acts: import('@tensorflow/tfjs-core').Tensor2D[] = [tf.tensor2d(x, [batch, sizes[0]])];
        for (let i = 0; i < L; i++) {
          const z = tf.add(tf.matMul(acts[i], Wt[i]), b[i]) as import('@tensorflow/tfjs-core').Tensor2D;
          acts.push(i + 1 < L ? tf.relu(z) : z);
        }
        const logits = acts[L];
        const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), sizes[L]);
        const logp = tf.logSoftmax(logits);
        const loss = tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1)));
        // d loss / d logits = (softmax - onehot) / B; then back through each layer
        let dz = tf.div(tf.sub(tf.exp(logp), onehot), batch) as import('@tensorflow/tfjs-core').Tensor2D;
        for (let i = L - 1; i >= 0; i--) {
          const dW = tf.matMul(acts[i], dz, true, false);
          const db = tf.sum(dz, 0);
          if (i > 0) {
            // through ReLU: a_{i-1} > 0 exactly where z_{i-1} was
            dz = tf.mul(
              tf.matMul(dz, Wt[i], false, true),
              tf.step(acts[i]),
            ) as import('@tensorflow/tfjs-core').Tensor2D;
          }
          // buf = momentum * buf + g; p -= lr * buf
          vW[i].assign(tf.add(tf.mul(vW[i], momentum), dW));
          vb[i].assign(tf.add(tf.mul(vb[i], momentum), db));
          Wt[i].assign(tf.sub(Wt[i], tf.mul(vW[i], lr)));
          b[i].assign(tf.sub(b[i], tf.mul(vb[i], lr)));
        }
        return loss.dataSync()[0];
      });
    },
    predict(x, count) {
      const out = new Int32Array(count);
      for (let s = 0; s < count; s += 256) {
        const n = Math.min(256, count - s);
        out.set(
          argmaxRows(this.forward(x.subarray(s * sizes[0], (s + n) * sizes[0]), n), n, sizes[sizes.length - 1]),
          s,
        );
      }
      return out;
    },
    layers() {
      return Wt.map((W, i) => ({
        weight: tf.tidy(() => tf.transpose(W).dataSync() as Float32Array),
        bias: b[i].dataSync() as Float32Array,
        in: sizes[i],
        out: sizes[i + 1],
      }));
    },
    dispose: free,
  };
}
