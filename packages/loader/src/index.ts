// @mnist/loader: safe reader and writer of PyTorch .pth state_dicts of MLPs (zip and legacy formats, no code execution).
export { PthError, isPthError, type PthErrorCode } from './errors.js';
export { quote, escapeControl } from './text.js';
export { LIMITS, type Limits } from './limits.js';
export type { PthDtype } from './dtypes.js';
export { readPth, readPthSync, ALLOWED_GLOBALS, type PthFile, type PthTensor } from './read.js';
export { toMlp, loadMlp, loadMlpSync, type MlpLayer, type MlpModel } from './mlp.js';
export { savePth, type SaveLayer, type SaveOptions } from './save.js';
