// Every figure's text alternative: role="img" on the outer <svg>, a <title> and a <desc> as its first children that
// state what it shows in numbers (checked against hand-made inputs), one of each even when a figure is built on
// another or composed of panels; Plot's aria-label'd <g>s get role="group" (axe-core's aria-prohibited-attr).

import { describe, expect, it } from 'vitest';
import {
  confusionMatrix,
  digitImage,
  explanation,
  heatmap,
  logitBars,
  lossCurve,
  predictionGrid,
  probabilityBars,
  signedBars,
  weightDelta,
  weightTiles,
} from '../src/index.js';
import { createDocument } from '../src/node.js';

const document = createDocument();

function alternative(svg: Element): { title: string; desc: string } {
  expect(svg.tagName.toLowerCase()).toBe('svg');
  expect(svg.getAttribute('role')).toBe('img');
  const [first, second] = [...svg.children];
  expect(first?.tagName.toLowerCase()).toBe('title');
  expect(second?.tagName.toLowerCase()).toBe('desc');
  expect(svg.querySelectorAll('title, desc').length).toBeGreaterThanOrEqual(2);
  // No other <desc> anywhere: panels of a composite give theirs up.
  expect(svg.querySelectorAll('desc').length).toBe(1);
  // Plot's named mark groups carry a role that may be named (aria-prohibited-attr otherwise).
  const named = [...svg.querySelectorAll('[aria-label]')];
  expect(named.length).toBeGreaterThan(0);
  expect(named.filter((e) => e.getAttribute('role') !== 'group')).toEqual([]);
  return { title: first!.textContent!, desc: second!.textContent! };
}

describe('text alternatives', () => {
  it('confusionMatrix states the accuracy and the most frequent mistake', () => {
    const labels = [0, 0, 1, 1, 1, 2, 2, 2];
    const predictions = [0, 0, 1, 2, 2, 2, 2, 0];
    const { title, desc } = alternative(confusionMatrix(labels, predictions, { classes: 3, document }));
    expect(title).toBe('confusion matrix');
    expect(desc).toContain('accuracy 62.50% (5 of 8)');
    expect(desc).toContain('Most frequent mistakes: true 1 predicted 2 (2), true 2 predicted 0 (1)');
  });

  it('probabilityBars names the most probable class, the runners-up and the true class', () => {
    const p = [0.05, 0.7, 0.2, 0.05];
    const { desc } = alternative(probabilityBars(p, { trueLabel: 2, document }));
    expect(desc).toBe(
      'Probability of each of 4 classes: the most probable is 1 with 70.0%, then 2 20.0%, 0 5.0%. The true class is 2.',
    );
  });

  it('predictionGrid counts the correct digits and lists the mistakes by dataset index', () => {
    const images = new Uint8Array(3 * 784);
    const { desc } = alternative(predictionGrid(images, [1, 2, 3], [1, 7, 3], { indices: [40, 41, 42], document }));
    expect(desc).toBe(
      '3 digits, 3 per row, each labelled with its prediction: 2 of 3 correct. Mistakes: #41 predicted 7, true 2.',
    );
  });

  it('heatmap and weightTiles give the colour limit and where the extremes are', () => {
    const m = Float32Array.from([0.1, -0.5, 0.25, 0.4, 0, -0.2]);
    const { title, desc } = alternative(heatmap(m, { rows: 2, cols: 3, label: 'fc.weight', document }));
    expect(title).toBe('fc.weight heatmap');
    expect(desc).toContain('a 2x3 matrix');
    expect(desc).toContain('Largest 0.4 at (1, 0), smallest -0.5 at (0, 1).');
    const tiles = alternative(weightTiles(new Float32Array(3 * 4).fill(0.25), { out: 3, in: 4, document }));
    expect(tiles.desc).toContain('The 4 input weights of 3 units (0 to 2) as 2x2 tiles');
    expect(tiles.desc).toContain('colour limit ±0.25');
  });

  it('bars, curves and digits say their values', () => {
    expect(alternative(logitBars([1, -2, 3], { document })).desc).toBe(
      'The score of each class before softmax; the highest is 2: 0 1, 1 -2, 2 3.',
    );
    expect(alternative(signedBars([0.5, -0.25], { label: 'W2[·, 3]', nameLabel: 'class', document })).desc).toBe(
      'W2[·, 3] by class, positive red, negative blue: 0 0.5, 1 -0.25.',
    );
    const curve = lossCurve(
      [
        { step: 1, loss: 2, accuracy: 0.5 },
        { step: 2, loss: 1, accuracy: 0.75 },
      ],
      { document },
    );
    expect(alternative(curve).desc).toBe('Loss over steps 1 to 2: first 2, last 1. Accuracy at step 2: 75.00%.');
    expect(alternative(digitImage(new Uint8Array(784), { document })).desc).toBe(
      'A 28x28 image, dark ink on white paper.',
    );
  });

  it('a figure built on another, and a composite, keep one text alternative: their own', () => {
    const delta = new Float32Array(2 * 4);
    delta[5] = 0.5;
    expect(alternative(weightDelta(delta, { out: 2, in: 4, document })).title).toBe('weight change');
    const pixels = new Float32Array(784);
    const svg = explanation(
      { pixels, attribution: pixels, target: 3, probabilities: [0.1, 0.1, 0.1, 0.7] },
      { document },
    );
    expect(alternative(svg).title).toBe('explanation of class 3');
  });
});
