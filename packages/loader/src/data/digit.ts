// Turns a picture of a digit (RGBA pixels of any size, dark-on-light or light-on-dark) into the 28x28 input
// the network expects, the way MNIST itself was made: ink extracted, cropped to its bounding box, scaled with
// area averaging to fit 20x20 keeping the aspect ratio, then centred by centre of mass in a 28x28 field.
import { DataError } from './errors.js';

/** MNIST's picture geometry and classes: 28 x 28 pixels, 784 inputs, 10 digits. The one home of these numbers. */
export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
export const MNIST_CLASSES = 10;
const FIT_BOX = 20;

export type Polarity = 'auto' | 'dark-on-light' | 'light-on-dark';

/**
 * Ink per pixel in [0, 1] (1 = the digit's stroke) from RGBA bytes (canvas ImageData, decoded PNG/JPEG).
 * Transparent pixels count as background. With polarity 'auto', the colour of the border decides which of
 * dark and light is the paper. The background level (the median) is subtracted and faint noise dropped,
 * so a photo of paper that is grey rather than white still gives a clean 0 background.
 */
export function inkFromRgba(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  polarity: Polarity = 'auto',
): Float32Array {
  checkSize(rgba.length, width, height, 4);
  const n = width * height;
  const lum = new Float32Array(n);
  const alpha = new Float32Array(n);
  let translucent = false;
  for (let i = 0; i < n; i++) {
    const r = rgba[4 * i]!,
      g = rgba[4 * i + 1]!,
      b = rgba[4 * i + 2]!,
      a = rgba[4 * i + 3]!;
    lum[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    alpha[i] = a / 255;
    if (a < 250) translucent = true;
  }
  let darkInk: boolean;
  if (polarity !== 'auto') darkInk = polarity === 'dark-on-light';
  else if (translucent) {
    // Strokes are the opaque pixels: their mean brightness says whether the ink is dark or light.
    let sum = 0,
      weight = 0;
    for (let i = 0; i < n; i++) {
      sum += alpha[i]! * lum[i]!;
      weight += alpha[i]!;
    }
    darkInk = weight === 0 ? true : sum / weight < 0.5;
  } else {
    darkInk = borderMean(lum, width, height) > 0.5;
  }
  const ink = new Float32Array(n);
  for (let i = 0; i < n; i++) ink[i] = alpha[i]! * (darkInk ? 1 - lum[i]! : lum[i]!);
  return cleanBackground(ink);
}

/** Ink from one grey level per pixel (0..1 or 0..255 bytes), 1 = stroke when polarity is light-on-dark. */
export function inkFromGray(
  gray: Float32Array | Uint8Array,
  width: number,
  height: number,
  polarity: Polarity = 'auto',
): Float32Array {
  checkSize(gray.length, width, height, 1);
  const scale = gray instanceof Uint8Array ? 1 / 255 : 1;
  const lum = new Float32Array(gray.length);
  for (let i = 0; i < gray.length; i++) lum[i] = gray[i]! * scale;
  const darkInk = polarity === 'auto' ? borderMean(lum, width, height) > 0.5 : polarity === 'dark-on-light';
  const ink = new Float32Array(lum.length);
  for (let i = 0; i < lum.length; i++) ink[i] = darkInk ? 1 - lum[i]! : lum[i]!;
  return cleanBackground(ink);
}

/**
 * Ink image (values in [0,1], any size) -> 784 network inputs in [0,1]: crop to the bounding box, scale the
 * longer side to 20 px with area averaging, place so the centre of mass sits at the centre of 28x28.
 * Throws IMAGE_EMPTY when there is no ink at all.
 */
export function mnistify(ink: Float32Array, width: number, height: number): Float32Array {
  checkSize(ink.length, width, height, 1);
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0)
    throw new DataError(
      'IMAGE_EMPTY',
      'no digit found in the image (it is blank)',
      'draw or photograph a digit with clear contrast',
    );
  const bw = x1 - x0 + 1,
    bh = y1 - y0 + 1;
  const scale = FIT_BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)),
    th = Math.max(1, Math.round(bh * scale));
  const small = resampleArea(ink, width, x0, y0, bw, bh, tw, th);

  // Centre of mass in pixel-centre coordinates; shifted so it lands on (14, 14), the middle of the field.
  let mass = 0,
    mx = 0,
    my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const cx = mass > 0 ? mx / mass : tw / 2,
    cy = mass > 0 ? my / mass : th / 2;
  const ox = clamp(Math.round(MNIST_SIDE / 2 - cx), 0, MNIST_SIDE - tw);
  const oy = clamp(Math.round(MNIST_SIDE / 2 - cy), 0, MNIST_SIDE - th);
  const out = new Float32Array(MNIST_SIDE * MNIST_SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(y + oy) * MNIST_SIDE + (x + ox)] = Math.min(1, small[y * tw + x]!);
  }
  return out;
}

