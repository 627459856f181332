// Type-checked by the consumer test under four tsconfigs ({node16, bundler} x {es2022 + @types/node, dom + es2022},
// strict, no skipLibCheck): every public entry point, used as a project would, and misuses the types must reject.
import { CoreError, Mlp, type CoreErrorCode, type Evaluation, type MlpOptions } from '@mnist/core-wasm';
import { relaxedSimdSupported, type KernelExports } from '@mnist/core-wasm/kernels';
import { isPthError, loadMlp, savePth, type MlpModel } from '@mnist/loader';
import { DataError, readIdxImages, readIdxLabels, toInput } from '@mnist/loader/data';
import { confusionMatrix, VizError, weightTiles, type FigureDocument, type FigureSvg } from '@mnist/viz';
import { createDocument, svgToPng, toSvgString } from '@mnist/viz/node';

export async function evaluateFirst(
  pth: Uint8Array,
  imageFile: Uint8Array,
  labelFile: Uint8Array,
  n: number,
): Promise<Evaluation> {
  const model: MlpModel = await loadMlp(pth);
  const options: MlpOptions = { simd: relaxedSimdSupported() ? 'relaxed' : 'plain', threads: 1 };
  const net = await Mlp.fromLayers(model.layers, options);
  try {
    const images = readIdxImages(imageFile);
    return net.evaluate(toInput(images.pixels, 0, n * 784), readIdxLabels(labelFile).labels, n);
  } finally {
    net.dispose();
  }
}

export function errorCode(error: unknown): CoreErrorCode | string | undefined {
  if (error instanceof CoreError) return error.code;
  if (isPthError(error) || error instanceof DataError || error instanceof VizError) return error.code;
  return undefined;
}

export function figures(
  model: MlpModel,
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
): { svg: string; png: Uint8Array } {
  const document: FigureDocument = createDocument();
  const first = model.layers[0]!;
  const tiles: FigureSvg = weightTiles(first.weight, { out: first.out, in: first.in, document });
  const width: string | null = tiles.getAttribute('width');
  const svg = toSvgString(confusionMatrix(labels, predictions, { document, title: `tiles ${width}` }));
  return { svg, png: svgToPng(svg, { width: 480 }) };
}

export const resave = (model: MlpModel): Uint8Array => savePth(model);
export const memoryBytes = (kernels: KernelExports): number => kernels.memory.buffer.byteLength;

// @ts-expect-error simd is 'auto' | 'relaxed' | 'plain'
void Mlp.create([784, 10], { simd: 'fast' });
// @ts-expect-error weightTiles needs the number of units (out)
void weightTiles(new Float32Array(784), {});
// @ts-expect-error predict returns class indices, not probabilities
export const wrong: Float32Array = ({} as Mlp).predict(new Float32Array(784), 1);
