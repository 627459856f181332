// Snapshot figures: each named function builds one figure from seeded data; test/snapshots.test.ts compares its SVG
// with test/output/<name>.svg. Inputs are tiny (8x8 tiles, few digits) to keep the committed snapshots small.

import {
  attributionMap,
  attributionOverlay,
  confusionMatrix,
  digitImage,
  explanation,
  heatmap,
  logitBars,
  lossCurve,
  predictionGrid,
  probabilityBars,
  signedBars,
  trainingCurves,
  weightDelta,
  weightTiles,
  type HistoryPoint,
} from '../../src/index.js';
import { mulberry32, seededDigits, seededPredictions, seededWeights, softmax } from '../seeded.js';

export type SnapshotFigure = (document: Document) => Element;

export function weightTilesSmall(document: Document) {
  return weightTiles(seededWeights(1, 12 * 64), { in: 64, out: 12, document });
}

export function weightTilesAxes(document: Document) {
  return weightTiles(seededWeights(2, 40 * 36), {
    in: 36,
    out: 40,
    columns: 10,
    tileLabels: false,
    document,
    title: '40 units',
  });
}

export function weightTilesSubset(document: Document) {
  return weightTiles(seededWeights(3, 3 * 784, 0.05), {
    out: 3,
    units: [2, 0],
    document,
    width: 300,
    title: 'Units 2 and 0',
  });
}

export function heatmapCells(document: Document) {
  return heatmap(seededWeights(4, 6 * 9, 0.5), {
    rows: 6,
    cols: 9,
    label: 'fc.weight',
    document,
    title: 'A 6x9 matrix',
  });
}

export function heatmapBias(document: Document) {
  return heatmap(seededWeights(5, 10, 0.2), { rows: 1, cols: 10, label: 'fc2.bias', document });
}

export function heatmapLarge(document: Document) {
  return heatmap(seededWeights(6, 40 * 70), { rows: 40, cols: 70, label: 'fc.weight', document, width: 400 });
}

export function predictionGridDigits(document: Document) {
  const { labels, predictions } = seededPredictions(7, 12, 0.25);
  return predictionGrid(seededDigits(7, 12), labels, predictions, { columns: 6, document, title: 'Predictions' });
}

export function predictionGridAlways(document: Document) {
  const { labels, predictions } = seededPredictions(8, 5, 0.4);
  const images = Float32Array.from(seededDigits(8, 5, 8), (v) => v / 255);
  return predictionGrid(images, labels, predictions, { in: 64, showTrue: 'always', document, width: 300 });
}

export function confusionMatrix10(document: Document) {
  const { labels, predictions } = seededPredictions(9, 300, 0.1);
  return confusionMatrix(labels, predictions, { document, title: 'Confusion matrix' });
}

export function confusionMatrix3(document: Document) {
  const { labels, predictions } = seededPredictions(10, 40, 0.3, 3);
  return confusionMatrix(labels, predictions, { classes: 3, document, width: 240 });
}

export function probabilityBarsWrong(document: Document) {
  const random = mulberry32(11);
  const logits = Array.from({ length: 10 }, (_, i) => (i === 3 ? 4 : i === 8 ? 3 : random() * 2 - 1));
  return probabilityBars(softmax(logits), { trueLabel: 8, document, title: 'Prediction' });
}

export function logitBarsSigned(document: Document) {
  const random = mulberry32(14);
  const logits = Array.from({ length: 10 }, (_, i) => (i === 6 ? 5.5 : random() * 8 - 4));
  return logitBars(logits, { document, title: 'Logits' });
}

export function signedBarsColumns(document: Document) {
  return signedBars(seededWeights(15, 10, 0.3), { document, label: 'W2[·, 7]', nameLabel: 'class' });
}

export function signedBarsRows(document: Document) {
  const values = Array.from(seededWeights(16, 6, 2)).sort((a, b) => b - a);
  return signedBars(values, {
    document,
    horizontal: true,
    names: values.map((_, i) => `#${10 * i + 3}`),
    label: 'contribution to 7',
  });
}

export function lossCurveEpochs(document: Document) {
  const random = mulberry32(12);
  const history: HistoryPoint[] = [];
  for (let step = 0; step < 60; step++) {
    const epoch = 1 + Math.floor(step / 20);
    const loss = 2.3 * Math.exp(-step / 12) + 0.1 + 0.05 * random();
    history.push({ step: step * 10, loss, epoch, ...(step % 20 === 19 ? { accuracy: 0.8 + 0.05 * epoch } : {}) });
  }
  return lossCurve(history, { document, title: 'Training', width: 480, panelHeight: 140 });
}

