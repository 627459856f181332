// Train view: train a new network, fine-tune the loaded one, or continue a checkpoint, in the worker through the
// engine's one training driver (the CLI's, with the same defaults): a recipe (TRAIN_RECIPES) that fills the form,
// optimizer, schedule, augmentation, validation split and early stopping, label smoothing and dropout; live curves
// of train and validation loss and accuracy and the learning rate; pause/resume and stop; download the model (.pth) and the run's checkpoint (PyTorch's dict, resumable here and by
// `mnist train --resume`). The form is read and the status lines worked out by plain functions; the view draws them.
import {
  AUGMENT_PRESETS,
  type AugmentOptions,
  DEFAULT_HIDDEN,
  ELASTIC_DEFAULTS,
  type RecipeName,
  TRAIN_DEFAULTS,
  TRAIN_RECIPES,
  type TrainConfig,
  type TrainRecipe,
} from '@mnist/core-wasm';
import type { App } from '../app.js';
import { fill, fmtInt, fmtPct, h } from '../dom.js';
import { formatError, WebError } from '../errors.js';
import { figure } from '../figure.js';
import type {
  TrainEpochPoint,
  TrainOptions,
  TrainPlan,
  TrainProgress,
  TrainResult,
  TrainStepPoint,
} from '../protocol.js';

// ---- computation ---------------------------------------------------------------------------------------------

const FIELDS = [
  'start',
  'hidden',
  'epochs',
  'images',
  'batch',
  'seed',
  'optimizer',
  'lr',
  'momentum',
  'nesterov',
  'weightDecay',
  'schedule',
  'warmup',
  'stepSize',
  'gamma',
  'maxLr',
  'augment',
  'shift',
  'rotate',
  'scale',
  'elasticAlpha',
  'elasticSigma',
  'validation',
  'patience',
  'labelSmoothing',
  'dropout',
] as const;

/** The form's fields as typed (strings; a checkbox is 'on' or ''), by name. */
export type TrainFields = Record<(typeof FIELDS)[number], string>;

type OptimizerName = 'sgd' | 'adam' | 'adamw';
const SGD = TRAIN_DEFAULTS.optimizer as { lr: number; momentum: number };

/** torch.optim's defaults where the shared TRAIN_DEFAULTS (SGD) do not say: Adam's lr, AdamW's weight decay. */
export const OPTIMIZER_DEFAULTS: Record<OptimizerName, { lr: number; weightDecay: number }> = {
  sgd: { lr: SGD.lr, weightDecay: 0 },
  adam: { lr: 1e-3, weightDecay: 0 },
  adamw: { lr: 1e-3, weightDecay: 0.01 },
};

type AugmentKind = 'none' | 'affine' | 'elastic';
type AugmentFields = Pick<TrainFields, 'augment' | 'shift' | 'rotate' | 'scale' | 'elasticAlpha' | 'elasticSigma'>;

/** An augmentation's amounts as the form's fields: absent parts 0, `elastic: true` as ELASTIC_DEFAULTS. */
export function augmentFields(a: Readonly<AugmentOptions>): AugmentFields {
  const elastic = a.elastic === true ? ELASTIC_DEFAULTS : a.elastic || undefined;
  return {
    augment: elastic ? 'elastic' : 'affine',
    shift: String(a.shift ?? 0),
    rotate: String(a.rotate ?? 0),
    scale: String(a.scale ?? 0),
    elasticAlpha: String((elastic ?? ELASTIC_DEFAULTS).alpha),
    elasticSigma: String((elastic ?? ELASTIC_DEFAULTS).sigma),
  };
}

/** The Validation field's choices (images held out). */
export const VALIDATION_CHOICES: readonly number[] = [0, 1000, 5000, 10000];

