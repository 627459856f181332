// The Python values of a training checkpoint as plain JS data that keeps Python's types (int vs float vs bool, tuple
// vs list, dict vs OrderedDict), so that a checkpoint read here and written back is what PyTorch wrote; and the
// writer that pickles them. (The pickle VM's own values, in pickle.ts, are internal: they hold storage references and,
// unless asked, do not tell 1 from 1.0.)
import type { PthDtype } from './dtypes.js';
import { PthError } from './errors.js';
import { LIMITS } from './limits.js';
import { OP } from './opcodes.js';
import { type Pickler, STORAGE_CLASS, encodeStorage, pickleTensor } from './pickler.js';
import { quote } from './text.js';

/**
 * A Python value of a checkpoint:
 *
 * | Python                  | JS                                                                        |
 * | ----------------------- | ------------------------------------------------------------------------- |
 * | `None`                  | `null`                                                                    |
 * | `bool`                  | `boolean`                                                                 |
 * | `int`                   | `bigint` (any size: `3n`, `-1n`, `2n ** 70n`)                             |
 * | `float`                 | `number` (a double, as Python's; NaN, ±Infinity and -0 included)          |
 * | `str`                   | `string`                                                                  |
 * | `bytes`                 | `Uint8Array`                                                              |
 * | `list`                  | `PyValue[]`                                                               |
 * | `tuple`                 | `PyTuple` (`new PyTuple([0.9, 0.999])`)                                   |
 * | `dict`                  | `PyDict`: a `Map` whose keys are `str` (`string`) or `int` (`bigint`)     |
 * | `collections.OrderedDict` | `PyOrderedDict` (a `PyDict` subclass)                                   |
 * | `torch.Tensor`          | `TensorValue`: `{ dtype, shape, data: Float32Array }` (a plain object)    |
 *
 * Values may be shared (one object in two places, as Python's pickler keeps them), never cyclic.
 */
export type PyValue =
  | null
  | boolean
  | bigint
  | number
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | TensorValue;

/** A dict key: a Python str or int. */
export type PyKey = string | bigint;

/** A Python dict (insertion order kept, as Python's). */
export type PyDict = Map<PyKey, PyValue>;

/** A Python collections.OrderedDict (a state_dict is one). */
export class PyOrderedDict extends Map<PyKey, PyValue> {}

/** A Python tuple (kept apart from a list, which is a JS array). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/**
 * A tensor: its values in row-major order as float32 (whatever the dtype; integers exact up to 2^24), and the dtype
 * PyTorch stored, which it is written back in.
 */
export interface TensorValue {
  dtype: PthDtype;
  shape: number[];
  data: Float32Array;
}

/** Whether `v` is a TensorValue: a plain object with `dtype`, `shape` and a Float32Array `data`. */
export function isTensorValue(v: unknown): v is TensorValue {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  const t = v as Partial<TensorValue>;
  return t.data instanceof Float32Array && Array.isArray(t.shape) && typeof t.dtype === 'string';
}

