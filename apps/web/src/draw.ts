// The drawing pad: pointer events (mouse, pen, touch) draw thick round strokes, dark ink on white paper.
// Changes are reported at most once per animation frame, so the live prediction never floods the worker.

export interface DrawPad {
  canvas: HTMLCanvasElement;
  /** True once something has been drawn since the last clear. */
  readonly dirty: boolean;
  clear(): void;
  /** The pixels as RGBA bytes with their size (the canvas's backing store). */
  pixels(): { rgba: Uint8ClampedArray; width: number; height: number };
  /** Paints an image (e.g. an uploaded photo) onto the pad, fitted and centred, without reporting a change. */
  paint(image: CanvasImageSource & { width: number; height: number }): void;
}

/** Stroke width as a fraction of the pad's side: about MNIST's pen width once the digit is scaled to 20 px. */
const STROKE = 0.075;

export function createDrawPad(canvas: HTMLCanvasElement, onChange: () => void): DrawPad {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const side = canvas.width;
  let dirty = false, frame = 0, last: { x: number; y: number } | undefined;

  const paper = () => {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, side, side);
  };
  paper();

  const changed = () => {
    dirty = true;
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; onChange(); });
  };

  const point = (e: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * side, y: ((e.clientY - r.top) / r.height) * side };
  };

  const dot = (p: { x: number; y: number }) => {
    ctx.beginPath();
    ctx.arc(p.x, p.y, (STROKE * side) / 2, 0, Math.PI * 2);
    ctx.fillStyle = '#111';
    ctx.fill();
  };

  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 && e.pointerType === 'mouse') return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    last = point(e);
    dot(last);
    changed();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    e.preventDefault();
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = e.getCoalescedEvents?.() ?? [e];
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = STROKE * side;
    ctx.strokeStyle = '#111';
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    for (const ev of events.length ? events : [e]) {
      last = point(ev);
      ctx.lineTo(last.x, last.y);
    }
    ctx.stroke();
    changed();
  });
  const end = (e: PointerEvent) => {
    if (!last) return;
    last = undefined;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  return {
    canvas,
    get dirty() { return dirty; },
    clear() {
      paper();
      dirty = false;
      last = undefined;
    },
    pixels() {
      return { rgba: ctx.getImageData(0, 0, side, side).data, width: side, height: side };
    },
    paint(image) {
      paper();
      const scale = Math.min(side / image.width, side / image.height);
      const w = image.width * scale, h = image.height * scale;
      ctx.drawImage(image, (side - w) / 2, (side - h) / 2, w, h);
      dirty = true; // shown only: the caller predicts from the photo's own pixels
    },
  };
}
