// Real values behind the figures: decoded tile pixels and rendered colours at known weights, cell colours, hand-made
// confusion counts, mistake frames, bar heights, attribution maps and overlays (colours, opacity, symmetric domain,
// text alternatives), PNG output size, standalone SVG, and the error messages.

import * as Plot from '@observablehq/plot';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  attributionMap,
  attributionOverlay,
  attributionSummary,
  changedUnits,
  confusionCounts,
  confusionMatrix,
  digitImage,
  heatmap,
  heatmapImage,
  logitBars,
  lossCurve,
  predictionGrid,
  predictionGridImage,
  pngDataUrl,
  probabilityBars,
  signedBars,
  VizError,
  weightDelta,
  weightTiles,
  weightTilesImage,
  explanation,
} from '../src/index.js';
import { warnings } from '../src/errors.js';
import { divergingIndex, divergingPalette, LEVELS, OVERLAY_INK, select, symmetricExtent } from '../src/color.js';
import { createDocument, svgToPng, toSvgString } from '../src/node.js';
import { decodePng, indexedRgb, pngFromDataUrl, type DecodedPng } from './png-decode.js';
import { mulberry32, seededDigits, seededPredictions, seededWeights, softmax } from './seeded.js';

// ColorBrewer RdBu end points (#67001f, #053061): reversed, so positive is dark red and negative dark blue.
const DARK_RED: [number, number, number] = [103, 0, 31];
const DARK_BLUE: [number, number, number] = [5, 48, 97];

const document = createDocument();

function images(svg: Element): Element[] {
  return [...svg.querySelectorAll('image')];
}

/** Sum of translate(x, y) on the element and its ancestors (Plot positions marks with translates). */
function origin(element: Element): [number, number] {
  let x = 0;
  let y = 0;
  for (let e: Element | null = element; e; e = e.parentElement) {
    const match = /translate\(([-\d.]+),\s*([-\d.]+)\)/.exec(e.getAttribute('transform') ?? '');
    if (match) {
      x += +match[1];
      y += +match[2];
    }
  }
  return [x, y];
}

/** Screen position of the centre of pixel (column c, row r) of an <image>, given its decoded PNG. */
function screenOf(image: Element, png: DecodedPng, c: number, r: number): [number, number] {
  const [ox, oy] = origin(image);
  const x = ox + +image.getAttribute('x')! + ((c + 0.5) * +image.getAttribute('width')!) / png.width;
  const y = oy + +image.getAttribute('y')! + ((r + 0.5) * +image.getAttribute('height')!) / png.height;
  return [x, y];
}

function rgbaAt(png: DecodedPng, x: number, y: number): number[] {
  const i = (Math.floor(y) * png.width + Math.floor(x)) * 4;
  return [...png.data.subarray(i, i + 4)];
}

function expectClose(actual: number[], expected: number[], tolerance: number, what: string): void {
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i] - expected[i]), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

function expectVizError(f: () => unknown, code: string, message: string, hint?: string): void {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(VizError);
    expect((error as VizError).code).toBe(code);
    expect((error as VizError).message).toBe(message);
    expect((error as VizError).hint).toBe(hint);
    return;
  }
  throw new Error(`expected ${code}: ${message}`);
}

afterEach(() => vi.restoreAllMocks());

