// The one error class of @mnist/viz (stable codes, one-line messages) and a deduplicating warn() for soft problems.

export type VizErrorCode = "VIZ_INVALID_INPUT" | "VIZ_INVALID_OPTION" | "VIZ_NO_DOCUMENT";

export class VizError extends Error {
  readonly code: VizErrorCode;
  constructor(code: VizErrorCode, message: string) {
    super(message);
    this.name = "VizError";
    this.code = code;
  }
}

export function invalidInput(message: string): VizError {
  return new VizError("VIZ_INVALID_INPUT", message);
}

export function invalidOption(message: string): VizError {
  return new VizError("VIZ_INVALID_OPTION", message);
}

const warned = new Set<string>();
let warningCount = 0;

/** Prints each distinct soft problem once (console.warn); tests read warnings() to count them. */
export function warn(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  warningCount++;
  console.warn(`@mnist/viz: ${message}`);
}

/** Number of distinct warnings printed so far. */
export function warnings(): number {
  return warningCount;
}
