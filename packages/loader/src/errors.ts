// The one error class of @mnist/loader: a stable `code` per failure and a one-line message that says what is wrong
// and what to do (`hint` holds the "what to do" part on its own, for UIs that show it separately).

export type PthErrorCode =
  | 'PTH_NOT_PTH' // not a torch.save file at all (empty, text, random bytes, another zip)
  | 'PTH_TRUNCATED' // the file ends before the zip or pickle structure does
  | 'PTH_CORRUPT' // zip structure inconsistent: bad offsets, CRC mismatch, bad deflate data, entry inflates past its size
  | 'PTH_BAD_PICKLE' // the pickle is malformed: unknown opcode, stack underflow, wrong argument types
  | 'PTH_UNSAFE_GLOBAL' // the pickle names a global outside the allowlist (os.system, builtins.eval, ...)
  | 'PTH_WHOLE_MODULE' // torch.save(model) of a whole nn.Module instead of its state_dict
  | 'PTH_MISSING_RECORD' // a storage the pickle references has no record in the archive
  | 'PTH_STORAGE_SIZE' // a storage record does not hold exactly numel x itemsize bytes
  | 'PTH_BAD_VIEW' // a tensor's offset/sizes/strides reach outside its storage, or are not valid numbers
  | 'PTH_UNSUPPORTED_DTYPE' // integer, complex, quantized, big-endian-unknown ... weights
  | 'PTH_UNSUPPORTED' // valid file using a feature this loader does not read (zip method, tar-era format, ...)
  | 'PTH_LIMIT' // a safety bound was hit: pickle too large or too deeply nested, too many memo entries or tensors
  | 'PTH_NO_STATE_DICT' // the file holds no dict of tensors (nor a checkpoint holding one)
  | 'PTH_NOT_MLP' // the tensors do not form a chain of Linear layers
  | 'PTH_BAD_ARGUMENT'; // savePth was given inconsistent layers

export class PthError extends Error {
  readonly code: PthErrorCode;
  readonly hint: string;

  /** `problem` says what is wrong; `hint` says what to do. The message is both, on one line. */
  constructor(code: PthErrorCode, problem: string, hint: string) {
    super(hint ? `${problem}: ${hint}` : problem);
    this.name = 'PthError';
    this.code = code;
    this.hint = hint;
  }
}

export function isPthError(e: unknown): e is PthError {
  return e instanceof PthError;
}

// Hints shared by several throw sites.
export const HINT_RESAVE = 'open it with PyTorch and re-save it with torch.save(model.state_dict(), "model.pth")';
export const HINT_CORRUPT = 'the file is damaged: download or copy it again';