/** The Python type name of a value, for messages: 'int', 'float', 'tensor', ... */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyOrderedDict) return 'OrderedDict';
  if (v instanceof Map) return 'dict';
  if (isTensorValue(v)) return 'tensor';
  return `JS ${typeof v}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

/** What one pickle's tensors need: a storage each (in order of first appearance), named '0', '1', ... */
export class StorageList {
  readonly records: Uint8Array[] = [];
  add(t: TensorValue, name: string): string {
    if (!Object.hasOwn(STORAGE_CLASS, t.dtype))
      throw new PthError('PTH_BAD_ARGUMENT', `${name} has dtype ${t.dtype}`, 'use a dtype of PthDtype');
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((s) => Number.isSafeInteger(s) && s >= 0) || t.data.length !== n)
      throw new PthError(
        'PTH_BAD_ARGUMENT',
        `${name} has ${t.data.length} values for shape [${t.shape}]`,
        'give data.length === the product of shape',
      );
    this.records.push(encodeStorage(t.data, t.dtype, name));
    return String(this.records.length - 1);
  }
}

/**
 * Where a value lies, Python-style, for messages: `optimizer_state_dict['state'][0]['step']` (the top-level key bare,
 * str keys quoted and cut, list and tuple positions as numbers), itself cut past ~120 characters.
 */
export function pathTo(path: string, key: PyKey | number): string {
  if (path.length > 120) return path.endsWith('…') ? path : `${path}…`;
  if (path === '') return typeof key === 'string' ? quote(key, 40) : String(key);
  return `${path}[${typeof key === 'string' ? `'${quote(key, 40)}'` : String(key)}]`;
}

/**
 * Pickles a value as Python's pickler (protocol 2) does: each str, tuple, list, dict and tensor memoized, a second
 * reference to one object written as a memo GET, lists and dicts filled in batches of 1,000. Refuses cycles, nesting
 * deeper than the reader's bound and values outside PyValue (PTH_BAD_ARGUMENT, naming where they lie).
 */
export class PyWriter {
  private memo = new Map<object | string, number>();
  private active = new Set<object>();
  /** the keys from the top to the value being written (a path is only built for a message or a tensor) */
  private trail: (PyKey | number)[] = [];
  constructor(
    readonly p: Pickler,
    readonly storages: StorageList,
  ) {}

  private path(): string {
    return this.trail.reduce<string>((path, key) => pathTo(path, key), '') || 'the checkpoint';
  }

  private child(key: PyKey | number, v: PyValue) {
    this.trail.push(key);
    this.write(v);
    this.trail.pop();
  }

  write(v: PyValue): void {
    const p = this.p;
    if (v === null) p.op(OP.NONE);
    else if (typeof v === 'boolean') p.op(v ? OP.NEWTRUE : OP.NEWFALSE);
    else if (typeof v === 'bigint') p.long(v);
    else if (typeof v === 'number') p.float(v);
    else if (typeof v === 'string') {
      const m = this.memo.get(v);
      if (m !== undefined) p.get(m);
      else {
        p.str(v);
        this.memo.set(v, p.memoSize - 1);
      }
    } else if (typeof v !== 'object') throw this.badValue(v);
    else this.writeObject(v);
  }

  private writeObject(v: Exclude<PyValue, null | boolean | bigint | number | string>): void {
    const p = this.p;
    // a list or dict is memoized before its items (as Python does): a cycle would be written, and never read back
    if (this.active.has(v))
      throw new PthError('PTH_BAD_ARGUMENT', `${this.path()} contains itself`, 'checkpoint values cannot be cyclic');
    const seen = this.memo.get(v);
    if (seen !== undefined) {
      p.get(seen);
      return;
    }
    if (this.trail.length >= LIMITS.maxNesting)
      throw new PthError(
        'PTH_BAD_ARGUMENT',
        `${this.path()} nests containers more than ${LIMITS.maxNesting} deep`,
        'readers refuse deeper pickles',
      );
    this.active.add(v);
    if (v instanceof Uint8Array) {
      // protocol 2 has no bytes opcode: Python 3 pickles bytes as _codecs.encode(latin-1 text, 'latin1')
      p.global('_codecs', 'encode');
      let text = '';
      for (let i = 0; i < v.length; i += 8192)
        text += String.fromCharCode.apply(null, v.subarray(i, i + 8192) as unknown as number[]);
      this.write(text);
      this.write('latin1');
      p.op(OP.TUPLE2);
      p.put();
      p.op(OP.REDUCE);
    } else if (v instanceof PyTuple) {
      if (v.items.length === 0) p.op(OP.EMPTY_TUPLE);
      else {
        if (v.items.length > 3) p.op(OP.MARK);
        v.items.forEach((x, i) => this.child(i, x));
        p.op(v.items.length > 3 ? OP.TUPLE : [OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][v.items.length - 1]);
      }
    } else if (Array.isArray(v)) {
      p.op(OP.EMPTY_LIST);
      this.memo.set(v, p.put());
      for (let start = 0; start < v.length; start += 1000) {
        const end = Math.min(v.length, start + 1000);
        if (end - start > 1) p.op(OP.MARK);
        for (let i = start; i < end; i++) this.child(i, v[i]);
        p.op(end - start > 1 ? OP.APPENDS : OP.APPEND);
      }
    } else if (v instanceof Map) {
      if (v instanceof PyOrderedDict) {
        p.global('collections', 'OrderedDict');
        p.op(OP.EMPTY_TUPLE);
        p.op(OP.REDUCE);
      } else p.op(OP.EMPTY_DICT);
      this.memo.set(v, p.put());
      const entries = [...v];
      for (let start = 0; start < entries.length; start += 1000) {
        const end = Math.min(entries.length, start + 1000);
        if (end - start > 1) p.op(OP.MARK);
        for (let i = start; i < end; i++) {
          const [k, x] = entries[i];
          if (typeof k !== 'string' && typeof k !== 'bigint')
            throw new PthError(
              'PTH_BAD_ARGUMENT',
              `${this.path()} has a key of type ${pyTypeName(k)}`,
              'dict keys are str (string) or int (bigint)',
            );
          this.write(k);
          this.child(k, x);
        }
        p.op(end - start > 1 ? OP.SETITEMS : OP.SETITEM);
      }
    } else if (isTensorValue(v)) {
      const key = this.storages.add(v, this.path());
      pickleTensor(p, key, v.dtype, v.data.length, v.shape);
    } else throw this.badValue(v);
    this.active.delete(v);
    // lists and dicts were memoized when made empty, a tensor by pickleTensor; the rest once complete (but the empty
    // tuple, as Python's pickler does)
    if (isTensorValue(v)) this.memo.set(v, p.memoSize - 1);
    else if (!this.memo.has(v) && !(v instanceof PyTuple && v.items.length === 0)) this.memo.set(v, p.put());
  }

  private badValue(v: unknown): PthError {
    return new PthError(
      'PTH_BAD_ARGUMENT',
      `${this.path()} is a ${pyTypeName(v)}, not a Python value`,
      'use null, boolean, bigint (int), number (float), string, Uint8Array, arrays, PyTuple, Map or a TensorValue',
    );
  }
}
