// The consumer's browser page: fetches a model and the MNIST test images from its server, predicts the first 16
// digits, draws the first one's probabilities, and leaves a report in globalThis.report for the test to read.
import { Mlp } from '@mnist/core-wasm';
import { loadMlp } from '@mnist/loader';
import { readIdxImages, toInput } from '@mnist/loader/data';
import { probabilityBars } from '@mnist/viz';

const bytes = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
};

try {
  const model = await loadMlp(await bytes('mnist_model.pth'));
  const images = readIdxImages(await bytes('t10k-images-idx3-ubyte'));
  const n = 16;
  const x = toInput(images.pixels, 0, n * 784);
  const net = await Mlp.fromLayers(model.layers);
  const predictions = Array.from(net.predict(x, n));
  const figure = probabilityBars(net.probabilities(x.subarray(0, 784), 1), { title: `predicted ${predictions[0]}` });
  document.body.append(figure);
  globalThis.report = { variant: net.variant, predictions, figure: `${figure.tagName}:${figure.namespaceURI}` };
  net.dispose();
} catch (error) {
  globalThis.report = { error: String(error?.stack ?? error) };
}
