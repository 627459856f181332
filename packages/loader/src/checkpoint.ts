// Training checkpoints in PyTorch's own layout, both ways:
//   torch.save({'epoch': e, 'model_state_dict': model.state_dict(), 'optimizer_state_dict': optimizer.state_dict(),
//               'scheduler_state_dict': scheduler.state_dict(), ...extra}, path)
// readCheckpoint runs the pickle on readPth's VM, allowlist and budgets (read.ts, with floats kept apart from ints) and
// converts the whole checkpoint to PyValues (py-value.ts), charging the conversion to the same budget; saveCheckpoint
// pickles the same dict with pickler.ts, as torch.save writes it. One set of rules (parseOptimizer, checkScheduler)
// checks both directions.
import type { Budget } from './budget.js';
import { COST } from './budget.js';
import type { PthDtype } from './dtypes.js';
import { PthError, type PthErrorCode } from './errors.js';
import { LIMITS, type Limits } from './limits.js';
import { InertValue, ModuleRecord } from './modules.js';
import { OP } from './opcodes.js';
import * as vm from './pickle.js';
import { Pickler, STORAGE_CLASS, archiveRoot, torchZip } from './pickler.js';
import type { PthFile, PthTensor } from './pth-file.js';
import {
  PyOrderedDict,
  PyTuple,
  PyWriter,
  StorageList,
  isTensorValue,
  pathTo,
  pyTypeName,
  type PyDict,
  type PyKey,
  type PyValue,
  type TensorValue,
} from './py-value.js';
import { TensorRef, readWithLimits, type ReadStats, type Selected, type Selector } from './read.js';
import { looksLikeSafetensors } from './safetensors.js';
import { toTensors, type SaveLayer, type SavePthTensor } from './save.js';
import { quote } from './text.js';
import { isTorchScript } from './torchscript.js';
import { looksLikeZip, readEntry, readZip } from './zip.js';

// ---------------------------------------------------------------------------------------------------------------------
// The checkpoint, as this package gives and takes it

/** The top-level keys of the four entries read apart from the others. */
export interface CheckpointKeys {
  epoch: string;
  model: string;
  optimizer: string;
  scheduler: string;
}

/** PyTorch's tutorial names ("Saving and loading a general checkpoint"). */
export const DEFAULT_CHECKPOINT_KEYS: Readonly<CheckpointKeys> = Object.freeze({
  epoch: 'epoch',
  model: 'model_state_dict',
  optimizer: 'optimizer_state_dict',
  scheduler: 'scheduler_state_dict',
});

/**
 * How an optimizer's 'step' is stored: a 0-dim tensor of that dtype (torch >= 1.12: 'float32'), or a Python 'int' /
 * 'float' (older torch). Written back the same way.
 */
export type StepType = PthDtype | 'int' | 'float';

/** One parameter's entry of `optimizer.state_dict()['state']`. */
export interface ParamState {
  /** 'step': the updates made so far (Adam, AdamW, ...); absent for SGD */
  step?: number;
  /** how 'step' is stored (default 'float32', a 0-dim tensor, as torch 1.13 stores it) */
  stepType?: StepType;
  /** every other entry, in file order: exp_avg, exp_avg_sq, max_exp_avg_sq, momentum_buffer, ...; null is None */
  buffers: Map<string, TensorValue | null>;
}

/** `optimizer.state_dict()`. */
export interface OptimizerState {
  /** 'state', by parameter index (the numbers of the groups' 'params'), in file order */
  state: Map<number, ParamState>;
  /** 'param_groups': each group's hyper-parameters with Python's types ('lr' a float, 'params' a list of ints, ...) */
  paramGroups: PyDict[];
}

export interface Checkpoint {
  /** 'epoch' (a Python int); null when the file has none */
  epoch: number | null;
  /** 'model_state_dict': its tensors in file order, named by their keys */
  model: PthTensor[];
  /** 'optimizer_state_dict'; null when the file has none (or None; saveCheckpoint then writes no entry) */
  optimizer: OptimizerState | null;
  /** 'scheduler_state_dict', as the scheduler's state_dict() made it; null when the file has none (or None) */
  scheduler: PyDict | null;
  /** every other top-level entry, in file order ('loss', 'best_acc', 'rng_state', ...) */
  extra: Map<string, PyValue>;
}