/** The form's initial values: TRAIN_DEFAULTS and DEFAULT_HIDDEN, as `mnist train` has them. */
export const DEFAULT_FIELDS: TrainFields = {
  start: 'fresh',
  hidden: DEFAULT_HIDDEN.join(','),
  epochs: String(TRAIN_DEFAULTS.epochs),
  images: '60000',
  batch: String(TRAIN_DEFAULTS.batchSize),
  seed: String(TRAIN_DEFAULTS.seed),
  optimizer: 'sgd',
  lr: String(SGD.lr),
  momentum: String(SGD.momentum),
  nesterov: '',
  weightDecay: '0',
  schedule: 'none',
  warmup: '0',
  stepSize: '1',
  gamma: '0.1',
  maxLr: '',
  // the amounts wait, hidden, at the elastic preset's until augmentation is chosen
  ...augmentFields(AUGMENT_PRESETS.elastic),
  augment: 'none',
  validation: String(TRAIN_DEFAULTS.validation),
  patience: '',
  labelSmoothing: String(TRAIN_DEFAULTS.labelSmoothing),
  dropout: '0',
};

const bad = (problem: string, hint?: string) => new WebError('WEB_BAD_OPTION', problem, hint);

/** The training options from the form's text, or a WEB_BAD_OPTION error naming the setting (or the combination). */
export function trainOptions(f: TrainFields): TrainOptions {
  const widths = f.hidden
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (f.start === 'fresh' && (!widths.length || !widths.every((w) => Number.isInteger(w) && w >= 1 && w <= 4096))) {
    throw bad(`hidden layers "${f.hidden}"`, 'give widths between 1 and 4096 separated by commas, e.g. 512 or 256,128');
  }
  const value = (text: string, what: string, ok: (v: number) => boolean) => {
    const v = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(v) || !ok(v)) throw bad(`${what} ${text} is out of range`);
    return v;
  };
  const int =
    (min: number, max = Infinity) =>
    (v: number) =>
      Number.isInteger(v) && v >= min && v <= max;
  const unit = (v: number) => v >= 0 && v < 1;
  const epochs = value(f.epochs, 'epochs', int(1, 1000));
  const images = value(f.images, 'training images', int(1, 60000));
  const batchSize = value(f.batch, 'batch size', int(1, 60000));
  const seed = value(f.seed, 'seed', int(0, 2 ** 31 - 1));
  const name = f.optimizer as OptimizerName;
  if (!(name in OPTIMIZER_DEFAULTS)) throw bad(`optimizer "${f.optimizer}"`, 'choose SGD, Adam or AdamW');
  const lr = value(f.lr, 'learning rate', (v) => v > 0 && v <= 10);
  const weightDecay = value(f.weightDecay, 'weight decay', (v) => v >= 0 && v <= 1);
  let optimizer: TrainConfig['optimizer'];
  if (name === 'sgd') {
    const momentum = value(f.momentum, 'momentum', unit);
    const nesterov = f.nesterov === 'on';
    if (nesterov && momentum === 0) throw bad('Nesterov needs a momentum above 0', 'set a momentum, e.g. 0.9');
    optimizer = { optimizer: 'sgd', lr, momentum, nesterov, weightDecay };
  } else optimizer = { optimizer: name, lr, weightDecay };
  let schedule: TrainConfig['schedule'] = null;
  if (f.schedule === 'step' || f.schedule === 'cosine') {
    const warmup = value(f.warmup, 'warm-up', int(0));
    if (warmup >= epochs)
      throw bad(
        `a warm-up of ${warmup} epoch${warmup === 1 ? '' : 's'} leaves no epoch of the ${f.schedule} schedule in ${epochs}`,
        'train for more epochs or warm up for fewer',
      );
    schedule =
      f.schedule === 'step'
        ? {
            kind: 'step',
            stepSize: value(f.stepSize, 'step size', int(1)),
            gamma: value(f.gamma, 'gamma', (v) => v > 0 && v <= 1),
            warmup,
          }
        : { kind: 'cosine', minLr: 0, warmup };
  } else if (f.schedule === 'onecycle') {
    schedule = {
      kind: 'onecycle',
      maxLr: f.maxLr.trim() === '' ? lr : value(f.maxLr, 'max lr', (v) => v > 0 && v <= 10),
    };
  } else if (f.schedule !== 'none') throw bad(`schedule "${f.schedule}"`, 'choose none, step, cosine or one-cycle');
  let augment: AugmentOptions | null = null;
  if (f.augment === 'affine' || f.augment === 'elastic') {
    augment = {
      shift: value(f.shift, 'shift', (v) => v >= 0 && v <= 28),
      rotate: value(f.rotate, 'rotation', (v) => v >= 0 && v <= 180),
      scale: value(f.scale, 'scale', (v) => v >= 0 && v <= 0.99),
    };
    if (f.augment === 'elastic')
      augment.elastic = {
        alpha: value(f.elasticAlpha, 'elastic alpha', (v) => v >= 0 && v <= 1000),
        // the core's limit: a 28-pixel window plus the Gaussian's radius 4 sigma on each side fits its 512-cell bank
        sigma: value(f.elasticSigma, 'elastic sigma', (v) => v > 0 && v <= 60),
      };
  } else if (f.augment !== 'none') throw bad(`augmentation "${f.augment}"`, 'choose none, affine or affine + elastic');
  const validation = value(f.validation, 'validation split', int(0, 59999));
  if (validation >= images)
    throw bad(
      `a validation split of ${fmtInt(validation)} leaves no training images of ${fmtInt(images)}`,
      'hold out fewer or train on more images',
    );
  const patience = f.patience.trim() === '' ? null : value(f.patience, 'patience', int(1, 1000));
  // as mnist train refuses --patience without --val
  if (patience !== null && validation === 0)
    throw bad('patience needs a validation split', 'choose one, e.g. 5,000, or leave patience empty');
  return {
    start: f.start === 'current' ? 'current' : 'fresh',
    hidden: widths,
    images,
    dropout: value(f.dropout, 'dropout', unit),
    config: {
      ...TRAIN_DEFAULTS,
      epochs,
      batchSize,
      seed,
      optimizer,
      schedule,
      labelSmoothing: value(f.labelSmoothing, 'label smoothing', unit),
      validation,
      patience,
      augment,
    },
  };
}

