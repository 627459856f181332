// Weight figures: weightTiles (each first-layer unit's 784 weights as a 28x28 tile, one grid, one PNG) and heatmap
// (any out x in matrix or bias vector: SVG cells when small, one PNG when large), both on the diverging scale.

import * as Plot from '@observablehq/plot';
import {
  divergingColor,
  divergingIndex,
  divergingLegend,
  divergingPalette,
  GAP_INDEX,
  symmetricExtent,
  type SymmetricExtent,
} from './color.js';
import { invalidInput, invalidOption, warn } from './errors.js';
import type { FigureOptions, FigureSvg } from './dom.js';
import {
  asSvg,
  checkArray,
  checkPng,
  checkPositiveInteger,
  describeFigure,
  describeNumber,
  resolveDocument,
  resolveWidth,
  stack,
  tagMarks,
} from './figure.js';
import {
  fillTile,
  gridImage,
  type GridLayout,
  gridLayout,
  gridPixels,
  rendering,
  thinned,
  tileOrigin,
} from './grid.js';
import { type IndexedImage, pngDataUrl } from './png.js';

export interface WeightTilesOptions extends FigureOptions {
  /** Inputs per unit (a square number of pixels); default 784 = 28x28. */
  in?: number;
  /** Number of units (rows of W1, PyTorch layout out x in). */
  out: number;
  /** Tiles per row; default about sqrt(2 * units), e.g. 32 for 512 units. */
  columns?: number;
  /** Show only these units, in this order (each tile is labelled with its unit number). */
  units?: number[];
  /**
   * Fix the colour domain to [-maxAbs, maxAbs] (e.g. to compare snapshots during training). Default: the 99.5th
   * percentile of |w| over the shown units (the rare larger weights get the darkest colour; the legend says so), or
   * max |w| for fewer than 1000 weights.
   */
  maxAbs?: number;
  /** Label every tile with its unit number (default: when `units` is given or there are at most 64 tiles). */
  tileLabels?: boolean;
  /** Colour legend label; default "weight". */
  label?: string;
  /** The tiles' PNG, already encoded: `pngDataUrl(weightTilesImage(W1, options))` (see weightTilesImage). */
  png?: string;
  /**
   * A transparent hit area per tile with a hover title and `data-unit` (default true); false for a page that lays
   * its own grid of cells over the tiles, where they would only be more elements to style and lay out.
   */
  hitAreas?: boolean;
}

function checkMatrix(matrix: ArrayLike<number>, rows: number, cols: number): void {
  if (matrix.length !== rows * cols)
    throw invalidInput(`invalid matrix: expected rows*cols = ${rows * cols} values, got ${matrix.length}`);
}

export function checkMaxAbs(maxAbs: number | undefined): void {
  if (maxAbs !== undefined && !(Number.isFinite(maxAbs) && maxAbs > 0))
    throw invalidOption(`invalid maxAbs: ${maxAbs} (expected a positive number)`);
}

export function warnNonFinite(figure: string, count: number): void {
  if (count > 0) warn(`${figure}: ${count} non-finite value${count === 1 ? '' : 's'} (NaN or ±Infinity) drawn black`);
}

/** What weightTiles draws, worked out from the checked options: the units, the colour scale and the grid layout. */
interface TilesPlan {
  inputs: number;
  side: number;
  units: number[];
  columnsShown: number;
  labelled: boolean;
  extent: SymmetricExtent;
  maxAbs: number;
  margin: { top: number; right: number; bottom: number; left: number };
  width: number;
  layout: GridLayout;
}

