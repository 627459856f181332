// How the CLI fails: one error class with the exit code (1 = bad input file, 2 = bad usage), and the
// one-line formatting of every error the packages throw (PthError, DataError, CoreError) into a message.

export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  /** Stable code of the underlying failure when there is one (PTH_*, IDX_*, IMAGE_*, CORE_*, or CLI_*). */
  readonly code: string;
  constructor(exitCode: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** Bad usage: unknown flags, missing or nonsense values. Exit code 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, code = 'CLI_USAGE') {
    super(EXIT_USAGE, code, message);
  }
}

/** Bad input file or state on disk: missing, unreadable, undecodable, refused. Exit code 1. */
export class InputError extends CliError {
  override name = 'InputError';
  constructor(message: string, code = 'CLI_INPUT', options?: { cause?: unknown }) {
    super(EXIT_INPUT, code, message, options);
  }
}

interface CodedError {
  message: string;
  code: string;
  hint?: string;
}

/** True for the packages' own errors (PthError, DataError, CoreError): they carry a string `code`. */
export function isCodedError(err: unknown): err is Error & CodedError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && !(err instanceof CliError)
    && !/^E[A-Z]+$/.test((err as unknown as { code: string }).code); // Node's own ENOENT & co are handled by files.ts
}

/** Message of a package error with its hint appended when the message does not already carry it. */
export function packageMessage(err: Error & CodedError): string {
  let text = err.message;
  if (err.hint && !text.includes(err.hint)) text += `: ${err.hint}`;
  return text;
}

/**
 * Wraps an error from a package while reading `file` into an InputError naming the file and the code,
 * e.g. "model.pth: global os.system is not allowed in a state_dict … [PTH_UNSAFE_GLOBAL]".
 */
export function fileError(file: string, err: unknown): unknown {
  if (isCodedError(err)) {
    // IDX errors already start with the file name they were given.
    const text = packageMessage(err);
    return new InputError(`${text.startsWith(`${file}:`) ? text : `${file}: ${text}`} [${err.code}]`, err.code, { cause: err });
  }
  return err;
}

/** One line for the terminal: newlines folded so that a message never spans lines. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
