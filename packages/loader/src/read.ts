// readPth: torch.save files (zip format of torch >= 1.6 and the legacy pickle stream) -> named Float32 tensors.
// The pickle runs on the safe VM of pickle.ts with the allowlist below; storages are checked before they are touched.
// Every bound comes from one Limits table (limits.ts) and the VM's values are charged to one Budget per read.
import { PthError, HINT_CORRUPT, HINT_RESAVE, HINT_TRUNCATED } from './errors.js';
import { FLOAT_DTYPES, STORAGE_TYPES, UNSUPPORTED_STORAGE_TYPES, halfToFloat, type PthDtype } from './dtypes.js';
import {
  BytesKey,
  GLOBAL_NAME_CAP,
  PyDict,
  PyGlobal,
  PyList,
  PyOpaque,
  PyTuple,
  scanGlobals,
  unpickle,
  type GlobalHandler,
  type PyValue,
  type UnpickleResult,
} from './pickle.js';
import { Budget, COST } from './budget.js';
import { LIMITS, type Limits } from './limits.js';
import { OP } from './opcodes.js';
import { quote } from './text.js';
import {
  INERT_GLOBALS,
  InertValue,
  MODULE_CLASSES,
  ModuleRecord,
  TOKEN_GLOBALS,
  inertHandler,
  isUserClass,
  moduleHandler,
  setHandler,
  unsupportedLayer,
  walkModule,
  type Architecture,
} from './modules.js';
import { looksLikeZip, readEntry, readZip, type ZipArchive, type ZipEntry } from './zip.js';
import { looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { isTorchScript, readTorchScript } from './torchscript.js';
import type { PthFile, PthTensor } from './pth-file.js';

export type { PthFile, PthTensor } from './pth-file.js';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const CHECKPOINT_KEYS = [
  'model_state_dict',
  'state_dict',
  'model',
  'net',
  'model_state',
  'network',
  'module',
  'weights',
  'params',
];

// ---------------------------------------------------------------------------------------------------------------------
// Objects the allowlisted globals build

export class StorageRef extends PyOpaque {
  constructor(
    readonly dtype: PthDtype,
    readonly itemsize: number,
    readonly key: string,
    readonly numel: number,
    /** legacy views of a storage: the elements [offset, offset + numel) of storage `key` */
    readonly viewOffset = 0,
  ) {
    super();
  }
}

export class TensorRef extends PyOpaque {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {
    super();
  }
}

function pickleError(what: string): PthError {
  return new PthError('PTH_BAD_PICKLE', `data.pkl is not a valid torch pickle (${what})`, HINT_CORRUPT);
}

/** Describes a value from the pickle for a message: short, escaped, never a dump of a large object. */
function show(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string' || v instanceof Uint8Array) return quote(v, 40);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return quote(String(v), 40);
  return `a ${describe(v)}`;
}

function intTuple(v: PyValue, what: string, maxDims: number): number[] {
  if (!(v instanceof PyTuple || v instanceof PyList))
    throw new PthError('PTH_BAD_VIEW', `tensor ${what} is not a tuple`, HINT_CORRUPT);
  // checked before anything is copied: a memoized 1M-item tuple passed a thousand times costs nothing
  if (v.items.length > maxDims)
    throw new PthError(
      'PTH_LIMIT',
      `tensor ${what} has ${v.items.length} dimensions, more than ${maxDims}`,
      `at most ${maxDims} are read`,
    );
  return v.items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
      throw new PthError('PTH_BAD_VIEW', `tensor ${what} holds ${show(x)}, not a size`, HINT_CORRUPT);
    }
    return x;
  });
}

const rebuildTensor: GlobalHandler['call'] = (args, _self, vm) => {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw pickleError('tensor rebuilt from something that is not a storage');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new PthError('PTH_BAD_VIEW', `tensor storage offset ${show(offset ?? null)} is not valid`, HINT_CORRUPT);
  }
  const maxDims = vm.budget.limits.maxDims;
  const sz = intTuple(size, 'size', maxDims),
    st = intTuple(stride, 'stride', maxDims);
  if (sz.length !== st.length)
    throw new PthError('PTH_BAD_VIEW', `tensor has ${sz.length} sizes but ${st.length} strides`, HINT_CORRUPT);
  vm.budget.object(2 * COST.object + 2 * COST.item * sz.length); // the TensorRef and its size and stride arrays
  return new TensorRef(storage, offset, sz, st);
};

const ignoreState: GlobalHandler['build'] = () => {};

const tensorHandler: GlobalHandler = { call: rebuildTensor, build: ignoreState };
const parameterHandler: GlobalHandler = {
  call: (args) => {
    if (!(args[0] instanceof TensorRef)) throw pickleError('Parameter rebuilt from something that is not a tensor');
    return args[0];
  },
  build: ignoreState,
};

function orderedDict(kind: string): GlobalHandler {
  return {
    // OrderedDict(pairs) or OrderedDict(dict) copies its argument: charged in full, before the copy, even when
    // repeated keys make the result smaller (the work is done either way)
    call: (args, _self, vm) => {
      const init = args[0];
      if (init instanceof PyList || init instanceof PyTuple) {
        vm.budget.dict(init.items.length);
        const d = new PyDict(kind);
        for (const pair of init.items) {
          if (!(pair instanceof PyTuple || pair instanceof PyList) || pair.items.length !== 2)
            throw pickleError('OrderedDict item is not a pair');
          d.map.set(vm.dictKey(pair.items[0]), pair.items[1]);
        }
        return d;
      }
      if (init instanceof PyDict) {
        vm.budget.dict(init.map.size);
        const d = new PyDict(kind);
        for (const [k, v] of init.map) d.map.set(k, v); // keys already went through dictKey
        return d;
      }
      if (init !== undefined && init !== null) throw pickleError('bad OrderedDict arguments');
      vm.budget.dict(0);
      return new PyDict(kind);
    },
  };
}