export interface CheckpointFile extends Checkpoint {
  format: 'zip' | 'legacy';
  /** the zip archive's top folder; null for the legacy format */
  root: string | null;
  byteorder: 'little' | 'big';
  /** problems that do not stop reading (NaN or infinite values in tensors), one line each */
  warnings: string[];
}

/** What saveCheckpoint takes: a Checkpoint, or less (the model as layers, as savePth takes it). */
export interface CheckpointInput {
  epoch?: number | null;
  model: SavePthTensor[] | { layers: SaveLayer[] };
  optimizer?: OptimizerState | null;
  scheduler?: PyDict | null;
  extra?: Map<string, PyValue>;
}

export interface ReadCheckpointOptions {
  /** other names for the four entries (e.g. { model: 'model', optimizer: 'optimizer', scheduler: 'lr_scheduler' }) */
  keys?: Partial<CheckpointKeys>;
}

export interface SaveCheckpointOptions {
  keys?: Partial<CheckpointKeys>;
  /** the archive's top folder; torch uses the file stem or 'archive' */
  root?: string;
}

// ---------------------------------------------------------------------------------------------------------------------
// The rules of the layout, for both directions (read: PTH_BAD_CHECKPOINT, write: PTH_BAD_ARGUMENT)

type Code = Extract<PthErrorCode, 'PTH_BAD_CHECKPOINT' | 'PTH_BAD_ARGUMENT'>;

const HINT: Record<Code, string> = {
  PTH_BAD_CHECKPOINT: 'save the state_dict() of the model, optimizer and scheduler as PyTorch makes them',
  PTH_BAD_ARGUMENT: 'give the values as optimizer.state_dict() and scheduler.state_dict() hold them',
};

function fail(code: Code, problem: string, hint = HINT[code]): never {
  throw new PthError(code, problem, hint);
}

/** A short description of a value for messages: `the float 1.5`, `a tensor of shape [3]`, `a list of 4 items`. */
function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint' || typeof v === 'number') return `the ${pyTypeName(v)} ${quote(String(v), 30)}`;
  if (typeof v === 'string') return `the str '${quote(v, 30)}'`;
  if (isTensorValue(v)) return `a tensor of shape [${v.shape}]`;
  if (Array.isArray(v)) return `a list of ${v.length} items`;
  if (v instanceof Map) return `a ${pyTypeName(v)} of ${v.size} entries`;
  return `a ${pyTypeName(v)}`;
}

function dictOf(v: PyValue | undefined, path: string, code: Code): PyDict {
  if (!(v instanceof Map)) fail(code, `${path} is ${v === undefined ? 'missing' : describe(v)}, not a dict`);
  return v;
}

/** A dict whose keys are all str. */
function strDict(v: PyValue | undefined, path: string, code: Code): Map<string, PyValue> {
  const d = dictOf(v, path, code);
  for (const k of d.keys()) if (typeof k !== 'string') fail(code, `${path} has the int key ${k}: its keys are str`);
  return d as Map<string, PyValue>;
}

function isNumber(v: PyValue | undefined): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

// param_groups entries of torch.optim's optimizers and lr_schedulers, by the type they hold
const NUMBER_KEYS = new Set([
  'lr',
  'initial_lr',
  'max_lr',
  'min_lr',
  'base_momentum',
  'max_momentum',
  'momentum',
  'dampening',
  'weight_decay',
  'eps',
  'alpha',
  'rho',
  'lr_decay',
  'initial_accumulator_value',
  'lambd',
  't0',
  'momentum_decay',
]);
const FLAG_KEYS = new Set([
  'nesterov',
  'amsgrad',
  'maximize',
  'foreach',
  'capturable',
  'differentiable',
  'fused',
  'centered',
]);
const PAIR_KEYS = new Set(['betas', 'etas', 'step_sizes']);

/** The state of one parameter before its tensors hold values (step may still be a 0-dim tensor). */
interface ParamDraft {
  step: TensorValue | bigint | number | undefined;
  buffers: Map<string, TensorValue | null>;
}
interface OptimizerDraft {
  state: Map<number, ParamDraft>;
  paramGroups: PyDict[];
}

