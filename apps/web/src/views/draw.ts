// Draw view: the pad, the live prediction with its probability bars, and the 28x28 input the network actually
// sees; photo upload runs the same MNIST-style preprocessing on the picture's own pixels.
import { digitImage, probabilityBars } from '@mnist/viz';
import type { App } from '../app.js';
import { createDrawPad } from '../draw.js';
import { fill, figure, fmtMs, fmtPct, h } from '../dom.js';
import type { TraceResult } from '../protocol.js';

const PAD = 280;

export function mountDraw(root: HTMLElement, app: App): void {
  const canvas = h('canvas', { width: PAD * Math.min(2, Math.max(1, Math.round(devicePixelRatio))), height: PAD * Math.min(2, Math.max(1, Math.round(devicePixelRatio))), 'data-testid': 'draw', class: 'pad', 'aria-label': 'Drawing pad: draw a digit' });
  const prediction = h('div', { class: 'prediction', 'data-testid': 'prediction', 'aria-live': 'polite' }, '–');
  const confidence = h('div', { class: 'confidence muted' }, 'Draw a digit to see what the network thinks.');
  const bars = h('div', { class: 'bars', 'data-testid': 'probabilities' });
  const seen = h('div', { class: 'seen' });
  const status = h('p', { class: 'muted small' });
  const photoError = h('p', { class: 'error', 'data-testid': 'draw-error', hidden: true });
  const photo = h('input', { type: 'file', accept: 'image/*', class: 'visually-hidden', id: 'photo-file', 'data-testid': 'photo-file' });
  let polarity: 'dark-on-light' | 'auto' = 'dark-on-light';

  const pad = createDrawPad(canvas, () => void predict());

  root.append(
    h('div', { class: 'draw-grid' },
      h('div', { class: 'card pad-card' },
        h('h2', {}, 'Draw a digit'),
        h('p', { class: 'muted small' }, 'Mouse, pen or finger. Big and centred works best, like the MNIST digits.'),
        canvas,
        h('div', { class: 'row' },
          h('button', { type: 'button', onclick: clear }, 'Clear'),
          photo, h('label', { class: 'button secondary', for: 'photo-file' }, 'Upload a photo…')),
        photoError),
      h('div', { class: 'card result-card' },
        h('h2', {}, 'Prediction'),
        h('div', { class: 'prediction-row' }, prediction, confidence),
        bars,
        status),
      h('div', { class: 'card seen-card' },
        h('h2', {}, 'What the network sees'),
        h('p', { class: 'muted small' }, 'Cropped, scaled to 20×20 and centred by mass in 28×28, as MNIST was made.'),
        seen)));

  function render(t: TraceResult | undefined): void {
    if (!t) {
      fill(prediction, '–');
      fill(confidence, 'Draw a digit to see what the network thinks.');
      prediction.removeAttribute('data-digit');
      bars.removeAttribute('data-values');
      fill(bars, figure(() => probabilityBars(new Float32Array(10), { width: 360, height: 170 })));
      fill(seen, figure(() => digitImage(new Float32Array(784), { width: 196 })));
      fill(status, '');
      return;
    }
    if (!performance.getEntriesByName('first-prediction').length) performance.mark('first-prediction'); // for scripts/perf.mjs
    if (!Array.from(t.probabilities).every(Number.isFinite)) {
      fill(prediction, '?');
      prediction.dataset.digit = 'NaN';
      fill(confidence, 'The model outputs NaN: its weights hold NaN or Infinity (see the warnings in the model panel).');
      bars.removeAttribute('data-values');
      fill(bars);
      fill(seen, figure(() => digitImage(t.input, { width: 196 })));
      return;
    }
    fill(prediction, String(t.prediction));
    prediction.dataset.digit = String(t.prediction);
    fill(confidence, `${fmtPct(t.probabilities[t.prediction]!, 1)} sure`);
    bars.dataset.values = Array.from(t.probabilities, (p) => p.toFixed(4)).join(',');
    fill(bars, figure(() => probabilityBars(t.probabilities, { width: 360, height: 170 })));
    fill(seen, figure(() => digitImage(t.input, { width: 196 })));
    fill(status, `Forward pass in ${fmtMs(t.ms)} (WASM, in a worker).`);
  }

  // One request in flight at a time; strokes made meanwhile are picked up by one more request after it.
  let inflight = false, again = false;
  async function predict(): Promise<void> {
    if (!app.model || !pad.dirty) return;
    if (inflight) { again = true; return; }
    inflight = true;
    try {
      const { rgba, width, height } = pad.pixels();
      const t = await app.engine.call({ op: 'trace', rgba: rgba.buffer as ArrayBuffer, width, height, polarity }, [rgba.buffer as ArrayBuffer]);
      if (pad.dirty) app.setTrace(t, polarity === 'auto' ? 'photo' : 'drawing');
    } catch (err) {
      if ((err as { code?: string }).code !== 'IMAGE_EMPTY') showPhotoError(err);
    } finally {
      inflight = false;
      if (again) { again = false; void predict(); }
    }
  }

  function clear(): void {
    pad.clear();
    polarity = 'dark-on-light';
    photoError.hidden = true;
    render(undefined);
  }

  function showPhotoError(err: unknown): void {
    fill(photoError, (err as Error).message ?? String(err));
    photoError.hidden = false;
  }

  photo.addEventListener('change', async () => {
    const file = photo.files?.[0];
    photo.value = '';
    if (!file) return;
    photoError.hidden = true;
    try {
      const bitmap = await createImageBitmap(file);
      // Predict from the photo's own pixels (at most PAD px on a side), whatever its polarity; show it on the pad.
      const scale = Math.min(1, PAD / Math.max(bitmap.width, bitmap.height));
      const w = Math.max(1, Math.round(bitmap.width * scale)), hgt = Math.max(1, Math.round(bitmap.height * scale));
      const work = new OffscreenCanvas(w, hgt).getContext('2d', { willReadFrequently: true })!;
      work.drawImage(bitmap, 0, 0, w, hgt);
      const rgba = work.getImageData(0, 0, w, hgt).data;
      pad.paint(bitmap);
      polarity = 'auto';
      const t = await app.engine.call({ op: 'trace', rgba: rgba.buffer as ArrayBuffer, width: w, height: hgt, polarity }, [rgba.buffer as ArrayBuffer]);
      app.setTrace(t, `photo ${file.name}`);
    } catch (err) {
      showPhotoError(err instanceof DOMException ? new Error(`${file.name}: this file is not an image the browser can decode`) : err);
    }
  });

  app.onTrace((t) => {
    if ((app.traceSource === 'drawing' || app.traceSource.startsWith('photo')) && pad.dirty) render(t);
  });
  app.onModel(() => {
    // Same input, new model: redo the forward pass so the prediction never shows a stale model's answer.
    const t = app.trace;
    if (!t) return void predict(); // strokes drawn before the first model was ready
    const { traceSource, traceLabel } = app;
    void app.engine.call({ op: 'trace', input: t.input }).then((r) => app.setTrace(r, traceSource, traceLabel), () => undefined);
  });
  render(undefined);
}