/** The allowlist, plus `__main__.*` user classes (inert module records: nothing of theirs is ever called). */
class Allowlist extends Map<string, GlobalHandler> {
  override get(key: string): GlobalHandler | undefined {
    return super.get(key) ?? (isUserClass(key) ? moduleHandler : undefined);
  }
}

/**
 * The allowlist: every global a state_dict, a training checkpoint of one (with argparse and NumPy values kept inert) or
 * a whole pickled MLP (torch.nn classes as records, see modules.ts) needs, and nothing else.
 */
export const ALLOWED_GLOBALS: ReadonlyMap<string, GlobalHandler> = (() => {
  const m = new Allowlist();
  for (const name of MODULE_CLASSES.keys()) m.set(name, moduleHandler);
  for (const name of INERT_GLOBALS) m.set(name, inertHandler);
  for (const name of TOKEN_GLOBALS) m.set(name, {});
  m.set('builtins.set', setHandler);
  m.set('__builtin__.set', setHandler);
  m.set('collections.OrderedDict', orderedDict('OrderedDict'));
  m.set('torch._utils._rebuild_tensor', tensorHandler);
  m.set('torch._utils._rebuild_tensor_v2', tensorHandler);
  m.set('torch._utils._rebuild_parameter', parameterHandler);
  m.set('torch._utils._rebuild_parameter_with_state', parameterHandler);
  m.set('torch._tensor._rebuild_from_type_v2', {
    // (func, new_type, args, state): only plain tensors and Parameters, rebuilt by an allowlisted function
    call: (args, _self, vm) => {
      const [func, type, inner] = args;
      if (!(func instanceof PyGlobal) || !func.handler?.call || !(inner instanceof PyTuple))
        throw pickleError('bad _rebuild_from_type_v2 call');
      if (
        !(type instanceof PyGlobal) ||
        (type.qualname !== 'torch.Tensor' && type.qualname !== 'torch.nn.parameter.Parameter')
      ) {
        throw pickleError(`tensor subclass ${type instanceof PyGlobal ? quote(type.qualname) : '?'} is not supported`);
      }
      return func.handler.call(inner.items, func, vm);
    },
    build: ignoreState,
  });
  m.set('torch.Tensor', {});
  m.set('torch.nn.parameter.Parameter', {});
  m.set('torch.Size', {
    // a copy (a list argument may still grow): charged before it is made
    call: (args, _self, vm) => {
      if (!(args[0] instanceof PyTuple || args[0] instanceof PyList)) throw pickleError('torch.Size of a non-tuple');
      vm.budget.sequence(args[0].items.length);
      return new PyTuple(args[0].items.slice());
    },
  });
  m.set('torch.device', {
    // torch.device('cpu') or torch.device('cuda', 0): a new string, charged before it is built
    call: (args, _self, vm) => {
      const [type, index] = args;
      if (
        typeof type !== 'string' ||
        args.length > 2 ||
        (index !== undefined && index !== null && typeof index !== 'number')
      ) {
        throw pickleError('torch.device takes a device type and an optional index');
      }
      const device = typeof index === 'number' ? `${type}:${index}` : type;
      vm.budget.string(device.length);
      return device;
    },
  });
  m.set('_codecs.encode', {
    // protocol 2 pickles Python bytes as _codecs.encode(str, 'latin1'); the bytes are charged before they are made
    call: (args, _self, vm) => {
      const [s, enc] = args;
      if (typeof s !== 'string') throw pickleError('_codecs.encode of a non-string');
      if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') {
        vm.budget.bytesValue(s.length);
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 255) throw pickleError('latin1 string with a character above 255');
          out[i] = c;
        }
        return out;
      }
      if (enc === 'utf-8' || enc === 'utf8' || enc === undefined) {
        vm.budget.bytesValue(3 * s.length); // at most 3 UTF-8 bytes per UTF-16 unit
        return new TextEncoder().encode(s);
      }
      throw pickleError(`_codecs.encode with encoding ${show(enc ?? null)}`);
    },
  });
  for (const name of STORAGE_TYPES.keys()) m.set(`torch.${name}`, {});
  for (const name of UNSUPPORTED_STORAGE_TYPES.keys()) m.set(`torch.${name}`, {});
  return m;
})();

const QUANTIZED = /^torch\.(q(u)?int\w*|per_(tensor|channel)_\w+|_utils\._rebuild_qtensor|Q(U)?Int\w*Storage)$/;

/**
 * The allowlist for one pickle: the first module class it names (a whole model) makes it scan the whole pickle once,
 * and a pickle that names a dangerous global anywhere is refused as PTH_UNSAFE_GLOBAL before any record is built.
 */
function globalsFor(pickle: Uint8Array, start: number): ReadonlyMap<string, GlobalHandler> {
  let scanned = false;
  const get = (key: string): GlobalHandler | undefined => {
    const h = ALLOWED_GLOBALS.get(key);
    if (h === moduleHandler && !scanned) {
      scanned = true;
      const { globals: all, memoOverflow } = scanGlobals(pickle, start);
      // a memo larger than the VM allows is no model's: names hidden behind it count as hostile
      const bad = all.find((g) => !ALLOWED_GLOBALS.has(g) && unsafeGlobal(g));
      if (memoOverflow || bad !== undefined) {
        throw new PthError(
          'PTH_UNSAFE_GLOBAL',
          `the pickled model references ${bad === undefined ? 'globals hidden behind an oversized memo' : `the global ${quote(bad, 80)}`}, which is not allowed`,
          'refusing to load it (the file may be hostile)',
        );
      }
    }
    return h;
  };
  return { get } as ReadonlyMap<string, GlobalHandler>;
}