describe('weightTiles', () => {
  const W = new Float32Array(2 * 784);
  W[3 * 28 + 5] = 0.8; // unit 0, row 3, column 5: the largest weight
  W[10 * 28 + 20] = -0.8; // unit 0, row 10, column 20: the most negative
  W[784 + 0] = 0.4; // unit 1, row 0, column 0: half way up the red side

  it("encodes each unit's weights as a 28x28 tile: positive red, negative blue, 0 near white, gaps transparent", () => {
    const svg = weightTiles(W, { out: 2, document });
    const [legend, grid] = images(svg).map((image) => pngFromDataUrl(image.getAttribute('href')!));
    expect(legend.width).toBeGreaterThan(100);
    expect(grid.width).toBe(2 * 29); // two 28-pixel tiles, each followed by a 1-pixel gap
    expect(grid.height).toBeGreaterThan(29); // one row plus the band for the "#k" labels
    expect(indexedRgb(grid, 5, 3)).toEqual(DARK_RED);
    expect(indexedRgb(grid, 20, 10)).toEqual(DARK_BLUE);
    const zero = indexedRgb(grid, 0, 0);
    expect(Math.min(...zero)).toBeGreaterThan(230);
    const half = indexedRgb(grid, 29 + 0, 0);
    expect(half[0]).toBeGreaterThan(half[2]);
    expect(half[0]).toBeGreaterThan(DARK_RED[0]); // lighter than the extreme
    const gapIndex = grid.data[0 * grid.width + 28];
    expect(grid.alpha![gapIndex]).toBe(0);
    // Every pixel of tile 0 except the two set weights has the zero colour.
    let zeros = 0;
    for (let r = 0; r < 28; r++)
      for (let c = 0; c < 28; c++) if (indexedRgb(grid, c, r).join() === zero.join()) zeros++;
    expect(zeros).toBe(784 - 2);
  });

  it('renders (resvg) the positive and negative colours where those weights are', () => {
    const svg = weightTiles(W, { out: 2, document, width: 400 });
    const grid = images(svg)[1];
    const gridPng = pngFromDataUrl(grid.getAttribute('href')!);
    const rendered = decodePng(svgToPng(toSvgString(svg)));
    expectClose(rgbaAt(rendered, ...screenOf(grid, gridPng, 5, 3)), [...DARK_RED, 255], 6, 'positive weight');
    expectClose(rgbaAt(rendered, ...screenOf(grid, gridPng, 20, 10)), [...DARK_BLUE, 255], 6, 'negative weight');
    expect(Math.min(...rgbaAt(rendered, ...screenOf(grid, gridPng, 14, 14)).slice(0, 3))).toBeGreaterThan(225);
  });

  it('shows a subset in the given order, labelled with unit numbers, and a fixed maxAbs clamps', () => {
    const svg = weightTiles(W, { out: 2, units: [1, 0], maxAbs: 0.4, document });
    const grid = pngFromDataUrl(images(svg)[1].getAttribute('href')!);
    expect(indexedRgb(grid, 0, 0)).toEqual(DARK_RED); // unit 1 first; 0.4 is now the top of the scale
    expect(indexedRgb(grid, 29 + 5, 3)).toEqual(DARK_RED); // 0.8 clamps
    expect([...svg.querySelectorAll('text')].map((t) => t.textContent)).toEqual(expect.arrayContaining(['#1', '#0']));
    // Hit areas carry the unit number, for the web app's hover and click-to-enlarge.
    expect([...svg.querySelectorAll('[data-unit]')].map((e) => e.getAttribute('data-unit'))).toEqual(['1', '0']);
  });

  it('draws non-finite weights black and warns once', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bad = new Float32Array(784);
    bad[0] = NaN;
    bad[1] = 1;
    const before = warnings();
    const grid = pngFromDataUrl(images(weightTiles(bad, { out: 1, document }))[1].getAttribute('href')!);
    weightTiles(bad, { out: 1, document });
    expect(indexedRgb(grid, 0, 0)).toEqual([0, 0, 0]);
    expect(warnings() - before).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('rejects bad input with short specific messages', () => {
    expectVizError(
      () => weightTiles(new Float32Array(1000), { out: 512, document }),
      'VIZ_INVALID_INPUT',
      'invalid matrix: expected rows*cols = 401408 values, got 1000',
    );
    expectVizError(
      () => weightTiles(new Float32Array(700), { out: 1, in: 700, document }),
      'VIZ_INVALID_OPTION',
      'invalid in: 700 is not a square number of pixels (expected 784 = 28x28)',
    );
    expectVizError(
      () => weightTiles(W, { out: 2, units: [2], document }),
      'VIZ_INVALID_OPTION',
      'invalid unit: 2 (expected an integer in [0, 2))',
    );
    expectVizError(
      () => weightTiles(W, { out: 2 }),
      'VIZ_NO_DOCUMENT',
      "no document: in Node pass { document: createDocument() } from '@mnist/viz/node'",
      "in Node pass { document: createDocument() } from '@mnist/viz/node'",
    );
  });
});

describe('colour limit', () => {
  it('quickselect finds the k-th smallest like a full sort (seeded, with duplicates)', () => {
    const random = mulberry32(71);
    for (const n of [1, 2, 3, 10, 1000, 4099])
      for (let trial = 0; trial < 20; trial++) {
        const values = Float32Array.from({ length: n }, () => Math.floor(random() * 9) / 4);
        const sorted = values.slice().sort();
        const k = Math.floor(random() * n);
        expect(select(values.slice(), k), `n=${n} k=${k}`).toBe(sorted[k]);
      }
  });

  it('is the 99.5th percentile of |value| from 1000 values on, the maximum below', () => {
    const values = Float32Array.from({ length: 2000 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
    expect(symmetricExtent(values)).toEqual({ maxAbs: Math.floor(0.995 * 1999) + 1, max: 2000, nonFinite: 0 });
    expect(symmetricExtent(values.subarray(0, 999)).maxAbs).toBe(999);
    expect(symmetricExtent(new Float32Array(5)).maxAbs).toBe(1);
  });
});

describe('heatmap', () => {
  it('colours small matrices as cells: max red, min blue, 0 near white, with (row, col) titles', () => {
    const svg = heatmap(new Float32Array([1, -1, 0, 0.5, -0.5, 0.25]), { rows: 2, cols: 3, document });
    const cells = [...svg.querySelectorAll('[aria-label="cell"] rect')];
    expect(cells).toHaveLength(6);
    expect(cells[0].getAttribute('fill')).toBe(`rgb(${DARK_RED})`);
    expect(cells[1].getAttribute('fill')).toBe(`rgb(${DARK_BLUE})`);
    const zero = /rgb\((\d+),(\d+),(\d+)\)/.exec(cells[2].getAttribute('fill')!)!.slice(1).map(Number);
    expect(Math.min(...zero)).toBeGreaterThan(230);
    expect(cells[3].querySelector('title')?.textContent).toBe('(1, 0): 0.5');
  });

  it('draws large matrices (512x784 class) as one PNG with one pixel per value', () => {
    const rows = 40;
    const cols = 70;
    const matrix = seededWeights(21, rows * cols, 1);
    matrix[7 * cols + 11] = 2;
    matrix[30 * cols + 60] = -2;
    const svg = heatmap(matrix, { rows, cols, document });
    expect(svg.querySelectorAll('[aria-label="cell"]')).toHaveLength(0);
    const png = pngFromDataUrl(images(svg)[1].getAttribute('href')!);
    expect([png.width, png.height]).toEqual([cols, rows]);
    expect(indexedRgb(png, 11, 7)).toEqual(DARK_RED);
    expect(indexedRgb(png, 60, 30)).toEqual(DARK_BLUE);
    // Palette index = the value's level on [-q, q], q = the 99.5th percentile of |value| (computed here in float64).
    const sorted = Array.from(matrix, Math.abs).sort((a, b) => a - b);
    const q = sorted[Math.floor(0.995 * (sorted.length - 1))];
    expect(q).toBeLessThan(1);
    for (let i = 0; i < rows * cols; i++) {
      const level = Math.round(((Math.max(-1, Math.min(1, matrix[i] / q)) + 1) / 2) * 252);
      if (png.data[i] !== level)
        throw new Error(`value ${matrix[i]} at ${i}: palette index ${png.data[i]}, expected ${level}`);
    }
    expect(svg.textContent).toContain(`|value| > ${+q.toPrecision(2)}: darkest`);
  });

  it('accepts a bias vector (rows = 1)', () => {
    const svg = heatmap(seededWeights(22, 512), { rows: 1, cols: 512, document, label: 'fc1.bias' });
    expect(pngFromDataUrl(images(svg)[1].getAttribute('href')!).width).toBe(512);
  });

  it('rejects a size mismatch', () => {
    expectVizError(
      () => heatmap(new Float32Array(1000), { rows: 512, cols: 784, document }),
      'VIZ_INVALID_INPUT',
      'invalid matrix: expected rows*cols = 401408 values, got 1000',
    );
    expectVizError(
      () => heatmap(new Float32Array(4), { rows: 0, cols: 4, document }),
      'VIZ_INVALID_OPTION',
      'invalid rows: 0 (expected a positive integer)',
    );
  });
});

describe('confusionMatrix', () => {
  // Hand count: (true, predicted) = (0,0) x2, (1,2), (2,2) x2, (2,1), (1,1).
  const labels = [0, 1, 2, 2, 1, 0, 2];
  const predictions = [0, 2, 2, 1, 1, 0, 2];

  it('counts each (true, predicted) pair', () => {
    expect([...confusionCounts(labels, predictions, 3)]).toEqual([2, 0, 0, 0, 1, 1, 0, 1, 2]);
  });

  it('prints the non-zero counts row by row and the accuracy', () => {
    const svg = confusionMatrix(labels, predictions, { classes: 3, document });
    const texts = [...svg.querySelectorAll('[aria-label="text"] text')].map((t) => t.textContent);
    expect(texts).toEqual(['2', '1', '1', '1', '2']);
    expect(svg.textContent).toContain('accuracy 71.43% (5 of 7)');
  });

  it('sums to n with the matching pairs on the diagonal (seeded 10 classes)', () => {
    const { labels, predictions } = seededPredictions(31, 1000, 0.1);
    const counts = confusionCounts(labels, predictions);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    let trace = 0;
    for (let k = 0; k < 10; k++) trace += counts[k * 11];
    expect(trace).toBe(labels.filter((label, i) => label === predictions[i]).length);
  });

  it('rejects out-of-range classes and length mismatches', () => {
    expectVizError(
      () => confusionMatrix([0, 10], [0, 1], { document }),
      'VIZ_INVALID_INPUT',
      'invalid label at 1: 10 (expected an integer in [0, 10); pass classes for more classes)',
    );
    expectVizError(
      () => confusionMatrix([0, 1], [0], { document }),
      'VIZ_INVALID_INPUT',
      'invalid predictions: expected 2 (one per label), got 1',
    );
  });
});

describe('predictionGrid', () => {
  const n = 8;
  const pixels = seededDigits(41, n);
  const { labels, predictions } = seededPredictions(41, n, 0.4);
  const mistakes = labels.map((label, i) => (label !== predictions[i] ? i : -1)).filter((i) => i >= 0);

  it("frames every mistake in red and labels it 'prediction (true)'", () => {
    expect(mistakes.length).toBeGreaterThan(0);
    const svg = predictionGrid(pixels, labels, predictions, { document, columns: 4 });
    const frames = [...svg.querySelectorAll('rect[stroke="#d62728"], [stroke="#d62728"] rect')];
    expect(frames).toHaveLength(mistakes.length);
    const red = [...svg.querySelectorAll('[fill="#d62728"] text')].map((t) => t.textContent);
    expect(red).toEqual(mistakes.map((i) => `${predictions[i]} (${labels[i]})`));
    expect(svg.textContent).toContain(`${n - mistakes.length} of ${n} correct`);
    const indexed = predictionGrid(pixels, labels, predictions, { document, indices: labels.map((_, i) => 100 + i) });
    expect([...indexed.querySelectorAll('[data-index]')].map((e) => e.getAttribute('data-index'))).toEqual(
      labels.map((_, i) => String(100 + i)),
    );
  });

  it('decodes back to the input digits (ink black, paper white)', () => {
    const svg = predictionGrid(pixels, labels, predictions, { document, columns: 4 });
    const png = pngFromDataUrl(images(svg)[0].getAttribute('href')!);
    const cellHeight = png.height / 2;
    for (let k = 0; k < n; k++)
      for (let r = 0; r < 28; r++)
        for (let c = 0; c < 28; c++) {
          const x = (k % 4) * 30 + c;
          const y = Math.floor(k / 4) * cellHeight + r;
          const expected = pixels[k * 784 + r * 28 + c] === 255 ? 0 : 255;
          if (indexedRgb(png, x, y)[0] !== expected)
            throw new Error(`digit ${k} pixel (${r}, ${c}): ${indexedRgb(png, x, y)}`);
        }
  });

  it('rejects mismatched lengths', () => {
    expectVizError(
      () => predictionGrid(pixels, labels, predictions.slice(1), { document }),
      'VIZ_INVALID_INPUT',
      `invalid predictions: expected ${n} (one per label), got ${n - 1}`,
    );
    expectVizError(
      () => predictionGrid(pixels.subarray(1), labels, predictions, { document }),
      'VIZ_INVALID_INPUT',
      `invalid images: expected ${n} images x 784 = ${n * 784} values, got ${n * 784 - 1}`,
    );
  });
});

describe('pre-encoded images (the png option)', () => {
  // The web app encodes the big figures' PNGs in a worker: the figure drawn from that PNG must be the same figure.
  const W = seededWeights(61, 40 * 784);
  const M = seededWeights(62, 40 * 70);
  const pixels = seededDigits(63, 8);
  const { labels, predictions } = seededPredictions(63, 8, 0.4);

  it('weightTiles, heatmap and predictionGrid draw the same figure from their image encoded apart', () => {
    const tiles = { out: 40, columns: 8, width: 400 };
    const image = weightTilesImage(W, tiles);
    const encoded = { png: pngDataUrl(image), maxAbs: image.maxAbs };
    expect(weightTiles(W, { ...tiles, document, ...encoded }).outerHTML).toBe(
      weightTiles(W, { ...tiles, document }).outerHTML,
    );
    const large = { rows: 40, cols: 70, width: 400, label: 'fc.weight' };
    const map = heatmapImage(M, large)!;
    expect(heatmap(M, { ...large, document, png: pngDataUrl(map), maxAbs: map.maxAbs }).outerHTML).toBe(
      heatmap(M, { ...large, document }).outerHTML,
    );
    const grid = { columns: 4, indices: labels.map((_, i) => 100 + i) };
    const png = pngDataUrl(predictionGridImage(pixels, labels, predictions, grid));
    expect(predictionGrid(pixels, labels, predictions, { ...grid, document, png }).outerHTML).toBe(
      predictionGrid(pixels, labels, predictions, { ...grid, document }).outerHTML,
    );
  });

  it('the images need no document; a small heatmap has none; hit areas can be left out; a bad png is refused', () => {
    // 9 columns (ceil(sqrt(2 * 40))) x 5 rows of 28x28 tiles, each with a 1-pixel gap
    const image = weightTilesImage(W, { out: 40, tileLabels: false });
    expect([image.width, image.height, image.indices.length]).toEqual([9 * 29, 5 * 29, 9 * 29 * 5 * 29]);
    expect(heatmapImage(M.subarray(0, 6 * 9), { rows: 6, cols: 9 })).toBeNull();
    // without hit areas (a page with its own grid over the tiles): the same tiles, no per-tile rect or title
    const bare = weightTiles(W, { out: 40, document, hitAreas: false });
    expect(bare.querySelectorAll('[data-unit]')).toHaveLength(0);
    expect(bare.querySelector('image')!.getAttribute('href')).toBe(
      weightTiles(W, { out: 40, document }).querySelector('image')!.getAttribute('href'),
    );
    expectVizError(
      () => weightTiles(W, { out: 40, document, png: 'data:image/jpeg;base64,AAAA' }),
      'VIZ_INVALID_OPTION',
      "invalid png: expected a data:image/png;base64 URL (pngDataUrl of the figure's image)",
    );
  });
});

describe('probabilityBars', () => {
  it('draws bar heights proportional to the probabilities', () => {
    const random = mulberry32(51);
    const p = softmax(Array.from({ length: 10 }, () => random() * 4));
    const svg = probabilityBars(p, { document });
    const bars = [...svg.querySelectorAll('[aria-label="bar"]')[0].querySelectorAll('rect')];
    expect(bars).toHaveLength(10);
    const best = p.indexOf(Math.max(...p));
    const heights = bars.map((bar) => +bar.getAttribute('height')!);
    for (let i = 0; i < 10; i++) expect(heights[i] / heights[best]).toBeCloseTo(p[i] / p[best], 2);
    expect(bars[best].getAttribute('fill')).not.toBe(bars[(best + 1) % 10].getAttribute('fill'));
  });

  it('rejects logits', () => {
    expectVizError(
      () => probabilityBars([-1, 2, 0.5], { document }),
      'VIZ_INVALID_INPUT',
      'invalid probabilities: value at 0 is -1 (expected 0..1; pass softmax outputs, not logits)',
    );
  });
});

/** The rects of a figure's bar mark, in data order. */
function barRects(svg: Element): Element[] {
  return [...svg.querySelector('[aria-label="bar"]')!.querySelectorAll('rect')];
}

/** Screen y (vertical bars) or x (horizontal bars) of the zero rule. */
function zeroAt(svg: Element, axis: 'x' | 'y'): number {
  const rule = svg.querySelector(`[aria-label="rule"] line`)!;
  return +rule.getAttribute(`${axis}1`)!;
}

describe('logitBars', () => {
  it('draws each logit from 0 with its sign and size, the highest dark and the others light', () => {
    const logits = [-2, 0.5, 6, 1, -0.25, 3, 0, -4, 2, 1.5];
    const svg = logitBars(logits, { document });
    const bars = barRects(svg);
    expect(bars).toHaveLength(10);
    const zero = zeroAt(svg, 'y');
    const top = bars.map((bar) => +bar.getAttribute('y')!);
    const height = bars.map((bar) => +bar.getAttribute('height')!);
    for (let i = 0; i < 10; i++) {
      expect(height[i] / height[2], `logit ${i}`).toBeCloseTo(Math.abs(logits[i]) / 6, 2);
      // positive bars end at the zero line, negative ones start there (screen y grows downwards)
      if (logits[i] > 0) expect(top[i] + height[i]).toBeCloseTo(zero, 1);
      if (logits[i] < 0) expect(top[i]).toBeCloseTo(zero, 1);
    }
    expect(bars.map((bar) => bar.getAttribute('fill'))).toEqual(
      logits.map((_, i) => (i === 2 ? '#1f5fa8' : '#a9c4e4')),
    );
    expect([...svg.querySelectorAll('[aria-label="bar"] title')].map((t) => t.textContent)[7]).toBe('7: -4.000');
  });

  it('leaves out non-finite logits with one warning, and rejects an empty array', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const before = warnings();
    expect(barRects(logitBars([1, NaN, 2], { document }))).toHaveLength(2);
    expect(warnings() - before).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
    expectVizError(
      () => logitBars([], { document }),
      'VIZ_INVALID_INPUT',
      'invalid logits: empty (expected one value per class)',
    );
  });
});

describe('signedBars', () => {
  it('draws positive values red and negative ones blue, lengths proportional to |value|', () => {
    const values = [0.3, -0.6, 0.15, 0, -0.05];
    for (const horizontal of [false, true]) {
      const svg = signedBars(values, { document, horizontal, names: ['a', 'b', 'c', 'd', 'e'] });
      const bars = barRects(svg);
      const length = bars.map((bar) => +bar.getAttribute(horizontal ? 'width' : 'height')!);
      for (let i = 0; i < values.length; i++)
        expect(length[i] / length[1], `${horizontal} ${i}`).toBeCloseTo(Math.abs(values[i]) / 0.6, 2);
      expect(bars.map((bar) => bar.getAttribute('fill'))).toEqual([
        '#b2182b',
        '#2166ac',
        '#b2182b',
        '#b2182b',
        '#2166ac',
      ]);
      const start = bars.map((bar) => +bar.getAttribute(horizontal ? 'x' : 'y')!);
      const zero = zeroAt(svg, horizontal ? 'x' : 'y');
      // negative bars end at zero when horizontal (x grows rightwards), start at zero when vertical (y grows down)
      expect(horizontal ? start[1] + length[1] : start[1]).toBeCloseTo(zero, 1);
      expect(horizontal ? start[0] : start[0] + length[0]).toBeCloseTo(zero, 1);
      expect(svg.textContent).toContain('e');
    }
  });

  it('rejects names that do not match the values', () => {
    expectVizError(
      () => signedBars([1, 2], { document, names: ['a'] }),
      'VIZ_INVALID_OPTION',
      'invalid names: expected 2 (one per value), got 1',
    );
    expectVizError(
      () => signedBars([], { document }),
      'VIZ_INVALID_INPUT',
      'invalid values: empty (expected at least one value)',
    );
  });
});

describe('lossCurve', () => {
  it('draws one loss point per history entry and an accuracy panel only when there is accuracy', () => {
    const history = Array.from({ length: 12 }, (_, i) => ({ step: i, loss: 1 / (i + 1) }));
    const lossOnly = lossCurve(history, { document });
    const path = lossOnly.querySelector('[aria-label="line"] path')!.getAttribute('d')!;
    expect(path.match(/[ML]/g)).toHaveLength(12);
    expect(lossOnly.textContent).not.toContain('accuracy');
    const both = lossCurve([...history, { step: 12, loss: 0.05, accuracy: 0.97, epoch: 1 }], { document });
    expect(both.textContent).toContain('accuracy');
    expect(both.textContent).toContain('97.00%');
  });

  it('rejects an empty history and bad accuracy', () => {
    expectVizError(
      () => lossCurve([], { document }),
      'VIZ_INVALID_INPUT',
      'invalid history: empty (expected at least one { step, loss })',
    );
    expectVizError(
      () => lossCurve([{ step: 0, loss: 1, accuracy: 97 }], { document }),
      'VIZ_INVALID_INPUT',
      'invalid history at 0: accuracy 97 (expected 0..1)',
    );
  });
});

describe('node output', () => {
  it("svgToPng writes a PNG of the figure's size, or of the asked width", () => {
    const svg = digitImage(seededDigits(61, 1), { document, width: 100 });
    const text = toSvgString(svg);
    const png = svgToPng(text);
    const decoded = decodePng(png);
    expect([decoded.width, decoded.height]).toEqual([100, 100]);
    const big = decodePng(svgToPng(text, { width: 300 }));
    expect([big.width, big.height]).toEqual([300, 300]);
  });

  it('toSvgString gives a standalone SVG, also for a Plot <figure> with a title', () => {
    const figure = Plot.plot({
      document,
      title: 'Hello & bye',
      marks: [Plot.dot([1, 2, 3], { x: (d: number) => d, y: (d: number) => d })],
    });
    expect(figure.tagName.toLowerCase()).toBe('figure');
    const text = toSvgString(figure);
    expect(text.startsWith('<svg')).toBe(true);
    expect(text).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(text).toContain('Hello &amp; bye');
    expect(text).not.toContain('<figure');
    const png = decodePng(svgToPng(text));
    expect(png.width).toBe(640);
  });

  it('every figure is one <svg> even with a title', () => {
    const svg = weightTiles(seededWeights(62, 784), { out: 1, document, title: 'T', subtitle: 'S' });
    expect(svg.tagName.toLowerCase()).toBe('svg');
    expect(svg.querySelectorAll('svg')).toHaveLength(0);
    const png = decodePng(svgToPng(toSvgString(svg)));
    expect([png.width, png.height]).toEqual([+svg.getAttribute('width')!, +svg.getAttribute('height')!]);
  });
});

/** The palette colour of `value` on [-maxAbs, maxAbs], as the figures quantise it. */
function levelRgb(value: number, maxAbs: number): [number, number, number] {
  const { palette } = divergingPalette();
  const k = divergingIndex(value, maxAbs);
  return [palette[3 * k], palette[3 * k + 1], palette[3 * k + 2]];
}

function tickLabels(svg: Element): string[] {
  return [...svg.querySelectorAll('[aria-label="x-axis tick label"] text')].map((t) => t.textContent!);
}

describe('attributionMap', () => {
  // 28x28, all 0 except the most positive pixel (row 3, column 5) and the most negative one (row 10, column 20)
  const A = new Float32Array(784);
  A[3 * 28 + 5] = 0.5;
  A[10 * 28 + 20] = -0.1;

  it('draws the most positive pixel dark red, the negative one on the symmetric domain [-0.5, 0.5], 0 in the middle', () => {
    const svg = attributionMap(A, { document });
    const [ramp, map] = images(svg).map((image) => pngFromDataUrl(image.getAttribute('href')!));
    expect([map.width, map.height]).toEqual([28, 28]);
    expect(ramp.width).toBe(LEVELS);
    expect(indexedRgb(map, 5, 3)).toEqual(DARK_RED);
    // -0.1 on [-0.5, 0.5] is a light blue (a [min, max] domain would make it the darkest blue)
    const negative = indexedRgb(map, 20, 10);
    expect(negative).toEqual(levelRgb(-0.1, 0.5));
    expect(negative[2]).toBeGreaterThan(negative[0]);
    expect(negative).not.toEqual(DARK_BLUE);
    // zero is the middle level exactly, and every other pixel has it
    expect(map.data[0]).toBe((LEVELS - 1) / 2);
    expect([...map.data].filter((k) => k === (LEVELS - 1) / 2)).toHaveLength(784 - 2);
    // the legend is symmetric: ticks at -0.5 and 0.5 although the smallest value is -0.1
    expect(tickLabels(svg)).toEqual(expect.arrayContaining(['−0.5', '0.0', '0.5']));
  });

  it('clamps to a fixed maxAbs', () => {
    const map = pngFromDataUrl(images(attributionMap(A, { document, maxAbs: 0.25 }))[1].getAttribute('href')!);
    expect(indexedRgb(map, 5, 3)).toEqual(DARK_RED);
    expect(indexedRgb(map, 20, 10)).toEqual(levelRgb(-0.1, 0.25));
  });

  it('renders (resvg) those colours where the pixels are', () => {
    const svg = attributionMap(A, { document, width: 280 });
    const image = images(svg)[1];
    const png = pngFromDataUrl(image.getAttribute('href')!);
    const rendered = decodePng(svgToPng(toSvgString(svg)));
    expectClose(rgbaAt(rendered, ...screenOf(image, png, 5, 3)), [...DARK_RED, 255], 6, 'most positive pixel');
    expectClose(rgbaAt(rendered, ...screenOf(image, png, 20, 10)), [...levelRgb(-0.1, 0.5), 255], 6, 'negative pixel');
  });

  it('has a text alternative with the extremes and their positions', () => {
    const svg = attributionMap(A, { document, title: 'Saliency of 7' });
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.querySelector('title')?.textContent).toBe('Saliency of 7');
    const desc = svg.querySelector('desc')!.textContent!;
    expect(desc).toContain('28x28 attribution map on a diverging scale centred on 0');
    expect(desc).toContain('Most positive +0.5 at row 3, column 5; most negative -0.1 at row 10, column 20.');
    expect(attributionSummary(A)).toMatchObject({
      side: 28,
      max: { value: 0.5, index: 89, row: 3, column: 5 },
      min: { value: Math.fround(-0.1), index: 300, row: 10, column: 20 },
      positive: 0.5,
      negative: Math.fround(-0.1),
      nonFinite: 0,
    });
  });

  it('escapes its title and text alternative in the SVG text (valid XML: resvg parses it)', () => {
    const title = 'Why <b>7</b> & not "1"?';
    const text = toSvgString(attributionMap(A, { document, title }));
    expect(text).not.toContain('<b>');
    expect(text).toContain('<title>Why &lt;b&gt;7&lt;/b&gt; &amp; not "1"?</title>');
    expect(text).toContain('>Why &lt;b&gt;7&lt;/b&gt; &amp; not "1"?</text>');
    expect(decodePng(svgToPng(text)).width).toBe(240);
  });

  it('rejects a non-square attribution and a bad maxAbs', () => {
    expectVizError(
      () => attributionMap(new Float32Array(783), { document }),
      'VIZ_INVALID_INPUT',
      'invalid attribution: expected 28x28 = 784 values, got 783',
    );
    expectVizError(
      () => attributionMap(A, { document, maxAbs: 0 }),
      'VIZ_INVALID_OPTION',
      'invalid maxAbs: 0 (expected a positive number)',
    );
  });
});

describe('attributionOverlay', () => {
  const digit = seededDigits(81, 1);
  const A = new Float32Array(784);
  const ink = digit.indexOf(255);
  A[ink] = 0.4; // the most positive, on ink
  A[0] = -0.2; // on paper, half the colour limit

  it('draws the digit in grey and the attribution translucent in proportion to |value| (0 transparent)', () => {
    const svg = attributionOverlay(digit, A, { document, opacity: 0.8 });
    const [, under, over] = images(svg).map((image) => pngFromDataUrl(image.getAttribute('href')!));
    // the digit decodes back: ink in the overlay grey, paper white
    for (let i = 0; i < 784; i++)
      expect(indexedRgb(under, i % 28, Math.floor(i / 28))).toEqual(
        digit[i] ? Array(3).fill(OVERLAY_INK) : [255, 255, 255],
      );
    const alphaAt = (i: number) => over.alpha![over.data[i]];
    expect(indexedRgb(over, ink % 28, Math.floor(ink / 28))).toEqual(DARK_RED);
    expect(alphaAt(ink)).toBe(Math.round(0.8 * 255));
    const half = Math.abs((2 * divergingIndex(-0.2, 0.4)) / (LEVELS - 1) - 1); // 0.5, quantised
    expect(alphaAt(0)).toBe(Math.round(0.8 * 255 * half));
    expect(half).toBeCloseTo(0.5, 2);
    expect(alphaAt(1)).toBe(0);
  });

  it('renders (resvg) the colour over the ink as the blend, and the bare digit where the attribution is 0', () => {
    const svg = attributionOverlay(digit, A, { document, width: 280, opacity: 0.8 });
    const image = images(svg)[2];
    const png = pngFromDataUrl(image.getAttribute('href')!);
    const rendered = decodePng(svgToPng(toSvgString(svg)));
    const blend = DARK_RED.map((c) => 0.8 * c + 0.2 * OVERLAY_INK);
    expectClose(
      rgbaAt(rendered, ...screenOf(image, png, ink % 28, Math.floor(ink / 28))),
      [...blend, 255],
      6,
      'overlay on ink',
    );
    const bare = digit.findIndex((v, i) => v === 255 && A[i] === 0);
    expectClose(
      rgbaAt(rendered, ...screenOf(image, png, bare % 28, Math.floor(bare / 28))),
      [OVERLAY_INK, OVERLAY_INK, OVERLAY_INK, 255],
      3,
      'bare ink',
    );
  });

  it('rejects an attribution of another size than the image, and a bad opacity', () => {
    expectVizError(
      () => attributionOverlay(digit, new Float32Array(144), { document }),
      'VIZ_INVALID_INPUT',
      'invalid attribution: expected 784 values (one per pixel), got 144',
    );
    expectVizError(
      () => attributionOverlay(digit, A, { document, opacity: 0 }),
      'VIZ_INVALID_OPTION',
      'invalid opacity: 0 (expected a number in (0, 1])',
    );
  });
});

describe('weightDelta', () => {
  // 5 units of 784: unit 3 changed most, then unit 0, then unit 4; units 1 and 2 unchanged
  const delta = new Float32Array(5 * 784);
  delta[3 * 784 + 100] = 0.03; // the largest change: dark red in unit 3's tile
  delta[3 * 784 + 101] = -0.02;
  delta[0 * 784 + 5] = -0.02;
  delta[4 * 784 + 7] = 0.01;

  it('changedUnits lists the changed rows, largest L2 norm first', () => {
    const changes = changedUnits(delta, { out: 5 });
    expect(changes.map((c) => c.unit)).toEqual([3, 0, 4]);
    expect(changes[0].norm).toBeCloseTo(Math.hypot(0.03, 0.02), 7);
    expect(changedUnits(delta, { out: 5, top: 2 }).map((c) => c.unit)).toEqual([3, 0]);
  });

  it('draws the changed units as tiles in that order, red where a weight grew and blue where it shrank', () => {
    const svg = weightDelta(delta, { out: 5, document, title: 'ΔW1' });
    expect([...svg.querySelectorAll('[data-unit]')].map((e) => e.getAttribute('data-unit'))).toEqual(['3', '0', '4']);
    const grid = pngFromDataUrl(images(svg)[1].getAttribute('href')!);
    expect(indexedRgb(grid, 100 % 28, Math.floor(100 / 28))).toEqual(DARK_RED); // the first tile: unit 3
    expect(indexedRgb(grid, 101 % 28, Math.floor(101 / 28))).toEqual(levelRgb(-0.02, 0.03));
    expect(indexedRgb(grid, 29 + 5, 0)).toEqual(levelRgb(-0.02, 0.03)); // the second tile: unit 0
    expect(svg.textContent).toContain('3 of 5 units changed');
    expect(svg.querySelector('desc')!.textContent).toContain('#3 (0.0361), #0 (0.02), #4 (0.01)');
  });

  it('says so when no weight changed', () => {
    const svg = weightDelta(new Float32Array(2 * 784), { out: 2, document });
    expect(svg.textContent).toContain('no weight changed');
    expect([...svg.querySelectorAll('[data-unit]')].map((e) => e.getAttribute('data-unit'))).toEqual(['0']);
  });

  it('rejects a delta of the wrong size', () => {
    expectVizError(
      () => weightDelta(new Float32Array(100), { out: 2, document }),
      'VIZ_INVALID_INPUT',
      'invalid delta: expected out*in = 1568 values, got 100',
    );
  });
});

describe('explanation', () => {
  const digit = Float32Array.from(seededDigits(82, 1), (v) => v / 255);
  const A = Float32Array.from(digit, (v, i) => v * Math.sin(i));
  const probabilities = softmax([0, 0, 0, 0, 4, 0, 0, 0, 0, 2]);
  const flipped = softmax([0, 0, 0, 0, 2, 0, 0, 0, 0, 4]);
  const report = {
    pixels: digit,
    attribution: A,
    target: 4,
    probabilities,
    units: [
      { unit: 12, contribution: 1.5 },
      { unit: 3, contribution: -0.5 },
    ],
    counterfactual: { pixels: digit, probabilities: flipped },
  };

  it('holds the digit, the overlay, both probability charts and the units, with a text alternative', () => {
    const svg = explanation(report, { document, method: 'saliency' });
    expect(svg.querySelectorAll('svg')).toHaveLength(0);
    // legend ramp, input digit, digit under the overlay, overlay, counterfactual digit
    expect(images(svg)).toHaveLength(5);
    const bars = [...svg.querySelectorAll('[aria-label="bar"]')].map((g) => [...g.querySelectorAll('rect')]);
    expect(bars.map((group) => group.length)).toEqual([10, 2, 10]);
    expect(bars[1].map((bar) => bar.getAttribute('fill'))).toEqual(['#b2182b', '#2166ac']);
    const longest = bars[1].map((bar) => +bar.getAttribute('width')!);
    expect(longest[0] / longest[1]).toBeCloseTo(3, 2);
    const text = svg.textContent!;
    expect(probabilities[4]).toBeCloseTo(0.78, 2); // e^4 / (8 + e^4 + e^2)
    expect(text).toContain('predicted 4 (78%) · saliency for class 4');
    expect(text).toContain('counterfactual: predicted 9 (78%)');
    expect(svg.querySelector('title')!.textContent).toBe('explanation of class 4');
    const desc = svg.querySelector('desc')!.textContent!;
    expect(desc).toContain('The network predicts 4 (78%). Saliency for class 4 over the input digit (grey).');
    expect(desc).toContain('Hidden units and their contributions to 4: #12 +1.5, #3 -0.5.');
    expect(desc).toContain('The changed image is predicted 9 (78%).');
    // the overlay's attribution decodes to the report's values on the symmetric scale
    const over = pngFromDataUrl(images(svg)[3].getAttribute('href')!);
    const summary = attributionSummary(A);
    const { max } = summary;
    expect(indexedRgb(over, max.column, max.row)).toEqual(DARK_RED);
  });

  it('rejects a target outside the classes and a counterfactual of another size', () => {
    expectVizError(
      () => explanation({ ...report, target: 10 }, { document }),
      'VIZ_INVALID_INPUT',
      'invalid target: 10 (expected an integer in [0, 10))',
    );
    expectVizError(
      () => explanation({ ...report, counterfactual: { pixels: new Float32Array(10), probabilities } }, { document }),
      'VIZ_INVALID_INPUT',
      'invalid counterfactual: expected 784 pixels (as the input), got 10',
    );
  });
});