function tilesPlan(W1: ArrayLike<number>, options: WeightTilesOptions): TilesPlan {
  checkArray('W1', W1);
  if (!options) throw invalidOption('weightTiles: missing options (expected { out, in?: 784 })');
  const inputs = checkPositiveInteger('in', options.in ?? 784);
  const out = checkPositiveInteger('out', options.out);
  const side = Math.round(Math.sqrt(inputs));
  if (side * side !== inputs)
    throw invalidOption(`invalid in: ${inputs} is not a square number of pixels (expected 784 = 28x28)`);
  checkMatrix(W1, out, inputs);
  checkMaxAbs(options.maxAbs);
  checkPng(options.png);
  const units = options.units ?? Array.from({ length: out }, (_, k) => k);
  if (units.length === 0) throw invalidOption('invalid units: empty (expected at least one unit index)');
  for (const k of units)
    if (!(Number.isInteger(k) && k >= 0 && k < out))
      throw invalidOption(`invalid unit: ${k} (expected an integer in [0, ${out}))`);
  const columns = checkPositiveInteger(
    'columns',
    options.columns ?? (units.length <= 8 ? units.length : Math.ceil(Math.sqrt(2 * units.length))),
  );
  const labelled = options.tileLabels ?? (options.units !== undefined || units.length <= 64);
  const extent = symmetricExtent(
    W1,
    units.map((unit): [number, number] => [unit * inputs, (unit + 1) * inputs]),
    options.maxAbs === undefined,
  );
  const maxAbs = options.maxAbs ?? extent.maxAbs;
  const columnsShown = Math.min(columns, units.length);
  const margin = labelled ? { top: 4, right: 4, bottom: 4, left: 4 } : { top: 34, right: 8, bottom: 6, left: 44 };
  const defaultWidth = Math.min(1280, Math.max(640, columnsShown * (side + 1) + margin.left + margin.right));
  const width = resolveWidth(options, labelled ? Math.min(defaultWidth, columnsShown * 72 + 8) : defaultWidth);
  const layout = gridLayout({
    count: units.length,
    side,
    columns,
    gap: 1,
    plotWidth: width - margin.left - margin.right,
    labelHeight: labelled ? 13 : 0,
  });
  return { inputs, side, units, columnsShown, labelled, extent, maxAbs, margin, width, layout };
}

/** An image on the diverging palette, with the colour limit it was drawn with. */
export interface ScaledImage extends IndexedImage {
  /** The colour limit: weights at ±maxAbs and beyond get the darkest colours. */
  maxAbs: number;
}

/** The tiles' pixels: one indexed image of the whole grid on the diverging palette. */
function tilesImage(W1: ArrayLike<number>, plan: TilesPlan): ScaledImage {
  const { layout, units, inputs, maxAbs } = plan;
  const pixels = gridPixels(layout, GAP_INDEX);
  const index = (i: number) => divergingIndex(W1[i], maxAbs);
  units.forEach((unit, k) => fillTile(layout, pixels, k, index, unit * inputs));
  const { palette, alpha } = divergingPalette();
  return { width: layout.imageWidth, height: layout.imageHeight, indices: pixels, palette, alpha, maxAbs };
}

/**
 * The one image weightTiles draws (every tile, in one grid), to be encoded elsewhere, e.g. in a worker, and given
 * back as `png` with its colour limit: for `image = weightTilesImage(W1, options)`,
 * `weightTiles(W1, { ...options, png: pngDataUrl(image), maxAbs: image.maxAbs })` is the same figure as
 * `weightTiles(W1, options)`, without filling and encoding the pixels or finding the percentile. Needs no document.
 */
export function weightTilesImage(W1: ArrayLike<number>, options: WeightTilesOptions): ScaledImage {
  return tilesImage(W1, tilesPlan(W1, options));
}

/**
 * Each first-layer unit's weights as a square tile (28x28 for MNIST), in one grid, on a diverging scale centred on 0.
 * W1 is PyTorch's fc1.weight: out x in, row-major, so unit k's weights are W1[k*in .. (k+1)*in).
 * Tile k sits at column k % columns, row floor(k / columns); the axes read "unit = row start + column".
 */
