// `inspect --probe`: a state_dict records neither the activation nor the input normalization, so run the model on
// the first test images under every activation x normalization and rank the readings by accuracy. Compute only:
// inspect.ts renders the rows.
import { ACTIVATION_NAMES, type ActivationName, type ActivationSpec, type Mlp } from '@mnist/core-wasm';
import type { MlpModel } from '@mnist/loader';
import { MNIST_NORMALIZATION, normalizeInput, type Normalization } from '@mnist/loader/data';
import { allInputs, type Dataset } from './data.js';
import { activationText, createEmptyNet, layerSizes, type ModelSettings } from './model.js';

/** Test images a probe runs on: enough to separate readings that differ by a few percent, quick on a busy machine. */
export const PROBE_IMAGES = 1000;

/** The normalizations a probe tries, in this order: none (x/255), then MNIST's mean and std. */
export const PROBE_NORMALIZATIONS: ReadonlyArray<Normalization | null> = [null, MNIST_NORMALIZATION];

export interface ProbeRow {
  /** Every hidden layer has this activation (default parameters); null for a model with no hidden layer. */
  activation: ActivationName | null;
  normalize: Normalization | null;
  accuracy: number;
  correct: number;
}

export interface ProbeReport {
  /** Where the images came from and how many ran. */
  data: string;
  images: number;
  /** False for a one-layer model: there is no activation to probe, only the normalization. */
  activations: boolean;
  /** Best first; ties keep the order tried (ACTIVATION_NAMES order, then none before mnist), so it is reproducible. */
  rows: ProbeRow[];
  /** Index in rows of the reading the settings name (said or assumed), or null when they are not among the tried. */
  current: number | null;
}

/** Runs the model under each reading; one network per activation, its weights set once, both normalizations run. */
export async function probeSettings(mlp: MlpModel, data: Dataset, settings: ModelSettings): Promise<ProbeReport> {
  const sizes = layerSizes(mlp);
  const hidden = sizes.length - 2;
  const count = Math.min(PROBE_IMAGES, data.images.count);
  const labels = data.labels.labels;
  const plain = allInputs(data.images, count);
  const inputs = PROBE_NORMALIZATIONS.map((n) => (n ? normalizeInput(plain.slice(), n) : plain));
  const activations: Array<ActivationName | null> = hidden > 0 ? [...ACTIVATION_NAMES] : [null];
  const said = settings.activations.map(activationText).join(',');
  const tried: Array<{ row: ProbeRow; current: boolean }> = [];
  for (const activation of activations) {
    const spec = activation === null ? [] : Array.from({ length: hidden }, () => ({ name: activation }));
    const net = await createEmptyNet(sizes, 0, spec as ActivationSpec[]);
    try {
      mlp.layers.forEach((layer, i) => net.setLayer(i, layer.weight, layer.bias));
      // The engine fills in the default parameters (leaky_relu 0.01, elu 1): compare the settings with those.
      const sameActivation = net.activations.map(activationText).join(',') === said;
      PROBE_NORMALIZATIONS.forEach((normalize, n) => {
        const correct = countCorrect(net, inputs[n]!, labels, count);
        const row = { activation, normalize: normalize && { ...normalize }, accuracy: correct / count, correct };
        tried.push({ row, current: sameActivation && sameNormalization(normalize, settings.normalize) });
      });
    } finally {
      net.dispose();
    }
  }
  // Array.prototype.sort is stable: equal counts keep the order tried.
  const ranked = [...tried].sort((a, b) => b.row.correct - a.row.correct);
  const current = ranked.findIndex((t) => t.current);
  return {
    data: data.source,
    images: count,
    activations: hidden > 0,
    rows: ranked.map((t) => t.row),
    current: current < 0 ? null : current,
  };
}

const BATCH = 256;

/** Images of the first `count` whose argmax (Mlp.predict, as `mnist predict` reads the logits) is the label. */
function countCorrect(net: Mlp, x: Float32Array, labels: ArrayLike<number>, count: number): number {
  const inputSize = net.sizes[0]!;
  let correct = 0;
  for (let start = 0; start < count; start += BATCH) {
    const b = Math.min(BATCH, count - start);
    const predictions = net.predict(x.subarray(start * inputSize, (start + b) * inputSize), b);
    for (let i = 0; i < b; i++) if (predictions[i] === labels[start + i]) correct++;
  }
  return correct;
}

function sameNormalization(a: Normalization | null, b: Normalization | null): boolean {
  return a === null || b === null ? a === b : a.mean === b.mean && a.std === b.std;
}
