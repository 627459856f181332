// TorchScript archives (torch.jit.save): the weights from data.pkl, whose `__torch__.*` module classes are kept as inert
// records (never called, only their BUILD state is stored), and the activations (with their constants: LeakyReLU's
// slope, ELU's alpha) and Dropouts from the TorchScript source text of code/__torch__/**.py, accepted only where
// forward() is a straight chain of Linear, activation and Dropout calls.
import { PthError, HINT_CORRUPT, type PthErrorCode } from './errors.js';
import { Budget, COST } from './budget.js';
import { FLOAT_DTYPES, STORAGE_TYPES, type PthDtype } from './dtypes.js';
import { LIMITS, type Limits } from './limits.js';
import { PyDict, PyGlobal, PyList, PyOpaque, PyTuple, unpickle, type GlobalHandler, type PyValue } from './pickle.js';
import type { PthFile, PthTensor } from './pth-file.js';
import type { ActivationSpec } from './modules.js';
import { decodeLittleEndian } from './safetensors.js';
import { quote } from './text.js';
import { readEntry, readZip, type ZipArchive } from './zip.js';

export type { TorchScriptArchitecture } from './pth-file.js';
/** One hidden layer's activation: a name of core-wasm's activations.json, with its parameter where it has one. */
export type Activation = ActivationSpec;

const PTH_TORCHSCRIPT: PthErrorCode = 'PTH_TORCHSCRIPT';
const HINT_STATE_DICT =
  'export its weights with torch.save(torch.jit.load(path).state_dict(), "model.pth") and load that with the activation named';
/** Bounds of the code reading: a chain MLP's code files are a few hundred bytes, nested a level or two. */
const MAX_CODE_BYTES = 1 << 20;
const MAX_DEPTH = 32;
/** Characters of forward() code read in all (a module's forward is read once per instance: bounds a file of many). */
const MAX_CODE_READ = 16 << 20;

function refuse(problem: string): PthError {
  return new PthError(
    PTH_TORCHSCRIPT,
    `this is a TorchScript archive (torch.jit.save) whose ${problem}`,
    HINT_STATE_DICT,
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// data.pkl: inert records

class ScriptObject extends PyOpaque {
  state: PyDict | null = null;
  constructor(readonly className: string) {
    super();
  }
  get(name: string): PyValue | undefined {
    return this.state?.map.get(name);
  }
}

class Storage extends PyOpaque {
  constructor(
    readonly dtype: PthDtype,
    readonly itemsize: number,
    readonly key: string,
    readonly numel: number,
  ) {
    super();
  }
}

class Tensor extends PyOpaque {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {
    super();
  }
}

function badPickle(what: string): PthError {
  return new PthError('PTH_BAD_PICKLE', `TorchScript data.pkl is not valid (${what})`, HINT_CORRUPT);
}

function ints(v: PyValue | undefined, what: string, maxDims: number): number[] {
  if (!(v instanceof PyTuple)) throw badPickle(`tensor ${what} is not a tuple`);
  if (v.items.length > maxDims) throw new PthError('PTH_LIMIT', `tensor ${what} has ${v.items.length} dimensions`);
  return v.items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw badPickle(`tensor ${what} is not sizes`);
    return x;
  });
}

/** `__torch__.*` classes: NEWOBJ makes an empty record, BUILD stores its dict. Nothing is ever called. */
const scriptClass: GlobalHandler = {
  call: (_args, self, vm) => {
    vm.budget.object(COST.object);
    return new ScriptObject(self.qualname);
  },
  build: (target, state) => {
    if (!(target instanceof ScriptObject) || !(state instanceof PyDict) || target.state)
      throw badPickle('a module state is not a dict');
    target.state = state;
  },
};

