// Digit figures: predictionGrid (test digits with "prediction (true)" labels, mistakes framed in red) and
// digitImage (one 28x28 input as the network sees it). Dark ink on white paper; pixels are one indexed PNG.

import * as Plot from '@observablehq/plot';
import { DIGIT_GAP_INDEX, greyPalette, MISTAKE_COLOR } from './color.js';
import { invalidInput, invalidOption } from './errors.js';
import type { FigureOptions, FigureSvg } from './dom.js';
import {
  asSvg,
  checkArray,
  checkPng,
  checkPositiveInteger,
  describeFigure,
  resolveDocument,
  resolveWidth,
  squarePlot,
  stack,
  tagMarks,
} from './figure.js';
import { fillTile, gridImage, type GridLayout, gridLayout, gridPixels, tileOrigin } from './grid.js';
import { type IndexedImage, pngDataUrl } from './png.js';

export interface PixelOptions {
  /**
   * Pixel value drawn as white paper and as black ink. Default: [0, 255] for Uint8Array, otherwise
   * [min(0, smallest), max(1, largest)], which covers 0..1 floats and mean/std-normalised inputs.
   */
  range?: [number, number];
}

/** The pixel values drawn as paper and as ink (see PixelOptions.range). */
export function pixelRange(pixels: ArrayLike<number>, options: PixelOptions): [number, number] {
  if (options.range) {
    const [lo, hi] = options.range;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo))
      throw invalidOption(`invalid range: [${lo}, ${hi}] (expected two finite numbers, low < high)`);
    return [lo, hi];
  }
  if (pixels instanceof Uint8Array || pixels instanceof Uint8ClampedArray) return [0, 255];
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Grey palette index of pixel i: 0 (paper) at lo, 254 (ink) at hi, clamped; NaN is paper. */
export function greyIndex(pixels: ArrayLike<number>, [lo, hi]: [number, number]): (i: number) => number {
  const k = 254 / (hi - lo);
  return (i) => {
    const v = pixels[i];
    if (!(v === v)) return 0; // NaN: paper
    return Math.max(0, Math.min(254, Math.round((v - lo) * k)));
  };
}

function checkLabels(name: string, values: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes))
      throw invalidInput(
        `invalid ${name} at ${i}: ${v} (expected an integer in [0, ${classes}); pass classes for more classes)`,
      );
  }
}

export interface PredictionGridOptions extends FigureOptions, PixelOptions {
  /** Pixels per image (a square number); default 784 = 28x28. */
  in?: number;
  /** Digits per row; default 10. */
  columns?: number;
  /** Number of classes labels and predictions may take; default 10. */
  classes?: number;
  /** "mistakes" (default): correct digits read "7", mistakes "3 (5)" = prediction (true); "always": every label reads "7 (7)". */
  showTrue?: 'mistakes' | 'always';
  /** Dataset index of each digit, shown in hover titles (default 0, 1, 2, ...). */
  indices?: ArrayLike<number>;
  /** The digits' PNG, already encoded: `pngDataUrl(predictionGridImage(images, labels, predictions, options))`. */
  png?: string;
}

/** What predictionGrid draws, from the checked inputs and options: the digits and the grid layout. */
interface DigitsPlan {
  n: number;
  side: number;
  inputs: number;
  shown: number;
  margin: number;
  width: number;
  indices: ArrayLike<number>;
  layout: GridLayout;
}

function digitsPlan(
  images: ArrayLike<number>,
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  options: PredictionGridOptions,
): DigitsPlan {
  checkArray('images', images);
  checkArray('labels', labels);
  checkArray('predictions', predictions);
  const inputs = checkPositiveInteger('in', options.in ?? 784);
  const side = Math.round(Math.sqrt(inputs));
  if (side * side !== inputs)
    throw invalidOption(`invalid in: ${inputs} is not a square number of pixels (expected 784 = 28x28)`);
  const n = labels.length;
  if (n === 0) throw invalidInput('invalid labels: empty (expected one label per image)');
  if (predictions.length !== n)
    throw invalidInput(`invalid predictions: expected ${n} (one per label), got ${predictions.length}`);
  if (images.length !== n * inputs)
    throw invalidInput(`invalid images: expected ${n} images x ${inputs} = ${n * inputs} values, got ${images.length}`);
  const classes = checkPositiveInteger('classes', options.classes ?? 10);
  checkLabels('label', labels, classes);
  checkLabels('prediction', predictions, classes);
  const indices = options.indices ?? Array.from({ length: n }, (_, i) => i);
  if (indices.length !== n)
    throw invalidOption(`invalid indices: expected ${n} (one per image), got ${indices.length}`);
  checkPng(options.png);
  const columns = checkPositiveInteger('columns', options.columns ?? 10);
  const shown = Math.min(columns, n);
  const margin = 4;
  const width = resolveWidth(options, Math.min(640, shown * 64 + 2 * margin));
  const layout = gridLayout({ count: n, side, columns, gap: 2, plotWidth: width - 2 * margin, labelHeight: 14 });
  return { n, side, inputs, shown, margin, width, indices, layout };
}

/** The digits' pixels: one indexed image of the whole grid on the grey palette. */
function digitsImage(
  images: ArrayLike<number>,
  options: PixelOptions,
  { n, inputs, layout }: DigitsPlan,
): IndexedImage {
  const pixels = gridPixels(layout, DIGIT_GAP_INDEX);
  const index = greyIndex(images, pixelRange(images, options));
  for (let k = 0; k < n; k++) fillTile(layout, pixels, k, index, k * inputs);
  const { palette, alpha } = greyPalette();
  return { width: layout.imageWidth, height: layout.imageHeight, indices: pixels, palette, alpha };
}

