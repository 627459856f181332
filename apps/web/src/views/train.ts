// Train view: train a new network or fine-tune the loaded one in the worker, with live loss and test-accuracy
// curves, pause/resume and stop, then download the result as a .pth (written by the loader's savePth) or use it.
import { lossCurve } from '@mnist/viz';
import type { App } from '../app.js';
import { fill, figure, fmtInt, fmtPct, h } from '../dom.js';
import type { TrainOptions, TrainPoint, TrainProgress, TrainResult } from '../protocol.js';

function field(label: string, input: HTMLElement, note?: string): HTMLElement {
  return h('label', { class: 'field' }, h('span', {}, label), input, note ? h('small', { class: 'muted' }, note) : null);
}

export function mountTrain(root: HTMLElement, app: App): void {
  const num = (name: string, value: number, step: string, min: number, max?: number) =>
    h('input', { type: 'number', name, value, step, min, max, 'data-testid': `train-${name}` });
  const start = h('select', { name: 'start', 'data-testid': 'train-start' },
    h('option', { value: 'fresh' }, 'a new network'), h('option', { value: 'current' }, 'the loaded model (fine-tune)'));
  const hidden = h('input', { type: 'text', name: 'hidden', value: '128', 'data-testid': 'train-hidden' });
  const epochs = num('epochs', 1, '1', 1, 50), lr = num('lr', 0.05, '0.01', 0), momentum = num('momentum', 0.9, '0.1', 0, 0.99);
  const batch = num('batch', 64, '1', 1, 4096), images = num('images', 60000, '1000', 64, 60000), seed = num('seed', 1, '1', 0);

  const trainButton = h('button', { type: 'button', 'data-testid': 'train', onclick: () => void run() }, 'Train');
  const pauseButton = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'train-pause', onclick: togglePause }, 'Pause');
  const stopButton = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'train-stop', onclick: () => void control('stop') }, 'Stop');
  const status = h('p', { class: 'status', 'data-testid': 'train-status' }, 'Ready. Training runs in a worker: the page stays usable.');
  const bar = h('progress', { max: 1, value: 0 });
  const curve = h('div', { class: 'curve', 'data-testid': 'loss-curve' }, h('p', { class: 'muted' }, 'The loss and test-accuracy curves appear here while training.'));
  const download = h('a', { class: 'button', 'data-testid': 'download', hidden: true, download: 'mnist_trained.pth' }, 'Download .pth');
  const use = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'use-trained', onclick: () => void useTrained() }, 'Use this model');
  const hiddenField = field('Hidden layers', hidden, 'widths, e.g. 512 or 256,128');

  root.append(h('div', { class: 'train-grid' },
    h('form', { class: 'card settings', onsubmit: (e: Event) => e.preventDefault() },
      h('h2', {}, 'Train'),
      field('Start from', start), hiddenField,
      h('div', { class: 'pair' }, field('Epochs', epochs), field('Images per epoch', images, 'of the 60,000')),
      h('div', { class: 'pair' }, field('Learning rate', lr), field('Momentum', momentum)),
      h('div', { class: 'pair' }, field('Batch size', batch), field('Seed', seed)),
      h('div', { class: 'row' }, trainButton, pauseButton, stopButton),
      h('p', { class: 'muted small' }, 'SGD on softmax cross-entropy in the WASM core. The 60,000 training digits (~10 MB gzipped) load on first use.')),
    h('div', { class: 'card' }, h('h2', {}, 'Progress'), status, bar, curve, h('div', { class: 'row' }, download, use))));

  start.addEventListener('change', () => { hiddenField.hidden = start.value === 'current'; });

  let history: TrainPoint[] = [], paused = false, lastDraw = 0, url: string | undefined;

  function options(): TrainOptions {
    const widths = hidden.value.split(/[\s,]+/).filter(Boolean).map(Number);
    if (start.value === 'fresh' && (!widths.length || !widths.every((w) => Number.isInteger(w) && w >= 1 && w <= 4096))) {
      throw new Error(`hidden layers "${hidden.value}": give widths between 1 and 4096 separated by commas, e.g. 512 or 256,128`);
    }
    const value = (el: HTMLInputElement, what: string, ok: (v: number) => boolean) => {
      const v = Number(el.value);
      if (!Number.isFinite(v) || !ok(v)) throw new Error(`${what} ${el.value} is out of range`);
      return v;
    };
    return {
      start: start.value as TrainOptions['start'], hidden: widths,
      epochs: value(epochs, 'epochs', (v) => Number.isInteger(v) && v >= 1),
      lr: value(lr, 'learning rate', (v) => v > 0 && v <= 10),
      momentum: value(momentum, 'momentum', (v) => v >= 0 && v < 1),
      batchSize: value(batch, 'batch size', (v) => Number.isInteger(v) && v >= 1),
      images: value(images, 'images per epoch', (v) => Number.isInteger(v) && v >= 1),
      seed: value(seed, 'seed', Number.isFinite),
    };
  }

  function drawCurve(force = false): void {
    const now = performance.now();
    if (!history.length || (!force && now - lastDraw < 250)) return; // redraw at most 4 times a second
    lastDraw = now;
    fill(curve, figure(() => lossCurve(history, { width: 620, panelHeight: 170 })));
  }

  function progress(p: TrainProgress): void {
    if (p.point) history.push(p.point);
    if (p.state === 'loading') fill(status, 'Loading the training set…');
    else if (p.state === 'paused') fill(status, `Paused at step ${fmtInt(p.step)} of ${fmtInt(p.totalSteps)}.`);
    else {
      const acc = [...history].reverse().find((q) => q.accuracy !== undefined)?.accuracy;
      fill(status, `Step ${fmtInt(p.step)} of ${fmtInt(p.totalSteps)} · loss ${p.point && Number.isFinite(p.point.loss) ? p.point.loss.toFixed(4) : '–'}`,
        acc !== undefined ? ` · test accuracy ${fmtPct(acc)}` : '', ` · ${fmtInt(Math.round(p.imagesPerSecond))} images/s`);
      bar.value = p.totalSteps ? p.step / p.totalSteps : 0;
    }
    drawCurve();
  }

  async function run(): Promise<void> {
    let o: TrainOptions;
    try { o = options(); } catch (err) { fill(status, h('span', { class: 'error' }, (err as Error).message)); return; }
    history = []; paused = false;
    delete status.dataset.accuracy;
    trainButton.disabled = true; pauseButton.disabled = false; stopButton.disabled = false;
    download.hidden = true; use.hidden = true;
    pauseButton.textContent = 'Pause';
    fill(curve, h('p', { class: 'muted' }, 'Starting…'));
    try {
      const r: TrainResult = await app.engine.call({ op: 'train', options: o }, [], progress);
      history = r.history;
      drawCurve(true);
      bar.value = 1;
      status.dataset.accuracy = String(r.accuracy);
      fill(status, `${r.stopped ? 'Stopped' : 'Done'} after ${fmtInt(r.steps)} steps in ${r.seconds.toFixed(1)} s · test accuracy ${fmtPct(r.accuracy)}.`);
      const bytes = await app.engine.call({ op: 'save', which: 'trained' });
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
      download.href = url;
      download.hidden = false; use.hidden = false;
    } catch (err) {
      fill(status, h('span', { class: 'error' }, (err as Error).message));
    } finally {
      trainButton.disabled = false; pauseButton.disabled = true; stopButton.disabled = true;
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
      fill(status, h('span', { class: 'error' }, (err as Error).message));
    }
  }
}