/** Checks `optimizer.state_dict()`'s layout and types. */
function parseOptimizer(v: PyValue, path: string, code: Code): OptimizerDraft {
  const d = strDict(v, path, code);
  for (const k of d.keys())
    if (k !== 'state' && k !== 'param_groups')
      fail(code, `${path} has the entry '${quote(k, 40)}': an optimizer's state_dict holds 'state' and 'param_groups'`);
  const groupsPath = pathTo(path, 'param_groups');
  const groups = d.get('param_groups');
  if (!Array.isArray(groups))
    fail(code, `${groupsPath} is ${groups === undefined ? 'missing' : describe(groups)}, not a list`);
  const owner = new Map<number, number>(); // parameter index -> its group
  const paramGroups = groups.map((g, gi) => {
    const gp = pathTo(groupsPath, gi);
    const group = strDict(g, gp, code);
    for (const [k, x] of group) {
      const kp = pathTo(gp, k);
      if (NUMBER_KEYS.has(k) && !isNumber(x)) fail(code, `${kp} is ${describe(x)}, not a number`);
      if (FLAG_KEYS.has(k) && typeof x !== 'boolean' && x !== null) fail(code, `${kp} is ${describe(x)}, not a bool`);
      if (PAIR_KEYS.has(k) && !(x instanceof PyTuple && x.items.length === 2 && x.items.every(isNumber)))
        fail(code, `${kp} is ${describe(x)}, not a tuple of two numbers`);
    }
    const params = group.get('params');
    const pp = pathTo(gp, 'params');
    if (!Array.isArray(params))
      fail(code, `${pp} is ${params === undefined ? 'missing' : describe(params)}, not a list`);
    params.forEach((x, i) => {
      if (typeof x !== 'bigint' || x < 0n || x > BigInt(Number.MAX_SAFE_INTEGER))
        fail(code, `${pathTo(pp, i)} is ${describe(x)}, not a parameter index`);
      const index = Number(x);
      const other = owner.get(index);
      if (other !== undefined) fail(code, `parameter ${index} is listed by ${pathTo(groupsPath, other)} and ${gp}`);
      owner.set(index, gi);
    });
    return group as PyDict;
  });
  const statePath = pathTo(path, 'state');
  const stateDict = dictOf(d.get('state'), statePath, code);
  const state = new Map<number, ParamDraft>();
  for (const [k, entry] of stateDict) {
    if (typeof k !== 'bigint')
      fail(code, `${statePath} has the str key '${quote(k, 40)}': PyTorch numbers parameters with ints`);
    const ep = pathTo(statePath, k);
    if (k < 0n || k > BigInt(Number.MAX_SAFE_INTEGER) || !owner.has(Number(k)))
      fail(
        code,
        `${ep} is the state of parameter ${k}, which no param_group lists (they list ${owner.size} parameters)`,
      );
    const fields = strDict(entry, ep, code);
    const draft: ParamDraft = { step: undefined, buffers: new Map() };
    for (const [name, x] of fields) {
      const fp = pathTo(ep, name);
      if (name === 'step') {
        if (isTensorValue(x)) {
          if (x.shape.length !== 0) fail(code, `${fp} is a tensor of shape [${x.shape}], not a number`);
        } else if (!isNumber(x)) fail(code, `${fp} is ${describe(x)}, not a number`);
        draft.step = x;
      } else if (x === null || isTensorValue(x)) draft.buffers.set(name, x);
      else fail(code, `${fp} is ${describe(x)}, not a tensor or None`);
    }
    state.set(Number(k), draft);
  }
  return { state, paramGroups };
}

