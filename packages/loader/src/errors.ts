// The error class of @mnist/loader's .pth reader and writer, in the project's contract { code, message, hint? }: a
// stable `code` per failure and a one-line message that says what is wrong and what to do (`hint` holds the "what to
// do" part on its own, for UIs that show it separately). Messages are made safe here, whatever the throw site passed:
// no control characters, at most LIMITS.maxMessageLength characters.
import { oneLineMessage } from './text.js';

export type PthErrorCode =
  | 'PTH_NOT_PTH' // not a torch.save file at all (empty, text, random bytes, another zip)
  | 'PTH_TRUNCATED' // the file ends before the zip or pickle structure does
  | 'PTH_CORRUPT' // zip structure inconsistent: bad offsets, CRC mismatch, bad deflate data, entry inflates past its size
  | 'PTH_ZIP_DUPLICATE' // two zip records of one name (or two <folder>/data.pkl): readers disagree on which one counts
  | 'PTH_ZIP_OVERLAP' // two zip records (or a record and the central directory) share bytes: a crafted archive
  | 'PTH_BAD_PICKLE' // the pickle is malformed: unknown opcode, stack underflow, wrong argument types
  | 'PTH_UNSAFE_GLOBAL' // the pickle names a global outside the allowlist (os.system, builtins.eval, ...)
  | 'PTH_WHOLE_MODULE' // torch.save(model) of a whole nn.Module instead of its state_dict
  | 'PTH_MISSING_RECORD' // a storage the pickle references has no record in the archive
  | 'PTH_STORAGE_SIZE' // a storage record does not hold exactly numel x itemsize bytes
  | 'PTH_BAD_VIEW' // a tensor's offset/sizes/strides reach outside its storage, or are not valid numbers
  | 'PTH_UNSUPPORTED_DTYPE' // integer, complex, quantized, big-endian-unknown ... weights
  | 'PTH_UNSUPPORTED' // valid file using a feature this loader does not read (zip method, tar-era format, ...)
  | 'PTH_LIMIT' // a safety bound of LIMITS (limits.ts) was hit; the message names the bound and its number
  | 'PTH_NO_STATE_DICT' // the file holds no dict of tensors (nor a checkpoint holding one)
  | 'PTH_NOT_MLP' // the tensors do not form a chain of Linear layers
  | 'PTH_TORCHSCRIPT' // a TorchScript archive whose forward is not a straight chain of Linear and activation calls
  | 'PTH_UNSUPPORTED_LAYER' // a whole model holds a module outside the allowlist (LayerNorm, Conv2d, ...)
  | 'PTH_AMBIGUOUS_CHAIN' // the file does not say in which order the layers run
  | 'PTH_BAD_CHECKPOINT' // a training checkpoint entry of the wrong type or inconsistent (readCheckpoint)
  | 'PTH_BAD_ARGUMENT'; // savePth / saveCheckpoint was given inconsistent layers or values

export class PthError extends Error {
  override name = 'PthError';
  readonly hint?: string;

  /**
   * `problem` says what is wrong; `hint` what to do. The message is both, on one line, with control characters
   * escaped and long unquoted values cut (throw sites quote file values with `quote` from text.ts; this is the net).
   */
  constructor(
    readonly code: PthErrorCode,
    problem: string,
    hint?: string,
  ) {
    const safe = oneLineMessage(problem, hint ?? '');
    super(safe.hint ? `${safe.problem}: ${safe.hint}` : safe.problem);
    this.hint = safe.hint || undefined;
  }
}

export function isPthError(e: unknown): e is PthError {
  return e instanceof PthError;
}

// Hints shared by several throw sites.
export const HINT_RESAVE = 'open it with PyTorch and re-save it with torch.save(model.state_dict(), "model.pth")';
export const HINT_CORRUPT = 'the file is damaged: download or copy it again';
export const HINT_TRUNCATED = 'the file was cut short: get the whole file again';