/** RGBA picture -> 784 network inputs, in one call. */
export function preprocessImage(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  polarity: Polarity = 'auto',
): Float32Array {
  return mnistify(inkFromRgba(rgba, width, height, polarity), width, height);
}

/**
 * Box-filter resampling of the source rectangle (x0, y0, bw, bh) to tw x th: each output pixel is the
 * coverage-weighted mean of the source pixels under it (anti-aliased when shrinking, blocky when growing).
 */
function resampleArea(
  src: Float32Array,
  srcWidth: number,
  x0: number,
  y0: number,
  bw: number,
  bh: number,
  tw: number,
  th: number,
): Float32Array {
  const xw = coverage(bw, tw),
    yw = coverage(bh, th);
  // Horizontal pass: bh rows x tw columns.
  const tmp = new Float32Array(bh * tw);
  for (let y = 0; y < bh; y++) {
    const row = (y0 + y) * srcWidth + x0;
    for (const [t, s, w] of xw) tmp[y * tw + t] += src[row + s]! * w;
  }
  const out = new Float32Array(th * tw);
  for (const [t, s, w] of yw) {
    for (let x = 0; x < tw; x++) out[t * tw + x] += tmp[s * tw + x]! * w;
  }
  return out;
}

/** Triples [target, source, weight]: how much of source pixel s falls in target pixel t, normalised per target. */
function coverage(from: number, to: number): Array<[number, number, number]> {
  const ratio = from / to; // source pixels per target pixel
  const list: Array<[number, number, number]> = [];
  for (let t = 0; t < to; t++) {
    const a = t * ratio,
      b = (t + 1) * ratio;
    for (let s = Math.floor(a); s < Math.min(from, Math.ceil(b)); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s);
      if (w > 1e-9) list.push([t, s, w / ratio]);
    }
  }
  return list;
}

/** Subtract the paper level (median ink), stretch to the darkest stroke, drop faint noise below 10%. */
function cleanBackground(ink: Float32Array): Float32Array {
  const hist = new Uint32Array(256);
  let max = 0;
  for (const v of ink) {
    hist[Math.min(255, Math.max(0, Math.round(v * 255)))]!++;
    if (v > max) max = v;
  }
  let seen = 0,
    median = 0;
  for (let k = 0; k < 256; k++) {
    seen += hist[k]!;
    if (seen * 2 >= ink.length) {
      median = k / 255;
      break;
    }
  }
  const out = new Float32Array(ink.length);
  const range = max - median;
  if (range < 0.1) return out; // no contrast: nothing that could be a stroke
  for (let i = 0; i < ink.length; i++) {
    const v = (ink[i]! - median) / range;
    out[i] = v < 0.1 ? 0 : (v - 0.1) / 0.9;
  }
  return out;
}

function borderMean(lum: Float32Array, width: number, height: number): number {
  let sum = 0,
    count = 0;
  for (let x = 0; x < width; x++) {
    sum += lum[x]! + lum[(height - 1) * width + x]!;
    count += 2;
  }
  for (let y = 1; y < height - 1; y++) {
    sum += lum[y * width]! + lum[y * width + width - 1]!;
    count += 2;
  }
  return count ? sum / count : 0;
}

function checkSize(length: number, width: number, height: number, channels: number): void {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    length !== width * height * channels
  ) {
    throw new DataError(
      'IMAGE_BAD_SIZE',
      `image of ${width}x${height} with ${channels} channel(s) needs ${width * height * channels} values, got ${length}`,
      'pass the pixel buffer with its own width and height',
    );
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