/** The optimizer's and the schedule's keys the form has a field for, by name and kind (the rest it cannot say). */
const OPTIMIZER_KEYS: Record<OptimizerName, readonly string[]> = {
  sgd: ['optimizer', 'lr', 'momentum', 'nesterov', 'weightDecay'],
  adam: ['optimizer', 'lr', 'weightDecay'],
  adamw: ['optimizer', 'lr', 'weightDecay'],
};
const SCHEDULE_KEYS: Record<string, readonly string[]> = {
  step: ['kind', 'stepSize', 'gamma', 'warmup'],
  cosine: ['kind', 'warmup', 'minLr'], // minLr 0 only: the form's cosine schedule anneals to 0
  onecycle: ['kind', 'maxLr'],
};

/**
 * The form's fields for a recipe (TRAIN_RECIPES): a new network of its hidden widths, every setting it names and the
 * driver's defaults for the rest (all 60,000 images, no validation, no dropout), and the given seed unless the recipe
 * names one, as `mnist train --recipe NAME --seed S` runs it. A setting the form cannot say is refused
 * (WEB_BAD_OPTION naming it), never dropped, so the run from these fields is the recipe's run; the fields are
 * checked as Train would check them.
 */
export function recipeFields(name: string, recipe: TrainRecipe, seed: string): TrainFields {
  const c: TrainConfig = { ...TRAIN_DEFAULTS, ...recipe.config };
  const o = c.optimizer as Record<string, unknown> & { optimizer?: OptimizerName; lr: number };
  const optimizer = o.optimizer ?? 'sgd';
  const schedule = c.schedule as (Record<string, unknown> & NonNullable<TrainConfig['schedule']>) | null;
  const unsaidKeys = (what: string, keys: readonly string[] | undefined, of: Record<string, unknown>) =>
    keys
      ? Object.keys(of)
          .filter((k) => of[k] !== undefined && !keys.includes(k))
          .map((k) => `${what}.${k}`)
      : [];
  const unsaid = [
    ...Object.keys(recipe.config).filter((k) => !(k in TRAIN_DEFAULTS)),
    ...(optimizer in OPTIMIZER_KEYS
      ? unsaidKeys('optimizer', OPTIMIZER_KEYS[optimizer], o)
      : [`optimizer ${optimizer}`]),
    ...(schedule && !SCHEDULE_KEYS[schedule.kind] ? [`schedule ${schedule.kind}`] : []),
    ...(schedule ? unsaidKeys('schedule', SCHEDULE_KEYS[schedule.kind], schedule) : []),
    ...(schedule?.kind === 'cosine' && schedule.minLr ? [`schedule.minLr ${schedule.minLr}`] : []),
    ...(VALIDATION_CHOICES.includes(c.validation) ? [] : [`validation ${c.validation}`]),
    ...(c.dropLast ? ['dropLast'] : []),
    ...(c.keepBest ? [] : ['keepBest false']),
    ...(c.normalize ? ['normalize'] : []),
  ];
  if (unsaid.length)
    throw bad(`recipe ${name}: the form has no field for ${unsaid.join(', ')}`, 'run it with mnist train --recipe');
  const d = DEFAULT_FIELDS;
  const num = (v: unknown, otherwise: string) => (v === undefined ? otherwise : String(v));
  const fields: TrainFields = {
    ...d,
    start: 'fresh',
    hidden: recipe.hidden.join(','),
    epochs: String(c.epochs),
    batch: String(c.batchSize),
    seed: recipe.config.seed === undefined ? seed : String(c.seed),
    optimizer,
    lr: String(o.lr),
    // torch.optim's defaults where the recipe's optimizer leaves them out (SGD's momentum is 0 there)
    momentum: optimizer === 'sgd' ? num(o.momentum, '0') : d.momentum,
    nesterov: optimizer === 'sgd' && o.nesterov ? 'on' : '',
    weightDecay: num(o.weightDecay, String(OPTIMIZER_DEFAULTS[optimizer].weightDecay)),
    schedule: schedule?.kind ?? 'none',
    warmup: num(schedule?.warmup, '0'),
    ...(schedule?.kind === 'step' && { stepSize: num(schedule.stepSize, '1'), gamma: num(schedule.gamma, '0.1') }),
    maxLr: num(schedule?.maxLr, ''),
    ...(c.augment ? augmentFields(c.augment) : { augment: 'none' }),
    validation: String(c.validation),
    patience: num(c.patience ?? undefined, ''),
    labelSmoothing: String(c.labelSmoothing),
    dropout: '0',
  };
  trainOptions(fields);
  return fields;
}