/** A global no model file needs: naming one is an attack, whatever else the file holds. */
function unsafeGlobal(q: string): boolean {
  const i = q.lastIndexOf('.');
  const mod = q.slice(0, i),
    name = q.slice(i + 1);
  // a name no Python model class has (scanGlobals cuts names just past the cap): hostile, and never matched at length
  if (mod.length > GLOBAL_NAME_CAP || name.length > GLOBAL_NAME_CAP) return true;
  // nn.Module pickles name builtins.set (_non_persistent_buffers_set) and other plain types: not an attack by itself
  if ((mod === 'builtins' || mod === '__builtin__') && HARMLESS_BUILTINS.has(name)) return false;
  return DANGEROUS.test(mod) || DANGEROUS_NAMES.test(name);
}

// Modules whose globals are never part of a model file: naming one is an attack, whatever else the file holds.
const DANGEROUS =
  /^(os|posix|nt|subprocess|sys|builtins|__builtin__|shutil|socket|importlib|runpy|pty|code|codeop|pickle|_pickle|marshal|ctypes|multiprocessing|webbrowser|commands|pdb|bdb|timeit|types|operator|functools|io|_io|tempfile|pathlib|platform|signal|threading|asyncio|urllib|http|requests|numpy\.testing|torch\.(hub|ops|classes|jit|_C|cuda|distributed|package|_dynamo|library|utils\.cpp_extension))(\.|$)/;
const HARMLESS_BUILTINS = new Set([
  'set',
  'frozenset',
  'dict',
  'list',
  'tuple',
  'int',
  'float',
  'str',
  'bytes',
  'bool',
  'object',
  'slice',
  'range',
  'complex',
  'bytearray',
]);
const DANGEROUS_NAMES =
  /^(eval|exec|execfile|compile|__import__|getattr|setattr|delattr|open|system|popen|spawn\w*|apply|input|globals|locals|vars|breakpoint|load|loads)$/;

function refuseGlobal(module: string, name: string, pickle: Uint8Array, start: number): PthError {
  const unsafe = unsafeGlobal;
  // classify on names cut just past the cap (a 48 MB name is not copied or scanned), show them quoted
  const capped = (s: string) => (s.length > GLOBAL_NAME_CAP ? s.slice(0, GLOBAL_NAME_CAP + 1) : s);
  const qual = `${capped(module)}.${capped(name)}`;
  const shown = `${quote(module)}.${quote(name)}`;
  if (QUANTIZED.test(qual)) {
    return new PthError(
      'PTH_UNSUPPORTED_DTYPE',
      `the file holds quantized tensors (${shown})`,
      'quantized models are not read: save the float model (before torch.quantization) with torch.save(model.state_dict(), "model.pth")',
    );
  }
  if (module === 'torch._utils' && !unsafe(qual)) {
    return new PthError(
      'PTH_UNSUPPORTED',
      `data.pkl rebuilds a tensor with ${shown} (a quantized, sparse or other special tensor)`,
      'only dense float tensors are read: ' + HINT_RESAVE,
    );
  }
  if (!unsafe(qual)) {
    const { globals: all, memoOverflow } = scanGlobals(pickle, start);
    // a memo larger than the VM allows is no model's: names hidden behind it count as hostile
    const hostile = memoOverflow || all.some(unsafe);
    if (!hostile && /^torch\.nn\.modules\./.test(module)) return unsupportedLayer(`${module}.${name}`);
    if (
      !hostile &&
      (module === '__main__' ||
        /^torch\.nn\.modules\./.test(module) ||
        all.some((g) => /^torch\.nn\.modules\./.test(g)))
    ) {
      // loading it would run code from the file: the user re-saves its state_dict, if they trust it
      return new PthError(
        'PTH_WHOLE_MODULE',
        `a whole pickled model (${shown}), not a state_dict`,
        'if you trust it, re-save in Python: torch.save(torch.load(path, weights_only=False).state_dict(), "model.pth")',
      );
    }
  }
  return new PthError(
    'PTH_UNSAFE_GLOBAL',
    `the pickle references the global ${shown}, which is not allowed`,
    'a state_dict only needs tensors and OrderedDict; refusing to load it (the file may be hostile)',
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// Persistent ids -> storages

function storageType(v: PyValue): { dtype: PthDtype; itemsize: number } {
  if (!(v instanceof PyGlobal) || v.module !== 'torch') throw pickleError('storage type is not a torch storage class');
  const t = STORAGE_TYPES.get(v.name);
  if (t) return t;
  const u = UNSUPPORTED_STORAGE_TYPES.get(v.name);
  if (u)
    throw new PthError(
      'PTH_UNSUPPORTED_DTYPE',
      `the file holds ${u} tensors`,
      'only float32, float64, float16 and bfloat16 weights are read: convert the model with model.float() and re-save it',
    );
  throw pickleError(`unknown storage class torch.${quote(v.name)}`);
}

function numelOf(v: PyValue): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw pickleError('storage size is not a count');
  return v;
}

class StorageTable {
  readonly byKey = new Map<string, StorageRef>();
  add(key: string, ref: StorageRef): StorageRef {
    const prev = this.byKey.get(key);
    if (prev) {
      if (prev.dtype !== ref.dtype || prev.numel !== ref.numel) {
        throw new PthError(
          'PTH_STORAGE_SIZE',
          `storage ${quote(key)} is described twice with different types or sizes`,
          HINT_CORRUPT,
        );
      }
      return prev;
    }
    this.byKey.set(key, ref);
    return ref;
  }
}

function zipPersistentLoad(table: StorageTable, budget: Budget) {
  return (pid: PyValue): PyValue => {
    // ('storage', storage_type, key, location, numel)
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length < 5)
      throw pickleError('persistent id is not a storage');
    const [, type, key, , numel] = pid.items;
    const t = storageType(type);
    if (typeof key !== 'string' || !/^[\w.-]{1,64}$/.test(key)) throw pickleError('bad storage key');
    budget.object();
    return table.add(key, new StorageRef(t.dtype, t.itemsize, key, numelOf(numel)));
  };
}