export function weightTiles(W1: ArrayLike<number>, options: WeightTilesOptions): FigureSvg {
  const plan = tilesPlan(W1, options);
  const { inputs, side, units, columnsShown, labelled, extent, maxAbs, margin, width, layout } = plan;
  const document = resolveDocument(options);
  warnNonFinite('weightTiles', extent.nonFinite);
  const src = options.png ?? pngDataUrl(tilesImage(W1, plan));

  const marks: Plot.Markish[] = [gridImage(layout, src)];
  // One transparent hit area per tile: a hover title, and data-unit for a click-to-enlarge.
  const hitAreas = options.hitAreas ?? true;
  if (hitAreas)
    marks.push(
      Plot.rect(units, {
        x1: (_: number, k: number) => tileOrigin(layout, k)[0],
        y1: (_: number, k: number) => tileOrigin(layout, k)[1],
        x2: (_: number, k: number) => tileOrigin(layout, k)[0] + side,
        y2: (_: number, k: number) => tileOrigin(layout, k)[1] + side,
        fill: 'transparent',
        title: (unit: number) => `unit ${unit}`,
        className: 'viz-units',
      }),
    );
  if (labelled) {
    marks.push(
      Plot.text(units, {
        x: (_: number, k: number) => tileOrigin(layout, k)[0] + side / 2,
        y: (_: number, k: number) => tileOrigin(layout, k)[1] + side + layout.gap,
        text: (unit: number) => `#${unit}`,
        lineAnchor: 'top',
        dy: 1,
      }),
    );
  }
  const cellScreenWidth = layout.cellWidth * layout.scale;
  const cellScreenHeight = layout.cellHeight * layout.scale;
  const plot = asSvg(
    Plot.plot({
      document,
      width,
      height: Math.round(layout.plotHeight + margin.top + margin.bottom),
      marginTop: margin.top,
      marginRight: margin.right,
      marginBottom: margin.bottom,
      marginLeft: margin.left,
      x: labelled
        ? { domain: [0, layout.imageWidth], axis: null }
        : {
            domain: [0, layout.imageWidth],
            axis: 'top',
            ticks: thinned(layout.columns, cellScreenWidth, 22).map((c) => c * layout.cellWidth + side / 2),
            tickFormat: (x: number) => `+${Math.round((x - side / 2) / layout.cellWidth)}`,
            tickSize: 3,
            label: 'unit = row start (left) + column (top)',
            labelAnchor: 'left',
          },
      y: labelled
        ? { domain: [0, layout.imageHeight], reverse: true, axis: null }
        : {
            domain: [0, layout.imageHeight],
            reverse: true,
            ticks: thinned(layout.rows, cellScreenHeight, 13).map((r) => r * layout.cellHeight + side / 2),
            tickFormat: (y: number) => String(units[Math.round((y - side / 2) / layout.cellHeight) * layout.columns]),
            tickSize: 3,
            label: null,
          },
      marks,
    }),
  );
  if (hitAreas) tagMarks(plot, 'viz-units', 'data-unit', units);
  const legend = divergingLegend(document, maxAbs, {
    label: options.label ?? 'weight',
    marginLeft: margin.left,
    width,
    max: extent.max,
  });
  const svg = stack(document, [{ svg: legend }, { svg: plot }], { title: options.title, subtitle: options.subtitle });
  const which = options.units
    ? `unit${units.length === 1 ? '' : 's'} ${units.slice(0, 16).join(', ')}${units.length > 16 ? ', …' : ''}`
    : `${units.length} unit${units.length === 1 ? '' : 's'} (0 to ${units.length - 1})`;
  describeFigure(
    document,
    svg,
    options.title ?? 'weight tiles',
    `The ${inputs} input weights of ${which} as ${side}x${side} tiles, ${columnsShown} per row, on a diverging ` +
      `scale centred on 0 (red positive, blue negative, colour limit ±${describeNumber(maxAbs)}; largest ` +
      `|${options.label ?? 'weight'}| ${describeNumber(extent.max)}).`,
  );
  return svg;
}

export interface HeatmapOptions extends FigureOptions {
  rows: number;
  cols: number;
  /** What the values are, shown on the colour legend (e.g. "fc1.weight"); default "value". */
  label?: string;
  /** Axis labels; default "output unit" (rows) and "input" (columns). */
  rowLabel?: string;
  colLabel?: string;
  /** Fix the colour domain to [-maxAbs, maxAbs]; default the 99.5th percentile of |value| (larger ones clamp), or max |value| below 1000 values. */
  maxAbs?: number;
  /** A large heatmap's PNG, already encoded: `pngDataUrl(heatmapImage(matrix, options))` (see heatmapImage). */
  png?: string;
}

