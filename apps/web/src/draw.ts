// The drawing pad: pointer events (mouse, pen, touch) draw thick round strokes, dark ink on white paper.
// Each stroke is redrawn as one smooth path over a snapshot of the pad (no seams between segments), and changes
// are reported at most once per animation frame, so the live prediction never floods the worker.

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
const INK = '#111';

type Point = { x: number; y: number };

export function createDrawPad(canvas: HTMLCanvasElement, onChange: () => void): DrawPad {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const side = canvas.width;
  let dirty = false,
    frame = 0;
  let stroke: { id: number; points: Point[]; base: ImageData } | undefined;

  const paper = () => {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, side, side);
  };
  paper();

  /** Redraws the current stroke as one path (quadratic curves through the midpoints) on top of its snapshot. */
  const redraw = () => {
    if (!stroke) return;
    const p = stroke.points;
    ctx.putImageData(stroke.base, 0, 0);
    ctx.fillStyle = INK;
    ctx.strokeStyle = INK;
    if (p.length === 1) {
      ctx.beginPath();
      ctx.arc(p[0]!.x, p[0]!.y, (STROKE * side) / 2, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = STROKE * side;
    ctx.beginPath();
    ctx.moveTo(p[0]!.x, p[0]!.y);
    for (let i = 1; i < p.length - 1; i++) {
      ctx.quadraticCurveTo(p[i]!.x, p[i]!.y, (p[i]!.x + p[i + 1]!.x) / 2, (p[i]!.y + p[i + 1]!.y) / 2);
    }
    ctx.lineTo(p[p.length - 1]!.x, p[p.length - 1]!.y);
    ctx.stroke();
  };

  const changed = () => {
    dirty = true;
    if (!frame)
      frame = requestAnimationFrame(() => {
        frame = 0;
        redraw();
        onChange();
      });
  };

  const point = (e: PointerEvent): Point => {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * side, y: ((e.clientY - r.top) / r.height) * side };
  };

  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 && e.pointerType === 'mouse') return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    stroke = { id: e.pointerId, points: [point(e)], base: ctx.getImageData(0, 0, side, side) };
    changed();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!stroke || e.pointerId !== stroke.id) return;
    e.preventDefault();
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = e.getCoalescedEvents?.() ?? [];
    for (const ev of events.length ? events : [e]) stroke.points.push(point(ev));
    changed();
  });
  const end = (e: PointerEvent) => {
    if (!stroke || e.pointerId !== stroke.id) return;
    if (frame) {
      cancelAnimationFrame(frame);
      frame = 0;
    }
    redraw(); // the stroke's final shape, in case the last frame has not run yet
    stroke = undefined;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    onChange();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  return {
    canvas,
    get dirty() {
      return dirty;
    },
    clear() {
      if (frame) {
        cancelAnimationFrame(frame);
        frame = 0;
      }
      stroke = undefined;
      paper();
      dirty = false;
    },
    pixels() {
      return { rgba: ctx.getImageData(0, 0, side, side).data, width: side, height: side };
    },
    paint(image) {
      paper();
      const scale = Math.min(side / image.width, side / image.height);
      const w = image.width * scale,
        h = image.height * scale;
      ctx.drawImage(image, (side - w) / 2, (side - h) / 2, w, h);
      dirty = true; // shown only: the caller predicts from the photo's own pixels
    },
  };
}
