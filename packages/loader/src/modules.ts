// Whole pickled models (torch.save(model)) and other inert objects of checkpoints, read as data: an allowlist of
// torch.nn classes and `__main__` user classes become records of their pickled state; nothing from the file is called.
// walkModule turns the record tree into the steps of a chain (Linear, activation, BatchNorm, no-op, final softmax).
import { PthError } from './errors.js';
import { PyDict, PyGlobal, PyList, PyOpaque, PyTuple, type GlobalHandler, type PyValue } from './pickle.js';
import { quote } from './text.js';

/** One pickled nn.Module: its class and its BUILD state (the instance __dict__). */
export class ModuleRecord extends PyOpaque {
  state: PyValue = null;
  constructor(readonly cls: string) {
    super();
  }
}

/** A value kept as data and never used (argparse.Namespace, NumPy scalars, dtypes and arrays of a checkpoint). */
export class InertValue extends PyOpaque {
  state: PyValue = null;
  constructor(readonly cls: string) {
    super();
  }
}

type Role = 'container' | 'linear' | 'activation' | 'noop' | 'final' | 'batchnorm';

const NN = 'torch.nn.modules.';
/** The allowlisted torch.nn classes, as pickled, and what each is in a chain. */
export const MODULE_CLASSES: ReadonlyMap<string, Role> = new Map<string, Role>([
  [`${NN}container.Sequential`, 'container'],
  [`${NN}container.ModuleList`, 'container'],
  [`${NN}linear.Linear`, 'linear'],
  [`${NN}linear.Identity`, 'noop'],
  [`${NN}activation.Identity`, 'noop'],
  [`${NN}dropout.Dropout`, 'noop'],
  [`${NN}flatten.Flatten`, 'noop'],
  [`${NN}batchnorm.BatchNorm1d`, 'batchnorm'],
  [`${NN}activation.Softmax`, 'final'],
  [`${NN}activation.LogSoftmax`, 'final'],
  ...['ReLU', 'Tanh', 'Sigmoid', 'GELU', 'LeakyReLU', 'SiLU', 'ELU'].map(
    (n) => [`${NN}activation.${n}`, 'activation'] as [string, Role],
  ),
]);

/** A user class saved from a script: an inert container whose forward() is code the file does not hold. */
export function isUserClass(qualname: string): boolean {
  return /^__main__\.[A-Za-z_]\w{0,127}$/.test(qualname);
}

/** NEWOBJ / REDUCE of an allowlisted class: a record (charged), filled by BUILD. Never calls anything. */
export const moduleHandler: GlobalHandler = {
  call: (_args, self, vm) => {
    vm.budget.object(32);
    return new ModuleRecord(self.qualname);
  },
  build: (target, state) => {
    (target as ModuleRecord).state = state;
  },
};

/** Checkpoint data outside the state_dict (argparse.Namespace, NumPy): kept as inert values, listed as ignored. */
export const inertHandler: GlobalHandler = {
  call: (_args, self, vm) => {
    vm.budget.object(32);
    return new InertValue(self.qualname);
  },
  build: (target, state) => {
    (target as InertValue).state = state;
  },
};

/** `builtins.set([])` of nn.Module's _non_persistent_buffers_set: a list (charged), never used. */
export const setHandler: GlobalHandler = {
  call: (args, _self, vm) => {
    const items = args[0] instanceof PyList || args[0] instanceof PyTuple ? args[0].items : [];
    vm.budget.sequence(items.length);
    return new PyList(items.slice());
  },
};

export const INERT_GLOBALS: readonly string[] = [
  'argparse.Namespace',
  'numpy.core.multiarray.scalar',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray.scalar',
  'numpy._core.multiarray._reconstruct',
  'numpy.dtype',
];
export const TOKEN_GLOBALS: readonly string[] = ['numpy.ndarray'];

// ---------------------------------------------------------------------------------------------------------------------
// The record tree -> chain steps

export type ActivationSpec = string | { name: string; slope?: number; alpha?: number };

export type ArchStep =
  | { kind: 'linear'; path: string; cls: string }
  | { kind: 'activation'; path: string; cls: string; activation: ActivationSpec }
  | { kind: 'batchnorm'; path: string; cls: string; eps: number }
  | { kind: 'noop'; path: string; cls: string; p?: number }
  | { kind: 'final'; path: string; cls: string; final: 'softmax' | 'log_softmax' };

export interface Architecture {
  /** the pickled root class */
  root: string;
  /** false when a user class (forward() is code) decides the order: only the registration order is known */
  exact: boolean;
  /** user classes met, for the warning */
  userClasses: string[];
  steps: ArchStep[];
}

const HINT_LAYER =
  'only Linear, BatchNorm1d (folded), ReLU, LeakyReLU, Tanh, Sigmoid, GELU, SiLU, ELU, Identity, Dropout, Flatten and a final (Log)Softmax are read';

export function unsupportedLayer(cls: string, where = ''): PthError {
  return new PthError(
    'PTH_UNSUPPORTED_LAYER',
    `the model holds ${quote(cls, 80)}${where}, which is not in the allowlist`,
    HINT_LAYER,
  );
}

function bad(what: string): PthError {
  return new PthError('PTH_BAD_PICKLE', `data.pkl is not a valid pickled module (${what})`, 'the file is damaged');
}

function attr(state: PyDict, name: string): PyValue | undefined {
  return state.map.get(name);
}

