// The MLP view of a state_dict: the chain of Linear layers (weight [out, in] + bias [out]) in the order of the file,
// whatever the key names are (fc1.weight, 0.weight, net.layers.3.weight, ...). ReLU is assumed between layers.
import { PthError } from './errors.js';
import { FLOAT_DTYPES } from './dtypes.js';
import { readPthSync, type PthFile, type PthTensor } from './read.js';
import { quote } from './text.js';

export interface MlpLayer {
  /** the key prefix, e.g. 'fc1', '0', 'net.layers.3' */
  name: string;
  /** out x in, row-major (PyTorch layout) */
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

export interface MlpModel {
  layers: MlpLayer[];
  inputSize: number;
  classes: number;
  parameters: number;
  /** dtype of the weights in the file ('float32', 'float16', ... or 'mixed'); values are always float32 here */
  dtype: string;
  warnings: string[];
}

const HINT_MLP = 'only chains of nn.Linear layers (weight [out, in] and bias [out]) are supported';

function notMlp(problem: string): PthError {
  return new PthError('PTH_NOT_MLP', problem, HINT_MLP);
}

/** Infers the Linear chain. Throws PTH_NOT_MLP naming the tensor that does not fit, PTH_UNSUPPORTED_DTYPE for ints. */
export function toMlp(file: PthFile): MlpModel {
  const groups = new Map<string, { weight?: PthTensor; bias?: PthTensor }>();
  if (file.tensors.length === 0) throw notMlp('the state_dict holds no tensors');
  for (const t of file.tensors) {
    // flag s: a name may hold \r or \n (an odd or hostile file), which a bare . would not match
    const m = /^(?:(.*)\.)?(weight|bias)$/s.exec(t.name);
    if (!m) throw notMlp(`tensor ${t.name} (shape [${t.shape}]) is not the weight or bias of a Linear layer`);
    if (!FLOAT_DTYPES.has(t.dtype)) {
      throw new PthError(
        'PTH_UNSUPPORTED_DTYPE',
        `tensor ${t.name} has dtype ${t.dtype}`,
        'only float32, float64, float16 and bfloat16 weights are read: convert with model.float() and re-save',
      );
    }
    const prefix = m[1] ?? '';
    const g = groups.get(prefix) ?? {};
    groups.set(prefix, g);
    const kind = m[2] as 'weight' | 'bias';
    if (kind === 'weight' && t.shape.length !== 2)
      throw notMlp(`tensor ${t.name} has shape [${t.shape}], not [out, in]: it is not a Linear layer`);
    if (kind === 'bias' && t.shape.length !== 1) throw notMlp(`tensor ${t.name} has shape [${t.shape}], not [out]`);
    g[kind] = t;
  }
  const warnings = [...file.warnings];
  const layers: MlpLayer[] = [];
  const dtypes = new Set<string>();
  for (const [name, g] of groups) {
    const label = name || '(top level)';
    if (!g.weight) throw notMlp(`tensor ${g.bias!.name} is a bias without a weight`);
    const [out, inSize] = g.weight.shape;
    if (out === 0 || inSize === 0)
      throw notMlp(
        `tensor ${g.weight.name} has shape [${g.weight.shape}]: a layer needs at least one input and one output`,
      );
    let bias: Float32Array;
    if (g.bias) {
      if (g.bias.shape[0] !== out)
        throw notMlp(`tensor ${g.bias.name} has ${g.bias.shape[0]} values but ${g.weight.name} has ${out} outputs`);
      bias = g.bias.data;
      dtypes.add(g.bias.dtype);
    } else {
      bias = new Float32Array(out);
      warnings.push(`layer ${quote(label)} has no bias: using zeros`);
    }
    dtypes.add(g.weight.dtype);
    const prev = layers[layers.length - 1];
    if (prev && prev.out !== inSize) {
      throw notMlp(
        `tensor ${g.weight.name} has shape [${g.weight.shape}] (${inSize} inputs) but the previous layer ${prev.name || '(top level)'} has ${prev.out} outputs`,
      );
    }
    layers.push({ name, weight: g.weight.data, bias, in: inSize, out });
  }
  let parameters = 0;
  for (const l of layers) parameters += l.weight.length + l.bias.length;
  return {
    layers,
    inputSize: layers[0].in,
    classes: layers[layers.length - 1].out,
    parameters,
    dtype: dtypes.size === 1 ? [...dtypes][0] : 'mixed',
    warnings,
  };
}

/** readPth + toMlp. */
export async function loadMlp(bytes: Uint8Array): Promise<MlpModel & { file: PthFile }> {
  return loadMlpSync(bytes);
}

export function loadMlpSync(bytes: Uint8Array): MlpModel & { file: PthFile } {
  const file = readPthSync(bytes);
  return { ...toMlp(file), file };
}
