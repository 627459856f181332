// Public API of @mnist/core-wasm: the MLP class, its option and result types, and the one error class.
export { Mlp } from './mlp.js';
export type { MlpOptions, LayerParams, LayerInput, OptimizerState, Trace, Evaluation, Gradients } from './mlp.js';
export { OPTIMIZER_NAMES } from './optim.js';
export type { TrainOptions, SgdOptions, AdamOptions, OptimizerName, OptimizerConfig } from './optim.js';
export { ACTIVATION_NAMES } from './activations.js';
export type { Activation, ActivationName, ActivationSpec } from './activations.js';
export { CoreError } from './errors.js';
export { seededRandom, shuffle, shuffledOrder } from './random.js';
export { argmax, argmaxRows } from './argmax.js';
export type { CoreErrorCode } from './errors.js';
export { relaxedSimdSupported } from './kernels.js';
export type { ThreadsOption } from './threads.js';
export { MAX_AUTO_THREADS, MAX_THREADS } from './threads.js';
export type { Variant, SimdChoice } from './kernels.js';
