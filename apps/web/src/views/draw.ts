// Draw view: the pad, the live prediction with its probability bars, the 28x28 input the network actually sees with
// where it looks (a saliency overlay), and the gradient panels "what would change its mind" and "teach it"
// (views/gradients.ts); photo upload runs the same MNIST-style preprocessing on the picture's own pixels. The computation (pixels to
// the worker, which makes the 28x28 input and runs the network; a plain prediction report) is kept apart from
// the rendering of that report.
import { MNIST_CLASSES, MNIST_PIXELS } from '@mnist/loader/data';
import type { App } from '../app.js';
import { createDrawPad } from '../draw.js';
import { fill, fmtMs, fmtPct, h } from '../dom.js';
import { formatError, WebError } from '../errors.js';
import { figure } from '../figure.js';
import type { TraceResult } from '../protocol.js';
import { changeMindPanel, type Panel, saliencyPanel, teachPanel } from './gradients.js';

/** The pad's side in CSS pixels; its backing store has up to 2 device pixels per CSS pixel. */
const PAD = 280;

// ---- computation ---------------------------------------------------------------------------------------------

interface Rgba {
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
}

/** What the view shows for one input: plain numbers (no DOM). */
export interface PredictionReport {
  /** 'empty' before anything is drawn; 'nan' when the model's outputs are not numbers. */
  kind: 'empty' | 'nan' | 'digit';
  digit?: number;
  /** The predicted digit's probability. */
  confidence?: number;
  probabilities: Float32Array;
  /** The 28x28 input the network saw (blank when empty). */
  input: Float32Array;
  /** Forward-pass time in the worker. */
  ms?: number;
}

export function predictionReport(t: TraceResult | undefined): PredictionReport {
  if (!t)
    return { kind: 'empty', probabilities: new Float32Array(MNIST_CLASSES), input: new Float32Array(MNIST_PIXELS) };
  const finite = t.probabilities.every(Number.isFinite);
  return {
    kind: finite ? 'digit' : 'nan',
    digit: finite ? t.prediction : undefined,
    confidence: finite ? t.probabilities[t.prediction] : undefined,
    probabilities: t.probabilities,
    input: t.input,
    ms: t.ms,
  };
}

/**
 * Asks the worker for the forward pass of a picture: it turns the RGBA pixels into the 28x28 MNIST-style input
 * (crop, scale to 20x20, centre by mass) and runs the network. The pixels' buffer is transferred, not copied.
 */
function tracePicture(
  app: App,
  { rgba, width, height }: Rgba,
  polarity: 'auto' | 'dark-on-light',
): Promise<TraceResult> {
  const buffer = rgba.buffer as ArrayBuffer;
  return app.engine.call({ op: 'trace', rgba: buffer, width, height, polarity }, [buffer]);
}

/** A photo's own pixels, scaled down to at most `maxSide` on a side. */
function photoPixels(bitmap: ImageBitmap, maxSide: number): Rgba {
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale)),
    height = Math.max(1, Math.round(bitmap.height * scale));
  const work = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })!;
  work.drawImage(bitmap, 0, 0, width, height);
  return { rgba: work.getImageData(0, 0, width, height).data, width, height };
}

// ---- rendering -----------------------------------------------------------------------------------------------

interface Slots {
  prediction: HTMLElement;
  /** A polite live region: what a screen reader says once the prediction settles. */
  announce: HTMLElement;
  confidence: HTMLElement;
  bars: HTMLElement;
  seen: HTMLElement;
  status: HTMLElement;
}

/** How long the prediction must stay the same before it is announced (drawing changes it every frame). */
const ANNOUNCE_MS = 600;
let announceTimer = 0;

/** The sentence the live region says for a report ('' for none). */
export function announcement(r: PredictionReport): string {
  if (r.kind === 'digit') return `Prediction: ${r.digit}, ${fmtPct(r.confidence!, 0)} sure.`;
  if (r.kind === 'nan') return 'Prediction: not a number; the model outputs NaN.';
  return '';
}

