// trainingCurves: which panels and series it draws for what the run holds, the per-epoch points a page can find
// by class name, the text alternative with the last epoch's numbers, and its input errors.

import { describe, expect, it } from 'vitest';
import { trainingCurves, type VizError } from '../src/index.js';
import { createDocument } from '../src/node.js';

const document = createDocument();

const steps = Array.from({ length: 30 }, (_, i) => ({
  step: i + 1,
  loss: 2 / (i + 1),
  accuracy: Math.min(1, 0.1 + i / 30),
  lr: i < 10 ? 0.001 * (i + 1) : 0.01,
}));
const epochs = [
  { step: 15, epoch: 1, train: { loss: 0.5, accuracy: 0.8 }, validation: { loss: 0.4, accuracy: 0.85 }, test: null },
  { step: 30, epoch: 2, train: { loss: 0.3, accuracy: 0.9 }, validation: { loss: 0.35, accuracy: 0.875 }, test: null },
];

describe('trainingCurves', () => {
  it('draws loss, accuracy and learning-rate panels with one dot per epoch and series', () => {
    const svg = trainingCurves({ steps, epochs }, { document });
    expect(svg.querySelectorAll('g.validation-accuracy circle')).toHaveLength(2);
    expect(svg.querySelectorAll('g.validation-loss circle')).toHaveLength(2);
    expect(svg.querySelectorAll('g.train-accuracy circle')).toHaveLength(2);
    expect(svg.querySelectorAll('g.test-accuracy circle')).toHaveLength(0);
    // the lr line has one vertex per step (step-after curve: two per step but the first)
    const lr = svg.querySelector('g.lr path')!.getAttribute('d')!;
    expect(lr.match(/[ML]/g)!.length).toBe(2 * steps.length - 1);
    expect(svg.textContent).toContain('learning rate');
    expect(svg.textContent).toContain('validation 87.50%');
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.querySelector('desc')!.textContent).toBe(
      '30 step points up to step 30, last train loss 0.0667; epoch 2: train loss 0.3000 accuracy 90.00%, validation loss 0.3500 accuracy 87.50%; learning rate 0.01',
    );
  });

  it('draws the loss alone when there is nothing else', () => {
    const svg = trainingCurves({ steps: steps.map(({ step, loss }) => ({ step, loss })) }, { document });
    expect(svg.textContent).not.toContain('accuracy');
    expect(svg.textContent).not.toContain('learning rate');
    expect(svg.querySelectorAll('g.train-loss-steps path')).toHaveLength(1);
  });

  it('rejects an empty run and bad accuracies', () => {
    const error = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as VizError).code, (e as VizError).message];
      }
      return null;
    };
    expect(error(() => trainingCurves({ steps: [] }, { document }))).toEqual([
      'VIZ_INVALID_INPUT',
      'invalid run: no steps and no epochs (expected at least one point)',
    ]);
    expect(
      error(() =>
        trainingCurves({ steps, epochs: [{ step: 1, epoch: 1, validation: { loss: 1, accuracy: 90 } }] }, { document }),
      ),
    ).toEqual(['VIZ_INVALID_INPUT', 'invalid epochs[0].validation.accuracy: 90 (expected 0..1)']);
  });
});
