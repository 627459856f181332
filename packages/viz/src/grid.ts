// Pixel-grid layout shared by weightTiles and predictionGrid: tiles of side x side pixels in `columns` columns, a gap
// after each tile and an optional label band under each row, all drawn as ONE indexed PNG; the Plot scales are in
// image pixels (x right, y down), so marks (labels, frames, axis ticks) line up with the tiles exactly.
import * as Plot from '@observablehq/plot';

export interface GridLayout {
  count: number;
  side: number;
  columns: number;
  rows: number;
  gap: number;
  /** Image pixels per tile column (side + gap) and per tile row (side + gap + band). */
  cellWidth: number;
  cellHeight: number;
  band: number;
  imageWidth: number;
  imageHeight: number;
  /** Screen pixels per image pixel. */
  scale: number;
  plotWidth: number;
  plotHeight: number;
}

export function gridLayout(options: {
  count: number;
  side: number;
  columns: number;
  gap: number;
  plotWidth: number;
  /** Screen pixels to reserve under each row for a text label (0 for none). */
  labelHeight: number;
}): GridLayout {
  const { count, side, gap, plotWidth, labelHeight } = options;
  const columns = Math.min(options.columns, count);
  const rows = Math.ceil(count / columns);
  const cellWidth = side + gap;
  const imageWidth = columns * cellWidth;
  const scale = plotWidth / imageWidth;
  const band = labelHeight > 0 ? Math.ceil(labelHeight / scale) : 0;
  const cellHeight = side + gap + band;
  const imageHeight = rows * cellHeight;
  return {
    count,
    side,
    columns,
    rows,
    gap,
    cellWidth,
    cellHeight,
    band,
    imageWidth,
    imageHeight,
    scale,
    plotWidth,
    plotHeight: imageHeight * scale,
  };
}

/** Index buffer filled with `background`, ready for fillTile. */
export function gridPixels(layout: GridLayout, background: number): Uint8Array {
  return new Uint8Array(layout.imageWidth * layout.imageHeight).fill(background);
}

/** Top-left image pixel of tile k. */
export function tileOrigin(layout: GridLayout, k: number): [number, number] {
  return [(k % layout.columns) * layout.cellWidth, Math.floor(k / layout.columns) * layout.cellHeight];
}

/** Writes tile k: pixel (r, c) gets index(offset + r*side + c). */
export function fillTile(
  layout: GridLayout,
  pixels: Uint8Array,
  k: number,
  index: (i: number) => number,
  offset: number,
): void {
  const { side, imageWidth } = layout;
  const [x0, y0] = tileOrigin(layout, k);
  for (let r = 0; r < side; r++) {
    const row = (y0 + r) * imageWidth + x0;
    const source = offset + r * side;
    for (let c = 0; c < side; c++) pixels[row + c] = index(source + c);
  }
}

/** Every `step`-th value of 0..count-1 where step keeps labels at least `minSpacing` screen pixels apart. */
export function thinned(count: number, spacing: number, minSpacing: number): number[] {
  const step = Math.max(1, Math.ceil(minSpacing / spacing));
  const nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((s) => s >= step) ?? step;
  const values: number[] = [];
  for (let i = 0; i < count; i += nice) values.push(i);
  return values;
}

/**
 * Image rendering for `scale` screen pixels per image pixel: sharp pixels when enlarging (each value a crisp square),
 * smooth when shrinking (nearest-neighbour would silently drop rows and columns, e.g. 784 columns in 580 px).
 */
export function rendering(scale: number): 'pixelated' | 'auto' {
  return scale >= 0.999 ? 'pixelated' : 'auto';
}

/** The whole grid as one image mark: the PNG `src` (imageWidth x imageHeight pixels) stretched over the plot area. */
export function gridImage(layout: GridLayout, src: string): Plot.Image {
  return Plot.image([0], {
    x: layout.imageWidth / 2,
    y: layout.imageHeight / 2,
    width: layout.plotWidth,
    height: layout.plotHeight,
    src,
    preserveAspectRatio: 'none',
    imageRendering: rendering(layout.scale),
  });
}
