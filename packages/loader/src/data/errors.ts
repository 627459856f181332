// The error class of '@mnist/loader/data' (IDX files and user images): a stable code plus a hint a person can act on.

export type DataErrorCode =
  | 'IDX_BAD_MAGIC'
  | 'IDX_TRUNCATED'
  | 'IDX_MISMATCH'
  | 'IDX_BAD_GZIP'
  | 'IDX_TOO_LARGE'
  | 'IMAGE_BAD_SIZE'
  | 'IMAGE_EMPTY';

export class DataError extends Error {
  override name = 'DataError';
  readonly code: DataErrorCode;
  readonly hint: string;
  constructor(code: DataErrorCode, what: string, hint: string) {
    super(`${what}: ${hint}`);
    this.code = code;
    this.hint = hint;
  }
}
