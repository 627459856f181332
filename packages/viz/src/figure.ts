// Shared figure plumbing: find the DOM document, stack Plot SVGs (legend, panels) into one standalone <svg> with an
// optional title, and validate the common options. Every public figure function returns one <svg>.

import * as Plot from '@observablehq/plot';
import type { FigureOptions } from './dom.js';
import { rendering } from './grid.js';
import { invalidInput, invalidOption, VizError } from './errors.js';

export const SVG_NS = 'http://www.w3.org/2000/svg';

export function resolveDocument(options: FigureOptions | undefined): Document {
  const document = options?.document ?? (globalThis as { document?: Document }).document;
  if (!document)
    throw new VizError(
      'VIZ_NO_DOCUMENT',
      'no document',
      "in Node pass { document: createDocument() } from '@mnist/viz/node'",
    );
  return document;
}

export function resolveWidth(options: FigureOptions | undefined, fallback: number): number {
  const width = options?.width ?? fallback;
  if (!(Number.isFinite(width) && width >= 50))
    throw invalidOption(`invalid width: ${width} (expected a number >= 50)`);
  return width;
}

/** A pre-encoded `png` option (weightTiles, heatmap, predictionGrid) must be a PNG data URL. */
export function checkPng(png: unknown): void {
  if (png !== undefined && !(typeof png === 'string' && png.startsWith('data:image/png;base64,')))
    throw invalidOption("invalid png: expected a data:image/png;base64 URL (pngDataUrl of the figure's image)");
}

export function checkPositiveInteger(name: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value > 0))
    throw invalidOption(`invalid ${name}: ${String(value)} (expected a positive integer)`);
  return value;
}

export function checkHeight(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 60))
    throw invalidOption(`invalid ${name}: ${value} (expected a number >= 60)`);
  return value;
}

/** The names of n classes: the given ones (one per class) or "0", "1", .... */
export function checkClassNames(n: number, classNames: string[] | undefined): string[] {
  const names = classNames ?? Array.from({ length: n }, (_, i) => String(i));
  if (names.length !== n) throw invalidOption(`invalid classNames: expected ${n} (one per class), got ${names.length}`);
  return names;
}

