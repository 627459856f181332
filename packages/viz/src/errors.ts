// The one error class of @mnist/viz (stable codes; the project's contract: message = "problem: hint", or the problem
// alone) and a deduplicating warn() for soft problems, which the tests count with warnings().

export type VizErrorCode = 'VIZ_INVALID_INPUT' | 'VIZ_INVALID_OPTION' | 'VIZ_NO_DOCUMENT';

export class VizError extends Error {
  override name = 'VizError';
  /** The project-wide error contract { code, message, hint? }: the message already holds the hint when there is one. */
  constructor(
    readonly code: VizErrorCode,
    problem: string,
    readonly hint?: string,
  ) {
    super(hint ? `${problem}: ${hint}` : problem);
  }
}

export function invalidInput(message: string): VizError {
  return new VizError('VIZ_INVALID_INPUT', message);
}

export function invalidOption(message: string): VizError {
  return new VizError('VIZ_INVALID_OPTION', message);
}

const warned = new Set<string>();

/** Prints each distinct soft problem once (console.warn), as Plot does; internal, like Plot's. */
export function warn(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(`@mnist/viz: ${message}`);
}

/** Number of distinct warnings printed so far (for the tests). */
export function warnings(): number {
  return warned.size;
}
