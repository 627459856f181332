// The engine worker: owns the WASM network, parses .pth files, runs inference for the Draw/Explain views,
// evaluates the test set and trains, so the page never blocks. Every network is made in createNet(), which also
// decides how many threads it runs on, and runs with the model's settings (activations, input normalization).
import { type ActivationName, type ActivationSpec, argmax, Mlp } from '@mnist/core-wasm';
import { loadMlp, savePth } from '@mnist/loader';
import {
  gunzipIfNeeded,
  MNIST_CLASSES,
  MNIST_PIXELS,
  type Normalization,
  normalizeInput,
  preprocessImage,
  readIdxImages,
  readIdxLabels,
  toInput,
} from '@mnist/loader/data';
import { errorInfo, WebError } from './errors.js';
import { explainSaliency, stepTowards, teach, undoTeach } from './explaining.js';
import type {
  Envelope,
  EvalResult,
  LayerData,
  ModelInfo,
  ModelSummary,
  Reply,
  Request,
  TestSet,
  TraceResult,
  TrainOptions,
  TrainResult,
} from './protocol.js';
import { fileSettings } from './settings.js';
import { checkpointBytes, runTraining, trainControl } from './training.js';

const EVAL_BATCH = 256;

interface Loaded {
  net: Mlp;
  summary: ModelSummary;
}

let current: Loaded | undefined;
let trained: Loaded | undefined;

function createNet(sizes: number[], seed = 1, activations?: readonly ActivationSpec[]): Promise<Mlp> {
  // threads: 'auto' splits large batches (test-set evaluation, training) over the cores the browser reports, at most
  // 8, when the page is cross-origin isolated (the dev server sends COOP/COEP), and runs one thread otherwise; live
  // drawing (batch 1) always stays on this worker's thread. Results are bit-identical either way.
  return Mlp.create(sizes, { seed, threads: 'auto', ...(activations && { activation: activations }) });
}

/** The same weights in a new network with these activations (the net's own are kept when none are given). */
async function rebuild(net: Mlp, activations: readonly ActivationSpec[]): Promise<Mlp> {
  const layers = layersOf(net, []);
  return Mlp.fromLayers(layers, { seed: 1, threads: 'auto', activation: activations });
}

function post(reply: Reply, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(reply, transfer);
}

function layersOf(net: Mlp, names: string[]): LayerData[] {
  const out: LayerData[] = [];
  for (let i = 0; i < net.sizes.length - 1; i++) {
    const l = net.getLayer(i);
    out.push({ name: names[i] ?? `fc${i + 1}`, in: l.in, out: l.out, weight: l.weight, bias: l.bias });
  }
  return out;
}

function info(model: Loaded): ModelInfo {
  return {
    summary: model.summary,
    layers: layersOf(
      model.net,
      model.summary.layers.map((l) => l.name),
    ),
  };
}

function describeFormat(file: unknown): string {
  const f = file as { format?: unknown; root?: unknown } | undefined;
  if (!f || typeof f.format !== 'string') return 'PyTorch .pth';
  return typeof f.root === 'string' && f.root ? `${f.format} (${f.root}/)` : f.format;
}

// ---- model loading ------------------------------------------------------------------------------------------

