// savePth: writes a zip-format .pth (pickle protocol 2, 64-byte aligned records, as torch.save does) that
// torch.load(path, weights_only=True) reads into the same tensors, in float32 or the tensor's own float dtype.
// The pickle writer, the tensor pickling and the zip layout are pickler.ts's, shared with saveCheckpoint.
import { FLOAT_DTYPES, type PthDtype } from './dtypes.js';
import { PthError } from './errors.js';
import { OP } from './opcodes.js';
import { Pickler, archiveRoot, encodeStorage, pickleTensor, torchZip } from './pickler.js';
import type { PthTensor } from './read.js';

export interface SaveLayer {
  name?: string;
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

/** The float dtypes savePth writes (values are given as float32 and rounded to nearest even for float16/bfloat16). */
export type SaveDtype = 'float32' | 'float64' | 'float16' | 'bfloat16';

/** A tensor checked for writing: its values as float32, stored as `dtype`. */
export interface SaveTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype: PthDtype;
}

export interface SaveOptions {
  /** the archive's top folder; torch uses the file stem or 'archive' */
  root?: string;
}

function badArgument(problem: string): PthError {
  return new PthError(
    'PTH_BAD_ARGUMENT',
    problem,
    'pass layers with weight.length === out * in and bias.length === out',
  );
}

/**
 * The named tensors of a state_dict to write: layers become fc1.weight, fc1.bias, ... in float32; tensors keep their
 * names and dtypes, which must be among `dtypes` (savePth: the float ones; saveCheckpoint: all).
 */
export function toTensors(
  model: { layers: SaveLayer[] } | SavePthTensor[],
  dtypes: ReadonlySet<PthDtype> = FLOAT_DTYPES,
): SaveTensor[] {
  if (Array.isArray(model)) {
    return model.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (!(t.data instanceof Float32Array) || t.data.length !== n)
        throw badArgument(`tensor ${t.name} has ${t.data?.length} values for shape [${t.shape}]`);
      const dtype = t.dtype ?? 'float32';
      if (!dtypes.has(dtype))
        throw new PthError(
          'PTH_BAD_ARGUMENT',
          `tensor ${t.name} has dtype ${dtype}`,
          dtypes === FLOAT_DTYPES
            ? 'savePth writes float32, float64, float16 and bfloat16 tensors'
            : `the dtypes written are ${[...dtypes].join(', ')}`,
        );
      return { name: t.name, shape: t.shape, data: t.data, dtype };
    });
  }
  const out: SaveTensor[] = [];
  model.layers.forEach((l, i) => {
    const name = l.name ?? `fc${i + 1}`;
    if (!(l.weight instanceof Float32Array) || l.weight.length !== l.out * l.in)
      throw badArgument(`layer ${name} weight has ${l.weight?.length} values, not ${l.out} x ${l.in}`);
    if (!(l.bias instanceof Float32Array) || l.bias.length !== l.out)
      throw badArgument(`layer ${name} bias has ${l.bias?.length} values, not ${l.out}`);
    out.push(
      { name: `${name}.weight`, shape: [l.out, l.in], data: l.weight, dtype: 'float32' },
      { name: `${name}.bias`, shape: [l.out], data: l.bias, dtype: 'float32' },
    );
  });
  return out;
}

/** A tensor to write: its values as float32, stored as `dtype` (default float32; PthTensor's own dtype round-trips). */
export type SavePthTensor = Omit<PthTensor, 'dtype'> & { dtype?: PthDtype };

/**
 * Writes a state_dict: keys fc1.weight, fc1.bias, fc2.weight, ... for layers, float32; or the tensors' own names,
 * each in its dtype (float32, float64, float16 or bfloat16).
 */
export function savePth(model: { layers: SaveLayer[] } | SavePthTensor[], options: SaveOptions = {}): Uint8Array {
  const root = archiveRoot(options.root);
  const tensors = toTensors(model);
  const p = new Pickler();
  p.op(OP.PROTO, 2);
  p.global('collections', 'OrderedDict');
  p.op(OP.EMPTY_TUPLE);
  p.op(OP.REDUCE); // OrderedDict()
  p.put();
  if (tensors.length > 0) p.op(OP.MARK); // for SETITEMS
  tensors.forEach((t, i) => {
    p.str(t.name);
    pickleTensor(p, String(i), t.dtype, t.data.length, t.shape);
  });
  if (tensors.length > 0) p.op(OP.SETITEMS);
  p.op(OP.STOP);
  return torchZip(
    root,
    p.bytes(),
    tensors.map((t) => encodeStorage(t.data, t.dtype, t.name)),
  );
}