const BASE_GLOBALS: ReadonlyMap<string, GlobalHandler> = (() => {
  const m = new Map<string, GlobalHandler>();
  m.set('torch._utils._rebuild_tensor_v2', {
    call: (args, _self, vm) => {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof Storage)) throw badPickle('tensor rebuilt from something that is not a storage');
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw badPickle('bad offset');
      const maxDims = vm.budget.limits.maxDims;
      const sz = ints(size, 'size', maxDims),
        st = ints(stride, 'stride', maxDims);
      if (sz.length !== st.length) throw badPickle('sizes and strides differ in length');
      vm.budget.object(2 * COST.object + 2 * COST.item * sz.length);
      return new Tensor(storage, offset, sz, st);
    },
  });
  m.set('collections.OrderedDict', {
    // only the empty hook dicts of a module: anything else is not a TorchScript module's
    call: (args, _self, vm) => {
      if (args.length > 0 && !(args[0] instanceof PyList && args[0].items.length === 0))
        throw badPickle('OrderedDict with items');
      vm.budget.dict(0);
      return new PyDict('OrderedDict');
    },
  });
  for (const name of STORAGE_TYPES.keys()) m.set(`torch.${name}`, {});
  return m;
})();

/** The allowlist for this path only: the base names, plus any `__torch__.*` class as an inert record. */
class ScriptGlobals extends Map<string, GlobalHandler> {
  override get(name: string): GlobalHandler | undefined {
    return BASE_GLOBALS.get(name) ?? (name.startsWith('__torch__.') ? scriptClass : undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The archive

function codeRoot(zip: ZipArchive): string | null {
  for (const name of zip.entries.keys()) {
    const m = /^([^/]+)\/code\//.exec(name);
    if (m) return m[1];
  }
  return null;
}

/** A zip with a `<root>/code/` entry: written by torch.jit.save, not torch.save. */
export function isTorchScript(bytes: Uint8Array, limits: Limits = LIMITS): boolean {
  return codeRoot(readZip(bytes, limits)) !== null;
}

function entryText(zip: ZipArchive, name: string): string {
  const entry = zip.entries.get(name);
  if (!entry) throw refuse(`code has no file ${quote(name)}`);
  if (entry.size > MAX_CODE_BYTES)
    throw new PthError('PTH_LIMIT', `TorchScript code file ${quote(name)} has ${entry.size} bytes`, HINT_STATE_DICT);
  return new TextDecoder().decode(readEntry(zip, entry));
}

/** Reads a torch.jit.save archive whose forward is a chain of Linear and activation calls. Never runs its code. */
export function readTorchScript(bytes: Uint8Array, limits: Limits = LIMITS): PthFile {
  const zip = readZip(bytes, limits);
  const root = codeRoot(zip);
  if (root === null) throw new PthError('PTH_NOT_PTH', 'zip archive has no code/ folder: not a TorchScript archive');
  const pklEntry = zip.entries.get(`${root}/data.pkl`);
  if (!pklEntry) throw new PthError('PTH_MISSING_RECORD', `TorchScript archive has no ${quote(`${root}/data.pkl`)}`);
  if (pklEntry.size > limits.maxPickleBytes)
    throw new PthError('PTH_LIMIT', `data.pkl declares ${pklEntry.size} bytes, more than ${limits.maxPickleBytes}`);
  const budget = new Budget(limits, pklEntry.size);
  const { value } = unpickle(readEntry(zip, pklEntry), {
    globals: new ScriptGlobals(),
    label: 'TorchScript data.pkl',
    budget,
    persistentLoad: (pid) => {
      // ('storage', torch.FloatStorage, key, location, numel)
      if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage')
        throw badPickle('persistent id is not a storage');
      const [, type, key, , numel] = pid.items;
      const kind = type instanceof PyGlobal && type.module === 'torch' ? STORAGE_TYPES.get(type.name) : undefined;
      if (!kind || typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
        throw badPickle('bad storage persistent id');
      budget.object(COST.object);
      return new Storage(kind.dtype, kind.itemsize, key, numel);
    },
  });
  if (!(value instanceof ScriptObject)) throw refuse('data.pkl does not hold a module');
  const warnings: string[] = [];
  const steps = chainOf({ zip, root, warnings, forwards: new Map(), read: 0 }, value, '', 0);
  // steps -> Linear layers with one activation (or none: identity) between each pair; a Dropout is the identity at
  // inference, its p kept per hidden layer (before the first Linear or after the last it changes nothing)
  const tensors: PthTensor[] = [];
  const activations: Activation[] = [];
  const dropout: number[] = [];
  let pending: Activation[] | null = null;
  let pendingP = 0;
  for (const step of steps) {
    if (step.kind === 'dropout') {
      if (pending !== null) pendingP = step.p;
      continue;
    }
    if (step.kind === 'activation') {
      if (pending === null) throw refuse(`forward applies ${activationName(step.activation)} before any Linear layer`);
      pending.push(step.activation);
      continue;
    }
    if (pending !== null) {
      if (pending.length > 1) throw refuse(`forward applies ${pending.length} activations in a row`);
      activations.push(pending[0] ?? 'identity');
      dropout.push(pendingP);
    }
    pending = [];
    pendingP = 0;
    tensors.push(...linearTensors(zip, root, step.path, step.module, limits));
  }
  if (pending === null) throw refuse('forward holds no Linear layer');
  if (pending.length > 0)
    throw refuse(`forward ends in ${activationName(pending[0])} after the last Linear layer (the logits are read)`);
  return {
    format: 'torchscript',
    root,
    key: null,
    ignored: [],
    byteorder: 'little',
    tensors,
    warnings,
    architecture: { activations, ...(dropout.some((p) => p > 0) ? { dropout } : {}) },
  };
}

function activationName(a: Activation): string {
  return typeof a === 'string' ? a : a.name;
}

function linearTensors(zip: ZipArchive, root: string, path: string, module: ScriptObject, limits: Limits): PthTensor[] {
  const out: PthTensor[] = [];
  for (const attr of ['weight', 'bias']) {
    const t = module.get(attr);
    const name = path ? `${path}.${attr}` : attr;
    if (attr === 'bias' && (t === null || t === undefined)) continue;
    if (!(t instanceof Tensor)) throw badPickle(`${quote(name)} is not a tensor`);
    out.push({ name, dtype: t.storage.dtype, shape: t.size.slice(), data: materialize(zip, root, name, t, limits) });
  }
  return out;
}

/** A contiguous float tensor from its `<root>/data/<key>` record; the record must hold exactly its storage. */
function materialize(zip: ZipArchive, root: string, name: string, t: Tensor, limits: Limits): Float32Array {
  const { storage } = t;
  if (!FLOAT_DTYPES.has(storage.dtype))
    throw new PthError('PTH_UNSUPPORTED_DTYPE', `tensor ${quote(name)} has dtype ${storage.dtype}`, HINT_STATE_DICT);
  let numel = 1;
  for (const s of t.size) numel *= s;
  if (numel > limits.maxTensorElements) throw new PthError('PTH_LIMIT', `tensor ${quote(name)} has ${numel} elements`);
  for (let d = t.size.length - 1, expect = 1; d >= 0; d--) {
    if (t.size[d] !== 1 && t.stride[d] !== expect)
      throw new PthError('PTH_BAD_VIEW', `tensor ${quote(name)} is not contiguous`, HINT_STATE_DICT);
    expect *= t.size[d];
  }
  if (t.offset + numel > storage.numel)
    throw new PthError(
      'PTH_BAD_VIEW',
      `tensor ${quote(name)} (offset ${t.offset}, ${numel} values) reaches past its storage of ${storage.numel}`,
      HINT_CORRUPT,
    );
  const record = `${root}/data/${storage.key}`;
  const entry = zip.entries.get(record);
  if (!entry) throw new PthError('PTH_MISSING_RECORD', `the archive has no record ${quote(record)}`, HINT_CORRUPT);
  if (entry.size !== storage.numel * storage.itemsize)
    throw new PthError(
      'PTH_STORAGE_SIZE',
      `record ${quote(record)} holds ${entry.size} bytes but the pickle says ${storage.numel} ${storage.dtype} values`,
      HINT_CORRUPT,
    );
  const raw = readEntry(zip, entry);
  const from = t.offset * storage.itemsize;
  return decodeLittleEndian(raw.subarray(from, from + numel * storage.itemsize), storage.dtype);
}

// ---------------------------------------------------------------------------------------------------------------------
// forward(): a straight chain, read from the code text

type Step =
  | { kind: 'linear'; path: string; module: ScriptObject }
  | { kind: 'activation'; activation: Activation }
  /** `on`: the flag is a literal True (a trace made in training mode); identity at inference either way */
  | { kind: 'dropout'; p: number; on: boolean };

/** `class <Name>(Module):` of `className` in its code file, and its forward's parameter name and body lines. */
function forwardOf(zip: ZipArchive, root: string, className: string): { param: string; body: string[] } {
  // __torch__.a.b.C -> code/__torch__/a/b.py, class C (mangled: a.b.___torch_mangle_4.C -> a/b/___torch_mangle_4.py)
  const parts = className.split('.');
  const cls = parts.pop()!;
  const text = entryText(zip, `${root}/code/${parts.join('/')}.py`);
  const lines = text.split('\n');
  const start = lines.indexOf(`class ${cls}(Module):`);
  if (start < 0) throw refuse(`code has no class ${quote(className)}`);
  let i = start + 1;
  while (i < lines.length && lines[i].startsWith('  ') && !lines[i].startsWith('  def forward(')) i++;
  if (i >= lines.length || !lines[i].startsWith('  def forward('))
    throw refuse(`class ${quote(className)} has no forward`);
  // the signature may span lines: `def forward(self: T,\n    input: Tensor) -> Tensor:`
  let signature = '';
  while (i < lines.length && !signature.trimEnd().endsWith(':')) signature += lines[i++].trim() + ' ';
  const params = /^def forward\(self(?:: [\w.]+)?,\s*(\w+): Tensor\) -> Tensor:\s*$/.exec(signature.trim());
  if (!params) throw refuse(`${quote(className)}.forward does not take one tensor: ${quote(signature.trim())}`);
  const body: string[] = [];
  for (; i < lines.length && (lines[i].startsWith('    ') || lines[i].trim() === ''); i++)
    if (lines[i].trim()) body.push(lines[i].trim());
  return { param: params[1], body };
}

/** `f(a, b)` or `f(a, b, )` (TorchScript prints calls of compiled functions with a trailing comma): f and the
 * top-level arguments, or null when `expr` is not one call. */
function splitCall(expr: string): { fn: string; args: string[] } | null {
  const head = /^([\w.]+)\(/.exec(expr);
  if (!head || !expr.endsWith(')')) return null;
  const args: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = head[0].length;
  for (let i = start; i < expr.length - 1; i++) {
    const c = expr[i];
    if (quoted) quoted = c !== '"';
    else if (c === '"') quoted = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0)
      return null; // `f(a)(b)`: the call closes before the end
    else if (c === ',' && depth === 0) {
      args.push(expr.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth !== 0 || quoted) return null;
  const last = expr.slice(start, -1).trim();
  if (last !== '') args.push(last);
  return { fn: head[1], args };
}

/** A float constant as TorchScript prints it (Python's repr: `0.10000000000000001`, `1.`, `1e-05`), else NaN. */
function constant(text: string): number {
  return /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
}

const FUNCTIONAL = '__torch__.torch.nn.functional.';

/**
 * The step a call computes, from the name TorchScript prints and the constants after the input: undefined for a
 * function that is not read, null when the arguments are not the constants it takes. `torch.*` are builtins (traced
 * modules, F.* calls); `__torch__.torch.nn.functional.*` are torch's own functions that torch.jit.script compiled into
 * the archive (their code is there too; only the name is read). A trailing `_` is the in-place form, the same in a
 * chain. `training(arg)` says whether a dropout's flag is True (on at every call), False / self.training (off at
 * inference), or something else (null).
 */
function callStep(fn: string, args: string[], training: (arg: string) => boolean | null): Step | null | undefined {
  const n = args.length;
  const flag = (i: number) => args[i] === 'True' || args[i] === 'False';
  const act = (activation: Activation): Step => ({ kind: 'activation', activation });
  const leaky = (slope: number) => (Number.isFinite(slope) ? act({ name: 'leaky_relu', slope }) : null);
  const elu = (alpha: number) => (Number.isFinite(alpha) ? act({ name: 'elu', alpha }) : null);
  const dropout = (p: number, on: boolean | null): Step | null =>
    p >= 0 && p <= 1 && on !== null ? { kind: 'dropout', p, on } : null;
  switch (fn.replace(/_$/, '')) {
    case 'torch.relu':
      return n === 0 ? act('relu') : null;
    case 'torch.tanh':
      return n === 0 ? act('tanh') : null;
    case 'torch.sigmoid':
      return n === 0 ? act('sigmoid') : null;
    case 'torch.silu':
      return n === 0 ? act('silu') : null;
    case 'torch.gelu':
      if (n === 0 || (n === 1 && args[0] === 'approximate="none"')) return act('gelu');
      return n === 1 && args[0] === 'approximate="tanh"' ? act('gelu_tanh') : null;
    case 'torch.leaky_relu':
      return n === 1 ? leaky(constant(args[0])) : null;
    case 'torch.elu':
      return n === 1 ? elu(constant(args[0])) : null;
    case 'torch.dropout':
      return n === 2 ? dropout(constant(args[0]), training(args[1])) : null;
    case `${FUNCTIONAL}relu`:
      return n === 1 && flag(0) ? act('relu') : null;
    case `${FUNCTIONAL}silu`:
      return n === 1 && flag(0) ? act('silu') : null;
    case `${FUNCTIONAL}leaky_relu`:
      return n === 2 && flag(1) ? leaky(constant(args[0])) : null;
    case `${FUNCTIONAL}elu`:
      return n === 2 && flag(1) ? elu(constant(args[0])) : null;
    case `${FUNCTIONAL}dropout`:
      return n === 3 && flag(2) ? dropout(constant(args[0]), training(args[1])) : null;
  }
  return undefined;
}

/** A TorchScript class or function as messages name it: `__torch__.` and `___torch_mangle_N.` dropped. */
function shortName(name: string): string {
  return name.replace(/^__torch__\./, '').replace(/(^|\.)___torch_mangle_\d+\./g, '$1');
}

/** One archive's code reading: forward()s parsed once per class, the characters read, the warnings. */
interface CodeReader {
  zip: ZipArchive;
  root: string;
  warnings: string[];
  forwards: Map<string, { param: string; body: string[] }>;
  read: number;
}

/**
 * The steps `module.forward(<input>)` takes. Accepted statements: aliases of children, parameters and the training
 * flag (`_0 = getattr(self, "0")`, `fc1 = self.fc1`, `training = self.training`), of torch.nn.functional functions
 * (`_0 = __torch__.torch.nn.functional.leaky_relu`), `v = <expr>` and `return <expr>`, where an expression is a
 * variable, `(child).forward(<expr>, )`, `torch.linear(<expr>, weight, bias)` or a call callStep reads with `<expr>`
 * first. Every value must come from the previous one: anything else (an add, a second use, a branch) is not a chain.
 */
function chainOf(code: CodeReader, module: ScriptObject, path: string, depth: number): Step[] {
  if (depth > MAX_DEPTH) throw refuse(`modules nest more than ${MAX_DEPTH} deep`);
  let forward = code.forwards.get(module.className);
  if (!forward) {
    forward = forwardOf(code.zip, code.root, module.className);
    code.forwards.set(module.className, forward);
  }
  const { param, body } = forward;
  for (const line of body) code.read += line.length;
  if (code.read > MAX_CODE_READ)
    throw new PthError(
      'PTH_LIMIT',
      `TorchScript forward() code reads more than ${MAX_CODE_READ} characters`,
      HINT_STATE_DICT,
    );
  const cls = quote(shortName(module.className), 80);
  const children = new Map<string, string>(); // variable -> attribute name
  const functions = new Map<string, string>(); // variable -> __torch__.torch.nn.functional.<name>
  const values = new Map<string, Step[]>([[param, []]]);
  const used = new Set<string>();
  const here = (attr: string) => (path ? `${path}.${attr}` : attr);
  const training = (arg: string) =>
    arg === 'True' ? true : arg === 'False' || children.get(arg) === 'training' ? false : null;
  // `nesting`: calls inside calls of one statement, bounded like modules (a straight chain nests a few)
  const parse = (expr: string, nesting = 0): Step[] => {
    if (nesting > MAX_DEPTH) throw refuse(`${cls}.forward nests calls more than ${MAX_DEPTH} deep`);
    expr = expr.trim();
    let m = /^(\w+)$/.exec(expr);
    if (m) {
      const steps = values.get(m[1]);
      if (!steps) throw refuse(`${cls}.forward uses ${quote(m[1])}, which is not the running value`);
      if (used.has(m[1])) throw refuse(`${cls}.forward uses ${quote(m[1])} twice: not a straight chain`);
      used.add(m[1]);
      return steps;
    }
    m = /^\((\w+)\)\.forward\((.*), \)$/.exec(expr);
    if (m) {
      const attr = children.get(m[1]);
      const child = attr === undefined ? undefined : module.get(attr);
      if (attr === undefined || !(child instanceof ScriptObject))
        throw refuse(`${cls}.forward calls ${quote(m[1])}, which is not a child module`);
      return [...parse(m[2], nesting + 1), ...chainOf(code, child, here(attr), depth + 1)];
    }
    m = /^torch\.linear\((.*), (\w+), (\w+)\)$/.exec(expr);
    if (m) {
      if (children.get(m[2]) !== 'weight' || children.get(m[3]) !== 'bias')
        throw refuse(`${cls}.forward calls torch.linear on other tensors than its weight and bias`);
      return [...parse(m[1], nesting + 1), { kind: 'linear', path, module }];
    }
    const call = splitCall(expr);
    if (!call)
      throw refuse(`${cls}.forward computes ${quote(expr)}: not a straight chain of Linear and activation calls`);
    const fn = functions.get(call.fn) ?? call.fn;
    const [input, ...constants] = call.args;
    const step = input === undefined ? undefined : callStep(fn, constants, training);
    const called = quote(shortName(fn), 60);
    if (step === undefined)
      throw refuse(`${cls}.forward calls ${called}: not Linear, Dropout or an activation the engine runs`);
    if (step === null) throw refuse(`${cls}.forward calls ${called} with ${quote(constants.join(', '), 40)}: not read`);
    if (step.kind === 'dropout' && step.on)
      code.warnings.push(
        `the Dropout at ${quote(path || shortName(module.className), 60)} was traced in training mode (${fn}(x, ${step.p}, True)): read as the identity, as at inference (the TorchScript module itself drops units at every call)`,
      );
    return [...parse(input, nesting + 1), step];
  };
  for (const line of body) {
    let m = /^(\w+) = getattr\(self, "(\w+)"\)$/.exec(line) ?? /^(\w+) = self\.(\w+)$/.exec(line);
    if (m) {
      children.set(m[1], m[2]);
      continue;
    }
    m = /^(\w+) = (__torch__\.torch\.nn\.functional\.\w+)$/.exec(line);
    if (m) {
      functions.set(m[1], m[2]);
      continue;
    }
    m = /^return (.+)$/.exec(line);
    if (m) {
      return parse(m[1]);
    }
    m = /^(\w+) = (.+)$/.exec(line);
    if (m && !values.has(m[1])) {
      values.set(m[1], parse(m[2]));
      continue;
    }
    throw refuse(`${cls}.forward holds ${quote(line)}: not a straight chain`);
  }
  throw refuse(`${cls}.forward returns nothing`);
}