async function load(bytes: Uint8Array, file: string, source: ModelSummary['source']): Promise<ModelInfo> {
  const t0 = performance.now();
  const model = await loadMlp(bytes);
  if (model.inputSize !== MNIST_PIXELS) {
    throw new WebError(
      'WEB_BAD_INPUT',
      `${file}: the model takes ${model.inputSize} inputs, not the ${MNIST_PIXELS} pixels of a 28x28 digit`,
      `load an MNIST model whose first Linear layer has in_features=${MNIST_PIXELS}`,
    );
  }
  if (model.classes !== MNIST_CLASSES) {
    throw new WebError(
      'WEB_BAD_CLASSES',
      `${file}: the model has ${model.classes} outputs, not the ${MNIST_CLASSES} digit classes`,
      `load an MNIST model whose last Linear layer has out_features=${MNIST_CLASSES}`,
    );
  }
  const sizes = [model.layers[0]!.in, ...model.layers.map((l) => l.out)];
  // a whole pickled model or a TorchScript archive says its activations; a state_dict does not (ReLU is assumed)
  const settings = fileSettings(
    sizes.length - 2,
    source === 'default' ? 'embedded' : 'assumed',
    model.architectureSource === 'file' ? model.activations : undefined,
  );
  const net = await createNet(sizes, 1, settings.activations);
  settings.activations = [...net.activations];
  model.layers.forEach((l, i) => net.setLayer(i, l.weight, l.bias));
  const summary: ModelSummary = {
    file,
    source,
    sizes,
    layers: model.layers.map((l) => ({ name: l.name, in: l.in, out: l.out })),
    parameters: model.parameters,
    dtype: model.dtype,
    format: describeFormat(model.file),
    warnings: model.warnings.map(String),
    variant: net.variant,
    threads: net.threads,
    loadMs: performance.now() - t0,
    settings,
  };
  // Only now, with the new network complete, replace the old one: a bad file leaves the previous model working.
  current?.net.dispose();
  current = { net, summary };
  return info(current);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok)
    throw new WebError('WEB_FETCH', `could not fetch ${url}: HTTP ${res.status}`, 'is the dev server still running?');
  return new Uint8Array(await res.arrayBuffer());
}

function requireModel(): Loaded {
  if (!current)
    throw new WebError('WEB_NO_MODEL', 'no model is loaded yet', 'wait for the default model or pick a .pth file');
  return current;
}

// ---- inference ---------------------------------------------------------------------------------------------

/** The network's inputs for these pictures (x/255): a normalized copy when the model says so. */
function networkInput(x: Float32Array, normalize: Normalization | null): Float32Array {
  return normalize ? normalizeInput(x.slice(), normalize) : x;
}

function trace(input: Float32Array): TraceResult {
  const { net, summary } = requireModel();
  const t0 = performance.now();
  const t = net.trace(networkInput(input, summary.settings.normalize));
  // The core's last activation is the softmax itself: keep only the hidden layers' outputs in `a`.
  return {
    input,
    z: t.z,
    a: t.a.slice(0, -1),
    probabilities: t.probabilities,
    prediction: argmax(t.probabilities),
    ms: performance.now() - t0,
  };
}

// ---- MNIST data, fetched and inflated on first use -----------------------------------------------------------

interface Split {
  count: number;
  pixels: Uint8Array;
  labels: Uint8Array;
  /** Network inputs by normalization ('none' or 'mean/std'), made on first use. */
  x: Map<string, Float32Array>;
  loadMs: number;
}
const splits = new Map<string, Promise<Split>>();

function split(name: 't10k' | 'train'): Promise<Split> {
  let p = splits.get(name);
  if (!p) {
    p = (async () => {
      const t0 = performance.now();
      const [img, lab] = await Promise.all([
        fetchBytes(`data/${name}-images-idx3-ubyte.gz`).then((b) => gunzipIfNeeded(b, `${name} images`)),
        fetchBytes(`data/${name}-labels-idx1-ubyte.gz`).then((b) => gunzipIfNeeded(b, `${name} labels`)),
      ]);
      const images = readIdxImages(img, `${name} images`),
        labels = readIdxLabels(lab, `${name} labels`);
      return {
        count: Math.min(images.count, labels.count),
        pixels: images.pixels,
        labels: labels.labels,
        x: new Map(),
        loadMs: performance.now() - t0,
      };
    })();
    p.catch(() => splits.delete(name)); // a failed download can be retried
    splits.set(name, p);
  }
  return p;
}

/** The test set as the network takes it (x/255, then normalized when the model says so). */
async function testInputs(normalize: Normalization | null): Promise<Split & { input: Float32Array }> {
  const s = await split('t10k');
  const key = normalize ? `${normalize.mean}/${normalize.std}` : 'none';
  let input = s.x.get(key);
  if (!input) {
    input = toInput(s.pixels, 0, s.pixels.length, normalize);
    s.x.set(key, input);
  }
  return { ...s, input };
}

async function evaluate(net: Mlp, normalize: Normalization | null): Promise<EvalResult> {
  const test = await testInputs(normalize);
  const t0 = performance.now();
  const r = net.evaluate(test.input, test.labels, test.count, EVAL_BATCH);
  const ms = performance.now() - t0;
  // accuracy is correct / count, so rounding recovers the count exactly
  return {
    count: test.count,
    correct: Math.round(r.accuracy * test.count),
    accuracy: r.accuracy,
    loss: r.loss,
    predictions: r.predictions,
    ms,
  };
}

