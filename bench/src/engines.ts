// The engines the benchmark compares. Each one runs the same MLP (PyTorch layout weights, ReLU between layers):
// inference on batches, and optionally SGD training. New peers (onnxruntime-web, tfjs-wasm, NumPy) add an entry here.
import { Mlp, type LayerParams } from '@mnist/core-wasm';
import { PlainJsMlp } from './plainjs.js';

export interface Engine {
  /** Row label in the tables. */
  name: string;
  /** Too slow for whole passes here: inference runs once over 2,560 images, training is extrapolated from 20 batches. */
  slow?: boolean;
  /** Builds the network from layers in PyTorch layout (the same weights for every engine). */
  load(layers: LayerParams[]): Promise<void>;
  /** Logits for `batch` rows of x. */
  forward(x: Float32Array, batch: number): Float32Array;
  /** One SGD step (lr, no momentum), returning the mean loss before it; absent if the engine cannot train. */
  trainBatch?(x: Float32Array, labels: Uint8Array, batch: number, lr: number): number;
  /** Predicted classes for `count` rows, in batches. */
  predict(x: Float32Array, count: number, batchSize: number): Int32Array;
  /** The current weights in PyTorch layout (after training), if the engine can give them back. */
  layers?(): LayerParams[];
  dispose(): void;
}

/** @mnist/core-wasm with a given binary. */
export function coreWasm(simd: 'plain' | 'relaxed'): Engine {
  let net: Mlp | null = null;
  return {
    name: `core-wasm ${simd === 'plain' ? 'simd' : 'relaxed-simd'}`,
    async load(layers) {
      net = await Mlp.fromLayers(layers, { simd });
    },
    forward: (x, batch) => net!.forward(x, batch),
    trainBatch: (x, labels, batch, lr) => net!.trainBatch(x, labels, batch, { lr }),
    // predict() runs internal chunks of 256 rows: batch 256
    predict: (x, count) => net!.predict(x.subarray(0, count * net!.sizes[0]), count),
    layers: () => Array.from({ length: net!.layerCount }, (_, i) => net!.getLayer(i)),
    dispose: () => net?.dispose(),
  };
}

/** The plain-JS peer: straightforward Float32Array loops, no SIMD, no WASM. */
export function plainJs(): Engine {
  let net: PlainJsMlp | null = null;
  return {
    name: 'plain JS',
    slow: true,
    async load(layers) {
      net = new PlainJsMlp(layers);
    },
    forward: (x, batch) => net!.forward(x, batch),
    trainBatch: (x, labels, batch, lr) => net!.trainBatch(x, labels, batch, lr),
    predict: (x, count, batchSize) => net!.predict(x, count, batchSize),
    dispose: () => {
      net = null;
    },
  };
}