/** Index of the largest value, the first on ties (as torch.argmax): the highlighted bar of a class figure. */
export function largest(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function checkArray(name: string, value: unknown): ArrayLike<number> {
  if (value == null || typeof (value as ArrayLike<number>).length !== 'number' || typeof value === 'string')
    throw invalidInput(`invalid ${name}: expected an array or typed array of numbers, got ${typeof value}`);
  return value as ArrayLike<number>;
}

export function svgElement(
  document: Document,
  name: string,
  attributes: Record<string, string | number> = {},
): SVGElement {
  const element = document.createElementNS(SVG_NS, name) as SVGElement;
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** Plot.plot without title/legend/caption returns its <svg>; anything else would break standalone SVG output. */
export function asSvg(node: Element): SVGSVGElement {
  if (node.tagName.toLowerCase() !== 'svg')
    throw new Error(`internal: expected Plot to return an <svg>, got <${node.tagName}>`);
  return node as SVGSVGElement;
}

export interface Panel {
  svg: SVGSVGElement;
  /** Horizontal offset in the stacked figure. */
  x?: number;
}

const COPIED_ATTRIBUTES = ['text-anchor', 'font-size', 'font-family', 'fill'];

/**
 * Stacks panels vertically under an optional title/subtitle, in one <svg>. A single panel without a title is returned
 * as is. Panels are moved into translated <g>s (not nested <svg>s, which Plot's "height: auto" CSS would stretch), and
 * Plot's scoped <style> is kept once, on the outer <svg>.
 */
export function stack(document: Document, panels: Panel[], options: FigureOptions = {}): SVGSVGElement {
  const { title, subtitle } = options;
  if (panels.length === 1 && !title && !subtitle && !panels[0].x) return panels[0].svg;
  const first = panels[0].svg;
  const outer = svgElement(document, 'svg') as SVGSVGElement;
  for (const name of [...COPIED_ATTRIBUTES, 'class']) {
    const value = first.getAttribute(name);
    if (value != null) outer.setAttribute(name, value);
  }
  // Text cannot be measured without a browser: wrap the header at an estimated character width (DejaVu/system-ui
  // average ~0.58 em), so it stays inside the panels' width.
  const panelsWidth = Math.max(...panels.map(({ svg, x = 0 }) => x + Number(svg.getAttribute('width'))));
  let y = 0;
  let width = 0;
  let style: Element | null = null;
  const header: SVGElement[] = [];
  const addLines = (
    text: string,
    fontSize: number,
    lineHeight: number,
    attributes: Record<string, string | number>,
  ) => {
    for (const line of wrap(text, Math.max(10, Math.floor((panelsWidth - 8) / (0.58 * fontSize))))) {
      const element = svgElement(document, 'text', {
        x: 4,
        y: y + fontSize,
        'font-size': fontSize,
        'text-anchor': 'start',
        ...attributes,
      });
      element.textContent = line;
      header.push(element);
      y += lineHeight;
    }
  };
  if (title) addLines(title, 16, 22, { 'font-weight': 'bold' });
  if (subtitle) addLines(subtitle, 12, 16, { fill: '#555' });
  if (header.length) y += 8;
  const groups: SVGElement[] = [];
  for (const { svg, x = 0 } of panels) {
    const panelWidth = Number(svg.getAttribute('width'));
    const panelHeight = Number(svg.getAttribute('height'));
    const adopted = adopt(document, outer, svg, x, y);
    style ??= adopted.style;
    groups.push(adopted.g);
    y += panelHeight;
    width = Math.max(width, x + panelWidth);
  }
  outer.setAttribute('width', String(width));
  outer.setAttribute('height', String(y));
  outer.setAttribute('viewBox', `0 0 ${width} ${y}`);
  if (style) outer.appendChild(style);
  for (const element of [...header, ...groups]) outer.appendChild(element);
  return outer;
}

/**
 * Moves a panel's children into a <g> translated to (x, y), carrying the text attributes that differ from `outer`'s;
 * Plot's scoped <style> is taken out and returned (the caller keeps one).
 */
function adopt(
  document: Document,
  outer: SVGSVGElement,
  svg: SVGSVGElement,
  x: number,
  y: number,
): { g: SVGElement; style: Element | null } {
  const g = svgElement(document, 'g', { transform: `translate(${x},${y})` });
  for (const name of COPIED_ATTRIBUTES) {
    const value = svg.getAttribute(name);
    if (value != null && value !== outer.getAttribute(name)) g.setAttribute(name, value);
  }
  let style: Element | null = null;
  while (svg.firstChild) {
    const child = svg.firstChild;
    const tag = (child as Element).tagName?.toLowerCase();
    if (tag === 'style') {
      svg.removeChild(child);
      style ??= child as Element;
      continue;
    }
    // The panel's own text alternative (describeFigure): the composite has one of its own.
    if (tag === 'title' || tag === 'desc') {
      svg.removeChild(child);
      continue;
    }
    g.appendChild(child);
  }
  return { g, style };
}

/**
 * Places panels side by side in one <svg>, top-aligned and `gap` px apart, for composite figures (stack() the rows
 * after). The first panel's Plot class and text attributes go on the outer <svg>, Plot's <style> is kept once.
 */
export function beside(document: Document, panels: SVGSVGElement[], gap = 16): SVGSVGElement {
  const outer = svgElement(document, 'svg') as SVGSVGElement;
  for (const name of [...COPIED_ATTRIBUTES, 'class']) {
    const value = panels.find((svg) => svg.getAttribute(name) != null)?.getAttribute(name);
    if (value != null) outer.setAttribute(name, value);
  }
  let x = 0;
  let height = 0;
  let style: Element | null = null;
  const groups: SVGElement[] = [];
  for (const svg of panels) {
    const width = Number(svg.getAttribute('width'));
    height = Math.max(height, Number(svg.getAttribute('height')));
    const adopted = adopt(document, outer, svg, x, 0);
    style ??= adopted.style;
    groups.push(adopted.g);
    x += width + gap;
  }
  const width = Math.max(0, x - gap);
  outer.setAttribute('width', String(width));
  outer.setAttribute('height', String(height));
  outer.setAttribute('viewBox', `0 0 ${width} ${height}`);
  if (style) outer.appendChild(style);
  for (const g of groups) outer.appendChild(g);
  return outer;
}

/**
 * The figure's text alternative: role="img" with a <title> (its name) and a <desc> (what it shows, in words) as the
 * first children, SVG's own accessible name and description. Elements, not aria-* attributes, so that any text is
 * escaped when serialised (linkedom's HTML serialiser leaves "<" raw in attribute values, which is not XML).
 * Every public figure ends with it. Plot names each mark's <g> with aria-label but gives it no role, which ARIA
 * forbids (axe-core: aria-prohibited-attr, serious, even inside role="img"): those get role="group", which may be
 * named. A figure described again (a figure built on another) keeps only the last text alternative.
 */
export function describeFigure(document: Document, svg: SVGSVGElement, label: string, description: string): void {
  for (const child of [...svg.children])
    if (['title', 'desc'].includes(child.tagName.toLowerCase())) svg.removeChild(child);
  for (const element of svg.querySelectorAll('[aria-label]'))
    if (!element.hasAttribute('role')) element.setAttribute('role', 'group');
  svg.setAttribute('role', 'img');
  const title = svgElement(document, 'title');
  title.textContent = label;
  const desc = svgElement(document, 'desc');
  desc.textContent = description;
  svg.insertBefore(desc, svg.firstChild);
  svg.insertBefore(title, desc);
}

/** A number in a figure's description: at most 3 significant digits, no exponent noise ("0.0123", "-1.5"). */
export function describeNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(+value.toPrecision(3));
}

/**
 * Greedy wrap to at most `maxChars` characters per line, breaking preferably between " · " parts, else between words
 * (a longer word gets its own line).
 */
export function wrap(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of text.split(' · ')) {
    if (!line) line = part;
    else if (line.length + 3 + part.length <= maxChars) line = `${line} · ${part}`;
    else {
      lines.push(line);
      line = part;
    }
    if (line.length > maxChars) {
      const words = wrapWords(line, maxChars);
      line = words.pop()!;
      lines.push(...words);
    }
  }
  if (line) lines.push(line);
  return lines;
}

