// The onnxruntime-web peer, run in its own process (`node dist/ort-child.js THREADS MODEL.onnx IMAGES RUNS`) because
// its thread count is fixed when its WASM starts: one process per count. Prints one JSON line of measurements.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_CLASSES, MNIST_PIXELS } from '@mnist/loader/data';
import { measureInference } from './inference.js';
import { loadMnist } from './mnist.js';

const [threads, model, images, runs] = [
  Number(process.argv[2]),
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const require = createRequire(import.meta.url);
const ort = (await import(require.resolve('onnxruntime-web'))) as typeof import('onnxruntime-web');
ort.env.wasm.numThreads = threads;
const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
const test = loadMnist('t10k');
const result = await measureInference(
  async (x, batch) => {
    const out = await session.run({ x: new ort.Tensor('float32', x, [batch, MNIST_PIXELS]) });
    return out.logits.data as Float32Array;
  },
  test.x,
  MNIST_PIXELS,
  MNIST_CLASSES,
  { images, runs },
);
const version = (
  JSON.parse(readFileSync(join(dirname(require.resolve('onnxruntime-web')), '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
console.log(JSON.stringify({ version, threads, rates: result.rates, predictions: Array.from(result.predictions) }));
process.exit(0); // its helper threads would keep the process alive
