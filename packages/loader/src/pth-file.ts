// What a read of a model file gives: its tensors (float32 values, PyTorch layout) and what the file says about them.
// Types only, in their own module so that the readers (read.ts, safetensors.ts, torchscript.ts) share them without
// importing each other.
import type { PthDtype } from './dtypes.js';
import type { ActivationSpec, Architecture } from './modules.js';

/** TorchScript archives: the activations read from forward()'s code text. */
export interface TorchScriptArchitecture {
  /** per hidden layer, in forward order */
  activations: ActivationSpec[];
  /** per hidden layer, the Dropout p after it (0: none); only when forward has a Dropout between Linear layers */
  dropout?: number[];
}

export interface PthTensor {
  name: string;
  dtype: PthDtype;
  shape: number[];
  /** the values in row-major order (views, offsets and strides already applied), converted to float32 */
  data: Float32Array;
}

export interface PthFile {
  format: 'zip' | 'legacy' | 'safetensors' | 'torchscript';
  /** the zip archive's top folder (`archive`, the file stem, ...); null for the legacy format */
  root: string | null;
  /** where the state_dict or whole model was found in a checkpoint dict (`model_state_dict`, `model`, ...); null when
   * the file holds it at the top */
  key: string | null;
  /** top-level checkpoint entries that were skipped (optimizer state, epoch, ...) */
  ignored: string[];
  byteorder: 'little' | 'big';
  tensors: PthTensor[];
  /** a whole pickled model (torch.save(model)): its modules as chain steps, naming the tensors; absent for a state_dict */
  moduleChain?: Architecture;
  /** problems that do not stop loading (NaN/Infinity in weights, ...), one line each, for people to read */
  warnings: string[];
  /** TorchScript archives only: the activations read from forward()'s code */
  architecture?: TorchScriptArchitecture;
}
