// Colour, in one place: the named colours of bars, lines and mistakes, the diverging weight scale (RdBu reversed:
// positive red, negative blue, 0 near white, symmetric domain [-max|w|, max|w|]) as a 256-entry PNG palette shared by
// tiles, cells and the legend, and the grey digit palette.

import * as Plot from '@observablehq/plot';
import { asSvg } from './figure.js';
import { pngDataUrl } from './png.js';

/** The highlighted bar (the predicted class) and a curve's main line. */
export const ACCENT_COLOR = '#1f5fa8';
/** The other bars beside an ACCENT_COLOR one. */
export const ACCENT_LIGHT_COLOR = '#a9c4e4';
/** Mistakes: frames and labels of wrong predictions, the outline of the true class's bar. */
export const MISTAKE_COLOR = '#d62728';
/** Signed values drawn as bars: positive red, negative blue, from the RdBu scheme of the weight colours. */
export const POSITIVE_COLOR = '#b2182b';
export const NEGATIVE_COLOR = '#2166ac';

/** Diverging colour levels; odd, so a weight of exactly 0 gets the middle level. */
export const LEVELS = 253;
/** Palette index of gaps between tiles (fully transparent). */
export const GAP_INDEX = 253;
/** Palette index of NaN / ±Infinity weights (black). */
export const NON_FINITE_INDEX = 254;

function parseColor(color: string): [number, number, number] {
  const rgb = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color);
  if (rgb) return [+rgb[1], +rgb[2], +rgb[3]];
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const n = parseInt(hex[1], 16);
    return [n >> 16, (n >> 8) & 255, n & 255];
  }
  throw new Error(`internal: unexpected colour ${color}`);
}

let diverging: { palette: Uint8Array; alpha: Uint8Array; css: string[] } | undefined;

/** The diverging palette: LEVELS colours from -1 (blue) to +1 (red), then gap (transparent) and non-finite (black). */
export function divergingPalette(): { palette: Uint8Array; alpha: Uint8Array; css: string[] } {
  if (diverging) return diverging;
  const scale = Plot.scale({ color: { type: 'diverging', scheme: 'RdBu', reverse: true, domain: [-1, 1] } });
  const palette = new Uint8Array(255 * 3);
  const css: string[] = [];
  for (let k = 0; k < LEVELS; k++) {
    const [r, g, b] = parseColor(String(scale.apply(-1 + (2 * k) / (LEVELS - 1))));
    palette.set([r, g, b], k * 3);
    css.push(`rgb(${r},${g},${b})`);
  }
  palette.set([255, 255, 255], GAP_INDEX * 3);
  palette.set([0, 0, 0], NON_FINITE_INDEX * 3);
  const alpha = new Uint8Array(255).fill(255);
  alpha[GAP_INDEX] = 0;
  diverging = { palette, alpha, css };
  return diverging;
}

/**
 * The diverging palette for an overlay: the same LEVELS colours, each translucent in proportion to its distance from 0
 * (alpha = opacity * |level value|, so 0 is fully transparent and ±maxAbs has `opacity`); gaps transparent, non-finite
 * black and opaque.
 */
export function overlayPalette(opacity: number): { palette: Uint8Array; alpha: Uint8Array } {
  const { palette } = divergingPalette();
  const alpha = new Uint8Array(255);
  for (let k = 0; k < LEVELS; k++) alpha[k] = Math.round(255 * opacity * Math.abs((2 * k) / (LEVELS - 1) - 1));
  alpha[GAP_INDEX] = 0;
  alpha[NON_FINITE_INDEX] = 255;
  return { palette, alpha };
}

/** Palette index of `value` on the symmetric domain [-maxAbs, maxAbs] (clamped). */
export function divergingIndex(value: number, maxAbs: number): number {
  if (!Number.isFinite(value)) return NON_FINITE_INDEX;
  const t = Math.max(-1, Math.min(1, value / maxAbs));
  return Math.round(((t + 1) / 2) * (LEVELS - 1));
}

/** CSS colour of `value` on the same quantised scale as the tiles. */
export function divergingColor(value: number, maxAbs: number): string {
  const index = divergingIndex(value, maxAbs);
  return index === NON_FINITE_INDEX ? 'black' : divergingPalette().css[index];
}

/** Share of |values| below the default colour limit: the top 0.5% are clamped to the darkest colours. */
export const CLIP_QUANTILE = 0.995;

/** Below this many values (e.g. a bias vector) there is no tail to clip: the colour limit is the maximum. */
export const MIN_CLIP_COUNT = 1000;

export interface SymmetricExtent {
  /**
   * The colour limit: the CLIP_QUANTILE quantile of |value| over the finite values; the maximum when there are fewer
   * than MIN_CLIP_COUNT values or the quantile is 0; 1 if all are 0.
   */
  maxAbs: number;
  /** The largest finite |value|. */
  max: number;
  nonFinite: number;
}

/**
 * The symmetric colour domain [-maxAbs, maxAbs] for values[start, end) (or the listed ranges). A trained layer's
 * weights are heavy-tailed (fc1 of a 97% MLP: max |w| 0.36, 99.5th percentile 0.11), so scaling to the maximum would
 * leave almost every tile pale; the few weights beyond the 99.5th percentile are drawn at full colour instead.
 * With `clip` false, maxAbs is the maximum (for callers that fix the limit and only want max and nonFinite).
 */
