// The MLP view of a file: the chain of Linear layers (weight [out, in] + bias [out]), whatever the key names are (fc1,
// 0, net.layers.3, ...): in the order of a whole pickled model's modules (with its activations), else in file order or
// the one order the shapes allow. A state_dict does not say its activations: the caller says them.
import { PthError } from './errors.js';
import { FLOAT_DTYPES } from './dtypes.js';
import { readPthSync, type PthFile, type PthTensor } from './read.js';
import { quote } from './text.js';
import type { ActivationSpec, Architecture } from './modules.js';

const MNIST_PIXELS = 784;

export interface MlpLayer {
  /** the key prefix, e.g. 'fc1', '0', 'net.layers.3' */
  name: string;
  /** out x in, row-major (PyTorch layout) */
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

/** An activation as @mnist/core-wasm names it: 'relu', 'tanh', ..., { name: 'leaky_relu', slope }, { name: 'elu', alpha }. */
export type MlpActivation = ActivationSpec;

export interface MlpModel {
  layers: MlpLayer[];
  inputSize: number;
  classes: number;
  parameters: number;
  /** dtype of the weights in the file ('float32', 'float16', ... or 'mixed'); values are always float32 here */
  dtype: string;
  warnings: string[];
  /** 'file': the activations were read from a whole pickled model; 'none': the file holds weights only (say them) */
  architectureSource: 'file' | 'none';
  /** per hidden layer (layers.length - 1), in forward order; only when architectureSource is 'file' */
  activations?: MlpActivation[];
  /** the model's last step turns the logits into (log-)probabilities; `layers` still give the logits */
  final?: 'softmax' | 'log_softmax';
  /** per hidden layer, the Dropout p after it (0: none); identity at inference. Only when the file has Dropout */
  dropout?: number[];
  /** BatchNorm1d modules folded into the Linear before them (inference only: such a model cannot be trained as is) */
  folded?: string[];
}

const HINT_MLP = 'only chains of nn.Linear layers (weight [out, in] and bias [out]) are supported';

function notMlp(problem: string): PthError {
  return new PthError('PTH_NOT_MLP', problem, HINT_MLP);
}

interface LinearGroup {
  kind: 'linear';
  name: string;
  weight: PthTensor;
  bias?: PthTensor;
  in: number;
  out: number;
  /** BatchNorm groups to fold after it, in order */
  norms: NormGroup[];
}
interface NormGroup {
  kind: 'batchnorm';
  name: string;
  size: number;
  mean: PthTensor;
  variance: PthTensor;
  gamma?: PthTensor;
  beta?: PthTensor;
  eps: number;
}

const SUFFIX = /^(?:(.*)\.)?(weight|bias|running_mean|running_var|num_batches_tracked)$/s;
/** BatchNorm1d's default eps: a state_dict does not hold it. */
const DEFAULT_EPS = 1e-5;

/** Groups the tensors by module prefix (in file order) into Linear layers and BatchNorm1d modules. */
function groupTensors(file: PthFile, dtypes: Set<string>): Map<string, LinearGroup | NormGroup> {
  const raw = new Map<string, Map<string, PthTensor>>();
  if (file.tensors.length === 0) throw notMlp('the state_dict holds no tensors');
  for (const t of file.tensors) {
    // flag s: a name may hold \r or \n (an odd or hostile file), which a bare . would not match
    const m = SUFFIX.exec(t.name);
    if (!m || (m[2] !== 'weight' && m[2] !== 'bias' && t.shape.length > 1))
      throw notMlp(`tensor ${t.name} (shape [${t.shape}]) is not the weight or bias of a Linear layer`);
    if (m[2] !== 'num_batches_tracked' && !FLOAT_DTYPES.has(t.dtype)) {
      throw new PthError(
        'PTH_UNSUPPORTED_DTYPE',
        `tensor ${t.name} has dtype ${t.dtype}`,
        'only float32, float64, float16 and bfloat16 weights are read: convert with model.float() and re-save',
      );
    }
    const prefix = m[1] ?? '';
    const g = raw.get(prefix) ?? new Map<string, PthTensor>();
    raw.set(prefix, g);
    g.set(m[2], t);
  }
  const groups = new Map<string, LinearGroup | NormGroup>();
  for (const [name, g] of raw) {
    const weight = g.get('weight'),
      bias = g.get('bias');
    const mean = g.get('running_mean'),
      variance = g.get('running_var'),
      count = g.get('num_batches_tracked');
    if (mean || variance || count) {
      // BatchNorm1d: running statistics, and weight (gamma) / bias (beta) when affine
      const first = (mean ?? variance ?? count)!;
      if (!mean || !variance)
        throw notMlp(`tensor ${first.name} belongs to a BatchNorm that lacks running_mean or running_var`);
      const size = mean.shape[0];
      for (const t of [mean, variance, weight, bias])
        if (t && (t.shape.length !== 1 || t.shape[0] !== size))
          throw notMlp(`tensor ${t.name} has shape [${t.shape}], not [${size}] like ${mean.name}`);
      for (const t of [mean, variance, weight, bias]) if (t) dtypes.add(t.dtype);
      groups.set(name, { kind: 'batchnorm', name, size, mean, variance, gamma: weight, beta: bias, eps: DEFAULT_EPS });
      continue;
    }
    if (!weight) throw notMlp(`tensor ${bias!.name} is a bias without a weight`);
    if (weight.shape.length !== 2)
      throw notMlp(`tensor ${weight.name} has shape [${weight.shape}], not [out, in]: it is not a Linear layer`);
    if (bias && bias.shape.length !== 1) throw notMlp(`tensor ${bias.name} has shape [${bias.shape}], not [out]`);
    const [out, inSize] = weight.shape;
    if (out === 0 || inSize === 0)
      throw notMlp(
        `tensor ${weight.name} has shape [${weight.shape}]: a layer needs at least one input and one output`,
      );
    if (bias && bias.shape[0] !== out)
      throw notMlp(`tensor ${bias.name} has ${bias.shape[0]} values but ${weight.name} has ${out} outputs`);
    dtypes.add(weight.dtype);
    if (bias) dtypes.add(bias.dtype);
    groups.set(name, { kind: 'linear', name, weight, bias, in: inSize, out, norms: [] });
  }
  return groups;
}

function attachNorm(linear: LinearGroup | undefined, norm: NormGroup): void {
  if (!linear)
    throw new PthError(
      'PTH_UNSUPPORTED_LAYER',
      `BatchNorm ${quote(norm.name || '(top level)')} comes before any Linear layer`,
      'only a BatchNorm1d right after a Linear is read (folded into it)',
    );
  if (linear.out !== norm.size)
    throw notMlp(
      `BatchNorm ${quote(norm.name)} normalizes ${norm.size} values but ${quote(linear.name)} gives ${linear.out}`,
    );
  linear.norms.push(norm);
}

const label = (name: string) => name || '(top level)';

function chains(order: LinearGroup[]): boolean {
  for (let i = 1; i < order.length; i++) if (order[i - 1].out !== order[i].in) return false;
  return true;
}

function chainError(order: LinearGroup[]): PthError {
  for (let i = 1; i < order.length; i++) {
    const prev = order[i - 1],
      g = order[i];
    if (prev.out !== g.in)
      return notMlp(
        `tensor ${g.weight.name} has shape [${g.weight.shape}] (${g.in} inputs) but the previous layer ${label(prev.name)} has ${prev.out} outputs`,
      );
  }
  return notMlp('the layers do not chain');
}

/**
 * Every order of the layers that chains by shape (out of one = in of the next), at most `max` of them, searched
 * depth first with a bound on the work (a file of many square layers has factorially many: reported as ambiguous).
 */
function shapeOrders(layers: LinearGroup[], max: number): LinearGroup[][] | null {
  const found: LinearGroup[][] = [];
  const used = new Array<boolean>(layers.length).fill(false);
  const path: LinearGroup[] = [];
  let work = 0;
  const dfs = (): boolean => {
    if (++work > 100_000) return false;
    if (path.length === layers.length) {
      found.push(path.slice());
      return found.length < max;
    }
    for (let i = 0; i < layers.length; i++) {
      if (used[i] || (path.length > 0 && path[path.length - 1].out !== layers[i].in)) continue;
      used[i] = true;
      path.push(layers[i]);
      const go = dfs();
      path.pop();
      used[i] = false;
      if (!go) return false;
    }
    return true;
  };
  const complete = dfs();
  return complete || found.length >= max ? found : null;
}

function ambiguous(problem: string): PthError {
  return new PthError(
    'PTH_AMBIGUOUS_CHAIN',
    problem,
    'save the layers in forward order, e.g. as an nn.Sequential, then torch.save(model.state_dict(), "model.pth")',
  );
}

/** The state_dict's Linear layers in an order that chains: the file's, or the only one the shapes allow. */
function orderByShape(linears: LinearGroup[], warnings: string[]): LinearGroup[] {
  if (chains(linears)) return linears;
  let orders = shapeOrders(linears, 3);
  if (orders === null) throw ambiguous(`the ${linears.length} layers chain in too many orders to tell which is meant`);
  // several orders: MNIST's 784 inputs may tell the first layer
  if (orders.length > 1) orders = orders.filter((o) => o[0].in === MNIST_PIXELS);
  if (orders.length === 0) throw chainError(linears);
  if (orders.length > 1)
    throw ambiguous(
      `the layers do not chain in file order, and they chain in several orders by shape (${orders
        .slice(0, 2)
        .map((o) => o.map((g) => quote(label(g.name), 24)).join(' then '))
        .join('; ')})`,
    );
  const order = orders[0];
  warnings.push(
    `layers reordered by shape: ${order.map((g) => `${quote(label(g.name), 40)} (${g.in}->${g.out})`).join(' then ')}`,
  );
  return order;
}

/** W' = W * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps): in float64, rounded once to float32. */
function fold(g: LinearGroup, bias: Float32Array): { weight: Float32Array; bias: Float32Array } {
  let weight = g.weight.data;
  let b: Float32Array = bias;
  for (const n of g.norms) {
    const w2 = new Float32Array(weight.length),
      b2 = new Float32Array(g.out);
    for (let o = 0; o < g.out; o++) {
      const s = (n.gamma ? n.gamma.data[o] : 1) / Math.sqrt(n.variance.data[o] + n.eps);
      for (let i = 0; i < g.in; i++) w2[o * g.in + i] = weight[o * g.in + i] * s;
      b2[o] = (b[o] - n.mean.data[o]) * s + (n.beta ? n.beta.data[o] : 0);
    }
    weight = w2;
    b = b2;
  }
  return { weight, bias: b };
}

/** The chain of a whole pickled model, read from its modules (activations, folds, dropout, final softmax). */
function fromModules(
  chain: Architecture,
  groups: Map<string, LinearGroup | NormGroup>,
  warnings: string[],
): { order: LinearGroup[]; activations: MlpActivation[] | null; dropout: number[]; final?: 'softmax' | 'log_softmax' } {
  const order: LinearGroup[] = [];
  const gaps: MlpActivation[][] = [];
  const dropout: number[] = [];
  let final: 'softmax' | 'log_softmax' | undefined;
  const where = (cls: string, path: string) => `${quote(cls, 80)} at ${quote(label(path), 40)}`;
  for (const step of chain.steps) {
    if (final)
      throw new PthError(
        'PTH_UNSUPPORTED_LAYER',
        `${where(step.cls, step.path)} comes after the final ${final}`,
        'only a last Softmax or LogSoftmax is read',
      );
    const gap = gaps[order.length - 1];
    switch (step.kind) {
      case 'linear':
        order.push(groups.get(step.path) as LinearGroup);
        gaps.push([]);
        dropout.push(0);
        break;
      case 'batchnorm': {
        const norm = groups.get(step.path) as NormGroup;
        norm.eps = step.eps;
        if (gap && gap.length > 0)
          throw new PthError(
            'PTH_UNSUPPORTED_LAYER',
            `${where(step.cls, step.path)} comes after an activation`,
            'only a BatchNorm1d right after a Linear is read (folded into it)',
          );
        attachNorm(order[order.length - 1], norm);
        break;
      }
      case 'activation':
        if (!gap)
          throw new PthError(
            'PTH_UNSUPPORTED_LAYER',
            `${where(step.cls, step.path)} comes before any Linear layer`,
            'the input goes to a Linear first',
          );
        gap.push(step.activation);
        break;
      case 'noop':
        if (step.p !== undefined && gap) dropout[order.length - 1] = step.p;
        break;
      case 'final':
        final = step.final;
        break;
    }
  }
  if (order.length === 0) throw notMlp(`the pickled model ${quote(chain.root, 80)} holds no Linear layer`);
  if (!chain.exact) {
    if (!chains(order))
      throw ambiguous(
        `${quote(chain.userClasses.join(', '), 60)} registers ${order.map((g) => `${quote(label(g.name), 24)} (${g.in}->${g.out})`).join(', ')}, which does not chain, and its forward() is code the file does not hold`,
      );
    warnings.push(
      `forward() of ${quote(chain.userClasses.join(', '), 80)} is code and was not read: the modules are taken in registration order`,
    );
  } else if (!chains(order)) throw chainError(order);
  const last = gaps[gaps.length - 1];
  if (last.length > 0)
    throw new PthError(
      'PTH_UNSUPPORTED_LAYER',
      `the pickled model applies ${quote(JSON.stringify(last[0]), 40)} after its last Linear layer`,
      'the last Linear must give the logits (a final Softmax or LogSoftmax is fine)',
    );
  const activations = gaps.slice(0, -1).map((gap, i) => {
    if (gap.length > 1)
      throw new PthError(
        'PTH_UNSUPPORTED_LAYER',
        `the pickled model applies ${gap.length} activations after ${quote(label(order[i].name), 40)}`,
        'one activation (or none) between Linear layers is read',
      );
    return gap[0] ?? 'identity';
  });
  // a user class's forward() may apply functional activations (F.relu) the file does not show: unknown, not identity
  const known = chain.exact || activations.every((_, i) => gaps[i].length > 0);
  if (!known)
    warnings.push(
      `forward() of ${quote(chain.userClasses.join(', '), 80)} registers no activation module between some Linear layers: its activations are not in the file`,
    );
  return { order, activations: known ? activations : null, dropout: dropout.slice(0, -1), final };
}

/**
 * The Linear chain. A whole pickled model gives the order and activations; a state_dict gives the file order, or the
 * one order its shapes allow (with a warning). BatchNorm1d after a Linear is folded into it. Throws PTH_NOT_MLP naming
 * the tensor that does not fit, PTH_AMBIGUOUS_CHAIN, PTH_UNSUPPORTED_LAYER, PTH_UNSUPPORTED_DTYPE for ints.
 */
export function toMlp(file: PthFile): MlpModel {
  const warnings = [...file.warnings];
  const dtypes = new Set<string>();
  const groups = groupTensors(file, dtypes);
  const chain = file.moduleChain;
  let order: LinearGroup[];
  let fromFile: ReturnType<typeof fromModules> | undefined;
  if (chain) {
    fromFile = fromModules(chain, groups, warnings);
    order = fromFile.order;
  } else {
    let prev: LinearGroup | undefined;
    const linears: LinearGroup[] = [];
    for (const g of groups.values()) {
      if (g.kind === 'linear') {
        linears.push(g);
        prev = g;
      } else attachNorm(prev, g);
    }
    order = orderByShape(linears, warnings);
  }
  const layers: MlpLayer[] = [];
  const folded: string[] = [];
  for (const g of order) {
    let bias: Float32Array;
    if (g.bias) bias = g.bias.data;
    else {
      bias = new Float32Array(g.out);
      warnings.push(`layer ${quote(label(g.name))} has no bias: using zeros`);
    }
    let weight = g.weight.data;
    if (g.norms.length > 0) {
      ({ weight, bias } = fold(g, bias));
      for (const n of g.norms) folded.push(n.name);
      warnings.push(
        `BatchNorm ${g.norms.map((n) => quote(label(n.name))).join(', ')} folded into ${quote(label(g.name))} (inference only)`,
      );
    }
    layers.push({ name: g.name, weight, bias, in: g.in, out: g.out });
  }
  let parameters = 0;
  for (const l of layers) parameters += l.weight.length + l.bias.length;
  const model: MlpModel = {
    layers,
    inputSize: layers[0].in,
    classes: layers[layers.length - 1].out,
    parameters,
    dtype: dtypes.size === 1 ? [...dtypes][0] : 'mixed',
    warnings,
    architectureSource: fromFile?.activations ? 'file' : 'none',
  };
  // a TorchScript archive: the activations come from its forward() code text (torchscript.ts)
  if (file.architecture && file.architecture.activations.length === layers.length - 1) {
    model.activations = file.architecture.activations as MlpActivation[];
    model.architectureSource = 'file';
    if (file.architecture.dropout) model.dropout = file.architecture.dropout;
  }
  if (fromFile) {
    if (fromFile.activations) model.activations = fromFile.activations;
    if (fromFile.final) model.final = fromFile.final;
    if (fromFile.dropout.some((p) => p > 0)) model.dropout = fromFile.dropout;
  }
  if (folded.length > 0) model.folded = folded;
  return model;
}

/** readPth + toMlp. */
export async function loadMlp(bytes: Uint8Array): Promise<MlpModel & { file: PthFile }> {
  return loadMlpSync(bytes);
}

export function loadMlpSync(bytes: Uint8Array): MlpModel & { file: PthFile } {
  const file = readPthSync(bytes);
  return { ...toMlp(file), file };
}
