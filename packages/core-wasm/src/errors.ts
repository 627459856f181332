// The one error class of @mnist/core-wasm: a stable `code` callers can branch on and a message a person can act on.

export type CoreErrorCode =
  | 'CORE_BAD_SHAPE' // sizes, lengths or batch counts that do not fit the network
  | 'CORE_BAD_ARGUMENT' // a value out of range (label >= classes, lr not finite, unknown option)
  | 'CORE_DISPOSED' // the network was disposed
  | 'CORE_UNSUPPORTED' // the engine lacks a required WebAssembly feature (SIMD, or relaxed SIMD when forced)
  | 'CORE_TOO_LARGE' // the network or the batch does not fit one WebAssembly instance's memory
  | 'CORE_WASM_ABORT'; // the WASM module aborted (out of memory)

export class CoreError extends Error {
  override name = 'CoreError';
  /** The project-wide error contract: { code, message, hint? }; the message already holds the hint when there is one. */
  constructor(
    readonly code: CoreErrorCode,
    problem: string,
    readonly hint?: string,
  ) {
    super(hint ? `${problem}: ${hint}` : problem);
  }
}