/** Checks a scheduler's state_dict (and those of the schedulers a SequentialLR or ChainedScheduler holds). */
function checkScheduler(v: PyValue, path: string, code: Code): PyDict {
  const top = strDict(v, path, code);
  const seen = new Set<PyDict>();
  const work: [Map<string, PyValue>, string][] = [[top, path]];
  while (work.length > 0) {
    const [d, p] = work.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    for (const k of ['last_epoch', '_step_count']) {
      const x = d.get(k);
      if (x !== undefined && typeof x !== 'bigint') fail(code, `${pathTo(p, k)} is ${describe(x)}, not an int`);
    }
    for (const k of ['base_lrs', '_last_lr']) {
      const x = d.get(k);
      if (x !== undefined && !(Array.isArray(x) && x.every(isNumber)))
        fail(code, `${pathTo(p, k)} is ${describe(x)}, not a list of numbers`);
    }
    const inner = d.get('_schedulers');
    if (inner !== undefined) {
      const sp = pathTo(p, '_schedulers');
      if (!Array.isArray(inner)) fail(code, `${sp} is ${describe(inner)}, not a list`);
      inner.forEach((s, i) => work.push([strDict(s, pathTo(sp, i), code), pathTo(sp, i)]));
    }
  }
  return top;
}

function parseEpoch(v: PyValue, path: string, code: Code): number {
  if (typeof v !== 'bigint' || v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER))
    fail(code, `${path} is ${describe(v)}, not an int`);
  return Number(v);
}

