// The page's computations without a browser: the error contract (WebError, errorInfo on the loader's and the
// worker's errors), the Draw view's prediction report, the Train view's settings and status lines, and the Model
// panel's activation/normalization report.
import { loadMlp } from '@mnist/loader';
import { describe, expect, it } from 'vitest';
import { errorInfo, WebError } from '../src/errors.js';
import type { TraceResult } from '../src/protocol.js';
import { fileSettings, normalizeChoice, settingsReport } from '../src/settings.js';
import { predictionReport } from '../src/views/draw.js';
import {
  AUGMENT_PRESETS,
  DEFAULT_HIDDEN,
  ELASTIC_DEFAULTS,
  TRAIN_DEFAULTS,
  TRAIN_RECIPES,
  type TrainRecipe,
} from '@mnist/core-wasm';
import {
  augmentFields,
  DEFAULT_FIELDS,
  planText,
  progressText,
  recipeFields,
  resultText,
  trainOptions,
  type TrainFields,
} from '../src/views/train.js';

describe('errors', () => {
  it('WebError follows the contract: code, message = "problem: hint", hint', () => {
    const e = new WebError('WEB_NO_MODEL', 'no trained model yet', 'train first');
    expect([e.code, e.message, e.hint, e.name]).toEqual([
      'WEB_NO_MODEL',
      'no trained model yet: train first',
      'train first',
      'WebError',
    ]);
    expect(e).toBeInstanceOf(Error);
    const bare = new WebError('WEB_BUSY', 'a training run is already going');
    expect([bare.message, bare.hint]).toEqual(['a training run is already going', undefined]);
  });

  it('errorInfo reads any error as plain { code, message, hint? }', async () => {
    const pth = await loadMlp(new Uint8Array([1, 2, 3])).then(
      () => undefined,
      (err: unknown) => err,
    );
    const info = errorInfo(pth);
    expect(info.code).toMatch(/^PTH_/);
    expect(info.message.endsWith(`: ${info.hint}`)).toBe(true);
    expect(errorInfo(new WebError('WEB_FETCH', 'could not fetch x', 'retry'))).toEqual({
      code: 'WEB_FETCH',
      message: 'could not fetch x: retry',
      hint: 'retry',
    });
    // the worker's plain object passes through; anything without a string code is INTERNAL
    expect(errorInfo({ code: 'IMAGE_EMPTY', message: 'no ink' })).toEqual({
      code: 'IMAGE_EMPTY',
      message: 'no ink',
      hint: undefined,
    });
    expect(errorInfo(new TypeError('x is undefined'))).toEqual({
      code: 'INTERNAL',
      message: 'x is undefined',
      hint: undefined,
    });
    expect(errorInfo('oops')).toEqual({ code: 'INTERNAL', message: 'oops', hint: undefined });
  });
});

describe('predictionReport', () => {
  const trace = (probabilities: number[], prediction: number): TraceResult => ({
    input: new Float32Array(784).fill(0.5),
    z: [],
    a: [],
    probabilities: Float32Array.from(probabilities),
    prediction,
    ms: 1.5,
  });

  it('is blank before anything is drawn', () => {
    const r = predictionReport(undefined);
    expect([r.kind, r.digit, r.ms, r.probabilities.length, r.input.length]).toEqual([
      'empty',
      undefined,
      undefined,
      10,
      784,
    ]);
    expect(r.input.every((v) => v === 0)).toBe(true);
  });

  it('gives the predicted digit and its probability', () => {
    const p = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.6, 0.08, 0.04];
    const r = predictionReport(trace(p, 7));
    expect([r.kind, r.digit, r.ms]).toEqual(['digit', 7, 1.5]);
    expect(r.confidence).toBeCloseTo(0.6, 6);
  });

  it('says NaN when the outputs are not numbers', () => {
    const r = predictionReport(trace(Array(10).fill(Number.NaN), 0));
    expect([r.kind, r.digit, r.confidence]).toEqual(['nan', undefined, undefined]);
  });
});

