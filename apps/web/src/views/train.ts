// Train view: train a new network or fine-tune the loaded one in the worker, with live loss and test-accuracy
// curves, pause/resume and stop, then download the result as a .pth (written by the loader's savePth) or use it.
// The settings are read and the status lines worked out by plain functions; the view only draws them.
import { lossCurve } from '@mnist/viz';
import type { App } from '../app.js';
import { fill, fmtInt, fmtPct, h } from '../dom.js';
import { formatError, WebError } from '../errors.js';
import { figure } from '../figure.js';
import type { TrainOptions, TrainPoint, TrainProgress, TrainResult } from '../protocol.js';

// ---- computation ---------------------------------------------------------------------------------------------

/** The form's fields as typed (strings), by name. */
type TrainFields = Record<'start' | 'hidden' | 'epochs' | 'lr' | 'momentum' | 'batch' | 'images' | 'seed', string>;

/** The training options from the form's text, or a WEB_BAD_OPTION error naming the field out of range. */
export function trainOptions(f: TrainFields): TrainOptions {
  const widths = f.hidden
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (f.start === 'fresh' && (!widths.length || !widths.every((w) => Number.isInteger(w) && w >= 1 && w <= 4096))) {
    throw new WebError(
      'WEB_BAD_OPTION',
      `hidden layers "${f.hidden}"`,
      'give widths between 1 and 4096 separated by commas, e.g. 512 or 256,128',
    );
  }
  const value = (text: string, what: string, ok: (v: number) => boolean) => {
    const v = Number(text);
    if (!Number.isFinite(v) || !ok(v)) throw new WebError('WEB_BAD_OPTION', `${what} ${text} is out of range`);
    return v;
  };
  return {
    start: f.start as TrainOptions['start'],
    hidden: widths,
    epochs: value(f.epochs, 'epochs', (v) => Number.isInteger(v) && v >= 1),
    lr: value(f.lr, 'learning rate', (v) => v > 0 && v <= 10),
    momentum: value(f.momentum, 'momentum', (v) => v >= 0 && v < 1),
    batchSize: value(f.batch, 'batch size', (v) => Number.isInteger(v) && v >= 1),
    images: value(f.images, 'images per epoch', (v) => Number.isInteger(v) && v >= 1),
    seed: value(f.seed, 'seed', Number.isFinite),
  };
}

/** The status line while a run loads, runs or is paused. */
export function progressText(p: TrainProgress, history: TrainPoint[]): string {
  if (p.state === 'loading') return 'Loading the training set…';
  if (p.state === 'paused') return `Paused at step ${fmtInt(p.step)} of ${fmtInt(p.totalSteps)}.`;
  const accuracy = [...history].reverse().find((q) => q.accuracy !== undefined)?.accuracy;
  const loss = p.point && Number.isFinite(p.point.loss) ? p.point.loss.toFixed(4) : '–';
  return (
    `Step ${fmtInt(p.step)} of ${fmtInt(p.totalSteps)} · loss ${loss}` +
    (accuracy !== undefined ? ` · test accuracy ${fmtPct(accuracy)}` : '') +
    ` · ${fmtInt(Math.round(p.imagesPerSecond))} images/s`
  );
}