export function lossCurveLossOnly(document: Document) {
  const history = [0.9, 0.7, 0.55, 0.5, 0.42, 0.4, 0.37, 0.36].map((loss, i) => ({ step: i + 1, loss }));
  return lossCurve(history, { document, width: 320, panelHeight: 120, lossScale: 'log' });
}

export function digitImageFloat(document: Document) {
  return digitImage(
    Float32Array.from(seededDigits(13, 1, 12), (v) => v / 255),
    { document, width: 96 },
  );
}

/** A seeded 12x12 attribution: signed noise, larger on the digit's ink (as a gradient x input map is). */
function seededAttribution(seed: number, digit: ArrayLike<number>): Float32Array {
  const noise = seededWeights(seed, digit.length, 0.05);
  return noise.map((v, i) => v + (digit[i] > 0 ? 8 * v : 0));
}

export function attributionMapSigned(document: Document) {
  return attributionMap(seededWeights(17, 12 * 12, 0.4), { document, width: 160, title: 'Attribution' });
}

export function attributionOverlayDigit(document: Document) {
  const digit = Float32Array.from(seededDigits(18, 1, 12), (v) => v / 255);
  return attributionOverlay(digit, seededAttribution(18, digit), { document, width: 160, label: 'gradient × input' });
}

export function weightDeltaTop(document: Document) {
  // 6 units of 8x8 inputs; units 1 and 4 unchanged (a ReLU unit that was off), the others by decreasing amounts
  const delta = seededWeights(19, 6 * 64, 0.01).map((v, i) => {
    const unit = Math.floor(i / 64);
    return unit === 1 || unit === 4 ? 0 : v * (6 - unit);
  });
  return weightDelta(delta, { out: 6, in: 64, top: 3, document, title: 'ΔW1 after one step' });
}

export function explanationFull(document: Document) {
  const digit = Float32Array.from(seededDigits(20, 1, 12), (v) => v / 255);
  const random = mulberry32(20);
  const probabilities = softmax(Array.from({ length: 10 }, (_, i) => (i === 4 ? 3 : i === 9 ? 2.2 : random() - 0.5)));
  const flipped = softmax(Array.from({ length: 10 }, (_, i) => (i === 9 ? 3.1 : i === 4 ? 2 : random() - 0.5)));
  return explanation(
    {
      pixels: digit,
      attribution: seededAttribution(20, digit),
      target: 4,
      probabilities,
      units: [
        { unit: 12, contribution: 1.3 },
        { unit: 40, contribution: -0.8 },
        { unit: 7, contribution: 0.45 },
      ],
      counterfactual: { pixels: digit.map((v, i) => Math.min(1, v + (i % 5 === 0 ? 0.1 : 0))), probabilities: flipped },
    },
    { document, method: 'saliency', title: 'Why 4?' },
  );
}

export function trainingCurvesRun(document: Document) {
  // 3 epochs of 20 steps: train loss and accuracy per step, one-cycle-like lr, per-epoch train/validation/test
  const random = mulberry32(21);
  const steps = Array.from({ length: 60 }, (_, i) => ({
    step: i + 1,
    epoch: 1 + Math.floor(i / 20),
    loss: 2.3 * Math.exp(-i / 10) + 0.15 + 0.05 * random(),
    accuracy: Math.min(1, 0.3 + 0.6 * (1 - Math.exp(-i / 8)) + 0.05 * random()),
    lr: 0.01 * (i < 18 ? i / 18 : (60 - i) / 42),
  }));
  const epochs = [1, 2, 3].map((epoch) => ({
    step: 20 * epoch,
    epoch,
    train: { loss: 1 / (epoch + 1), accuracy: 0.8 + 0.05 * epoch },
    validation: { loss: 0.9 / (epoch + 1.5), accuracy: 0.82 + 0.04 * epoch },
    test: { loss: 0.9 / (epoch + 1.4), accuracy: 0.81 + 0.04 * epoch },
  }));
  return trainingCurves({ steps, epochs }, { document, title: 'Training', width: 480, panelHeight: 120 });
}