function legacyPersistentLoad(table: StorageTable, budget: Budget) {
  return (pid: PyValue): PyValue => {
    budget.object();
    // ('module', class, source file, source text): legacy files put a whole model's classes (already through the
    // allowlist) behind a persistent id with their source, which is never used
    if (pid instanceof PyTuple && pid.items[0] === 'module') {
      if (!(pid.items[1] instanceof PyGlobal)) throw pickleError('module persistent id without a class');
      return pid.items[1];
    }
    // ('storage', storage_type, root_key, location, size, view_metadata)
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length < 6) {
      throw pickleError('persistent id is not a storage (a legacy module source record?)');
    }
    const [, type, key, , numel, viewMeta] = pid.items;
    const t = storageType(type);
    if (typeof key !== 'string' || key.length > 64) throw pickleError('bad storage key');
    const root = table.add(key, new StorageRef(t.dtype, t.itemsize, key, numelOf(numel)));
    if (viewMeta === null) return root;
    if (!(viewMeta instanceof PyTuple) || viewMeta.items.length !== 3) throw pickleError('bad storage view');
    const [, offset, size] = viewMeta.items;
    const off = numelOf(offset),
      n = numelOf(size);
    if (off + n > root.numel)
      throw new PthError(
        'PTH_BAD_VIEW',
        `storage view [${off}, ${off + n}) lies outside storage ${quote(key)} of ${root.numel} elements`,
        HINT_CORRUPT,
      );
    return new StorageRef(t.dtype, t.itemsize, key, n, off);
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Finding the state_dict

/** The tensors a read materializes (named for messages and output), and what the file says around them. */
export interface Selected {
  entries: [string, TensorRef][];
  moduleChain?: Architecture;
  key: string | null;
  ignored: string[];
  skipped: string[];
}

/** A dict key as text for `ignored` and warnings (raw, like tensor names: displays escape them). */
function keyName(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null) return 'None';
  if (k instanceof BytesKey) return `b'${k.latin1}'`;
  return `<${describe(k as PyValue)} key>`;
}

/** The tensors of a dict, named by their str keys (a state_dict's keys are always str; others are skipped). */
function tensorEntries(d: PyDict): { tensors: [string, TensorRef][]; others: string[] } {
  const tensors: [string, TensorRef][] = [];
  const others: string[] = [];
  for (const [k, v] of d.map) {
    if (typeof k === 'string' && v instanceof TensorRef) tensors.push([k, v]);
    else others.push(keyName(k));
  }
  return { tensors, others };
}

function firstKeys(d: PyDict, count: number): string[] {
  const out: string[] = [];
  for (const k of d.map.keys()) {
    if (out.length === count) break;
    out.push(keyName(k));
  }
  return out;
}

/** A whole model (torch.save(model)): its parameters and buffers, named as its state_dict would name them. */
function wholeModel(root: ModuleRecord, limits: Limits): Selected {
  const entries: [string, TensorRef][] = [];
  const names = new Set<string>();
  const moduleChain = walkModule(
    root,
    (name, v) => {
      if (!(v instanceof TensorRef)) throw pickleError(`${quote(name, 60)} is not a tensor`);
      if (names.has(name)) throw pickleError(`${quote(name, 60)} is pickled twice`);
      names.add(name);
      entries.push([name, v]);
    },
    limits.maxTensors,
  );
  return { entries, moduleChain, key: null, ignored: [], skipped: [] };
}

/**
 * How a read turns the unpickled root into the tensors to materialize. readPth picks the state_dict (STATE_DICT);
 * readCheckpoint (checkpoint.ts) walks the whole checkpoint, charging what it builds to the read's budget, and asks
 * for floats apart from ints. Internal.
 */
export interface Selector {
  select(root: PyValue, limits: Limits, budget: Budget): Selected;
  floats?: 'boxed';
}

const STATE_DICT: Selector = { select: (root, limits) => selectStateDict(root, limits) };