function wrapWords(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Sets `attribute` on each element of the mark group with this class name (Plot's `className` mark option), in data
 * order (Plot renders one element per datum in order), so the web app can map a click or hover back to a unit or an
 * image: `event.target.dataset.unit`.
 */
export function tagMarks(svg: Element, className: string, attribute: string, values: ArrayLike<number>): void {
  const group = svg.querySelector(`g.${className}`);
  const elements = group ? [...group.children].filter((e) => e.tagName.toLowerCase() !== 'title') : [];
  if (elements.length !== values.length)
    throw new Error(`internal: ${elements.length} .${className} elements for ${values.length} values`);
  elements.forEach((element, i) => element.setAttribute(attribute, String(values[i])));
}

/** A size x size px plot of square images (data URLs of side x side pixels, drawn in order, one over the other) in a grey frame. */
export function squarePlot(document: Document, size: number, side: number, sources: string[]): SVGSVGElement {
  const margin = 1;
  return asSvg(
    Plot.plot({
      document,
      width: size,
      height: size,
      margin,
      x: { domain: [0, side], axis: null },
      y: { domain: [0, side], reverse: true, axis: null },
      marks: [
        ...sources.map((src) =>
          Plot.image([0], {
            x: side / 2,
            y: side / 2,
            width: size - 2 * margin,
            height: size - 2 * margin,
            src,
            preserveAspectRatio: 'none',
            imageRendering: rendering((size - 2 * margin) / side),
          }),
        ),
        Plot.frame({ stroke: '#999' }),
      ],
    }),
  );
}