export function resultText(r: TrainResult): string {
  return `${r.stopped ? 'Stopped' : 'Done'} after ${fmtInt(r.steps)} steps in ${r.seconds.toFixed(1)} s · test accuracy ${fmtPct(r.accuracy)}.`;
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

/** The settings form: one input per TrainFields entry (data-testid train-<name>), and the Train/Pause/Stop buttons. */
function settingsForm() {
  const num = (name: string, value: number, step: string, min: number, max?: number) =>
    h('input', { type: 'number', name, value, step, min, max, 'data-testid': `train-${name}` });
  const inputs = {
    start: h(
      'select',
      { name: 'start', 'data-testid': 'train-start' },
      h('option', { value: 'fresh' }, 'a new network'),
      h('option', { value: 'current' }, 'the loaded model (fine-tune)'),
    ),
    hidden: h('input', { type: 'text', name: 'hidden', value: '128', 'data-testid': 'train-hidden' }),
    epochs: num('epochs', 1, '1', 1, 50),
    lr: num('lr', 0.05, '0.01', 0),
    momentum: num('momentum', 0.9, '0.1', 0, 0.99),
    batch: num('batch', 64, '1', 1, 4096),
    images: num('images', 60000, '1000', 64, 60000),
    seed: num('seed', 1, '1', 0),
  };
  const train = h('button', { type: 'button', 'data-testid': 'train' }, 'Train');
  const pause = h(
    'button',
    { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'train-pause' },
    'Pause',
  );
  const stop = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'train-stop' }, 'Stop');
  const hiddenField = field('Hidden layers', inputs.hidden, 'widths, e.g. 512 or 256,128');
  inputs.start.addEventListener('change', () => {
    hiddenField.hidden = inputs.start.value === 'current';
  });
  const form = h(
    'form',
    { class: 'card settings', onsubmit: (e: Event) => e.preventDefault() },
    h('h2', {}, 'Train'),
    field('Start from', inputs.start),
    hiddenField,
    h(
      'div',
      { class: 'pair' },
      field('Epochs', inputs.epochs),
      field('Images per epoch', inputs.images, 'of the 60,000'),
    ),
    h('div', { class: 'pair' }, field('Learning rate', inputs.lr), field('Momentum', inputs.momentum)),
    h('div', { class: 'pair' }, field('Batch size', inputs.batch), field('Seed', inputs.seed)),
    h('div', { class: 'row' }, train, pause, stop),
    h(
      'p',
      { class: 'muted small' },
      'SGD on softmax cross-entropy in the WASM core. The 60,000 training digits (~10 MB gzipped) load on first use.',
    ),
  );
  /** What the fields hold now. */
  const values = (): TrainFields => {
    const out = {} as TrainFields;
    for (const [name, input] of Object.entries(inputs)) out[name as keyof TrainFields] = input.value;
    return out;
  };
  return { form, values, buttons: { train, pause, stop } };
}

export function mountTrain(root: HTMLElement, app: App): void {
  const {
    form,
    values,
    buttons: { train: trainButton, pause: pauseButton, stop: stopButton },
  } = settingsForm();
  const status = h(
    'p',
    { class: 'status', 'data-testid': 'train-status' },
    'Ready. Training runs in a worker: the page stays usable.',
  );
  const bar = h('progress', { max: 1, value: 0 });
  const curve = h(
    'div',
    { class: 'curve', 'data-testid': 'loss-curve' },
    h('p', { class: 'muted' }, 'The loss and test-accuracy curves appear here while training.'),
  );
  const download = h(
    'a',
    { class: 'button', 'data-testid': 'download', hidden: true, download: 'mnist_trained.pth' },
    'Download .pth',
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
        bar,
        curve,
        h('div', { class: 'row' }, download, use),
      ),
    ),
  );
  trainButton.addEventListener('click', () => void run());
  pauseButton.addEventListener('click', togglePause);
  stopButton.addEventListener('click', () => void control('stop'));

  let history: TrainPoint[] = [],
    paused = false,
    lastDraw = 0,
    url: string | undefined;

  const showError = (err: unknown) => fill(status, h('span', { class: 'error' }, formatError(err)));

  function drawCurve(force = false): void {
    const now = performance.now();
    if (!history.length || (!force && now - lastDraw < 250)) return; // redraw at most 4 times a second
    lastDraw = now;
    fill(
      curve,
      figure(() => lossCurve(history, { width: 620, panelHeight: 170 })),
    );
  }

  function progress(p: TrainProgress): void {
    if (p.point) history.push(p.point);
    fill(status, progressText(p, history));
    if (p.state === 'running') bar.value = p.totalSteps ? p.step / p.totalSteps : 0;
    drawCurve();
  }

  async function run(): Promise<void> {
    let o: TrainOptions;
    try {
      o = trainOptions(values());
    } catch (err) {
      showError(err);
      return;
    }
    history = [];
    paused = false;
    delete status.dataset.accuracy;
    trainButton.disabled = true;
    pauseButton.disabled = false;
    stopButton.disabled = false;
    download.hidden = true;
    use.hidden = true;
    pauseButton.textContent = 'Pause';
    fill(curve, h('p', { class: 'muted' }, 'Starting…'));
    try {
      const r = await app.engine.call({ op: 'train', options: o }, [], progress);
      history = r.history;
      drawCurve(true);
      bar.value = 1;
      status.dataset.accuracy = String(r.accuracy);
      fill(status, resultText(r));
      const bytes = await app.engine.call({ op: 'save', which: 'trained' });
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
      download.href = url;
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