function selectStateDict(root: PyValue, limits: Limits): Selected {
  if (root instanceof ModuleRecord) return wholeModel(root, limits);
  if (root instanceof InertValue)
    throw new PthError(
      'PTH_NO_STATE_DICT',
      `the file holds a ${quote(root.cls, 60)}, not a state_dict`,
      'save the model with torch.save(model.state_dict(), "model.pth")',
    );
  if (root instanceof TensorRef) {
    throw new PthError(
      'PTH_NO_STATE_DICT',
      'the file holds a single tensor, not a state_dict',
      'save the model with torch.save(model.state_dict(), "model.pth")',
    );
  }
  if (!(root instanceof PyDict)) {
    throw new PthError(
      'PTH_NO_STATE_DICT',
      `the file holds a ${describe(root)}, not a state_dict`,
      'save the model with torch.save(model.state_dict(), "model.pth")',
    );
  }
  // One walk per distinct dict: a checkpoint whose many keys all name one large dict (through the memo) must not walk
  // it once per key.
  const walked = new Map<PyDict, ReturnType<typeof tensorEntries>>();
  const entriesOf = (d: PyDict) => {
    let e = walked.get(d);
    if (e === undefined) {
      e = tensorEntries(d);
      walked.set(d, e);
    }
    return e;
  };
  // a checkpoint: {'model_state_dict': {...}, 'optimizer_state_dict': {...}, 'epoch': 3, 'best_acc': tensor(0.9)}, or
  // one holding the whole model: {'model': model, 'optimizer': optimizer.state_dict(), 'epoch': 3}
  const candidates: [string, PyDict | ModuleRecord][] = [];
  for (const [k, v] of root.map)
    if (
      typeof k === 'string' &&
      ((v instanceof PyDict && entriesOf(v).tensors.length > 0) || v instanceof ModuleRecord)
    )
      candidates.push([k, v]);
  let chosen = CHECKPOINT_KEYS.map((k) => candidates.find(([name]) => name === k)).find((c) => c !== undefined);
  const top = entriesOf(root);
  if (!chosen && top.tensors.length > 0) return { entries: top.tensors, key: null, ignored: [], skipped: top.others };
  if (!chosen)
    chosen =
      candidates.filter(([name]) => !/optim|sched|scaler|ema/i.test(name)).length === 1
        ? candidates.find(([name]) => !/optim|sched|scaler|ema/i.test(name))
        : undefined;
  if (!chosen) {
    const keys = firstKeys(root, 10)
      .map((k) => quote(k, 24))
      .join(', ');
    throw new PthError(
      'PTH_NO_STATE_DICT',
      `found no state_dict of tensors in the file (top-level keys: ${keys || 'none'})`,
      'save the model with torch.save(model.state_dict(), "model.pth"), or put it under the key "model_state_dict"',
    );
  }
  const [key, value] = chosen;
  const ignored = [...root.map.keys()].map(keyName).filter((k) => k !== key);
  if (value instanceof ModuleRecord) return { ...wholeModel(value, limits), key, ignored };
  const inner = entriesOf(value);
  return { entries: inner.tensors, key, ignored, skipped: inner.others };
}

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (v instanceof PyList) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return 'global';
  if (v instanceof Uint8Array) return 'bytes object';
  if (v instanceof PyOpaque) return 'storage';
  return typeof v;
}

// ---------------------------------------------------------------------------------------------------------------------
// Materializing tensors

let HALF_TABLE: Float32Array | null = null;
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) HALF_TABLE[i] = halfToFloat(i);
  }
  return HALF_TABLE;
}

/** The storage's elements as a typed array of its own dtype (aligned, native little-endian). */
type Source =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

function typedView(bytes: Uint8Array, dtype: PthDtype, itemsize: number, bigEndian: boolean): Source {
  let b = bytes;
  if (bigEndian && itemsize > 1) {
    b = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i += itemsize)
      for (let k = 0; k < itemsize; k++) b[i + k] = bytes[i + itemsize - 1 - k];
  } else if (b.byteOffset % itemsize !== 0) {
    b = bytes.slice();
  }
  const n = b.length / itemsize;
  switch (dtype) {
    case 'float32':
      return new Float32Array(b.buffer, b.byteOffset, n);
    case 'float64':
      return new Float64Array(b.buffer, b.byteOffset, n);
    case 'float16':
    case 'bfloat16':
    case 'int16':
      return dtype === 'int16' ? new Int16Array(b.buffer, b.byteOffset, n) : new Uint16Array(b.buffer, b.byteOffset, n);
    case 'int64':
      return new BigInt64Array(b.buffer, b.byteOffset, n);
    case 'int32':
      return new Int32Array(b.buffer, b.byteOffset, n);
    case 'int8':
      return new Int8Array(b.buffer, b.byteOffset, n);
    case 'uint8':
    case 'bool':
      return b;
  }
}

function convertRun(src: Source, dtype: PthDtype, from: number, out: Float32Array, to: number, count: number): void {
  if (dtype === 'float16') {
    const t = halfTable();
    for (let i = 0; i < count; i++) out[to + i] = t[(src as Uint16Array)[from + i]];
  } else if (dtype === 'bfloat16') {
    const out32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < count; i++) out32[to + i] = (src as Uint16Array)[from + i] << 16;
  } else if (dtype === 'int64') {
    for (let i = 0; i < count; i++) out[to + i] = Number((src as BigInt64Array)[from + i]);
  } else {
    out.set((src as Float32Array).subarray(from, from + count), to);
  }
}

/** The tensor's values; `source` gives its storage's typed view (made once per storage, however many tensors share it). */
function materialize(name: string, t: TensorRef, source: (ref: StorageRef) => Source, limits: Limits): Float32Array {
  const { size, stride, storage } = t;
  let numel = 1;
  for (const s of size) numel *= s;
  if (numel > limits.maxTensorElements)
    throw new PthError(
      'PTH_LIMIT',
      `tensor ${quote(name)} has ${numel} elements`,
      `at most ${limits.maxTensorElements} per tensor are read`,
    );
  const offset = storage.viewOffset + t.offset;
  // Every element the view can address must lie inside the storage: offset + sum((size - 1) * stride) < numel.
  if (numel > 0) {
    let last = t.offset;
    for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
    if (!Number.isSafeInteger(last) || last >= storage.numel || t.offset > storage.numel) {
      throw new PthError(
        'PTH_BAD_VIEW',
        `tensor ${quote(name)} (offset ${t.offset}, size [${size}], stride [${stride}]) reaches element ${last} of a storage of ${storage.numel}`,
        HINT_CORRUPT,
      );
    }
  }
  const out = new Float32Array(numel);
  if (numel === 0) return out;
  const src = source(storage);
  // Row-major contiguous (size-1 dims may have any stride): one run.
  let contiguous = true;
  for (let d = size.length - 1, expect = 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) {
      contiguous = false;
      break;
    }
    expect *= size[d];
  }
  if (contiguous) {
    convertRun(src, storage.dtype, offset, out, 0, numel);
    return out;
  }
  // Strided: walk the index like an odometer, copying runs along the last dimension.
  const nd = size.length;
  const inner = size[nd - 1],
    innerStride = stride[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let base = offset,
    o = 0;
  const scratch = innerStride === 1 ? null : new Float32Array(1);
  while (o < numel) {
    if (scratch === null) convertRun(src, storage.dtype, base, out, o, inner);
    else for (let i = 0; i < inner; i++) convertRun(src, storage.dtype, base + i * innerStride, out, o + i, 1);
    o += inner;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < size[d]) break;
      base -= stride[d] * size[d];
      idx[d] = 0;
    }
  }
  return out;
}

