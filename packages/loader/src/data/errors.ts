// The error class of '@mnist/loader/data' (IDX files and user images): a stable code plus a hint a person can act on.

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
  readonly code: DataErrorCode;
  readonly hint: string;
  constructor(code: DataErrorCode, what: string, hint: string) {
    super(`${what}: ${hint}`);
    this.code = code;
    this.hint = hint;
  }
}