// ---- training ------------------------------------------------------------------------------------------------

/** A run of the training driver (src/training.ts); the trained network becomes `trained`. */
async function train(id: number, o: TrainOptions): Promise<TrainResult> {
  const { result, model } = await runTraining(id, o, {
    post,
    trainSet: () => split('train'),
    testSet: testInputs,
    evaluate,
    createNet,
    model: requireModel,
  });
  trained?.net.dispose();
  trained = model;
  return result;
}

/** The current model with one activation for every hidden layer and/or another normalization: same weights. */
async function configure(activation?: ActivationName, normalize?: Normalization | null): Promise<ModelInfo> {
  const model = requireModel();
  const settings = structuredClone(model.summary.settings);
  let net = model.net;
  if (activation !== undefined) {
    net = await rebuild(
      model.net,
      settings.activations.map(() => ({ name: activation }) as ActivationSpec),
    );
    settings.activations = [...net.activations];
    settings.source.activation = 'chosen';
  }
  if (normalize !== undefined) {
    settings.normalize = normalize && { mean: normalize.mean, std: normalize.std };
    settings.source.normalize = 'chosen';
  }
  if (net !== model.net) model.net.dispose();
  current = { net, summary: { ...model.summary, settings, variant: net.variant, threads: net.threads } };
  return info(current);
}

function save(which: 'trained' | 'current'): Uint8Array {
  const model = which === 'trained' ? trained : current;
  if (!model)
    throw new WebError(
      'WEB_NO_MODEL',
      `no ${which} model to save`,
      which === 'trained' ? 'train first' : 'load a model first',
    );
  return savePth({
    layers: layersOf(
      model.net,
      model.summary.layers.map((l) => l.name),
    ),
  });
}

// ---- dispatch ------------------------------------------------------------------------------------------------

async function handle(id: number, req: Request): Promise<[unknown, Transferable[]]> {
  switch (req.op) {
    case 'load':
      return [await load(new Uint8Array(req.bytes), req.file, req.source), []];
    case 'trace': {
      const input =
        'input' in req
          ? req.input
          : preprocessImage(new Uint8ClampedArray(req.rgba), req.width, req.height, req.polarity);
      return [trace(input), []];
    }
    case 'testset': {
      const s = await split('t10k');
      const r: TestSet = { count: s.count, pixels: s.pixels, labels: s.labels, loadMs: s.loadMs };
      return [r, []];
    }
    case 'evaluate': {
      const model = requireModel();
      return [await evaluate(model.net, model.summary.settings.normalize), []];
    }
    case 'configure':
      return [await configure(req.activation, req.normalize), []];
    case 'train':
      return [await train(id, req.options), []];
    case 'train-control':
      return [trainControl(req.action), []];
    case 'use-trained': {
      if (!trained) throw new WebError('WEB_NO_MODEL', 'no trained model yet', 'train first');
      current?.net.dispose();
      current = trained;
      trained = undefined;
      return [info(current), []];
    }
    case 'save': {
      const bytes = req.which === 'checkpoint' ? checkpointBytes() : save(req.which);
      return [bytes, [bytes.buffer]];
    }
    // explanations with gradients (issue 14): src/explaining.ts
    case 'saliency': {
      const r = explainSaliency(requireModel(), req.input, req.target, req.method);
      return [r, [r.attribution.buffer]];
    }
    case 'towards':
      return [stepTowards(requireModel(), req.original, req.current, req.target, req.steps, req.stepSize), []];
    case 'teach':
      return [{ ...teach(requireModel(), req.input, req.label, req.lr), model: info(requireModel()) }, []];
    case 'undo-teach':
      return [{ undo: undoTeach(requireModel()), model: info(requireModel()) }, []];
  }
}

self.onmessage = async (event: MessageEvent<Envelope>) => {
  const { id, ...req } = event.data;
  try {
    const [result, transfer] = await handle(id, req as Request);
    post({ id, ok: true, result }, transfer);
  } catch (err) {
    post({ id, ok: false, error: errorInfo(err) });
  }
};