function nonFiniteWarning(name: string, data: Float32Array): string | null {
  let nan = 0,
    inf = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      if (v !== v) nan++;
      else inf++;
    }
  }
  if (nan === 0 && inf === 0) return null;
  const parts = [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean).join(' and ');
  return `${quote(name)} holds ${parts} value${nan + inf > 1 ? 's' : ''} of ${data.length}: predictions will be NaN or meaningless`;
}

// ---------------------------------------------------------------------------------------------------------------------
// The two container formats

/** What one read spent, for tests and the fuzz run (internal: not exported from the package). */
export interface ReadStats {
  /** bytes charged to the VM budget, and that budget */
  builtBytes: number;
  builtBytesBudget: number;
  objects: number;
  /** float32 values materialized for the tensors */
  materializedElements: number;
  /** bytes of deflated records inflated (stored records are views of the file: nothing allocated) */
  inflatedBytes: number;
}

interface Parsed {
  file: Omit<PthFile, 'tensors' | 'warnings'>;
  selected: Selected;
  storageBytes: (ref: StorageRef) => Uint8Array;
}

function readZipFormat(bytes: Uint8Array, limits: Limits, stats: ReadStats, selector: Selector): Parsed {
  const zip: ZipArchive = readZip(bytes, limits);
  const record = (entry: ZipEntry) => {
    if (entry.method !== 0) stats.inflatedBytes += entry.size;
    return readEntry(zip, entry);
  };
  // One pickle only: with two <folder>/data.pkl, which one counts would depend on the reader (torch takes the folder
  // of the first record).
  let pkl: string | undefined;
  for (const name of zip.entries.keys()) {
    if (!/^[^/]+\/data\.pkl$/.test(name)) continue;
    if (pkl !== undefined) {
      throw new PthError(
        'PTH_ZIP_DUPLICATE',
        `zip archive holds two pickles, ${quote(pkl, 40)} and ${quote(name, 40)}`,
        'readers disagree on which one counts: refusing an ambiguous file; re-save it with torch.save',
      );
    }
    pkl = name;
  }
  if (pkl === undefined) {
    throw new PthError(
      'PTH_NOT_PTH',
      'zip archive has no <folder>/data.pkl record, so it was not written by torch.save',
      'pick the .pth file that torch.save wrote',
    );
  }
  const root = pkl.slice(0, -'/data.pkl'.length);
  const pklEntry = zip.entries.get(pkl)!;
  if (pklEntry.size > limits.maxPickleBytes) {
    throw new PthError(
      'PTH_LIMIT',
      `data.pkl declares ${pklEntry.size} bytes, more than ${limits.maxPickleBytes}`,
      'a state_dict pickle is a few KB: refusing to inflate it (zip bomb?)',
    );
  }
  let byteorder: 'little' | 'big' = 'little';
  const bo = zip.entries.get(`${root}/byteorder`);
  if (bo) {
    if (bo.size > 16) throw new PthError('PTH_CORRUPT', 'byteorder record is too large', HINT_CORRUPT);
    const text = new TextDecoder().decode(record(bo)).trim();
    if (text !== 'little' && text !== 'big')
      throw new PthError(
        'PTH_CORRUPT',
        `byteorder record says "${quote(text, 16)}"`,
        'it must be "little" or "big": ' + HINT_CORRUPT,
      );
    byteorder = text;
  }
  const budget = new Budget(limits, pklEntry.size);
  const table = new StorageTable();
  let selected: Selected;
  try {
    const pickle = record(pklEntry);
    const { value } = unpickle(pickle, {
      globals: globalsFor(pickle, 0),
      persistentLoad: zipPersistentLoad(table, budget),
      refuseGlobal,
      label: 'data.pkl',
      budget,
      floats: selector.floats,
    });
    selected = selector.select(value, limits, budget);
  } finally {
    Object.assign(stats, { builtBytes: budget.bytes, builtBytesBudget: budget.maxBytes, objects: budget.objects });
  }
  const cache = new Map<string, Uint8Array>();
  const storageBytes = (ref: StorageRef): Uint8Array => {
    const hit = cache.get(ref.key);
    if (hit) return hit;
    const name = `${root}/data/${ref.key}`;
    const entry = zip.entries.get(name);
    if (!entry)
      throw new PthError(
        'PTH_MISSING_RECORD',
        `the archive has no record ${quote(name)} for storage ${ref.key}`,
        HINT_CORRUPT,
      );
    const want = ref.numel * ref.itemsize;
    // checked against the central directory before anything is read or inflated
    if (entry.size !== want) {
      throw new PthError(
        'PTH_STORAGE_SIZE',
        `record ${quote(name)} holds ${entry.size} bytes but the pickle says ${ref.numel} ${ref.dtype} values (${want} bytes)`,
        HINT_CORRUPT,
      );
    }
    const data = record(entry);
    cache.set(ref.key, data);
    return data;
  };
  return {
    file: {
      format: 'zip',
      root,
      key: selected.key,
      ignored: selected.ignored,
      byteorder,
      ...(selected.moduleChain ? { moduleChain: selected.moduleChain } : {}),
    },
    selected,
    storageBytes,
  };
}

