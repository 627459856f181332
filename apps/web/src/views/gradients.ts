// The gradient panels of the Draw and Explain views (issue 14): where the network looks (a saliency overlay of the
// predicted or a chosen class, four methods), what would change its mind (the picture edited one signed-gradient
// step at a time until the network says a chosen class) and teach it (one SGD step on the picture with the label you
// give, the change of W1, Undo). The worker does the numbers (src/explaining.ts); plain reports are worked out here
// first and then drawn. Each panel is told the view's current input through update().
import { SALIENCY_METHODS, type SaliencyMethod } from '@mnist/core-wasm';
import { MNIST_CLASSES } from '@mnist/loader/data';
import type { App } from '../app.js';
import { fill, fmtMs, fmtPct, h, reducedMotion } from '../dom.js';
import { formatError, WebError } from '../errors.js';
import { figure, loadViz } from '../figure.js';
import type { ModelInfo, SaliencyResult, TeachResult, TowardsResult, TraceResult } from '../protocol.js';

/** A panel's content (the view puts it in a card) and how the view tells it about its current input. */
export interface Panel {
  element: HTMLElement;
  /** The view's current input (undefined when there is none). */
  update(t: TraceResult | undefined): void;
}

const METHOD_NAMES: Record<SaliencyMethod, string> = {
  gradient: 'gradient',
  gradxinput: 'gradient × input',
  smoothgrad: 'SmoothGrad',
  integrated: 'integrated gradients',
};

/** Signed-gradient steps of "change its mind": their size in pixel units, and how many at most. */
export const MIND_STEP = 0.02;
export const MIND_MAX_STEPS = 50;
/** The data attributes of a "change its mind" result (for the tests). */
const MIND_DATA = ['target', 'predicted', 'reached', 'steps', 'linf', 'image'] as const;
/** The learning rate "teach it" starts with. */
export const TEACH_LR = 0.05;

const digits = () => Array.from({ length: MNIST_CLASSES }, (_, c) => c);
const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
const finite = (t: TraceResult) => t.probabilities.every(Number.isFinite);
const sameInput = (a: TraceResult | undefined, b: TraceResult | undefined) =>
  !!a && !!b && (a.input === b.input || a.input.every((v, i) => v === b.input[i]));
/** Exact decimal text of float32 values (each parses back to the same float32), for the tests' data attributes. */
const exact = (values: Float32Array) => Array.from(values, String).join(',');

function classSelect(testid: string, label: string, first?: [string, string]): HTMLSelectElement {
  return h(
    'select',
    { 'data-testid': testid, 'aria-label': label },
    ...(first ? [h('option', { value: first[0] }, first[1])] : []),
    ...digits().map((c) => h('option', { value: c }, String(c))),
  );
}

// ---- where the network looks ---------------------------------------------------------------------------------

/** What the saliency caption says: the class explained, how, and how to read the colours. */
export function saliencyText(r: SaliencyResult, predicted: number): { title: string; how: string } {
  const c = r.target;
  const which = c === predicted ? `${c}, the prediction` : String(c);
  const how: Record<SaliencyMethod, string> = {
    gradient: `∂z[${c}]/∂x: red where more ink would raise the score of ${c}, blue where it would lower it.`,
    gradxinput: `x · ∂z[${c}]/∂x: the gradient where there is ink; red pixels add to the score of ${c}, blue take away.`,
    smoothgrad: `the mean of ∂z[${c}]/∂x over 16 noisy copies (σ = 0.15): the gradient with its speckle averaged out.`,
    integrated: `x · the mean of ∂z[${c}]/∂x along 16 steps from a black picture to this one: red and blue add up to z[${c}](x) − z[${c}](black).`,
  };
  return { title: `${METHOD_NAMES[r.method]} for ${which}`, how: how[r.method] };
}

/**
 * The saliency overlay of `view`'s current input: the gradient of the predicted (or a chosen) class w.r.t. the
 * pixels, on @mnist/viz's diverging colours centred on 0, over the digit in grey. One request in flight at a time;
 * inputs that arrive meanwhile are picked up by one more request after it (the Draw view's throttle). Only computed
 * while the view is visible. The figure's element carries the numbers (data-attribution, data-input, data-target,
 * data-method) and the time from request to figure on the page (data-ms) for the tests and scripts/perf.mjs.
 */