function renderPrediction(slots: Slots, r: PredictionReport): void {
  const { prediction, confidence, bars, seen, status, announce } = slots;
  clearTimeout(announceTimer);
  const text = announcement(r);
  announceTimer = window.setTimeout(() => {
    if (announce.textContent !== text) announce.textContent = text;
  }, ANNOUNCE_MS);
  if (r.kind !== 'empty' && !performance.getEntriesByName('first-prediction').length)
    performance.mark('first-prediction'); // for scripts/perf.mjs
  fill(prediction, r.kind === 'digit' ? String(r.digit) : r.kind === 'nan' ? '?' : '–');
  if (r.kind === 'empty') prediction.removeAttribute('data-digit');
  else prediction.dataset.digit = r.kind === 'digit' ? String(r.digit) : 'NaN';
  fill(
    confidence,
    r.kind === 'digit'
      ? `${fmtPct(r.confidence!, 1)} sure`
      : r.kind === 'nan'
        ? 'The model outputs NaN: its weights hold NaN or Infinity (see the warnings in the model panel).'
        : 'Draw a digit to see what the network thinks.',
  );
  if (r.kind === 'digit') bars.dataset.values = Array.from(r.probabilities, (p) => p.toFixed(4)).join(',');
  else bars.removeAttribute('data-values');
  fill(
    bars,
    r.kind === 'nan' ? null : figure((viz) => viz.probabilityBars(r.probabilities, { width: 360, height: 170 })),
  );
  fill(
    seen,
    figure((viz) => viz.digitImage(r.input, { width: 196 })),
  );
  fill(status, r.ms === undefined ? '' : `Forward pass in ${fmtMs(r.ms)} (WASM, in a worker).`);
}

/**
 * The view's cards: the pad with its buttons, the prediction, what the network sees and where it looks; below them
 * what would change its mind and teach it.
 */
function drawLayout(
  canvas: HTMLCanvasElement,
  slots: Slots,
  clear: HTMLElement,
  photo: HTMLInputElement,
  photoError: HTMLElement,
  gradients: { saliency: Panel; mind: Panel; teach: Panel },
): HTMLElement[] {
  const grid = h(
    'div',
    { class: 'draw-grid' },
    h(
      'div',
      { class: 'card pad-card' },
      h('h2', {}, 'Draw a digit'),
      h('p', { class: 'muted small' }, 'Mouse, pen or finger. Big and centred works best, like the MNIST digits.'),
      canvas,
      h(
        'div',
        { class: 'row' },
        clear,
        photo,
        h('label', { class: 'button secondary', for: 'photo-file' }, 'Upload a photo…'),
      ),
      photoError,
    ),
    h(
      'div',
      { class: 'card result-card' },
      h('h2', {}, 'Prediction'),
      h('div', { class: 'prediction-row' }, slots.prediction, slots.confidence),
      slots.announce,
      slots.bars,
      slots.status,
    ),
    h(
      'div',
      { class: 'card seen-card' },
      h('h2', {}, 'What the network sees'),
      h('p', { class: 'muted small' }, 'Cropped, scaled to 20×20 and centred by mass in 28×28, as MNIST was made.'),
      slots.seen,
      h('h2', { class: 'spaced' }, 'Where it looks'),
      gradients.saliency.element,
    ),
  );
  const tools = h(
    'div',
    { class: 'draw-tools' },
    h('div', { class: 'card' }, gradients.mind.element),
    h('div', { class: 'card' }, gradients.teach.element),
  );
  return [grid, tools];
}

// ---- the view ------------------------------------------------------------------------------------------------

