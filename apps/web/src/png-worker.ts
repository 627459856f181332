// The PNG worker: fills and encodes the pixels of the big figures (every weight tile in one grid, a 512x784 heatmap,
// a page of test digits) off the main thread. The page then draws each figure with @mnist/viz's `png` (and `maxAbs`)
// options, so it never fills, deflates or sorts ~400,000 values in one task (figure.ts, pngFigure). Each request
// names the figure and passes its arguments as the page would (plain data); the reply is the PNG data URL with the
// colour limit (none for a heatmap small enough to be drawn as cells) or the error as the page shows errors.
import { heatmapImage, pngDataUrl, predictionGridImage, weightTilesImage } from '@mnist/viz';
import { errorInfo } from './errors.js';
import type { ErrorInfo } from './protocol.js';

/** The figures whose image is encoded here, by their @mnist/viz name. */
export const IMAGES = { weightTiles: weightTilesImage, heatmap: heatmapImage, predictionGrid: predictionGridImage };
export type PngFigure = keyof typeof IMAGES;

/** The figure's arguments as the page passes them to it (its options last). */
export interface PngRequest {
  id: number;
  kind: PngFigure;
  args: unknown[];
}
/** The PNG data URL, and the colour limit it was drawn with (weight tiles and heatmaps; see ScaledImage). */
export interface Encoded {
  png?: string;
  maxAbs?: number;
}
export type PngReply = ({ id: number } & Encoded) | { id: number; error: ErrorInfo };

self.onmessage = ({ data: { id, kind, args } }: MessageEvent<PngRequest>) => {
  let reply: PngReply;
  try {
    const image = (IMAGES[kind] as (...a: unknown[]) => ReturnType<(typeof IMAGES)[PngFigure]>)(...args);
    reply = {
      id,
      png: image ? pngDataUrl(image) : undefined,
      maxAbs: image && 'maxAbs' in image ? image.maxAbs : undefined,
    };
  } catch (err) {
    reply = { id, error: errorInfo(err) };
  }
  (self as unknown as Worker).postMessage(reply);
};