function indexTicks(count: number, spacing: number, minSpacing: number): number[] {
  return thinned(count, spacing, minSpacing).map((i) => i + 0.5);
}

/** Above this many values (or 64 rows/cols) the heatmap is one PNG instead of SVG cells. */
const MAX_CELLS = 1024;

/**
 * Any matrix (PyTorch layout out x in, row-major: value (r, c) at matrix[r*cols + c]) or bias vector (rows = 1) on
 * the diverging scale. Small ones are Plot cells with hover titles; large ones (e.g. 512x784) are one PNG,
 * sharp when enlarged and smoothed when shrunk.
 */
/** What heatmap draws, from the checked options: the shape, the colour scale, and cells or one image. */
interface HeatmapPlan {
  rows: number;
  cols: number;
  extent: SymmetricExtent;
  maxAbs: number;
  small: boolean;
}

function heatmapPlan(matrix: ArrayLike<number>, options: HeatmapOptions): HeatmapPlan {
  checkArray('matrix', matrix);
  if (!options) throw invalidOption('heatmap: missing options (expected { rows, cols })');
  const rows = checkPositiveInteger('rows', options.rows);
  const cols = checkPositiveInteger('cols', options.cols);
  checkMatrix(matrix, rows, cols);
  checkMaxAbs(options.maxAbs);
  checkPng(options.png);
  const extent = symmetricExtent(matrix, undefined, options.maxAbs === undefined);
  const maxAbs = options.maxAbs ?? extent.maxAbs;
  const small = rows * cols <= MAX_CELLS && rows <= 64 && cols <= 64;
  return { rows, cols, extent, maxAbs, small };
}

/** A large heatmap's pixels: one per value, on the diverging palette. */
function heatmapPixels(matrix: ArrayLike<number>, { rows, cols, maxAbs }: HeatmapPlan): ScaledImage {
  const pixels = new Uint8Array(rows * cols);
  for (let i = 0; i < pixels.length; i++) pixels[i] = divergingIndex(matrix[i], maxAbs);
  const { palette, alpha } = divergingPalette();
  return { width: cols, height: rows, indices: pixels, palette, alpha, maxAbs };
}

/**
 * The image a large heatmap draws, to be encoded elsewhere (e.g. in a worker) and given back as `png` with its
 * `maxAbs` (see weightTilesImage); null for a small one, which is drawn as SVG cells. Needs no document.
 */
export function heatmapImage(matrix: ArrayLike<number>, options: HeatmapOptions): ScaledImage | null {
  const plan = heatmapPlan(matrix, options);
  return plan.small ? null : heatmapPixels(matrix, plan);
}