function readLegacyFormat(bytes: Uint8Array, limits: Limits, stats: ReadStats, selector: Selector): Parsed {
  // the pickles are the head of the file itself: the budget scales with the file
  const budget = new Budget(limits, bytes.length);
  try {
    return readLegacyPickles(bytes, budget, selector);
  } finally {
    Object.assign(stats, { builtBytes: budget.bytes, builtBytesBudget: budget.maxBytes, objects: budget.objects });
  }
}

function readLegacyPickles(bytes: Uint8Array, budget: Budget, selector: Selector): Parsed {
  const none = new Map<string, GlobalHandler>();
  const notPth = () =>
    new PthError(
      'PTH_NOT_PTH',
      'the file is a pickle but not one written by torch.save',
      'pick the .pth file that torch.save wrote',
    );
  let r: UnpickleResult;
  try {
    r = unpickle(bytes, { globals: none, label: 'legacy header', budget });
  } catch (e) {
    if (e instanceof PthError && e.code === 'PTH_TRUNCATED') throw e;
    throw notPth();
  }
  if (r.value !== LEGACY_MAGIC) throw notPth();
  r = unpickle(bytes, { globals: none, label: 'legacy header', budget }, r.end);
  if (r.value !== LEGACY_PROTOCOL)
    throw new PthError(
      'PTH_UNSUPPORTED',
      `legacy torch.save protocol ${show(r.value)}`,
      'only protocol 1001 is read: ' + HINT_RESAVE,
    );
  r = unpickle(bytes, { globals: ALLOWED_GLOBALS, label: 'legacy sys_info', budget }, r.end);
  let byteorder: 'little' | 'big' = 'little';
  if (r.value instanceof PyDict && r.value.map.get('little_endian') === false) byteorder = 'big';
  const table = new StorageTable();
  r = unpickle(
    bytes,
    {
      globals: globalsFor(bytes, r.end),
      persistentLoad: legacyPersistentLoad(table, budget),
      refuseGlobal,
      label: 'the pickled object',
      budget,
      floats: selector.floats,
    },
    r.end,
  );
  const selected = selector.select(r.value, budget.limits, budget);
  r = unpickle(bytes, { globals: none, label: 'legacy storage key list', budget }, r.end);
  if (!(r.value instanceof PyList) || !r.value.items.every((k) => typeof k === 'string'))
    throw pickleError('legacy storage key list is not a list of strings');
  // After the pickles: for each key, in the listed order, an 8-byte little-endian element count and the raw bytes.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = new Map<string, Uint8Array>();
  let pos = r.end;
  for (const key of r.value.items as string[]) {
    const ref = table.byKey.get(key);
    if (!ref)
      throw new PthError('PTH_CORRUPT', `legacy file lists storage ${quote(key)} that no tensor uses`, HINT_CORRUPT);
    if (pos + 8 > bytes.length)
      throw new PthError('PTH_TRUNCATED', `file ends before storage ${quote(key)}`, HINT_TRUNCATED);
    const lo = view.getUint32(pos, true),
      hi = view.getUint32(pos + 4, true);
    const count = hi * 0x1_0000_0000 + lo;
    if (count !== ref.numel)
      throw new PthError(
        'PTH_STORAGE_SIZE',
        `storage ${quote(key)} holds ${count} elements but the pickle says ${ref.numel}`,
        HINT_CORRUPT,
      );
    const len = count * ref.itemsize;
    if (pos + 8 + len > bytes.length)
      throw new PthError('PTH_TRUNCATED', `file ends inside storage ${quote(key)}`, HINT_TRUNCATED);
    if (records.has(key)) throw new PthError('PTH_CORRUPT', `storage ${quote(key)} is stored twice`, HINT_CORRUPT);
    records.set(key, bytes.subarray(pos + 8, pos + 8 + len));
    pos += 8 + len;
  }
  const storageBytes = (ref: StorageRef): Uint8Array => {
    const data = records.get(ref.key);
    if (!data)
      throw new PthError('PTH_MISSING_RECORD', `the file holds no data for storage ${quote(ref.key)}`, HINT_CORRUPT);
    return data;
  };
  return {
    file: {
      format: 'legacy',
      root: null,
      key: selected.key,
      ignored: selected.ignored,
      byteorder,
      ...(selected.moduleChain ? { moduleChain: selected.moduleChain } : {}),
    },
    selected,
    storageBytes,
  };
}

/** Reads a torch.save file. Throws PthError on anything it cannot read safely. Never executes anything from the file. */
export async function readPth(bytes: Uint8Array): Promise<PthFile> {
  return readPthSync(bytes);
}

export function readPthSync(bytes: Uint8Array): PthFile {
  return readWithLimits(bytes, LIMITS);
}

/**
 * readPthSync with other bounds, and a record of what the read spent. Internal and for tests only (not exported from
 * the package): tests use small limits to check each bound at its edge, the fuzz run reads the stats.
 */
export function readWithLimits(
  bytes: Uint8Array,
  limits: Limits,
  stats?: ReadStats,
  selector: Selector = STATE_DICT,
): PthFile {
  if (!(bytes instanceof Uint8Array))
    throw new PthError(
      'PTH_BAD_ARGUMENT',
      'readPth needs a Uint8Array',
      'pass the file contents, e.g. new Uint8Array(await file.arrayBuffer())',
    );
  const spent: ReadStats = stats ?? {
    builtBytes: 0,
    builtBytesBudget: 0,
    objects: 0,
    materializedElements: 0,
    inflatedBytes: 0,
  };
  try {
    return readChecked(bytes, limits, spent, selector);
  } catch (e) {
    if (e instanceof PthError) throw e;
    // Anything else is a bug in this loader or an engine limit; never let it escape as another type.
    if (e instanceof RangeError)
      throw new PthError(
        'PTH_LIMIT',
        `the file exceeds what can be held in memory (${e.message})`,
        'a state_dict of an MLP is small: the file is hostile or not a model',
      );
    throw new PthError(
      'PTH_CORRUPT',
      `unexpected failure reading the file (${e instanceof Error ? e.message : String(e)})`,
      HINT_CORRUPT,
    );
  }
}

