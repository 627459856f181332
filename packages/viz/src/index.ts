// @mnist/viz: Observable Plot figures of an MNIST MLP, for the browser (real DOM) and Node (a linkedom document).
// Every figure function returns one standalone <svg>.

export { weightTiles, weightTilesImage, heatmap, heatmapImage } from './weights.js';
export type { WeightTilesOptions, HeatmapOptions, ScaledImage } from './weights.js';
export { predictionGrid, predictionGridImage, digitImage } from './digits.js';
export type { PredictionGridOptions, DigitImageOptions, PixelOptions } from './digits.js';
export { confusionMatrix, confusionCounts, probabilityBars, lossCurve } from './metrics.js';
export type { ConfusionMatrixOptions, ProbabilityBarsOptions, LossCurveOptions, HistoryPoint } from './metrics.js';
export { trainingCurves } from './training.js';
export type {
  TrainingCurvesOptions,
  TrainingRun,
  TrainingStepPoint,
  TrainingEpochPoint,
  TrainingMeasure,
} from './training.js';
export { logitBars, signedBars } from './bars.js';
export type { LogitBarsOptions, SignedBarsOptions } from './bars.js';
export {
  attributionMap,
  attributionOverlay,
  attributionSummary,
  changedUnits,
  explanation,
  weightDelta,
} from './explain.js';
export type {
  AttributionMapOptions,
  AttributionOverlayOptions,
  AttributionSummary,
  ExplanationOptions,
  ExplanationReport,
  PixelValue,
  UnitChange,
  WeightDeltaOptions,
} from './explain.js';
// The big figures' images, encoded apart (e.g. in a worker) and given back as their `png` option.
export { pngDataUrl } from './png.js';
export type { IndexedImage } from './png.js';
export type { FigureOptions, FigureDocument, FigureElement, FigureSvg, DocumentLike, ElementLike } from './dom.js';
export { VizError } from './errors.js';
export type { VizErrorCode } from './errors.js';