export function saliencyPanel(app: App, view: string, width: number): Panel {
  const method = h(
    'select',
    { 'data-testid': 'saliency-method', 'aria-label': 'Saliency method' },
    ...SALIENCY_METHODS.map((m) => h('option', { value: m }, METHOD_NAMES[m])),
  );
  const target = classSelect('saliency-class', 'Class to explain', ['predicted', 'predicted class']);
  const slot = h('div', { class: 'saliency', 'data-testid': 'saliency' });
  const caption = h('p', { class: 'muted small' });
  const element = h('div', { class: 'saliency-panel' }, h('div', { class: 'row' }, method, target), slot, caption);
  let latest: TraceResult | undefined,
    stale = true,
    inflight = false,
    again = false,
    seq = 0;

  async function compute(): Promise<void> {
    if (app.view !== view) {
      stale = true; // computed when the view is shown
      return;
    }
    if (inflight) {
      again = true;
      return;
    }
    stale = false;
    const t = latest;
    if (!t) {
      fill(slot);
      fill(caption, 'Draw a digit to see where the network looks.');
      return;
    }
    if (!finite(t)) {
      fill(slot);
      fill(caption, 'No gradients: the model outputs NaN.');
      return;
    }
    inflight = true;
    const t0 = performance.now();
    try {
      const chosen = target.value === 'predicted' ? 'predicted' : Number(target.value);
      const [r] = await Promise.all([
        app.engine.call({ op: 'saliency', input: t.input, target: chosen, method: method.value as SaliencyMethod }),
        loadViz(),
      ]);
      const text = saliencyText(r, t.prediction);
      // One small figure per reply, drawn now (the time below is to the figure on the page), unless figures drawn
      // before it are still queued, as right after viz has loaded: then in turn after them.
      fill(
        slot,
        figure(
          (viz) =>
            viz.attributionOverlay(t.input, r.attribution, {
              width,
              label: `${METHOD_NAMES[r.method]}, class ${r.target}`,
            }),
          { budget: false },
        ),
      );
      void slot.offsetHeight; // layout included in the time: the figure is on the page
      const ms = performance.now() - t0;
      fill(caption, h('strong', {}, text.title), ': ', text.how, ` ${fmtMs(ms)} (worker ${fmtMs(r.ms)}).`);
      Object.assign(slot.dataset, {
        target: String(r.target),
        method: r.method,
        ms: ms.toFixed(2),
        workerMs: r.ms.toFixed(2),
        seq: String(++seq),
        attribution: exact(r.attribution),
        input: exact(t.input),
      });
    } catch (err) {
      fill(slot, h('p', { class: 'error' }, formatError(err)));
    } finally {
      inflight = false;
      if (again || t !== latest) {
        again = false;
        void compute();
      }
    }
  }

  method.addEventListener('change', () => void compute());
  target.addEventListener('change', () => void compute());
  app.onView((v) => {
    if (v === view && stale) void compute();
  });
  return {
    element,
    update(t) {
      latest = t;
      void compute();
    },
  };
}

// ---- what would change its mind ------------------------------------------------------------------------------

/** The status line of a "change its mind" run after `steps` steps. */
export function mindText(r: TowardsResult, target: number, steps: number, done: boolean): string {
  const p = fmtPct(r.probabilities[r.predicted]!, 1);
  const edit = `largest pixel change ${r.linf.toFixed(2)} (L∞), ${r.changed} of 784 pixels changed`;
  if (r.reached) return `After ${steps} step${steps === 1 ? '' : 's'} the network says ${target} (${p}): ${edit}.`;
  return done
    ? `Not a ${target} after ${steps} steps (it says ${r.predicted}, ${p}): ${edit}.`
    : `Step ${steps}: it says ${r.predicted} (${p}), ${target} has ${fmtPct(r.probabilities[target]!, 1)}; ${edit}…`;
}

/**
 * "What would change its mind": the picture edited by signed-gradient steps of MIND_STEP up the log-probability of
 * the chosen class, one step per worker call so the page shows each one, stopping at the first step where the
 * network says that class: the edited digit, the edit (red: ink added, blue: removed) and the new probabilities.
 */