function readChecked(bytes: Uint8Array, limits: Limits, stats: ReadStats, selector: Selector): PthFile {
  if (bytes.length === 0)
    throw new PthError('PTH_NOT_PTH', 'the file is empty', 'pick the .pth file that torch.save wrote');
  if (looksLikeSafetensors(bytes)) return readSafetensors(bytes, limits);
  if (looksLikeZip(bytes) && isTorchScript(bytes, limits)) return readTorchScript(bytes, limits);
  let parsed: Parsed;
  if (looksLikeZip(bytes)) parsed = readZipFormat(bytes, limits, stats, selector);
  // legacy files start with the pickled magic number: PROTO n + LONG1 (protocol >= 2) or a text LONG (protocols 0-1)
  else if (
    (bytes[0] === OP.PROTO && bytes.length > 1 && bytes[1] >= 2 && bytes[1] <= 5) ||
    (bytes[0] === OP.LONG && bytes[1] >= 0x30 && bytes[1] <= 0x39)
  )
    parsed = readLegacyFormat(bytes, limits, stats, selector);
  else if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b)
    throw new PthError('PTH_TRUNCATED', 'the file starts like a zip archive but is damaged', HINT_TRUNCATED);
  else {
    const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64));
    const looksText = bytes
      .subarray(0, 512)
      .every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc0 || (b >= 0x80 && b < 0xc0));
    const what = looksText
      ? `a text file ("${quote(head.replace(/\s+/g, ' '), 24)}...")`
      : 'not a zip archive or a pickle';
    throw new PthError(
      'PTH_NOT_PTH',
      `the file is ${what}, not a PyTorch .pth`,
      'pick the .pth file that torch.save wrote',
    );
  }
  const { file, selected, storageBytes } = parsed;
  // every tensor is an output object even when empty (and the memo can list one tensor under many keys)
  if (selected.entries.length > limits.maxTensors) {
    throw new PthError(
      'PTH_LIMIT',
      `the state_dict holds ${selected.entries.length} tensors, more than ${limits.maxTensors}`,
      'an MLP has two per layer: the file is hostile or not a model',
    );
  }
  const warnings: string[] = [];
  const tensors: PthTensor[] = [];
  const bigEndian = file.byteorder === 'big';
  // Views can repeat elements (stride 0, or one tensor listed under many keys through the memo): cap what is
  // materialized at about the file's own size, so memory stays a few times the file size whatever the pickle says.
  const materializeBudget = bytes.length + limits.materializeSlackElements;
  let spent = 0;
  const used = new Map<string, { numel: number; ref: StorageRef }>();
  for (const [name, t] of selected.entries) {
    let numel = 1;
    for (const s of t.size) numel *= s;
    spent += numel;
    if (spent > materializeBudget) {
      throw new PthError(
        'PTH_LIMIT',
        `tensor ${quote(name)} brings the values to materialize to ${spent}, more than ${materializeBudget} (the file's ${bytes.length} bytes + ${limits.materializeSlackElements})`,
        'views that repeat elements (expanded or duplicated tensors) are not materialized: save contiguous tensors',
      );
    }
    const u = used.get(t.storage.key) ?? { numel: 0, ref: t.storage };
    u.numel += numel;
    used.set(t.storage.key, u);
  }
  // A storage far larger than what its tensors use is only read to be thrown away; with a deflated record whose size
  // is declared honestly, that is the one zip bomb the per-record bound cannot see. Refuse it before inflating.
  // (Legacy storages are raw bytes of the file itself: nothing to inflate.)
  for (const [key, { numel, ref }] of file.format === 'zip' ? used : []) {
    const allowed = limits.storageOveruse * numel + limits.storageSlackElements;
    if (ref.numel > allowed) {
      throw new PthError(
        'PTH_LIMIT',
        `storage ${quote(key)} holds ${ref.numel} elements but its tensors use ${numel} (at most ${allowed} are read)`,
        'refusing to read a storage much larger than its tensors (zip bomb?): save the tensors with .clone() so each has its own storage',
      );
    }
  }
  // One typed view per storage (a byte-swapped or realigned copy when needed), however many tensors share it.
  const sources = new Map<string, Source>();
  const source = (ref: StorageRef): Source => {
    let src = sources.get(ref.key);
    if (src === undefined) {
      src = typedView(storageBytes(ref), ref.dtype, ref.itemsize, bigEndian);
      sources.set(ref.key, src);
    }
    return src;
  };
  for (const [name, t] of selected.entries) {
    storageBytes(t.storage); // the record must exist and have its size even when the tensor is empty
    const data = materialize(name, t, source, limits);
    stats.materializedElements += data.length;
    if (FLOAT_DTYPES.has(t.storage.dtype)) {
      const w = nonFiniteWarning(name, data);
      if (w) warnings.push(w);
    }
    tensors.push({ name, dtype: t.storage.dtype, shape: t.size.slice(), data });
  }
  if (selected.skipped.length > 0)
    warnings.push(
      `skipped non-tensor entries of the state_dict: ${selected.skipped
        .slice(0, 8)
        .map((k) => quote(k, 40))
        .join(', ')}${selected.skipped.length > 8 ? ', ...' : ''}`,
    );
  return { ...file, tensors, warnings };
}