export function mountDraw(root: HTMLElement, app: App): void {
  const side = PAD * Math.min(2, Math.max(1, Math.round(devicePixelRatio)));
  const canvas = h('canvas', {
    width: side,
    height: side,
    'data-testid': 'draw',
    class: 'pad',
    'aria-label': 'Drawing pad: draw a digit',
  });
  const slots: Slots = {
    prediction: h('div', { class: 'prediction', 'data-testid': 'prediction' }, '–'),
    announce: h('p', {
      class: 'visually-hidden',
      role: 'status',
      'aria-live': 'polite',
      'aria-atomic': 'true',
      'data-testid': 'announce',
    }),
    confidence: h('div', { class: 'confidence muted' }),
    bars: h('div', { class: 'bars', 'data-testid': 'probabilities' }),
    seen: h('div', { class: 'seen' }),
    status: h('p', { class: 'muted small' }),
  };
  const photoError = h('p', { class: 'error', 'data-testid': 'draw-error', hidden: true });
  const photo = h('input', {
    type: 'file',
    accept: 'image/*',
    class: 'visually-hidden',
    id: 'photo-file',
    'data-testid': 'photo-file',
  });
  let polarity: 'dark-on-light' | 'auto' = 'dark-on-light';

  const pad = createDrawPad(canvas, () => void predict());
  const gradients = { saliency: saliencyPanel(app, 'draw', 196), mind: changeMindPanel(app), teach: teachPanel(app) };
  const panels = Object.values(gradients);

  root.append(
    ...drawLayout(
      canvas,
      slots,
      h('button', { type: 'button', onclick: clear }, 'Clear'),
      photo,
      photoError,
      gradients,
    ),
  );

  function showPhotoError(err: unknown): void {
    fill(photoError, formatError(err));
    photoError.hidden = false;
  }

  // One request in flight at a time; strokes made meanwhile are picked up by one more request after it.
  let inflight = false,
    again = false;
  async function predict(): Promise<void> {
    if (!app.model || !pad.dirty) return;
    if (inflight) {
      again = true;
      return;
    }
    inflight = true;
    try {
      const t = await tracePicture(app, pad.pixels(), polarity);
      if (pad.dirty) app.setTrace(t, polarity === 'auto' ? 'photo' : 'drawing');
    } catch (err) {
      if ((err as { code?: string }).code !== 'IMAGE_EMPTY') showPhotoError(err);
    } finally {
      inflight = false;
      if (again) {
        again = false;
        void predict();
      }
    }
  }

  function clear(): void {
    pad.clear();
    polarity = 'dark-on-light';
    photoError.hidden = true;
    renderPrediction(slots, predictionReport(undefined));
    for (const panel of panels) panel.update(undefined);
  }

  photo.addEventListener('change', async () => {
    const file = photo.files?.[0];
    photo.value = '';
    if (!file) return;
    photoError.hidden = true;
    try {
      const bitmap = await createImageBitmap(file).catch(() => {
        throw new WebError('WEB_NOT_AN_IMAGE', `${file.name}: this file is not an image the browser can decode`);
      });
      // Predict from the photo's own pixels (at most PAD px on a side), whatever its polarity; show it on the pad.
      const pixels = photoPixels(bitmap, PAD);
      pad.paint(bitmap);
      polarity = 'auto';
      app.setTrace(await tracePicture(app, pixels, polarity), `photo ${file.name}`);
    } catch (err) {
      showPhotoError(err);
    }
  });

  app.onTrace((t) => {
    if ((app.traceSource === 'drawing' || app.traceSource.startsWith('photo')) && pad.dirty) {
      renderPrediction(slots, predictionReport(t));
      for (const panel of panels) panel.update(t);
    }
  });
  app.onModel(() => {
    // Same input, new model: redo the forward pass so the prediction never shows a stale model's answer.
    const t = app.trace;
    if (!t) return void predict(); // strokes drawn before the first model was ready
    const { traceSource, traceLabel } = app;
    void app.engine.call({ op: 'trace', input: t.input }).then(
      (r) => app.setTrace(r, traceSource, traceLabel),
      () => undefined,
    );
  });
  renderPrediction(slots, predictionReport(undefined));
  for (const panel of panels) panel.update(undefined);
}