export function heatmap(matrix: ArrayLike<number>, options: HeatmapOptions): FigureSvg {
  const plan = heatmapPlan(matrix, options);
  const { rows, cols, extent, maxAbs, small } = plan;
  const document = resolveDocument(options);
  warnNonFinite('heatmap', extent.nonFinite);
  // A bias vector (rows = 1) is indexed by output unit; a matrix's columns by input.
  const rowLabel = options.rowLabel ?? (rows === 1 ? null : 'output unit');
  const colLabel = options.colLabel ?? (rows === 1 ? 'unit' : 'input');
  const marginLeft = rows === 1 ? 20 : 44;
  const marginRight = 20;
  const marginTop = small || rows === 1 ? 8 : 22;
  const marginBottom = 34;
  let plot: SVGSVGElement;
  if (small) {
    const available = resolveWidth(options, 640) - marginLeft - marginRight;
    // Cells are capped at 32 px unless a width is asked for, so a 10x10 matrix is not 600 px wide.
    const cellSize = options.width !== undefined ? available / cols : Math.max(2, Math.min(32, available / cols));
    const plotWidth = cellSize * cols;
    const indexes = Array.from({ length: rows * cols }, (_, i) => i);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    plot = asSvg(
      Plot.plot({
        document,
        width: Math.round(plotWidth + marginLeft + marginRight),
        height: Math.round(rows * cellSize + marginTop + marginBottom),
        marginLeft,
        marginRight,
        marginTop,
        marginBottom,
        x: {
          type: 'band',
          domain: range(cols),
          ticks: thinned(cols, cellSize, 22),
          label: colLabel,
          tickSize: 3,
          padding: 0,
        },
        y:
          rows === 1
            ? { type: 'band', domain: [0], axis: null, padding: 0 }
            : {
                type: 'band',
                domain: range(rows),
                ticks: thinned(rows, cellSize, 13),
                label: rowLabel,
                tickSize: 3,
                padding: 0,
              },
        marks: [
          Plot.cell(indexes, {
            x: (i: number) => i % cols,
            y: (i: number) => Math.floor(i / cols),
            fill: (i: number) => divergingColor(matrix[i], maxAbs),
            title: (i: number) => `(${Math.floor(i / cols)}, ${i % cols}): ${matrix[i]}`,
            inset: 0.25,
          }),
        ],
      }),
    );
  } else {
    const width = resolveWidth(options, 640);
    const plotWidth = width - marginLeft - marginRight;
    const square = rows * (plotWidth / cols);
    const plotHeight = Math.min(600, Math.max(square, Math.min(rows * 24, 96)));
    const src = options.png ?? pngDataUrl(heatmapPixels(matrix, plan));
    plot = asSvg(
      Plot.plot({
        document,
        width,
        height: Math.round(plotHeight + marginTop + marginBottom),
        marginLeft,
        marginRight,
        marginTop,
        marginBottom,
        // Ticks sit at the centre of the row/column they name.
        x: {
          domain: [0, cols],
          label: colLabel,
          tickSize: 3,
          ticks: indexTicks(cols, plotWidth / cols, 40),
          tickFormat: (x: number) => String(x - 0.5),
        },
        y:
          rows === 1
            ? { domain: [0, 1], axis: null }
            : {
                domain: [0, rows],
                reverse: true,
                label: rowLabel,
                tickSize: 3,
                ticks: indexTicks(rows, plotHeight / rows, 16),
                tickFormat: (y: number) => String(y - 0.5),
              },
        marks: [
          Plot.image([0], {
            x: cols / 2,
            y: rows === 1 ? 0.5 : rows / 2,
            width: plotWidth,
            height: plotHeight,
            src,
            preserveAspectRatio: 'none',
            imageRendering: rendering(Math.min(plotWidth / cols, plotHeight / rows)),
          }),
        ],
      }),
    );
  }
  const label = options.label ?? 'value';
  const legend = divergingLegend(document, maxAbs, {
    label,
    marginLeft,
    width: Number(plot.getAttribute('width')),
    max: extent.max,
  });
  const svg = stack(document, [{ svg: legend }, { svg: plot }], { title: options.title, subtitle: options.subtitle });
  describeFigure(document, svg, options.title ?? `${label} heatmap`, describeMatrix(matrix, rows, cols, label, maxAbs));
  return svg;
}

/** The heatmap's description: its shape, colour scale and where its largest and smallest values are. */
function describeMatrix(matrix: ArrayLike<number>, rows: number, cols: number, label: string, maxAbs: number): string {
  let hi = -1;
  let lo = -1;
  for (let i = 0; i < matrix.length; i++) {
    if (!Number.isFinite(matrix[i])) continue;
    if (hi < 0 || matrix[i] > matrix[hi]) hi = i;
    if (lo < 0 || matrix[i] < matrix[lo]) lo = i;
  }
  const at = (i: number) =>
    rows === 1
      ? `${describeNumber(matrix[i])} at ${i}`
      : `${describeNumber(matrix[i])} at (${Math.floor(i / cols)}, ${i % cols})`;
  const shape = rows === 1 ? `${cols} values` : `a ${rows}x${cols} matrix`;
  return (
    `${label}: ${shape} on a diverging scale centred on 0 (red positive, blue negative, colour limit ` +
    `±${describeNumber(maxAbs)}). ${hi < 0 ? 'No finite values.' : `Largest ${at(hi)}, smallest ${at(lo)}.`}`
  );
}
