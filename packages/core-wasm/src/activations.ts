// The activations of the API: their names (PyTorch's, as in test/golden/activations.json and @mnist/loader), the
// parameter each takes with its PyTorch default, and the ACT_* code of src/layout.ts that the kernels run.

import { CoreError } from './errors.js';
import {
  ACT_ELU,
  ACT_GELU,
  ACT_GELU_TANH,
  ACT_IDENTITY,
  ACT_LEAKY_RELU,
  ACT_NEEDS_Z,
  ACT_RELU,
  ACT_SIGMOID,
  ACT_SILU,
  ACT_TANH,
} from './layout.js';

/** A hidden layer's activation by name (PyTorch's module in brackets): relu (nn.ReLU), leaky_relu (nn.LeakyReLU),
 * sigmoid, tanh, gelu (nn.GELU(), the erf form), gelu_tanh (nn.GELU(approximate='tanh')), silu, elu, identity. */
export type ActivationName =
  | 'relu'
  | 'leaky_relu'
  | 'sigmoid'
  | 'tanh'
  | 'gelu'
  | 'gelu_tanh'
  | 'silu'
  | 'elu'
  | 'identity';

type Plain = Exclude<ActivationName, 'leaky_relu' | 'elu'>;

/**
 * An activation as the options take it: a name, or an object that can carry leaky_relu's negative slope (PyTorch's
 * `negative_slope`, default 0.01) or elu's alpha (default 1).
 */
export type Activation =
  | ActivationName
  | { name: 'leaky_relu'; slope?: number }
  | { name: 'elu'; alpha?: number }
  | { name: Plain };

/** An activation as `net.activations` reports it: always an object, the parameter filled in. */
export type ActivationSpec =
  | { readonly name: 'leaky_relu'; readonly slope: number }
  | { readonly name: 'elu'; readonly alpha: number }
  | { readonly name: Plain };

interface Entry {
  code: number;
  param?: { key: 'slope' | 'alpha'; fallback: number };
}

const TABLE: Record<ActivationName, Entry> = {
  relu: { code: ACT_RELU },
  leaky_relu: { code: ACT_LEAKY_RELU, param: { key: 'slope', fallback: 0.01 } },
  sigmoid: { code: ACT_SIGMOID },
  tanh: { code: ACT_TANH },
  gelu: { code: ACT_GELU },
  gelu_tanh: { code: ACT_GELU_TANH },
  silu: { code: ACT_SILU },
  elu: { code: ACT_ELU, param: { key: 'alpha', fallback: 1 } },
  identity: { code: ACT_IDENTITY },
};

/** Every activation name, in the order the docs list them. */
export const ACTIVATION_NAMES = Object.freeze(Object.keys(TABLE) as ActivationName[]);

function show(a: unknown): string {
  if (typeof a === 'string') return `'${a}'`;
  if (typeof a !== 'object' || a === null) return String(a);
  try {
    return JSON.stringify(a) ?? String(a);
  } catch {
    return String(a);
  }
}

function isName(name: unknown): name is ActivationName {
  return typeof name === 'string' && Object.hasOwn(TABLE, name);
}

/** One activation, normalized (frozen), or CORE_BAD_ARGUMENT saying what is wrong with it. */
function normalizeOne(a: unknown): ActivationSpec {
  const names = ACTIVATION_NAMES.join(', ');
  if (typeof a === 'string') {
    if (!isName(a)) throw new CoreError('CORE_BAD_ARGUMENT', `invalid activation: ${show(a)}`, `use one of ${names}`);
    const param = TABLE[a].param;
    return Object.freeze(param ? { name: a, [param.key]: param.fallback } : { name: a }) as ActivationSpec;
  }
  if (typeof a !== 'object' || a === null || Array.isArray(a)) {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `invalid activation: ${show(a)}`,
      `use a name (${names}) or an object such as { name: 'leaky_relu', slope: 0.2 }`,
    );
  }
  const { name, ...rest } = a as { name?: unknown };
  if (!isName(name))
    throw new CoreError('CORE_BAD_ARGUMENT', `invalid activation: ${show(a)}`, `its name must be one of ${names}`);
  const param = TABLE[name].param;
  for (const key of Object.keys(rest)) {
    if (key !== param?.key) {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `invalid activation ${show(a)}: unknown key '${key}'`,
        param ? `${name} takes '${param.key}'` : `${name} takes no parameter`,
      );
    }
  }
  if (!param) return Object.freeze({ name }) as ActivationSpec;
  const value = (rest as Record<string, unknown>)[param.key] ?? param.fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `invalid ${name} ${param.key}: ${show(value)}`,
      `use a finite number (PyTorch's default is ${param.fallback})`,
    );
  }
  return Object.freeze({ name, [param.key]: value }) as ActivationSpec;
}

/**
 * The `activation` option for a network with `hidden` hidden layers: one activation for all of them (default relu),
 * or an array with one per hidden layer.
 */
export function normalizeActivations(
  option: unknown,
  hidden: number,
  sizes: readonly number[],
): readonly ActivationSpec[] {
  if (option === undefined) return Object.freeze(Array.from({ length: hidden }, () => normalizeOne('relu')));
  if (!Array.isArray(option)) {
    const one = normalizeOne(option);
    return Object.freeze(Array.from({ length: hidden }, () => one));
  }
  if (option.length !== hidden) {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `activation: ${option.length} given for a ${sizes.join('-')} network, which has ${hidden} hidden layer${hidden === 1 ? '' : 's'}`,
      'give one per hidden layer, or a single activation for all of them',
    );
  }
  return Object.freeze(option.map(normalizeOne));
}

/** The ACT_* code the kernels run. */
export function activationCode(a: ActivationSpec): number {
  return TABLE[a.name].code;
}

/** The f32 parameter the kernels get: leaky_relu's slope, elu's alpha, else 0. */
export function activationParam(a: ActivationSpec): number {
  return a.name === 'leaky_relu' ? a.slope : a.name === 'elu' ? a.alpha : 0;
}

/**
 * Whether the backward needs the pre-activation z kept beside a = f(z) (ACT_NEEDS_Z in src/layout.ts): gelu,
 * gelu_tanh, silu and elu always; leaky_relu when its slope is negative (a no longer tells z > 0).
 */
export function needsZ(a: ActivationSpec): boolean {
  return ((ACT_NEEDS_Z >> activationCode(a)) & 1) === 1 || (a.name === 'leaky_relu' && a.slope < 0);
}