/** The last epoch's measurement of one split, if any. */
function lastMeasured(history: TrainEpochPoint[], split: 'validation' | 'test'): number | undefined {
  return [...history].reverse().find((e) => e[split])?.[split]?.accuracy;
}

/** The status line while a run loads, runs or is paused. */
export function progressText(p: TrainProgress, points: TrainStepPoint[], history: TrainEpochPoint[]): string {
  if (p.state === 'loading') return 'Loading the training set…';
  if (p.state === 'paused') return `Paused at step ${fmtInt(p.step)} of ${fmtInt(p.totalSteps)}.`;
  const last = points.at(-1);
  const validation = lastMeasured(history, 'validation');
  const test = lastMeasured(history, 'test');
  return (
    `Step ${fmtInt(p.step)} of ${fmtInt(p.totalSteps)}` +
    (last ? ` · epoch ${last.epoch} · loss ${last.loss.toFixed(4)} · lr ${+last.lr.toPrecision(3)}` : '') +
    (validation !== undefined ? ` · validation accuracy ${fmtPct(validation)}` : '') +
    (test !== undefined ? ` · test accuracy ${fmtPct(test)}` : '') +
    ` · ${fmtInt(Math.round(p.imagesPerSecond))} images/s`
  );
}

const ENDED: Record<TrainResult['stopped'], string> = {
  done: 'Done',
  aborted: 'Stopped',
  'early-stop': 'Stopped early (validation accuracy stopped improving)',
  diverged: 'Diverged',
};

export function resultText(r: TrainResult): string {
  const best = r.bestEpoch !== null ? r.history.find((e) => e.epoch === r.bestEpoch) : undefined;
  return (
    `${ENDED[r.stopped]} after ${fmtInt(r.steps)} steps in ${r.seconds.toFixed(1)} s` +
    (r.diverged ? ` (${r.diverged}; kept the last finite epoch)` : '') +
    (best?.validation
      ? ` · best epoch ${best.epoch} by validation accuracy (${fmtPct(best.validation.accuracy)}) kept`
      : '') +
    ` · test accuracy ${fmtPct(r.accuracy)}.`
  );
}

