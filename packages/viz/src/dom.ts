// The DOM types of the public API. A project whose libs declare the DOM (lib "dom") gets the DOM's own Document, Element
// and SVGSVGElement; a Node project without lib "dom" gets the structural stand-ins below, so the emitted .d.ts compile
// there too. Inside this package (lib "dom") the aliases are exactly the DOM types.

/** The members of an element that a Node program uses on a figure (linkedom's elements have them all). */
export interface ElementLike {
  readonly tagName: string;
  readonly outerHTML: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selectors: string): ElementLike | null;
  querySelectorAll(selectors: string): ArrayLike<ElementLike> & Iterable<ElementLike>;
}

/** What a figure needs of a document, as a Node program sees the one `createDocument()` from '@mnist/viz/node' returns. */
export interface DocumentLike {
  createElement(tagName: string): ElementLike;
  createElementNS(namespace: string | null, qualifiedName: string): ElementLike;
}

/** `Document` where lib "dom" is loaded, else {@link DocumentLike}. */
export type FigureDocument = typeof globalThis extends { Document: { prototype: infer T } } ? T : DocumentLike;
/** `Element` where lib "dom" is loaded, else {@link ElementLike}. */
export type FigureElement = typeof globalThis extends { Element: { prototype: infer T } } ? T : ElementLike;
/** `SVGSVGElement` (what every figure function returns) where lib "dom" is loaded, else {@link ElementLike}. */
export type FigureSvg = typeof globalThis extends { SVGSVGElement: { prototype: infer T } } ? T : ElementLike;

/** Options every figure accepts. */
export interface FigureOptions {
  /** The DOM document to build in; defaults to globalThis.document (pass createDocument() from '@mnist/viz/node' in Node). */
  document?: FigureDocument;
  /** Outer width in pixels (each figure has a sensible default, usually 640). */
  width?: number;
  /** Bold title drawn inside the SVG (never a <figure> wrapper, so the result stays a standalone SVG). */
  title?: string;
  /** Smaller grey line under the title. */
  subtitle?: string;
}