function resolveKeys(keys: Partial<CheckpointKeys> | undefined): CheckpointKeys {
  const k = { ...DEFAULT_CHECKPOINT_KEYS, ...keys };
  const names = [k.epoch, k.model, k.optimizer, k.scheduler];
  if (!names.every((n) => typeof n === 'string') || new Set(names).size !== 4)
    fail(
      'PTH_BAD_ARGUMENT',
      `checkpoint keys ${names.map((n) => quote(String(n), 30)).join(', ')} are not four distinct strings`,
      'name each entry once',
    );
  return k;
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

function stepToPy(step: number, type: StepType, path: string): PyValue {
  if (typeof step !== 'number') fail('PTH_BAD_ARGUMENT', `${path} is ${typeof step}, not a number`);
  if (type === 'float') return step;
  if (type === 'int') {
    if (!Number.isSafeInteger(step)) fail('PTH_BAD_ARGUMENT', `${path} is ${step}, which is not an int`);
    return BigInt(step);
  }
  if (!Object.hasOwn(STORAGE_CLASS, type))
    fail('PTH_BAD_ARGUMENT', `${path} has the step type ${quote(String(type), 30)}`);
  return { dtype: type, shape: [], data: Float32Array.of(step) };
}

function optimizerToPy(o: OptimizerState, path: string): PyDict {
  const statePath = pathTo(path, 'state');
  if (!(o?.state instanceof Map) || !Array.isArray(o.paramGroups))
    fail('PTH_BAD_ARGUMENT', `${path} is not an OptimizerState ({ state: Map, paramGroups: [] })`);
  const state: PyDict = new Map();
  for (const [index, s] of o.state) {
    if (!Number.isSafeInteger(index) || index < 0)
      fail('PTH_BAD_ARGUMENT', `${statePath} has the key ${index}, not a parameter index`);
    const ep = pathTo(statePath, index);
    if (!(s?.buffers instanceof Map)) fail('PTH_BAD_ARGUMENT', `${ep} is not a ParamState ({ step?, buffers: Map })`);
    const entry: PyDict = new Map();
    if (s.step !== undefined) entry.set('step', stepToPy(s.step, s.stepType ?? 'float32', pathTo(ep, 'step')));
    for (const [name, b] of s.buffers) {
      if (name === 'step') fail('PTH_BAD_ARGUMENT', `${pathTo(ep, 'step')} is given twice: as step and as a buffer`);
      entry.set(name, b);
    }
    state.set(BigInt(index), entry);
  }
  return new Map<PyKey, PyValue>([
    ['state', state],
    ['param_groups', o.paramGroups],
  ]);
}

/**
 * The dict that saveCheckpoint pickles, as `torch.load` gives it back: {epoch, model_state_dict (an OrderedDict),
 * optimizer_state_dict, scheduler_state_dict, ...extra}, the optimizer's 'step' as a 0-dim tensor (or as stepType
 * says). Checks every entry by the rules readCheckpoint applies (PTH_BAD_ARGUMENT).
 */
export function checkpointToPy(checkpoint: CheckpointInput, keys?: Partial<CheckpointKeys>): PyDict {
  const k = resolveKeys(keys);
  const top: PyDict = new Map();
  const epoch = checkpoint.epoch;
  if (epoch !== undefined && epoch !== null) {
    if (!Number.isSafeInteger(epoch)) fail('PTH_BAD_ARGUMENT', `${k.epoch} is ${epoch}, not an int`);
    top.set(k.epoch, BigInt(epoch));
  }
  const model = new PyOrderedDict();
  for (const t of toTensors(checkpoint.model, new Set(Object.keys(STORAGE_CLASS) as PthDtype[]))) {
    if (model.has(t.name)) fail('PTH_BAD_ARGUMENT', `${pathTo(k.model, t.name)} is given twice`);
    model.set(t.name, { dtype: t.dtype, shape: t.shape, data: t.data });
  }
  top.set(k.model, model);
  if (checkpoint.optimizer) {
    const o = optimizerToPy(checkpoint.optimizer, k.optimizer);
    parseOptimizer(o, k.optimizer, 'PTH_BAD_ARGUMENT');
    top.set(k.optimizer, o);
  }
  if (checkpoint.scheduler) top.set(k.scheduler, checkScheduler(checkpoint.scheduler, k.scheduler, 'PTH_BAD_ARGUMENT'));
  for (const [name, v] of checkpoint.extra ?? []) {
    if (typeof name !== 'string')
      fail('PTH_BAD_ARGUMENT', `an extra entry has the key ${quote(String(name), 30)}, not a str`);
    if (top.has(name) || Object.values(k).includes(name))
      fail('PTH_BAD_ARGUMENT', `the extra entry '${quote(name, 40)}' has the name of a checkpoint entry`);
    top.set(name, v);
  }
  return top;
}

/**
 * Writes a training checkpoint as torch.save writes one (zip, pickle protocol 2, 64-byte aligned records), which
 * `torch.load(path)` reads and `model.load_state_dict`, `optimizer.load_state_dict` and `scheduler.load_state_dict`
 * accept. (torch 1.13's weights_only=True reads no Python float, so it refuses any optimizer state, PyTorch's own
 * included; later versions read them.)
 */
export function saveCheckpoint(checkpoint: CheckpointInput, options: SaveCheckpointOptions = {}): Uint8Array {
  const root = archiveRoot(options.root);
  const top = checkpointToPy(checkpoint, options.keys);
  const p = new Pickler();
  p.op(OP.PROTO, 2);
  const storages = new StorageList();
  new PyWriter(p, storages).write(top);
  p.op(OP.STOP);
  return torchZip(root, p.bytes(), storages.records);
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading: VM values -> PyValues, walked without recursion, each VM object converted once (sharing kept, cycles
// refused), every value built charged to the read's budget

const NO_DATA = new Float32Array(0);

type VmContainer = vm.PyTuple | vm.PyList | vm.PyDict;

function badCheckpoint(problem: string, hint = HINT.PTH_BAD_CHECKPOINT): PthError {
  return new PthError('PTH_BAD_CHECKPOINT', problem, hint);
}

/** A container being converted: its output (made first: a shared child can already point at it), and its path. */
class Frame {
  private i = 0;
  private entries: Iterator<[unknown, vm.PyValue]> | null = null;
  private key: PyKey = '';
  readonly result: PyValue;
  private readonly list: PyValue[] | null = null;
  private readonly dict: PyDict | null = null;
  constructor(
    readonly src: VmContainer,
    readonly path: string,
  ) {
    if (src instanceof vm.PyDict) {
      this.dict = src.kind === 'OrderedDict' ? new PyOrderedDict() : new Map();
      this.entries = src.map.entries();
      this.result = this.dict;
    } else {
      this.list = [];
      this.result = src instanceof vm.PyTuple ? new PyTuple(this.list) : this.list;
    }
  }
  /** The next child, or DONE. */
  next(convertKey: (k: unknown, path: string) => PyKey): vm.PyValue | typeof DONE {
    if (this.entries !== null) {
      const r = this.entries.next();
      if (r.done) return DONE;
      this.key = convertKey(r.value[0], this.path);
      return r.value[1];
    }
    const items = (this.src as vm.PyTuple | vm.PyList).items;
    return this.i < items.length ? items[this.i++] : DONE;
  }
  /** The path of the child `next` returned last (built only when needed: for a container, a tensor or an error). */
  childPath(): string {
    return pathTo(this.path, this.dict === null ? this.i - 1 : this.key);
  }
  accept(v: PyValue) {
    if (this.dict !== null) this.dict.set(this.key, v);
    else this.list!.push(v);
  }
}

const DONE = Symbol('done');

class Converter {
  /** the distinct tensors, in the order met: what the read materializes */
  readonly tensors: { path: string; ref: TensorRef; value: TensorValue }[] = [];
  private byRef = new Map<TensorRef, TensorValue>();
  private done = new Map<object, PyValue>();
  private active = new Set<object>();
  constructor(
    private readonly budget: Budget,
    private readonly limits: Limits,
  ) {}

  /** `root` (the unpickled checkpoint, whose path is '') as PyValues. */
  convert(root: vm.PyValue): PyValue {
    const first = this.start(root, null);
    if (!(first instanceof Frame)) return first;
    const stack = [first];
    const key = (k: unknown, p: string) => this.key(k, p);
    while (stack.length > 0) {
      const f = stack[stack.length - 1];
      const next = f.next(key);
      if (next === DONE) {
        stack.pop();
        this.active.delete(f.src);
        this.done.set(f.src, f.result);
        continue;
      }
      const c = this.start(next, f);
      if (c instanceof Frame) {
        f.accept(c.result);
        stack.push(c);
      } else f.accept(c);
    }
    return first.result;
  }

  /** `v` converted, or a Frame for a container still to fill; `parent` says where it is. */
  private start(v: vm.PyValue, parent: Frame | null): PyValue | Frame {
    if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
    if (typeof v === 'number') {
      // with floats boxed, a plain number is a Python int
      this.budget.charge(COST.object, 1);
      return BigInt(v);
    }
    if (v instanceof vm.PyFloat) return v.value;
    if (v instanceof Uint8Array) return v;
    const path = parent === null ? '' : parent.childPath();
    if (v instanceof TensorRef) return this.tensor(v, path);
    if (v instanceof vm.PyTuple || v instanceof vm.PyList || v instanceof vm.PyDict) {
      const seen = this.done.get(v);
      if (seen !== undefined) return seen;
      if (this.active.has(v)) throw badCheckpoint(`${path || 'the checkpoint'} contains itself (a cyclic structure)`);
      this.active.add(v);
      if (v instanceof vm.PyDict) this.budget.dict(v.map.size);
      else this.budget.sequence(v.items.length);
      return new Frame(v, path);
    }
    const where = path || 'the file';
    if (v instanceof ModuleRecord)
      throw badCheckpoint(
        `${where} is a whole ${quote(v.cls, 60)} module, not its state_dict`,
        'save model.state_dict() in the checkpoint',
      );
    if (v instanceof InertValue)
      throw badCheckpoint(
        `${where} is a ${quote(v.cls, 60)} object, not plain data`,
        'store plain values (for argparse arguments: vars(args); for NumPy values: .item() or .tolist())',
      );
    if (v instanceof vm.PyGlobal)
      throw badCheckpoint(`${where} is the Python object ${quote(v.qualname, 60)}, not data`, 'store plain values');
    throw badCheckpoint(`${where} is a bare torch storage, not a tensor`, 'store tensors');
  }

  private key(k: unknown, path: string): PyKey {
    if (typeof k === 'string') return k;
    if (typeof k === 'number') {
      this.budget.charge(COST.object, 1);
      return BigInt(k);
    }
    if (typeof k === 'bigint') return k;
    const what =
      typeof k === 'boolean'
        ? 'bool'
        : k === null
          ? 'None'
          : k instanceof vm.PyFloat
            ? 'float'
            : k instanceof vm.BytesKey
              ? 'bytes'
              : k instanceof vm.PyTuple
                ? 'tuple'
                : 'object';
    throw badCheckpoint(`${path || 'the checkpoint'} has a ${what} key: only str and int keys are read`);
  }

  private tensor(ref: TensorRef, path: string): TensorValue {
    const known = this.byRef.get(ref);
    if (known) return known;
    if (this.tensors.length >= this.limits.maxTensors)
      throw new PthError(
        'PTH_LIMIT',
        `the checkpoint holds more than ${this.limits.maxTensors} tensors`,
        'an MLP has two per layer, and an optimizer one to three per parameter: the file is hostile or not a model',
      );
    this.budget.object(COST.object + COST.item * ref.size.length);
    const value: TensorValue = { dtype: ref.storage.dtype, shape: ref.size.slice(), data: NO_DATA };
    this.byRef.set(ref, value);
    this.tensors.push({ path, ref, value });
    return value;
  }
}

interface Draft {
  epoch: number | null;
  model: [string, TensorValue][];
  optimizer: OptimizerDraft | null;
  scheduler: PyDict | null;
  extra: Map<string, PyValue>;
}

/** readPth's Selector for a checkpoint: converts and checks everything before any tensor is materialized. */
class CheckpointSelector implements Selector {
  readonly floats = 'boxed' as const;
  private converter: Converter | null = null;
  draft: Draft | null = null;
  constructor(private readonly keys: CheckpointKeys) {}

  select(root: vm.PyValue, limits: Limits, budget: Budget): Selected {
    const code = 'PTH_BAD_CHECKPOINT';
    const k = this.keys;
    if (!(root instanceof vm.PyDict)) {
      const what =
        root instanceof TensorRef
          ? 'a single tensor'
          : root instanceof ModuleRecord
            ? `a whole ${quote(root.cls, 60)} model`
            : `a ${root === null ? 'None' : root instanceof vm.PyList ? 'list' : root instanceof vm.PyTuple ? 'tuple' : typeof root}`;
      throw badCheckpoint(`the file holds ${what}, not a checkpoint dict`);
    }
    this.converter = new Converter(budget, limits);
    const top = this.converter.convert(root) as PyDict;
    for (const key of top.keys())
      if (typeof key !== 'string') throw badCheckpoint(`the checkpoint has the int key ${key}: its keys are str`);
    const modelValue = top.get(k.model);
    if (modelValue === undefined) {
      const names = [...top.keys()].slice(0, 10).map((n) => quote(String(n), 24));
      const allTensors = top.size > 0 && [...top.values()].every(isTensorValue);
      if (allTensors)
        throw badCheckpoint(
          'the file is a plain state_dict (tensors at the top level), not a training checkpoint',
          `read it with readPth, or save {'${k.model}': model.state_dict(), '${k.optimizer}': optimizer.state_dict(), ...}`,
        );
      throw new PthError(
        'PTH_NO_STATE_DICT',
        `the checkpoint has no '${quote(k.model, 40)}' entry (top-level keys: ${names.join(', ') || 'none'})`,
        `save the model's weights under '${quote(k.model, 40)}', or name the key with options.keys.model`,
      );
    }
    const model: [string, TensorValue][] = [];
    for (const [name, t] of strDict(modelValue, k.model, code)) {
      if (!isTensorValue(t)) fail(code, `${pathTo(k.model, name)} is ${describe(t)}, not a tensor`);
      model.push([name, t]);
    }
    const epoch = top.get(k.epoch);
    const optimizer = top.get(k.optimizer);
    const scheduler = top.get(k.scheduler);
    const extra = new Map<string, PyValue>();
    for (const [name, v] of top as Map<string, PyValue>)
      if (name !== k.epoch && name !== k.model && name !== k.optimizer && name !== k.scheduler) extra.set(name, v);
    this.draft = {
      epoch: epoch === undefined ? null : parseEpoch(epoch, k.epoch, code),
      model,
      // `'scheduler_state_dict': scheduler.state_dict() if scheduler else None` is common: None is no state
      optimizer: optimizer === undefined || optimizer === null ? null : parseOptimizer(optimizer, k.optimizer, code),
      scheduler: scheduler === undefined || scheduler === null ? null : checkScheduler(scheduler, k.scheduler, code),
      extra,
    };
    return {
      entries: this.converter.tensors.map((t) => [t.path, t.ref]),
      key: k.model,
      ignored: [],
      skipped: [],
    };
  }

  /** The checkpoint, once the read has materialized the tensors (in the order select listed them). */
  assemble(file: PthFile): CheckpointFile {
    const tensors = this.converter!.tensors;
    tensors.forEach((t, i) => {
      t.value.data = file.tensors[i].data;
    });
    const d = this.draft!;
    const optimizer: OptimizerState | null = d.optimizer && {
      state: new Map([...d.optimizer.state].map(([i, s]) => [i, finishParam(s)])),
      paramGroups: d.optimizer.paramGroups,
    };
    return {
      format: file.format as 'zip' | 'legacy',
      root: file.root,
      byteorder: file.byteorder,
      epoch: d.epoch,
      model: d.model.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data })),
      optimizer,
      scheduler: d.scheduler,
      extra: d.extra,
      warnings: file.warnings,
    };
  }
}