/**
 * The one image predictionGrid draws (every digit, in one grid), to be encoded elsewhere (e.g. in a worker) and given
 * back as `png` (see weightTilesImage). Needs no document.
 */
export function predictionGridImage(
  images: ArrayLike<number>,
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  options: PredictionGridOptions = {},
): IndexedImage {
  return digitsImage(images, options, digitsPlan(images, labels, predictions, options));
}

/**
 * Digits in a grid, each labelled with its prediction; mistakes get a red frame and a red "prediction (true)" label.
 * images holds n consecutive images (n*784 values), labels and predictions n classes each.
 */
export function predictionGrid(
  images: ArrayLike<number>,
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  options: PredictionGridOptions = {},
): FigureSvg {
  const plan = digitsPlan(images, labels, predictions, options);
  const { n, side, shown, margin, width, indices, layout } = plan;
  const document = resolveDocument(options);
  const src = options.png ?? pngDataUrl(digitsImage(images, options, plan));

  const digits = Array.from({ length: n }, (_, k) => k);
  const mistakes = digits.filter((k) => labels[k] !== predictions[k]);
  const always = options.showTrue === 'always';
  const x0 = (k: number) => tileOrigin(layout, k)[0];
  const y0 = (k: number) => tileOrigin(layout, k)[1];
  const plot = asSvg(
    Plot.plot({
      document,
      width,
      height: Math.round(layout.plotHeight + 2 * margin),
      margin,
      x: { domain: [0, layout.imageWidth], axis: null },
      y: { domain: [0, layout.imageHeight], reverse: true, axis: null },
      marks: [
        gridImage(layout, src),
        // Hover titles (and a hit area per digit for the web app).
        Plot.rect(digits, {
          x1: x0,
          y1: y0,
          x2: (k: number) => x0(k) + side,
          y2: (k: number) => y0(k) + side,
          fill: 'transparent',
          title: (k: number) => `#${indices[k]}: predicted ${predictions[k]}, true ${labels[k]}`,
          className: 'viz-digits',
        }),
        Plot.rect(mistakes, {
          x1: (k: number) => x0(k) - 0.5,
          y1: (k: number) => y0(k) - 0.5,
          x2: (k: number) => x0(k) + side + 0.5,
          y2: (k: number) => y0(k) + side + 0.5,
          stroke: MISTAKE_COLOR,
          strokeWidth: 2,
          fill: 'none',
        }),
        ...[false, true].map((wrong) =>
          Plot.text(
            digits.filter((k) => (labels[k] !== predictions[k]) === wrong),
            {
              x: (k: number) => x0(k) + side / 2,
              y: (k: number) => y0(k) + side + layout.gap,
              text: (k: number) => (always || wrong ? `${predictions[k]} (${labels[k]})` : `${predictions[k]}`),
              fill: wrong ? MISTAKE_COLOR : 'currentColor',
              fontWeight: wrong ? 'bold' : 'normal',
              lineAnchor: 'top',
              fontSize: 11,
            },
          ),
        ),
      ],
    }),
  );
  tagMarks(plot, 'viz-digits', 'data-index', indices);
  const subtitle =
    options.subtitle ?? `${n - mistakes.length} of ${n} correct · label: prediction (true) · mistakes in red`;
  const svg = stack(document, [{ svg: plot }], { title: options.title, subtitle });
  const listed = mistakes.slice(0, 10).map((k) => `#${indices[k]} predicted ${predictions[k]}, true ${labels[k]}`);
  describeFigure(
    document,
    svg,
    options.title ?? 'digits with their predictions',
    `${n} digit${n === 1 ? '' : 's'}, ${shown} per row, each labelled with its prediction: ` +
      `${n - mistakes.length} of ${n} correct.` +
      (mistakes.length
        ? ` Mistakes: ${listed.join('; ')}${mistakes.length > listed.length ? `; and ${mistakes.length - listed.length} more` : ''}.`
        : ''),
  );
  return svg;
}

export interface DigitImageOptions extends FigureOptions, PixelOptions {
  /** Image side in pixels of the data (default sqrt(length), 28 for 784). */
  side?: number;
}

/** The side of a square image of `values` (option `side`, default sqrt(length)), or VIZ_INVALID_INPUT naming `name`. */
export function squareSide(name: string, values: ArrayLike<number>, side: number | undefined): number {
  const n = checkPositiveInteger('side', side ?? Math.round(Math.sqrt(values.length)));
  if (values.length !== n * n)
    throw invalidInput(`invalid ${name}: expected ${n}x${n} = ${n * n} values, got ${values.length}`);
  return n;
}

/** One image as a PNG data URL of side x side pixels, pixel i drawn with palette entry index(i). */
export function squarePng(
  side: number,
  index: (i: number) => number,
  { palette, alpha }: { palette: Uint8Array; alpha: Uint8Array },
): string {
  const indices = new Uint8Array(side * side);
  for (let i = 0; i < indices.length; i++) indices[i] = index(i);
  return pngDataUrl({ width: side, height: side, indices, palette, alpha });
}

/** One square image (28x28 by default), e.g. the network's input; `width` is the drawn size (default 140). */
export function digitImage(pixels: ArrayLike<number>, options: DigitImageOptions = {}): FigureSvg {
  checkArray('pixels', pixels);
  const side = squareSide('pixels', pixels, options.side);
  const document = resolveDocument(options);
  const size = resolveWidth(options, 140);
  const src = squarePng(side, greyIndex(pixels, pixelRange(pixels, options)), greyPalette());
  const svg = stack(document, [{ svg: squarePlot(document, size, side, [src]) }], {
    title: options.title,
    subtitle: options.subtitle,
  });
  describeFigure(document, svg, options.title ?? 'digit image', `A ${side}x${side} image, dark ink on white paper.`);
  return svg;
}
