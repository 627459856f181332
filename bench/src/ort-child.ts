// The onnxruntime peers, each run in its own process (`node dist/ort-child.js web|node THREADS MODEL.onnx IMAGES
// PASSES`): onnxruntime-web's thread count is fixed when its WASM starts, and onnxruntime-node's intra-op pool spins
// between runs, which would take a core from whatever the bench measured next. One process per runtime and count;
// prints one JSON line of measurements.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_CLASSES, MNIST_PIXELS } from '@mnist/loader/data';
import type { InferenceSession } from 'onnxruntime-web';
import { measureInference } from './inference.js';
import { loadMnist } from './mnist.js';

const [runtime, threads, model, images, passes] = [
  process.argv[2],
  Number(process.argv[3]),
  process.argv[4],
  Number(process.argv[5]),
  Number(process.argv[6]),
];
const require = createRequire(import.meta.url);
const pkg = runtime === 'node' ? 'onnxruntime-node' : 'onnxruntime-web';
// both export onnxruntime-common's API (InferenceSession, Tensor, env); -node is CommonJS
const ort = (
  runtime === 'node' ? require(pkg) : await import(require.resolve(pkg))
) as typeof import('onnxruntime-web');
let session: InferenceSession;
if (runtime === 'node') {
  // the CPU execution provider (MLAS kernels), all graph optimizations, one operator at a time on THREADS threads
  session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
} else {
  ort.env.wasm.numThreads = threads;
  session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
}
const test = loadMnist('t10k');
const result = await measureInference(
  async (x, batch) => {
    const out = await session.run({ x: new ort.Tensor('float32', x, [batch, MNIST_PIXELS]) });
    return out.logits.data as Float32Array;
  },
  test.x,
  MNIST_PIXELS,
  MNIST_CLASSES,
  { images, passes },
);
const version = (
  JSON.parse(readFileSync(join(dirname(require.resolve(pkg)), '..', 'package.json'), 'utf8')) as { version: string }
).version;
console.log(JSON.stringify({ version, threads, passes: result.passes, predictions: Array.from(result.predictions) }));
process.exit(0); // its helper threads would keep the process alive
