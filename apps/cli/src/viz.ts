// @mnist/viz, loaded on first use: it brings Observable Plot (~90 ms and ~9 MB at every start), which only the
// confusion counts of predict and the figures of visualize need. Every command loads it through loadViz().
import type { VizError } from '@mnist/viz';

type Viz = typeof import('@mnist/viz');
let viz: Viz | undefined;

export async function loadViz(): Promise<Viz> {
  viz ??= await import('@mnist/viz');
  return viz;
}

/** A VizError can only exist once loadViz() has loaded the package, so this checks against the real class. */
export function isVizError(err: unknown): err is VizError {
  return viz !== undefined && err instanceof viz.VizError;
}