function finishParam(s: ParamDraft): ParamState {
  const out: ParamState = { buffers: s.buffers };
  if (isTensorValue(s.step)) {
    out.step = s.step.data[0];
    out.stepType = s.step.dtype;
  } else if (typeof s.step === 'bigint') {
    out.step = Number(s.step);
    out.stepType = 'int';
  } else if (typeof s.step === 'number') {
    out.step = s.step;
    out.stepType = 'float';
  }
  return out;
}

/**
 * A refused global in a checkpoint is most often a torch.optim object pickled whole (torch < 2.0's OneCycleLR keeps a
 * bound method in its state_dict): say so, with what to save instead. Anything else is returned as it was.
 */
function explainRefusal(e: unknown, bytes: Uint8Array, limits: Limits): unknown {
  if (!(e instanceof PthError) || e.code !== 'PTH_UNSAFE_GLOBAL') return e;
  let pickle = bytes;
  try {
    if (looksLikeZip(bytes)) {
      const zip = readZip(bytes, limits);
      const name = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
      if (name === undefined) return e;
      pickle = readEntry(zip, zip.entries.get(name)!);
    }
  } catch {
    return e;
  }
  const optim = vm.scanGlobals(pickle).globals.find((g) => /^torch\.optim\./.test(g));
  if (optim === undefined) return e;
  return new PthError(
    'PTH_UNSAFE_GLOBAL',
    `the checkpoint pickles a whole ${quote(optim, 60)} object, not plain state: loading it would run code`,
    /OneCycleLR$/.test(optim)
      ? "torch < 2.0's OneCycleLR.state_dict() holds a bound method: save {k: v for k, v in scheduler.state_dict().items() if k != 'anneal_func'}"
      : 'save optimizer.state_dict() and scheduler.state_dict(), not the objects',
  );
}

