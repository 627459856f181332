// The error class of '@mnist/loader/data' (IDX files and user images), in the project's contract
// { code, message, hint? }: a stable code, and a message that ends with the hint a person can act on.

export type DataErrorCode =
  | 'IDX_BAD_MAGIC' // not an IDX file of the expected kind (images 0x00000803, labels 0x00000801), or gzipped
  | 'IDX_EMPTY' // 0 bytes, or a header that counts 0 items
  | 'IDX_TRUNCATED' // the header, or the data it promises, is cut short
  | 'IDX_BAD_SHAPE' // images of another size than expected, or more bytes than the header describes
  | 'IDX_BAD_LABEL' // a label outside 0..classes-1
  | 'IDX_MISMATCH' // images and labels files of different counts
  | 'IDX_BAD_GZIP'
  | 'IDX_TOO_LARGE'
  | 'IMAGE_BAD_SIZE'
  | 'IMAGE_EMPTY';

export class DataError extends Error {
  override name = 'DataError';
  constructor(
    readonly code: DataErrorCode,
    problem: string,
    readonly hint?: string,
  ) {
    super(hint ? `${problem}: ${hint}` : problem);
  }
}

export function isDataError(e: unknown): e is DataError {
  return e instanceof DataError;
}