/** "784-512-10 · 55,000 training images + 5,000 for validation · sgd lr 0.05 …": what the run trains. */
export function planText(p: TrainPlan): string {
  return (
    `${p.resumedAt ? `continuing after epoch ${p.resumedAt} of ${p.epochs} · ` : ''}${p.sizes.join('-')} · ` +
    `${fmtInt(p.trainImages)} training images${p.validation ? ` + ${fmtInt(p.validation)} for validation` : ''} · ` +
    `${p.description} · ${p.variant}, ${p.threads} thread${p.threads === 1 ? '' : 's'}`
  );
}

// ---- the view ------------------------------------------------------------------------------------------------

function field(label: string, input: HTMLElement, note?: string): HTMLElement {
  return h(
    'label',
    { class: 'field' },
    h('span', {}, label),
    input,
    note ? h('small', { class: 'muted' }, note) : null,
  );
}

type Input = HTMLInputElement | HTMLSelectElement;

/**
 * The settings form: a recipe chooser (data-testid train-recipe) that fills every field, one input per TrainFields
 * entry (data-testid train-<name>), and the Train/Pause/Stop buttons. A recipe the form cannot hold goes to onError.
 */
function settingsForm(onError: (err: unknown) => void) {
  const d = DEFAULT_FIELDS;
  const testid = (name: string) => `train-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const num = (name: keyof TrainFields, step: string, min: number, max?: number) =>
    h('input', { type: 'number', name, value: d[name], step, min, max, 'data-testid': testid(name) });
  const select = (name: keyof TrainFields, options: Array<[string, string]>) =>
    h(
      'select',
      { name, 'data-testid': testid(name) },
      ...options.map(([value, text]) => h('option', { value, selected: value === d[name] }, text)),
    );
  const inputs: Record<keyof TrainFields, Input> = {
    start: select('start', [
      ['fresh', 'a new network'],
      ['current', 'the loaded model (fine-tune)'],
    ]),
    hidden: h('input', { type: 'text', name: 'hidden', value: d.hidden, 'data-testid': 'train-hidden' }),
    epochs: num('epochs', '1', 1, 1000),
    images: num('images', '1000', 1, 60000),
    batch: num('batch', '1', 1, 60000),
    seed: num('seed', '1', 0),
    optimizer: select('optimizer', [
      ['sgd', 'SGD'],
      ['adam', 'Adam'],
      ['adamw', 'AdamW'],
    ]),
    lr: num('lr', 'any', 0),
    momentum: num('momentum', '0.05', 0, 0.999),
    nesterov: h('input', { type: 'checkbox', name: 'nesterov', 'data-testid': 'train-nesterov' }),
    weightDecay: num('weightDecay', 'any', 0, 1),
    schedule: select('schedule', [
      ['none', 'none (constant)'],
      ['step', 'step (×gamma every N epochs)'],
      ['cosine', 'cosine (per epoch)'],
      ['onecycle', 'one-cycle (per step)'],
    ]),
    warmup: num('warmup', '1', 0),
    stepSize: num('stepSize', '1', 1),
    gamma: num('gamma', '0.05', 0, 1),
    maxLr: h('input', {
      type: 'number',
      name: 'maxLr',
      step: 'any',
      min: 0,
      placeholder: 'the lr',
      'data-testid': 'train-max-lr',
    }),
    augment: select('augment', [
      ['none', 'none'],
      ['affine', 'affine (shift, rotate, scale)'],
      ['elastic', 'affine + elastic'],
    ]),
    shift: num('shift', 'any', 0, 28),
    rotate: num('rotate', 'any', 0, 180),
    scale: num('scale', 'any', 0, 0.99),
    elasticAlpha: num('elasticAlpha', 'any', 0),
    elasticSigma: num('elasticSigma', 'any', 0, 60),
    validation: select(
      'validation',
      VALIDATION_CHOICES.map((n) => [String(n), n ? fmtInt(n) : 'none']),
    ),
    patience: h('input', {
      type: 'number',
      name: 'patience',
      step: '1',
      min: 1,
      placeholder: 'none',
      'data-testid': 'train-patience',
    }),
    labelSmoothing: num('labelSmoothing', '0.05', 0, 0.99),
    dropout: num('dropout', '0.05', 0, 0.95),
  };
  const train = h('button', { type: 'button', 'data-testid': 'train' }, 'Train');
  const pause = h(
    'button',
    { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'train-pause' },
    'Pause',
  );
  const stop = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'train-stop' }, 'Stop');
  // Visually hidden rather than hidden, so the keyboard reaches it (its focus ring shows on the label after it).
  const resumeFile = h('input', {
    type: 'file',
    accept: '.pth,.pt,.tar',
    class: 'visually-hidden',
    id: 'train-resume-file',
    'data-testid': 'train-resume',
  });
  const resume = h(
    'label',
    {
      class: 'button secondary',
      for: 'train-resume-file',
      title: 'continue a checkpoint made here or by mnist train --checkpoint',
    },
    'Resume from checkpoint…',
  );
  const hiddenField = field('Hidden layers', inputs.hidden, 'widths, e.g. 512 or 256,128');
  const momentumRow = h(
    'div',
    { class: 'pair' },
    field('Momentum', inputs.momentum),
    field('Nesterov', h('span', { class: 'row' }, inputs.nesterov)),
  );
  const warmupField = field('Warm-up epochs', inputs.warmup, 'linear, from lr/3');
  const stepRow = h(
    'div',
    { class: 'pair' },
    field('Step size (epochs)', inputs.stepSize),
    field('Gamma', inputs.gamma),
  );
  const maxLrField = field('Max lr', inputs.maxLr, 'the peak; default: the lr');
  const affineRow = h(
    'div',
    { class: 'triple' },
    field('Shift (px)', inputs.shift),
    field('Rotate (°)', inputs.rotate),
    field('Scale (±)', inputs.scale),
  );
  const elasticRow = h(
    'div',
    { class: 'pair' },
    field('Elastic alpha', inputs.elasticAlpha),
    field('Elastic sigma', inputs.elasticSigma),
  );
  /** Shows only the fields that apply to the chosen start, optimizer, schedule and augmentation. */
  const applies = () => {
    hiddenField.hidden = inputs.start.value === 'current';
    momentumRow.hidden = inputs.optimizer.value !== 'sgd';
    const kind = inputs.schedule.value;
    warmupField.hidden = kind !== 'step' && kind !== 'cosine';
    stepRow.hidden = kind !== 'step';
    maxLrField.hidden = kind !== 'onecycle';
    affineRow.hidden = inputs.augment.value === 'none';
    elasticRow.hidden = inputs.augment.value !== 'elastic';
  };
  // A new optimizer brings its own defaults for the fields still at the old one's.
  let optimizer = inputs.optimizer.value as OptimizerName;
  inputs.optimizer.addEventListener('change', () => {
    const next = inputs.optimizer.value as OptimizerName;
    for (const key of ['lr', 'weightDecay'] as const)
      if (Number(inputs[key].value) === OPTIMIZER_DEFAULTS[optimizer][key])
        inputs[key].value = String(OPTIMIZER_DEFAULTS[next][key]);
    optimizer = next;
    applies();
  });
  // Choosing affine or affine + elastic puts that preset's amounts in the fields (as --augment affine | elastic).
  inputs.augment.addEventListener('change', () => {
    const kind = inputs.augment.value as AugmentKind;
    if (kind !== 'none') setFields(augmentFields(AUGMENT_PRESETS[kind]));
    applies();
  });
  inputs.start.addEventListener('change', applies);
  inputs.schedule.addEventListener('change', applies);
  /** Puts values in the fields (no events: the listeners above are for the user's changes). */
  function setFields(f: Partial<TrainFields>): void {
    for (const [name, value] of Object.entries(f) as Array<[keyof TrainFields, string]>) {
      const input = inputs[name];
      if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = value === 'on';
      else input.value = value;
    }
  }
  // A recipe fills every field; the chooser goes back to "none" once a field other than the seed is changed.
  const recipeNames = Object.keys(TRAIN_RECIPES) as RecipeName[];
  const recipe = h(
    'select',
    { name: 'recipe', 'data-testid': 'train-recipe' },
    h('option', { value: '' }, 'none'),
    ...recipeNames.map((n) => h('option', { value: n }, `${n}: ${TRAIN_RECIPES[n].headline}`)),
  );
  recipe.addEventListener('change', () => {
    const name = recipe.value as RecipeName | '';
    if (!name) return;
    try {
      const f = recipeFields(name, TRAIN_RECIPES[name], inputs.seed.value);
      setFields(f);
      optimizer = f.optimizer as OptimizerName;
      applies();
      // a value a field cannot show (a select without that option) reads back differently: say so, never drop it
      const shown = values();
      const lost = FIELDS.filter((k) => shown[k] !== f[k]);
      if (lost.length) throw bad(`recipe ${name}: the form cannot show ${lost.map((k) => `${k} ${f[k]}`).join(', ')}`);
    } catch (err) {
      recipe.value = '';
      onError(err);
    }
  });
  const recipeNote = recipeNames
    .map((n) => `${n}: the settings of mnist train --recipe ${n}, ${TRAIN_RECIPES[n].reached} on the CLI`)
    .join('; ');
  applies();
  const form = h(
    'form',
    { class: 'card settings', onsubmit: (e: Event) => e.preventDefault() },
    h('h2', {}, 'Train'),
    field('Recipe', recipe, recipeNote),
    field('Start from', inputs.start),
    hiddenField,
    h('div', { class: 'pair' }, field('Epochs', inputs.epochs), field('Training images', inputs.images, 'the first N')),
    h('div', { class: 'pair' }, field('Batch size', inputs.batch), field('Seed', inputs.seed)),
    h('div', { class: 'pair' }, field('Optimizer', inputs.optimizer), field('Learning rate', inputs.lr)),
    momentumRow,
    field('Weight decay', inputs.weightDecay, 'L2 (SGD, Adam) or decoupled (AdamW)'),
    field('Schedule', inputs.schedule),
    warmupField,
    stepRow,
    maxLrField,
    field('Augmentation', inputs.augment, 'seeded, per batch'),
    affineRow,
    elasticRow,
    h(
      'div',
      { class: 'pair' },
      field('Validation', inputs.validation, 'the last N images, held out'),
      field('Patience', inputs.patience, 'epochs without improvement; empty: none'),
    ),
    h(
      'div',
      { class: 'pair' },
      field('Label smoothing', inputs.labelSmoothing),
      field('Dropout', inputs.dropout, 'after every hidden layer, while training'),
    ),
    h('div', { class: 'row' }, train, pause, stop),
    h('div', { class: 'row' }, resumeFile, resume),
    h(
      'p',
      { class: 'muted small' },
      "The engine's training driver, as mnist train runs it: one seed gives the same weights here and in the CLI. " +
        'The 60,000 training digits (~10 MB gzipped) load on first use.',
    ),
  );
  for (const type of ['input', 'change'])
    form.addEventListener(type, (e) => {
      if (e.target !== recipe && e.target !== inputs.seed) recipe.value = '';
    });
  /** What the fields hold now. */
  function values(): TrainFields {
    const out = {} as TrainFields;
    for (const name of FIELDS) {
      const input = inputs[name];
      out[name] =
        input instanceof HTMLInputElement && input.type === 'checkbox' ? (input.checked ? 'on' : '') : input.value;
    }
    return out;
  }
  return { form, values, resumeFile, buttons: { train, pause, stop } };
}

export function mountTrain(root: HTMLElement, app: App): void {
  const status = h(
    'p',
    { class: 'status', 'data-testid': 'train-status' },
    'Ready. Training runs in a worker: the page stays usable.',
  );
  const showError = (err: unknown) => fill(status, h('span', { class: 'error' }, formatError(err)));
  const {
    form,
    values,
    resumeFile,
    buttons: { train: trainButton, pause: pauseButton, stop: stopButton },
  } = settingsForm(showError);
  const planLine = h('p', { class: 'muted small', 'data-testid': 'train-plan' });
  const bar = h('progress', { max: 1, value: 0 });
  const curve = h(
    'div',
    { class: 'curve', 'data-testid': 'loss-curve' },
    h('p', { class: 'muted' }, 'Loss, accuracy (train, validation, test) and learning-rate curves appear here.'),
  );
  const download = h(
    'a',
    { class: 'button', 'data-testid': 'download', hidden: true, download: 'mnist_trained.pth' },
    'Download model (.pth)',
  );
  const downloadCheckpoint = h(
    'a',
    { class: 'button secondary', 'data-testid': 'download-checkpoint', hidden: true, download: 'mnist_checkpoint.pth' },
    'Download checkpoint',
  );
  const use = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      hidden: true,
      'data-testid': 'use-trained',
      onclick: () => void useTrained(),
    },
    'Use this model',
  );
  root.append(
    h(
      'div',
      { class: 'train-grid' },
      form,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Progress'),
        status,
        planLine,
        bar,
        curve,
        h('div', { class: 'row' }, download, downloadCheckpoint, use),
      ),
    ),
  );
  trainButton.addEventListener('click', () => void start());
  pauseButton.addEventListener('click', togglePause);
  stopButton.addEventListener('click', () => void control('stop'));
  resumeFile.addEventListener('change', () => {
    const file = resumeFile.files?.[0];
    resumeFile.value = '';
    if (file) void start(file);
  });

  let points: TrainStepPoint[] = [],
    history: TrainEpochPoint[] = [],
    paused = false,
    lastDraw = 0;
  const urls: string[] = [];

  function drawCurve(force = false): void {
    const now = performance.now();
    if (!(points.length || history.length) || (!force && now - lastDraw < 250)) return; // at most 4 times a second
    lastDraw = now;
    fill(
      curve,
      figure((viz) => viz.trainingCurves({ steps: points, epochs: history }, { width: 640, panelHeight: 140 })),
    );
  }

  function progress(p: TrainProgress): void {
    if (p.points) points.push(...p.points);
    if (p.epoch) history.push(p.epoch);
    if (p.plan) {
      fill(planLine, planText(p.plan));
      planLine.dataset.variant = p.plan.variant;
    }
    fill(status, progressText(p, points, history));
    if (p.state === 'running') bar.value = p.totalSteps ? p.step / p.totalSteps : 0;
    drawCurve(p.epoch !== undefined);
  }

  /** Blob URL for bytes from the worker (the previous ones are revoked). */
  function blobUrl(bytes: Uint8Array): string {
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
    urls.push(url);
    return url;
  }

  async function start(resume?: File): Promise<void> {
    let o: TrainOptions;
    try {
      o = trainOptions(values());
    } catch (err) {
      showError(err);
      return;
    }
    const transfer: Transferable[] = [];
    if (resume) {
      const bytes = await resume.arrayBuffer();
      o.resume = { bytes, file: resume.name };
      transfer.push(bytes);
    }
    points = [];
    history = [];
    paused = false;
    delete status.dataset.accuracy;
    delete status.dataset.stopped;
    fill(planLine);
    trainButton.disabled = true;
    pauseButton.disabled = false;
    stopButton.disabled = false;
    download.hidden = true;
    downloadCheckpoint.hidden = true;
    use.hidden = true;
    pauseButton.textContent = 'Pause';
    fill(curve, h('p', { class: 'muted' }, 'Starting…'));
    try {
      const r = await app.engine.call({ op: 'train', options: o }, transfer, progress);
      points = r.points;
      history = r.history;
      drawCurve(true);
      bar.value = 1;
      status.dataset.accuracy = String(r.accuracy);
      status.dataset.stopped = r.stopped;
      fill(status, resultText(r));
      for (const url of urls.splice(0)) URL.revokeObjectURL(url);
      download.href = blobUrl(await app.engine.call({ op: 'save', which: 'trained' }));
      if (r.checkpointEpoch !== null) {
        downloadCheckpoint.href = blobUrl(await app.engine.call({ op: 'save', which: 'checkpoint' }));
        downloadCheckpoint.textContent = `Download checkpoint (epoch ${r.checkpointEpoch})`;
        downloadCheckpoint.hidden = false;
      }
      download.hidden = false;
      use.hidden = false;
    } catch (err) {
      showError(err);
    } finally {
      trainButton.disabled = false;
      pauseButton.disabled = true;
      stopButton.disabled = true;
    }
  }

  function togglePause(): void {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    void control(paused ? 'pause' : 'resume');
  }

  async function control(action: 'pause' | 'resume' | 'stop'): Promise<void> {
    await app.engine.call({ op: 'train-control', action });
  }

  async function useTrained(): Promise<void> {
    try {
      app.setModel(await app.engine.call({ op: 'use-trained' }));
      use.hidden = true;
      fill(status, 'The trained model is now the current model: draw, explain and test it.');
    } catch (err) {
      showError(err);
    }
  }
}
