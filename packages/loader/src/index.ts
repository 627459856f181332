// @mnist/loader: safe reader and writer of PyTorch .pth state_dicts of MLPs (zip and legacy formats, no code execution).
export { PthError, isPthError, type PthErrorCode } from './errors.js';
export { quote, escapeControl } from './text.js';
export { LIMITS, type Limits } from './limits.js';
export type { PthDtype } from './dtypes.js';
export { readPth, readPthSync, ALLOWED_GLOBALS, type PthFile, type PthTensor } from './read.js';
export { toMlp, loadMlp, loadMlpSync, type MlpActivation, type MlpLayer, type MlpModel } from './mlp.js';
export { savePth, type SaveLayer, type SaveOptions } from './save.js';
export {
  readSafetensors,
  saveSafetensors,
  looksLikeSafetensors,
  type SafetensorsFile,
  type SafetensorsLayer,
  type SafetensorsTensor,
  type SaveSafetensorsOptions,
} from './safetensors.js';
export { readTorchScript, isTorchScript, type Activation, type TorchScriptArchitecture } from './torchscript.js';