/** readCheckpointSync with other bounds and a record of what the read spent. Internal and for tests. */
export function readCheckpointWithLimits(
  bytes: Uint8Array,
  limits: Limits,
  options: ReadCheckpointOptions = {},
  stats?: ReadStats,
): CheckpointFile {
  const selector = new CheckpointSelector(resolveKeys(options.keys));
  if (
    bytes instanceof Uint8Array &&
    (looksLikeSafetensors(bytes) || (looksLikeZip(bytes) && isTorchScript(bytes, limits)))
  )
    throw badCheckpoint(
      `the file is ${looksLikeSafetensors(bytes) ? 'a safetensors file' : 'a TorchScript archive'}: it holds weights, not a training checkpoint`,
      'read it with readPth',
    );
  let file: PthFile;
  try {
    file = readWithLimits(bytes, limits, stats, selector);
  } catch (e) {
    throw explainRefusal(e, bytes, limits);
  }
  return selector.assemble(file);
}

/**
 * Reads a training checkpoint: the model's tensors, the optimizer's and scheduler's state, the epoch and every other
 * top-level entry, with Python's types. The same VM, allowlist and budgets as readPth; nothing from the file runs.
 * Throws PthError: PTH_BAD_CHECKPOINT for an entry of the wrong type or an inconsistent optimizer state,
 * PTH_NO_STATE_DICT without a model entry, and readPth's codes.
 */
export function readCheckpointSync(bytes: Uint8Array, options: ReadCheckpointOptions = {}): CheckpointFile {
  return readCheckpointWithLimits(bytes, LIMITS, options);
}

export async function readCheckpoint(bytes: Uint8Array, options: ReadCheckpointOptions = {}): Promise<CheckpointFile> {
  return readCheckpointSync(bytes, options);
}