export function symmetricExtent(
  values: ArrayLike<number>,
  ranges: [number, number][] = [[0, values.length]],
  clip = true,
): SymmetricExtent {
  let count = 0;
  for (const [start, end] of ranges) count += end - start;
  // Without clip (the caller fixes the colour limit) only max and nonFinite are wanted: no copy, no quickselect.
  const magnitudes = new Float32Array(clip ? count : 0);
  let n = 0;
  let nonFinite = 0;
  let max = 0;
  for (const [start, end] of ranges)
    for (let i = start; i < end; i++) {
      const v = values[i];
      if (Number.isFinite(v)) {
        const a = Math.abs(v);
        if (clip) magnitudes[n++] = a;
        if (a > max) max = a;
      } else nonFinite++;
    }
  if (max === 0) return { maxAbs: 1, max, nonFinite };
  if (!clip) return { maxAbs: max, max, nonFinite };
  if (n < MIN_CLIP_COUNT) return { maxAbs: max, max, nonFinite };
  const quantile = select(magnitudes.subarray(0, n), Math.floor(CLIP_QUANTILE * (n - 1)));
  return { maxAbs: quantile > 0 ? quantile : max, max, nonFinite };
}

/** The k-th smallest value (0-based) by quickselect, in O(n) on average; reorders `values`. */
export function select(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}

/** Grey digit palette: index 0..254 = intensity (0 paper white, 254 ink black), 255 = transparent gap. */
export const DIGIT_GAP_INDEX = 255;
/** The grey of full ink under an attribution overlay: light enough for the overlay's colours to show over it. */
export const OVERLAY_INK = 150;
const greys = new Map<number, { palette: Uint8Array; alpha: Uint8Array }>();
/** The digit palette from white paper to `ink` (0 black, the default; OVERLAY_INK under an overlay). */
export function greyPalette(ink = 0): { palette: Uint8Array; alpha: Uint8Array } {
  const cached = greys.get(ink);
  if (cached) return cached;
  const palette = new Uint8Array(256 * 3);
  for (let k = 0; k < 255; k++) palette.fill(255 - Math.round((k * (255 - ink)) / 254), k * 3, k * 3 + 3);
  palette.fill(255, 255 * 3);
  const alpha = new Uint8Array(256).fill(255);
  alpha[DIGIT_GAP_INDEX] = 0;
  greys.set(ink, { palette, alpha });
  return greys.get(ink)!;
}

/** A horizontal colour ramp for the diverging scale, drawn with the same palette as the tiles. */
export function divergingLegend(
  document: Document,
  maxAbs: number,
  options: {
    label?: string;
    marginLeft?: number;
    /** Width of the figure it sits on; the ramp is at most 240 px. */
    width?: number;
    /** Largest |value| drawn; when above maxAbs the legend says that values beyond ±maxAbs are clamped. */
    max?: number;
  },
): SVGSVGElement {
  const marginLeft = Math.max(options.marginLeft ?? 20, 20);
  const width = options.width ?? 640;
  const rampWidth = Math.max(100, Math.min(240, width - marginLeft - 30));
  // The note goes right of the ramp, when the figure has room for it.
  const noteWidth = 150;
  const withNote = width - marginLeft - rampWidth >= noteWidth + 10;
  const clamped = options.max !== undefined && options.max > maxAbs;
  const note = `negative: blue\npositive: red${clamped ? `\n|value| > ${formatLimit(maxAbs)}: darkest` : ''}`;
  const { palette, alpha } = divergingPalette();
  const indices = new Uint8Array(LEVELS);
  for (let k = 0; k < LEVELS; k++) indices[k] = k;
  const src = pngDataUrl({
    width: LEVELS,
    height: 1,
    indices,
    palette: palette.subarray(0, LEVELS * 3),
    alpha: alpha.subarray(0, LEVELS),
  });
  const marginRight = withNote ? noteWidth + 10 : 30;
  return asSvg(
    Plot.plot({
      document,
      width: marginLeft + rampWidth + marginRight,
      height: 50,
      marginLeft,
      marginRight,
      marginTop: 18,
      marginBottom: 20,
      x: { domain: [-maxAbs, maxAbs], ticks: legendTicks(maxAbs, rampWidth), tickSize: 4, label: null },
      y: { domain: [0, 1], axis: null },
      marks: [
        Plot.image([0], {
          x: 0,
          y: 0.5,
          width: rampWidth,
          height: 12,
          src,
          preserveAspectRatio: 'none',
        }),
        Plot.text([options.label ?? 'weight'], {
          frameAnchor: 'top-left',
          dy: -16,
          textAnchor: 'start',
          fontWeight: 'bold',
        }),
        withNote
          ? Plot.text([note], {
              frameAnchor: 'right',
              dx: 12,
              dy: clamped ? 6 : 4,
              textAnchor: 'start',
              lineHeight: 1.1,
              fill: '#555',
            })
          : null,
      ],
    }),
  );
}

/**
 * A tick every ~55 px; a narrow ramp (under 165 px, e.g. beside a 28x28 map) gets -t, 0, t with t = maxAbs rounded
 * down to one significant digit, so both signs stay labelled and the labels do not collide.
 */
function legendTicks(maxAbs: number, rampWidth: number): number | number[] {
  const count = Math.floor(rampWidth / 55);
  if (count >= 3) return count;
  const unit = 10 ** Math.floor(Math.log10(maxAbs));
  const t = +(Math.floor(maxAbs / unit) * unit).toPrecision(1);
  return [-t, 0, t];
}

function formatLimit(value: number): string {
  return String(+value.toPrecision(2));
}
