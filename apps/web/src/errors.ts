// Errors of the web app, one contract for all: { code, message, hint? } (the loader's, the engine's and viz's errors
// have that shape too). WebError is the app's own; errorInfo reads any error as that plain shape (what crosses the
// worker boundary); formatError is the one place the page turns an error into what a person sees.
import { escapeControl } from '@mnist/loader';
import { h } from './dom.js';
import type { ErrorInfo } from './protocol.js';

export type WebErrorCode =
  | 'WEB_BAD_INPUT' // the model does not take 784 pixels
  | 'WEB_BAD_CLASSES' // the model does not have 10 outputs
  | 'WEB_FETCH' // a file of the site could not be downloaded
  | 'WEB_NO_MODEL' // no (current or trained) model to run or save
  | 'WEB_BUSY' // a training run is already going
  | 'WEB_BAD_OPTION' // a training setting out of range
  | 'WEB_NOT_AN_IMAGE' // an uploaded photo the browser cannot decode
  | 'WEB_NO_UNDO' // Undo with no teaching step of the current model to take back
  | 'WEB_WORKER'; // the engine worker itself failed

export class WebError extends Error {
  override name = 'WebError';
  /** The message is `problem: hint`, or the problem alone. */
  constructor(
    readonly code: WebErrorCode,
    problem: string,
    readonly hint?: string,
  ) {
    super(hint ? `${problem}: ${hint}` : problem);
  }
}

/** Any thrown value as plain { code, message, hint? }; errors without a string code are INTERNAL. */
export function errorInfo(err: unknown): ErrorInfo {
  const e = err as { code?: unknown; message?: unknown; hint?: unknown } | null | undefined;
  return {
    code: typeof e?.code === 'string' ? e.code : 'INTERNAL',
    message: typeof e?.message === 'string' ? e.message : String(err),
    hint: typeof e?.hint === 'string' ? e.hint : undefined,
  };
}

/**
 * Shows any error (an Error of any package, or the worker's plain object): its code in bold, the file or input it is
 * about when given, the message, and the hint on its own line when the message does not already end with it. Every
 * string is shown with control characters escaped, since messages quote file names and file contents.
 */
export function formatError(err: unknown, subject?: string): HTMLElement {
  const { code, message, hint } = errorInfo(err);
  return h(
    'span',
    { class: 'error-text' },
    h('strong', {}, code),
    ' ',
    subject === undefined ? null : h('code', {}, escapeControl(subject)),
    subject === undefined ? null : ': ',
    escapeControl(message),
    hint && !message.includes(hint) ? h('div', { class: 'hint' }, escapeControl(hint)) : null,
  );
}