export function changeMindPanel(app: App): Panel {
  const target = classSelect('mind-class', 'Class to make it');
  const go = h('button', { type: 'button', 'data-testid': 'mind-go' }, 'Change its mind');
  const stop = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Stop');
  const figures = h('div', { class: 'gradient-figures' });
  const status = h('p', { class: 'status', 'data-testid': 'mind-status' });
  const element = h(
    'div',
    {},
    h('h2', {}, 'What would change its mind?'),
    h(
      'p',
      { class: 'muted small' },
      `Pick a class: the network's own gradient edits the picture, ±${MIND_STEP} per pixel and step, until it says that class.`,
    ),
    h('div', { class: 'row' }, 'Make it a', target, go, stop),
    status,
    figures,
  );
  let latest: TraceResult | undefined,
    run = 0, // the current run's number: a new input, a new model or Stop ends it
    chosen = false;

  const reset = () => {
    run++;
    stop.hidden = true;
    fill(figures);
    fill(status);
    for (const key of MIND_DATA) delete status.dataset[key];
  };

  function render(r: TowardsResult, goal: number, steps: number, done: boolean): void {
    fill(
      figures,
      h(
        'figure',
        {},
        h('figcaption', {}, 'edited'),
        figure((viz) => viz.digitImage(r.image, { width: 130, range: [0, 1] })),
      ),
      h(
        'figure',
        {},
        h('figcaption', {}, 'the edit'),
        figure((viz) => viz.attributionMap(r.difference, { width: 130, label: 'Δ pixel' })),
      ),
      h(
        'figure',
        {},
        h('figcaption', {}, 'now'),
        figure((viz) => viz.probabilityBars(r.probabilities, { width: 280, height: 150 })),
      ),
    );
    fill(status, mindText(r, goal, steps, done));
    Object.assign(status.dataset, {
      target: String(goal),
      predicted: String(r.predicted),
      reached: String(r.reached),
      steps: String(steps),
      linf: String(r.linf),
      image: exact(r.image),
    });
  }

  async function start(): Promise<void> {
    const t = latest;
    if (!t || !finite(t)) return;
    reset();
    const mine = run,
      goal = Number(target.value);
    if (t.prediction === goal) {
      fill(status, `It already says ${goal}. Pick another class.`);
      return;
    }
    stop.hidden = false;
    go.disabled = true;
    let current = t.input;
    try {
      for (let steps = 1; steps <= MIND_MAX_STEPS; steps++) {
        const r = await app.engine.call({
          op: 'towards',
          original: t.input,
          current,
          target: goal,
          steps: 1,
          stepSize: MIND_STEP,
        });
        if (mine !== run) return; // the input or the model changed, or Stop
        current = r.image;
        const done = r.reached || steps === MIND_MAX_STEPS;
        // Each step drawn in turn is an animation: with reduced motion only the result is drawn.
        if (done || !reducedMotion()) render(r, goal, steps, done);
        else fill(status, `Step ${steps}…`);
        if (done) break;
        await nextFrame();
      }
    } catch (err) {
      fill(status, h('span', { class: 'error' }, formatError(err)));
    } finally {
      go.disabled = false;
      if (mine === run) stop.hidden = true;
    }
  }

  go.addEventListener('click', () => void start());
  stop.addEventListener('click', () => {
    run++;
    stop.hidden = true;
  });
  target.addEventListener('change', () => {
    chosen = true;
  });
  app.onModel(reset);
  return {
    element,
    update(t) {
      if (!sameInput(t, latest)) reset();
      latest = t;
      go.disabled = !t || !finite(t);
      // until someone picks a class: the runner-up, the class the network thinks of next
      if (t && !chosen && finite(t)) {
        const order = digits().sort((a, b) => t.probabilities[b]! - t.probabilities[a]!);
        target.value = String(order[1]);
      }
    },
  };
}

// ---- teach it ------------------------------------------------------------------------------------------------

/** The learning rate typed in the field, or a WEB_BAD_OPTION error. */
export function teachRate(text: string): number {
  const lr = Number(text);
  if (!(text.trim() !== '' && Number.isFinite(lr) && lr > 0 && lr <= 10))
    throw new WebError('WEB_BAD_OPTION', `learning rate ${text} is out of range`, 'use a number in (0, 10], e.g. 0.05');
  return lr;
}

/** What one teaching step did, in words: the loss, the label's probability before and after, the prediction. */
export function teachText(r: TeachResult): string {
  const c = r.label;
  return (
    `One SGD step (η = ${r.lr}) on this picture as a ${c}: loss ${r.loss.toFixed(3)}, ` +
    `p(${c}) ${fmtPct(r.before[c]!, 1)} → ${fmtPct(r.after[c]!, 1)}; it now says ${r.prediction} (${fmtPct(r.after[r.prediction]!, 1)}).`
  );
}

/**
 * "Teach it": the label you give this picture and one SGD step on it alone (θ ← θ − η∇L, in the worker), then the
 * change of W1 for the units it touched most (@mnist/viz weightDelta) and the new prediction. The new weights are the
 * current model's: every view (weights, test set, the prediction) shows them. Undo puts the previous weights back,
 * bit for bit (the worker keeps them); Download saves the current model as .pth.
 */