function numberAttr(state: PyDict, name: string, fallback: number): number {
  const v = attr(state, name);
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${name} is not a number`);
  return v;
}

function stateOf(m: ModuleRecord): PyDict {
  if (!(m.state instanceof PyDict)) throw bad(`${quote(m.cls, 80)} has no state dict`);
  return m.state;
}

function dictAttr(state: PyDict, name: string): PyDict | null {
  const v = attr(state, name);
  if (v === undefined || v === null) return null;
  if (!(v instanceof PyDict)) throw bad(`${name} is not a dict`);
  return v;
}

const MAX_MODULE_DEPTH = 32;

/**
 * Walks _modules in registration order, depth first. `tensor(path, value)` collects a parameter or buffer (it
 * checks the value is a tensor and names it `path`). Visits are bounded (shared modules through the memo repeat).
 */
export function walkModule(
  root: ModuleRecord,
  tensor: (path: string, v: PyValue) => void,
  maxVisits: number,
): Architecture {
  const arch: Architecture = { root: root.cls, exact: true, userClasses: [], steps: [] };
  let visits = 0;
  const visit = (m: ModuleRecord, path: string, depth: number) => {
    if (++visits > maxVisits || depth > MAX_MODULE_DEPTH)
      throw new PthError(
        'PTH_LIMIT',
        `the pickled model nests or repeats modules more than ${depth > MAX_MODULE_DEPTH ? `${MAX_MODULE_DEPTH} deep` : `${maxVisits} times`}`,
        'an MLP is a short chain of modules: the file is hostile or not a model',
      );
    const role = MODULE_CLASSES.get(m.cls) ?? (isUserClass(m.cls) ? 'container' : undefined);
    if (role === undefined) throw unsupportedLayer(m.cls, path ? ` at ${quote(path, 60)}` : '');
    const state = stateOf(m);
    const name = m.cls.slice(m.cls.lastIndexOf('.') + 1);
    const params = dictAttr(state, '_parameters');
    const buffers = dictAttr(state, '_buffers');
    const prefix = path ? `${path}.` : '';
    if (role === 'container') {
      if (isUserClass(m.cls)) {
        arch.exact = false;
        if (!arch.userClasses.includes(m.cls)) arch.userClasses.push(m.cls);
      }
      // a user class may hold its own parameters (used by code in forward): not a chain of modules
      for (const d of [params, buffers])
        if (d && [...d.map.values()].some((v) => v !== null))
          throw unsupportedLayer(m.cls, ' with its own parameters (used by forward() code)');
      const children = dictAttr(state, '_modules');
      for (const [k, child] of children?.map ?? []) {
        if (child === null) continue;
        if (typeof k !== 'string' || !(child instanceof ModuleRecord)) throw bad('a child of _modules is not a module');
        visit(child, `${prefix}${k}`, depth + 1);
      }
      return;
    }
    if (dictAttr(state, '_modules')?.map.size) throw unsupportedLayer(m.cls, ' with child modules');
    const step = { path, cls: m.cls };
    switch (role) {
      case 'linear': {
        tensor(`${prefix}weight`, params?.map.get('weight') ?? null);
        const b = params?.map.get('bias');
        if (b !== undefined && b !== null) tensor(`${prefix}bias`, b);
        arch.steps.push({ kind: 'linear', ...step });
        return;
      }
      case 'batchnorm': {
        const mean = buffers?.map.get('running_mean');
        const variance = buffers?.map.get('running_var');
        if (mean === undefined || mean === null || variance === undefined || variance === null)
          throw unsupportedLayer(m.cls, ' without running statistics (track_running_stats=False)');
        tensor(`${prefix}running_mean`, mean);
        tensor(`${prefix}running_var`, variance);
        for (const [k, v] of params?.map ?? []) if (v !== null && typeof k === 'string') tensor(`${prefix}${k}`, v);
        arch.steps.push({ kind: 'batchnorm', ...step, eps: numberAttr(state, 'eps', 1e-5) });
        return;
      }
      case 'noop':
        arch.steps.push(
          name === 'Dropout' ? { kind: 'noop', ...step, p: numberAttr(state, 'p', 0.5) } : { kind: 'noop', ...step },
        );
        return;
      case 'final':
        arch.steps.push({ kind: 'final', ...step, final: name === 'Softmax' ? 'softmax' : 'log_softmax' });
        return;
      case 'activation':
        arch.steps.push({ kind: 'activation', ...step, activation: activationOf(name, state) });
        return;
    }
  };
  visit(root, '', 0);
  return arch;
}

/** PyTorch's class and attributes -> @mnist/core-wasm's activation name (negative_slope is `slope`). */
function activationOf(name: string, state: PyDict): ActivationSpec {
  switch (name) {
    case 'ReLU':
      return 'relu';
    case 'Tanh':
      return 'tanh';
    case 'Sigmoid':
      return 'sigmoid';
    case 'SiLU':
      return 'silu';
    case 'GELU': {
      const a = attr(state, 'approximate') ?? 'none';
      if (a === 'none') return 'gelu';
      if (a === 'tanh') return 'gelu_tanh';
      throw unsupportedLayer(`GELU(approximate=${typeof a === 'string' ? a : '?'})`);
    }
    case 'LeakyReLU':
      return { name: 'leaky_relu', slope: numberAttr(state, 'negative_slope', 0.01) };
    case 'ELU':
      return { name: 'elu', alpha: numberAttr(state, 'alpha', 1) };
  }
  throw unsupportedLayer(name);
}

/** A short name for a record in `ignored` lists and messages. */
export function recordName(v: PyValue): string | null {
  if (v instanceof ModuleRecord || v instanceof InertValue) return v.cls;
  if (v instanceof PyGlobal) return v.qualname;
  return null;
}
