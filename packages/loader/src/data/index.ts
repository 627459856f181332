// '@mnist/loader/data': the data side of the loader — MNIST IDX files and users' own digit pictures.
export { DataError, isDataError, type DataErrorCode } from './errors.js';
export {
  isGzip,
  gunzipIfNeeded,
  readIdxImages,
  readIdxLabels,
  checkDataset,
  toInput,
  normalizeInput,
  MNIST_NORMALIZATION,
  type Normalization,
  type IdxImages,
  type IdxLabels,
} from './idx.js';
export {
  MNIST_SIDE,
  MNIST_PIXELS,
  MNIST_CLASSES,
  inkFromRgba,
  inkFromGray,
  mnistify,
  preprocessImage,
  type Polarity,
} from './digit.js';
