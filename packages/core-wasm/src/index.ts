// Public API of @mnist/core-wasm: the MLP class, its option and result types, and the one error class.
export { Mlp } from './mlp.js';
export type {
  MlpOptions,
  LayerParams,
  LayerInput,
  OptimizerState,
  Trace,
  Evaluation,
  Gradients,
  Precision,
} from './mlp.js';
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
export { Augmenter, AUGMENT_PRESETS, ELASTIC_DEFAULTS } from './augment.js';
export type {
  AugmentOptions,
  ResolvedAugmentOptions,
  AugmentParams,
  ElasticWindow,
  AugmenterCreateOptions,
} from './augment.js';
export { train, trainConfig, mixSeed, TRAIN_DEFAULTS, DEFAULT_HIDDEN } from './train.js';
export type {
  TrainConfig,
  TrainData,
  EvalData,
  StepInfo,
  EpochInfo,
  Measured,
  TrainCheckpoint,
  TrainCallbacks,
  TrainResult,
  StopReason,
  OptimizerOptions,
  TrainSchedule,
} from './train.js';
export { TRAIN_RECIPES } from './recipes.js';
export type { RecipeName, TrainRecipe } from './recipes.js';
export { Schedule } from './schedule.js';
export type { ScheduleSpec, ScheduleState, ScheduleKind } from './schedule.js';
// Explanations with gradients (issue 14): saliency maps, counterfactuals, hidden-unit contributions.
export {
  saliency,
  fgsm,
  pgd,
  towardsClass,
  pgdStepSize,
  hiddenContributions,
  gaussianNoise,
  SALIENCY_METHODS,
  EXPLAIN_DEFAULTS,
} from './explain.js';
export type {
  SaliencyMethod,
  SaliencyOptions,
  Saliency,
  AttackOptions,
  PgdOptions,
  TowardsClassOptions,
  Counterfactual,
  UnitContribution,
  InputNormalization,
} from './explain.js';
export type { ClassScore, ClassTarget, InputGradientOptions } from './mlp.js';
