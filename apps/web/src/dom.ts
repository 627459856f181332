// Small DOM helpers for the views: an element builder, replacing a slot's content, number formatting, and the
// person's motion preference.

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

/** h('div', { class: 'x', onclick: fn }, child, ...): attributes, event handlers (on*), text or node children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false)
      el.append(typeof child === 'number' ? String(child) : child);
  return el;
}

/** Replaces the content of `slot` with `content` (a figure or nodes). */
export function fill(slot: Element, ...content: Child[]): void {
  slot.replaceChildren(
    ...content
      .filter((c): c is Node | string => c !== null && c !== undefined && c !== false)
      .map((c) => (typeof c === 'number' ? String(c) : c)),
  );
}

export const fmtInt = (n: number) => n.toLocaleString('en-US');
export const fmtPct = (p: number, digits = 2) => `${(100 * p).toFixed(digits)}%`;
export const fmtMs = (ms: number) =>
  ms < 10 ? `${ms.toFixed(1)} ms` : ms < 2000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;

/** True when the person asked for less motion (prefers-reduced-motion: reduce): draw results, not their steps. */
export const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;