export function teachPanel(app: App): Panel {
  const label = classSelect('teach-label', 'The true class of this picture', ['', '?']);
  const lr = h('input', {
    type: 'number',
    value: TEACH_LR,
    min: 0.001,
    max: 10,
    step: 0.01,
    class: 'short',
    'data-testid': 'teach-lr',
    'aria-label': 'Learning rate',
  });
  const teachButton = h('button', { type: 'button', 'data-testid': 'teach', disabled: true }, 'Teach it');
  const undo = h('button', { type: 'button', class: 'secondary', 'data-testid': 'teach-undo', disabled: true }, 'Undo');
  const download = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': 'model-download' },
    'Download the current model (.pth)',
  );
  const status = h('p', { class: 'status', 'data-testid': 'teach-status' });
  const figures = h('div', { class: 'gradient-figures' });
  const element = h(
    'div',
    {},
    h('h2', {}, 'Teach it'),
    h(
      'p',
      { class: 'muted small' },
      'Say what this is, and the network takes one step of gradient descent on this picture alone: θ ← θ − η ∇L(θ; x, y).',
    ),
    h('div', { class: 'row' }, 'This is a', label, h('label', {}, 'η ', lr), teachButton, undo),
    status,
    figures,
    h('div', { class: 'row' }, download),
  );
  let latest: TraceResult | undefined,
    own: ModelInfo | undefined, // the model this panel last set: any other model clears the undo history
    undoable = 0,
    busy = false;

  const buttons = () => {
    teachButton.disabled = busy || !latest || !finite(latest) || label.value === '';
    undo.disabled = busy || undoable === 0;
    undo.dataset.undo = String(undoable);
  };
  const setModel = (model: ModelInfo) => {
    own = model;
    app.setModel(model);
  };
  const showError = (err: unknown) => fill(status, h('span', { class: 'error' }, formatError(err)));

  async function teach(): Promise<void> {
    const t = latest;
    if (!t || label.value === '') return;
    busy = true;
    buttons();
    try {
      const r = await app.engine.call({
        op: 'teach',
        input: t.input,
        label: Number(label.value),
        lr: teachRate(lr.value),
      });
      undoable = r.undo;
      fill(status, teachText(r), ` ${undoable} step${undoable === 1 ? '' : 's'} to undo.`);
      status.dataset.prediction = String(r.prediction);
      fill(
        figures,
        h(
          'figure',
          {},
          h('figcaption', {}, 'ΔW1: the units the step changed most'),
          figure((viz) => viz.weightDelta(r.delta, { out: r.out, in: r.in, top: 8, columns: 8, width: 520 })),
        ),
        h(
          'figure',
          {},
          h('figcaption', {}, 'after the step'),
          figure((viz) => viz.probabilityBars(r.after, { width: 280, height: 150, trueLabel: r.label })),
        ),
      );
      setModel(r.model);
    } catch (err) {
      showError(err);
    } finally {
      busy = false;
      buttons();
    }
  }

  async function takeBack(): Promise<void> {
    busy = true;
    buttons();
    try {
      const r = await app.engine.call({ op: 'undo-teach' });
      undoable = r.undo;
      fill(figures);
      fill(
        status,
        `Undone: the weights are back as they were before that step${undoable ? ` (${undoable} more to undo)` : ''}.`,
      );
      delete status.dataset.prediction;
      setModel(r.model);
    } catch (err) {
      showError(err);
    } finally {
      busy = false;
      buttons();
    }
  }

  async function save(): Promise<void> {
    try {
      const bytes = await app.engine.call({ op: 'save', which: 'current' });
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
      const stem = (app.model?.summary.file ?? 'mnist_model.pth').replace(/\.[^.]*$/, '');
      const a = h('a', { href: url, download: `${stem}${undoable ? '-taught' : ''}.pth` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      showError(err);
    }
  }

  teachButton.addEventListener('click', () => void teach());
  undo.addEventListener('click', () => void takeBack());
  download.addEventListener('click', () => void save());
  label.addEventListener('change', buttons);
  app.onModel((model) => {
    if (model === own) return;
    // another model (a file, a rebuilt net, a trained one): the worker has dropped the undo history with it
    undoable = 0;
    fill(figures);
    fill(status);
    buttons();
  });
  buttons();
  return {
    element,
    update(t) {
      if (!sameInput(t, latest) && undoable === 0) {
        fill(figures);
        fill(status);
      }
      latest = t;
      buttons();
    },
  };
}