describe('train settings and status', () => {
  const fields: TrainFields = {
    ...DEFAULT_FIELDS,
    hidden: '256, 128',
    epochs: '2',
    images: '6400',
    seed: '3',
  };
  const refused = (f: Partial<TrainFields>) => {
    try {
      trainOptions({ ...fields, ...f });
    } catch (err) {
      return [(err as WebError).code, (err as WebError).message];
    }
    return undefined;
  };

  it("reads the form; its defaults are the driver's (TRAIN_DEFAULTS, 784-512-10), as mnist train has them", () => {
    const defaults = trainOptions(DEFAULT_FIELDS);
    expect(defaults.hidden).toEqual([...DEFAULT_HIDDEN]);
    expect(defaults.config).toEqual({
      ...TRAIN_DEFAULTS,
      optimizer: { ...TRAIN_DEFAULTS.optimizer, nesterov: false, weightDecay: 0 },
    });
    expect(trainOptions(fields)).toEqual({
      start: 'fresh',
      hidden: [256, 128],
      images: 6400,
      dropout: 0,
      config: {
        ...TRAIN_DEFAULTS,
        epochs: 2,
        seed: 3,
        optimizer: { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0 },
      },
    });
    const adam = trainOptions({
      ...fields,
      optimizer: 'adamw',
      lr: '0.003',
      weightDecay: '0.01',
      schedule: 'cosine',
      warmup: '1',
      augment: 'elastic',
      validation: '1000',
      labelSmoothing: '0.1',
      dropout: '0.2',
    });
    expect(adam.config).toMatchObject({
      optimizer: { optimizer: 'adamw', lr: 0.003, weightDecay: 0.01 },
      schedule: { kind: 'cosine', minLr: 0, warmup: 1 },
      augment: { ...AUGMENT_PRESETS.elastic },
      validation: 1000,
      labelSmoothing: 0.1,
    });
    expect(adam.dropout).toBe(0.2);
    expect(trainOptions({ ...fields, schedule: 'onecycle' }).config.schedule).toEqual({
      kind: 'onecycle',
      maxLr: 0.05,
    });
    expect(trainOptions({ ...fields, schedule: 'step', gamma: '0.5' }).config.schedule).toEqual({
      kind: 'step',
      stepSize: 1,
      gamma: 0.5,
      warmup: 0,
    });
  });

  it('refuses out-of-range settings and impossible combinations with WEB_BAD_OPTION, in one line', () => {
    expect(refused({ hidden: '0' })).toEqual([
      'WEB_BAD_OPTION',
      'hidden layers "0": give widths between 1 and 4096 separated by commas, e.g. 512 or 256,128',
    ]);
    expect(refused({ lr: '20' })).toEqual(['WEB_BAD_OPTION', 'learning rate 20 is out of range']);
    expect(refused({ momentum: '1' })).toEqual(['WEB_BAD_OPTION', 'momentum 1 is out of range']);
    expect(refused({ dropout: '1' })).toEqual(['WEB_BAD_OPTION', 'dropout 1 is out of range']);
    expect(refused({ nesterov: 'on', momentum: '0' })).toEqual([
      'WEB_BAD_OPTION',
      'Nesterov needs a momentum above 0: set a momentum, e.g. 0.9',
    ]);
    expect(refused({ validation: '10000' })).toEqual([
      'WEB_BAD_OPTION',
      'a validation split of 10,000 leaves no training images of 6,400: hold out fewer or train on more images',
    ]);
    expect(refused({ schedule: 'cosine', warmup: '2' })).toEqual([
      'WEB_BAD_OPTION',
      'a warm-up of 2 epochs leaves no epoch of the cosine schedule in 2: train for more epochs or warm up for fewer',
    ]);
    // momentum does not apply to Adam: its field is not read
    expect(refused({ optimizer: 'adam', momentum: '5' })).toBeUndefined();
    expect(refused({ start: 'current', hidden: '' })).toBeUndefined(); // fine-tuning keeps the model's own layers
  });

  it('reads the augmentation amounts and early-stopping patience (only with a validation split)', () => {
    // the fields start at the presets' amounts: choosing affine or affine + elastic trains on AUGMENT_PRESETS
    expect(trainOptions({ ...fields, augment: 'affine' }).config.augment).toEqual(AUGMENT_PRESETS.affine);
    expect(augmentFields(AUGMENT_PRESETS.elastic)).toEqual({
      augment: 'elastic',
      shift: '2',
      rotate: '10',
      scale: '0.1',
      elasticAlpha: String(ELASTIC_DEFAULTS.alpha),
      elasticSigma: String(ELASTIC_DEFAULTS.sigma),
    });
    expect(augmentFields({ rotate: 5, elastic: true })).toMatchObject({ augment: 'elastic', shift: '0', rotate: '5' });
    const custom = {
      augment: 'elastic',
      shift: '1',
      rotate: '6',
      scale: '0.05',
      elasticAlpha: '30',
      elasticSigma: '5',
    };
    expect(trainOptions({ ...fields, ...custom }).config.augment).toEqual({
      shift: 1,
      rotate: 6,
      scale: 0.05,
      elastic: { alpha: 30, sigma: 5 },
    });
    // affine alone does not read the elastic fields
    expect(trainOptions({ ...fields, ...custom, augment: 'affine', elasticSigma: 'x' }).config.augment).toEqual({
      shift: 1,
      rotate: 6,
      scale: 0.05,
    });
    expect(refused({ augment: 'affine', rotate: '200' })).toEqual(['WEB_BAD_OPTION', 'rotation 200 is out of range']);
    expect(refused({ augment: 'elastic', elasticSigma: '0' })).toEqual([
      'WEB_BAD_OPTION',
      'elastic sigma 0 is out of range',
    ]);
    expect(trainOptions(fields).config.patience).toBeNull();
    expect(trainOptions({ ...fields, validation: '1000', patience: '2' }).config).toMatchObject({
      validation: 1000,
      patience: 2,
    });
    expect(refused({ patience: '2' })).toEqual([
      'WEB_BAD_OPTION',
      'patience needs a validation split: choose one, e.g. 5,000, or leave patience empty',
    ]);
    expect(refused({ validation: '1000', patience: '0' })).toEqual(['WEB_BAD_OPTION', 'patience 0 is out of range']);
    expect(refused({ validation: '1000', patience: '1.5' })).toEqual([
      'WEB_BAD_OPTION',
      'patience 1.5 is out of range',
    ]);
  });

  it("fills the form from a recipe: Train then runs the recipe's configuration exactly, with the form's seed", () => {
    const { best } = TRAIN_RECIPES;
    const f = recipeFields('best', best, '3');
    // what the user sees: every field from TRAIN_RECIPES.best (the numbers are not written here)
    const o = best.config.optimizer as { lr: number; momentum: number; weightDecay: number };
    const augment = best.config.augment as { shift: number; elastic: { alpha: number; sigma: number } };
    expect(f).toMatchObject({
      start: 'fresh',
      hidden: best.hidden.join(','),
      epochs: String(best.config.epochs),
      images: '60000',
      batch: String(best.config.batchSize),
      seed: '3',
      optimizer: 'sgd',
      lr: String(o.lr),
      momentum: String(o.momentum),
      nesterov: 'on',
      weightDecay: String(o.weightDecay),
      schedule: 'onecycle',
      maxLr: String(best.config.schedule!.maxLr),
      augment: 'elastic',
      shift: String(augment.shift),
      elasticAlpha: String(augment.elastic.alpha),
      elasticSigma: String(augment.elastic.sigma),
      validation: '0',
      patience: '',
      labelSmoothing: String(best.config.labelSmoothing),
      dropout: '0',
    });
    expect(f.hidden).toBe('1024');
    // what runs: the recipe's configuration over the driver's defaults, as mnist train --recipe best --seed 3
    expect(trainOptions(f)).toEqual({
      start: 'fresh',
      hidden: [...best.hidden],
      images: 60000,
      dropout: 0,
      config: { ...TRAIN_DEFAULTS, ...best.config, seed: 3 },
    });
    // a recipe that names its seed sets it
    expect(recipeFields('x', { ...best, config: { ...best.config, seed: 9 } }, '3').seed).toBe('9');
  });

  it('refuses a recipe setting the form cannot say, naming it, rather than dropping it', () => {
    const recipe = (config: object): TrainRecipe => ({
      description: '',
      headline: '',
      reached: '',
      hidden: [64],
      config,
    });
    const refusal = (config: object) => {
      try {
        recipeFields('x', recipe(config), '1');
      } catch (err) {
        return (err as WebError).message;
      }
      return undefined;
    };
    const hint = ': run it with mnist train --recipe';
    expect(refusal({ optimizer: { optimizer: 'adam', lr: 1e-3, betas: [0.9, 0.99] } })).toBe(
      `recipe x: the form has no field for optimizer.betas${hint}`,
    );
    expect(refusal({ optimizer: { lr: 0.1, momentum: 0.9, dampening: 0.1 } })).toBe(
      `recipe x: the form has no field for optimizer.dampening${hint}`,
    );
    expect(refusal({ schedule: { kind: 'onecycle', maxLr: 0.1, pctStart: 0.25 } })).toBe(
      `recipe x: the form has no field for schedule.pctStart${hint}`,
    );
    expect(refusal({ schedule: { kind: 'cosine', minLr: 0.001 } })).toBe(
      `recipe x: the form has no field for schedule.minLr 0.001${hint}`,
    );
    expect(refusal({ schedule: { kind: 'constant' } })).toBe(
      `recipe x: the form has no field for schedule constant${hint}`,
    );
    expect(refusal({ validation: 3000, keepBest: false, dropLast: true, mixup: 0.2 })).toBe(
      `recipe x: the form has no field for mixup, validation 3000, dropLast, keepBest false${hint}`,
    );
    // a value out of the form's range is refused as Train would refuse it
    expect(refusal({ epochs: 5000 })).toBe('epochs 5000 is out of range');
    // what the form can say it fills: torch.optim's defaults where the optimizer leaves them out
    expect(
      recipeFields('x', recipe({ optimizer: { optimizer: 'adamw', lr: 0.002 }, validation: 5000, patience: 3 }), '1'),
    ).toMatchObject({ optimizer: 'adamw', lr: '0.002', weightDecay: '0.01', validation: '5000', patience: '3' });
    expect(recipeFields('x', recipe({ optimizer: { lr: 0.1 } }), '1')).toMatchObject({ momentum: '0', nesterov: '' });
  });

  it('words the progress, the plan and the result', () => {
    const points = [
      { step: 10, epoch: 1, loss: 0.5, accuracy: 0.8, lr: 0.001 },
      { step: 20, epoch: 1, loss: 0.4, accuracy: 0.85, lr: 0.00125 },
    ];
    const epoch = {
      step: 20,
      epoch: 1,
      epochs: 2,
      train: { loss: 0.45, accuracy: 0.82 },
      validation: { loss: 0.3, accuracy: 0.9 },
      test: { loss: 0.31, accuracy: 0.905 },
      lr: 0.00125,
      best: true,
      seconds: 1,
    };
    expect(
      progressText({ step: 1234, totalSteps: 5000, imagesPerSecond: 40500.4, state: 'running' }, points, [epoch]),
    ).toBe(
      'Step 1,234 of 5,000 · epoch 1 · loss 0.4000 · lr 0.00125 · validation accuracy 90.00% · test accuracy 90.50% · 40,500 images/s',
    );
    expect(progressText({ step: 7, totalSteps: 10, imagesPerSecond: 0, state: 'paused' }, points, [])).toBe(
      'Paused at step 7 of 10.',
    );
    const result = {
      stopped: 'aborted' as const,
      epochs: 1,
      steps: 100,
      seconds: 2.345,
      accuracy: 0.9784,
      bestEpoch: null,
      diverged: null,
      points,
      history: [epoch],
      checkpointEpoch: 1,
    };
    expect(resultText(result)).toBe('Stopped after 100 steps in 2.3 s · test accuracy 97.84%.');
    expect(resultText({ ...result, stopped: 'done', bestEpoch: 1 })).toBe(
      'Done after 100 steps in 2.3 s · best epoch 1 by validation accuracy (90.00%) kept · test accuracy 97.84%.',
    );
    expect(
      planText({
        sizes: [784, 32, 10],
        trainImages: 2000,
        validation: 1000,
        epochs: 3,
        resumedAt: 1,
        description: 'adam lr 0.001, batch 64',
        variant: 'relaxed-simd',
        threads: 2,
      }),
    ).toBe(
      'continuing after epoch 1 of 3 · 784-32-10 · 2,000 training images + 1,000 for validation · adam lr 0.001, batch 64 · relaxed-simd, 2 threads',
    );
  });
});
describe('settingsReport', () => {
  it('says what a file said, what was assumed (in one line), and what was chosen', () => {
    const whole = fileSettings(1, 'assumed', ['tanh']);
    expect(whole.activations).toEqual([{ name: 'tanh' }]);
    expect(settingsReport(whole)).toEqual({
      activation: 'tanh',
      normalize: 'none',
      line: 'activation tanh (read from the file), normalization none (assumed)',
      assumed:
        'assumed: no input normalization (the file does not record it; choose MNIST below if the model was trained with one)',
    });
    // a count that does not match the hidden layers is not used: ReLU is assumed
    const stateDict = fileSettings(2, 'assumed', ['tanh']);
    expect(stateDict.activations).toEqual([{ name: 'relu' }, { name: 'relu' }]);
    expect(settingsReport(stateDict).assumed).toMatch(/^assumed: ReLU between layers and no input normalization \(/);
    const embedded = settingsReport(fileSettings(1, 'embedded'));
    expect([embedded.line, embedded.assumed]).toEqual([
      'activation relu, normalization none (as the embedded model was trained)',
      undefined,
    ]);
    const chosen = settingsReport({
      activations: [
        { name: 'leaky_relu', slope: 0.01 },
        { name: 'elu', alpha: 1 },
      ],
      normalize: { mean: 0.1307, std: 0.3081 },
      source: { activation: 'chosen', normalize: 'chosen' },
    });
    expect([chosen.line, chosen.assumed]).toEqual([
      'activation leaky_relu(0.01), elu(1) (chosen), normalization (x/255 - 0.1307)/0.3081 (chosen)',
      undefined,
    ]);
    expect(settingsReport(fileSettings(0, 'assumed')).assumed).toMatch(/^assumed: no input normalization/);
    expect([
      normalizeChoice(null),
      normalizeChoice({ mean: 0.1307, std: 0.3081 }),
      normalizeChoice({ mean: 0.5, std: 0.5 }),
    ]).toEqual(['none', 'mnist', '']);
  });
});
