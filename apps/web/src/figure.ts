// Draws a @mnist/viz figure in a view, or, when the figure function throws, a note saying why (formatError).
import { formatError } from './errors.js';
import { h } from './dom.js';

export function figure(build: () => Element): Element {
  try {
    return build();
  } catch (err) {
    console.warn(err);
    return h('p', { class: 'note warn' }, 'Could not draw this figure: ', formatError(err));
  }
}
