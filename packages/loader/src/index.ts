// @mnist/loader: safe reader and writer of PyTorch .pth state_dicts of MLPs (zip and legacy formats, no code execution).
export { PthError, isPthError, type PthErrorCode } from './errors.js';
export { quote, escapeControl } from './text.js';
export { LIMITS, type Limits } from './limits.js';
export type { PthDtype } from './dtypes.js';
export { readPth, readPthSync, ALLOWED_GLOBALS, type PthFile, type PthTensor } from './read.js';
export { toMlp, loadMlp, loadMlpSync, type MlpActivation, type MlpLayer, type MlpModel } from './mlp.js';
export { savePth, type SaveLayer, type SaveOptions, type SavePthTensor } from './save.js';
export {
  readCheckpoint,
  readCheckpointSync,
  saveCheckpoint,
  checkpointToPy,
  DEFAULT_CHECKPOINT_KEYS,
  type Checkpoint,
  type CheckpointFile,
  type CheckpointInput,
  type CheckpointKeys,
  type OptimizerState,
  type ParamState,
  type StepType,
  type ReadCheckpointOptions,
  type SaveCheckpointOptions,
} from './checkpoint.js';
export {
  PyOrderedDict,
  PyTuple,
  isTensorValue,
  type PyDict,
  type PyKey,
  type PyValue,
  type TensorValue,
} from './py-value.js';
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
export {
  saveRunCheckpoint,
  readRunCheckpoint,
  saveTrainingRun,
  readTrainingRun,
  parseRunRecord,
  stateDictLayout,
  runStateOf,
  type EngineLayer,
  type EngineRunState,
  type RunRecord,
  type TrainingRun,
  type EngineOptimizerState,
  type EngineOptimizerConfig,
  type EngineScheduleState,
  type ParamLayout,
  type RunCheckpointInput,
  type RunCheckpoint,
} from './training.js';
