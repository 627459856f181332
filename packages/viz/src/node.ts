// @mnist/viz/node: Node-only helpers: a linkedom document to build figures in, standalone SVG text, PNG via resvg.

import { Resvg } from '@resvg/resvg-js';
import { parseHTML } from 'linkedom';
import type { FigureDocument, FigureElement } from './dom.js';
import { invalidInput, warn } from './errors.js';
import { stack, type Panel } from './figure.js';

/** A DOM document (linkedom) for building figures in Node: `weightTiles(W1, { out: 512, document: createDocument() })`. */
export function createDocument(): FigureDocument {
  return parseHTML('<!DOCTYPE html><html><head></head><body></body></html>').document as unknown as FigureDocument;
}

/**
 * Serialises a figure as a standalone SVG file (xmlns set). Our figures are always <svg>; a <figure> from a plain
 * Plot.plot({title, legend: true}) call is flattened: its <svg>s are stacked and its h2/h3 become the title/subtitle
 * (HTML swatch legends cannot be kept and are dropped).
 */
export function toSvgString(figure: FigureElement): string {
  if (!figure || typeof (figure as Element).tagName !== 'string')
    throw invalidInput('invalid figure: expected an <svg> or <figure> element');
  let svg = figure;
  if (figure.tagName.toLowerCase() !== 'svg') {
    const svgs = [...figure.querySelectorAll('svg')].filter((s) => !s.parentElement?.closest('svg'));
    if (svgs.length === 0) throw invalidInput(`invalid figure: <${figure.tagName.toLowerCase()}> holds no <svg>`);
    const title = figure.querySelector('h2')?.textContent ?? undefined;
    const subtitle = figure.querySelector('h3')?.textContent ?? undefined;
    const dropped = figure.querySelectorAll('div, span').length;
    if (dropped) warn(`toSvgString: the <figure>'s HTML legend/swatches cannot go into an SVG and were dropped`);
    const document = figure.ownerDocument;
    const panels: Panel[] = svgs.map((s) => ({ svg: s.cloneNode(true) as SVGSVGElement }));
    svg = stack(document, panels, { title, subtitle });
    if (svg === panels[0].svg && !title && !subtitle) svg = panels[0].svg;
  }
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return svg.outerHTML;
}

export interface SvgToPngOptions {
  /** Output width in pixels (height follows the aspect ratio); default the SVG's own width. */
  width?: number;
  /** Background colour; default white (Plot draws on a transparent background). */
  background?: string;
}

/** Renders SVG text to PNG bytes with resvg (system fonts; sans-serif falls back to DejaVu Sans when present). */
export function svgToPng(svg: string, options: SvgToPngOptions = {}): Uint8Array {
  if (typeof svg !== 'string' || !svg.includes('<svg'))
    throw invalidInput('invalid svg: expected SVG text (use toSvgString(figure))');
  if (options.width !== undefined && !(Number.isInteger(options.width) && options.width > 0))
    throw invalidInput(`invalid width: ${options.width} (expected a positive integer)`);
  // resvg does nearest-neighbour sampling only for SVG 1.1's "optimizeSpeed", not CSS "pixelated" (which browsers use).
  const source = svg.replace(/image-rendering="pixelated"/g, 'image-rendering="optimizeSpeed"');
  const resvg = new Resvg(source, {
    background: options.background ?? 'white',
    fitTo: options.width ? { mode: 'width', value: options.width } : { mode: 'original' },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  const png = resvg.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
