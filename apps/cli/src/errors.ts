// How the CLI fails: one error class with the exit code (1 = bad input file, 2 = bad usage), and the text of the
// errors the packages throw (PthError, DataError, CoreError, VizError: { code, message, hint? }).
import { PthError } from '@mnist/loader';
import { DataError } from '@mnist/loader/data';
import { CoreError } from '@mnist/core-wasm';
import type { VizError } from '@mnist/viz';
import { isVizError } from './viz.js';

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

/** The packages' errors: each has a stable `code` and a complete one-line `message` (its `hint` already in it). */
export type PackageError = PthError | DataError | CoreError | VizError;

export function isPackageError(err: unknown): err is PackageError {
  return err instanceof PthError || err instanceof DataError || err instanceof CoreError || isVizError(err);
}

/** The text of a package error as the CLI shows it: its message, then its code: "… refusing to load it [PTH_UNSAFE_GLOBAL]". */
export function packageErrorText(err: PackageError): string {
  return `${err.message} [${err.code}]`;
}

/**
 * Wraps an error from a package while reading `file` into an InputError naming the file,
 * e.g. "model.pth: global os.system is not allowed in a state_dict … [PTH_UNSAFE_GLOBAL]".
 */
export function fileError(file: string, err: unknown): unknown {
  if (!isPackageError(err)) return err;
  // IDX errors already start with the file name they were given.
  const text = packageErrorText(err);
  return new InputError(text.startsWith(`${file}:`) ? text : `${file}: ${text}`, err.code, { cause: err });
}
