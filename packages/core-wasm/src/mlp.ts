// The typed MLP API over the WASM kernels: Linear layers (PyTorch out x in layout) with an activation between them
// (ReLU by default; src/activations.ts), softmax cross-entropy, and torch.optim's SGD, Adam and AdamW updates
// (src/optim.ts, assembly/optim.ts). All tensors live in the instance's linear memory.

import {
  activationCode,
  activationParam,
  needsZ,
  normalizeActivations,
  type Activation,
  type ActivationSpec,
} from './activations.js';
import { CoreError } from './errors.js';
import {
  inputSparsity,
  instantiateKernels,
  resolveVariant,
  SHARED_MEMORY_PAGES,
  type KernelExports,
  type SimdChoice,
  type Variant,
} from './kernels.js';
import { profile, resolveThreads, rowSplit, threadHost, ThreadPool, tuning, type ThreadsOption } from './threads.js';
import {
  ACT_IDENTITY,
  BACKWARD_INPUT,
  BACKWARD_NO_PARAMS,
  BACKWARD_UPDATE,
  BACKWARD_WITH_NEXT,
  C_ARG,
  C_NET,
  C_OP,
  C_THREADS,
  CTRL_BYTES,
  L_ACT,
  L_ACT_FN,
  L_ACT_PARAM,
  L_B,
  L_DROP_MASK,
  L_DROP_P,
  L_DROP_SCALE,
  L_DROPPED,
  L_FLAGS,
  L_MB,
  L_MW,
  L_SB,
  L_SW,
  LAYER_FLAG_NO_BIAS,
  L_DB,
  L_DW,
  L_IN,
  L_OUT,
  L_PACKED,
  L_VB,
  L_VW,
  L_W,
  L_Z,
  N_BATCH,
  N_DELTA0,
  N_DELTA1,
  N_DLOGITS,
  N_INT8,
  N_LAYERS,
  N_LOSSES,
  N_BC2_SQRT,
  N_BETA1,
  N_BLOCK_ROWS,
  N_BLOCKS,
  N_NONFINITE,
  N_BETA2,
  N_DAMP,
  N_DECAY,
  N_DROP_SEED,
  N_EPS,
  N_LR,
  N_MU,
  N_OMB1,
  N_OMB2,
  N_OPT,
  N_OPT_FLAGS,
  N_STEP_SIZE,
  N_WD,
  OPT_FLAG_AMSGRAD,
  OPT_FLAG_FIRST,
  OPT_FLAG_MOMENTUM,
  OPT_FLAG_NESTEROV,
  N_NONZERO,
  N_PROBS,
  N_SMOOTH,
  N_SPARSE,
  N_TARGETS,
  N_TRAINING,
  N_X,
  N_AUG,
  AUGD_BANK,
  AUGD_BANK_MASK,
  AUGD_BANK_STRIDE,
  AUGD_MEAN,
  AUGD_NORMALIZE,
  AUGD_PAD_BYTES,
  AUGD_PADS,
  AUGD_PARAMS,
  AUGD_RAW,
  AUGD_SIDE,
  AUGD_STD,
  AUGD_WORDS,
  N_XQ,
  N_XQ_ROW,
  N_XSCALE,
  N_XZP,
  L_QPACKED,
  L_QROWSUM,
  L_QSCALE,
  NET_LAYER0 as N_LAYER0,
  NET_LAYER_WORDS as LAYER_WORDS,
  OP_BACKWARD,
  OP_FORWARD,
  OP_TRAIN_FORWARD,
  TRAIN_FORWARD_DX,
} from './layout.js';
import { seededRandom } from './random.js';
import {
  BANK_PERIOD,
  bankStride,
  checkSeed,
  drawAugmentParams,
  elasticBank,
  resolveAugmentOptions,
  writeRecord,
  type AugmentOptions,
  type ResolvedAugmentOptions,
} from './augment.js';
import { AUG_WORDS } from './augment-layout.js';
import {
  adamScalars,
  labelSmoothing,
  optimizerCode,
  optimizerConfig,
  type OptimizerConfig,
  type OptimizerName,
  type TrainOptions,
} from './optim.js';
import { argmaxRows } from './argmax.js';

export interface MlpOptions {
  /** Seed of the initial weights (default 0). The same seed gives the same weights on every engine. */
  seed?: number;
  /** Which SIMD binary: 'auto' (default) picks relaxed SIMD where the engine validates it. */
  simd?: SimdChoice;
  /**
   * Threads that share each large batch: 'auto' (default) = the cores the engine reports (at most 8) where threads
   * can run (Node; a browser Worker of a cross-origin-isolated page), else 1. A number > 1 where they cannot run
   * throws CORE_UNSUPPORTED. Results are bit-identical for every thread count.
   */
  threads?: ThreadsOption;
  /**
   * The first layer skips zero inputs (most MNIST pixels) in its forward while its weights are all finite, and in its
   * weight gradient while the output gradient is: true (default). The result has the same bits either way; false
   * keeps the dense kernels, e.g. to benchmark them. Also a property.
   */
  inputSparsity?: boolean;
  /**
   * The arithmetic of inference (forward, probabilities, predict, evaluate): 'float32' (default) or 'int8'
   * (per-output-channel symmetric int8 weights quantized from the float32 ones, inputs quantized per row to 7 bits,
   * exact integer sums: assembly/int8.ts). Training, gradients, trace and the explanations stay float32; the
   * weights stay float32 too and are re-quantized after they change. Also a property (`net.precision`).
   */
  precision?: Precision;
  /**
   * The activation after each hidden layer (the last layer's outputs are the logits): one for all of them, or an
   * array with one per hidden layer (sizes.length - 2 entries). A name ('relu', 'leaky_relu', 'sigmoid', 'tanh',
   * 'gelu', 'gelu_tanh', 'silu', 'elu', 'identity') or an object with a parameter: { name: 'leaky_relu', slope: 0.2 },
   * { name: 'elu', alpha: 1 }. Default 'relu'. `net.activations` reports what runs.
   */
  activation?: Activation | readonly Activation[];
  /**
   * Dropout after each hidden layer's activation while training (torch.nn.Dropout(p) in train mode: kept with
   * probability 1 - p and scaled by 1 / (1 - p)); inference, evaluate and gradients never drop. One probability for
   * every hidden layer or one per hidden layer, in [0, 1); default 0. `net.dropout` reports it; setDropout changes it.
   */
  dropout?: number | readonly number[];
}

/** The arithmetic of inference: see MlpOptions.precision. */
export type Precision = 'float32' | 'int8';

/** One Linear layer's parameters in PyTorch layout: weight is out x in, row-major. */
export interface LayerParams {
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

/** A layer to load: as LayerParams, where bias null is a layer without bias (PyTorch's bias=False). */
export interface LayerInput extends Omit<LayerParams, 'bias'> {
  bias: Float32Array | null;
}

/**
 * The optimizer's state in torch.optim's names, per layer and parameter (weight, bias): SGD's momentum_buffer, Adam's
 * exp_avg and exp_avg_sq (and max_exp_avg_sq with AMSGrad). `step` counts the steps taken (Adam's bias correction
 * uses it). A parameter's entry is empty before its first step, and a layer without bias has no bias entry.
 */
export interface OptimizerState {
  optimizer: OptimizerName;
  step: number;
  layers: { weight: Record<string, Float32Array>; bias: Record<string, Float32Array> | null }[];
}

export interface Trace {
  /** z[i] = a[i-1] W_i^T + b_i (with a[-1] = x): the pre-activations of layer i. */
  z: Float32Array[];
  /** a[i] = f_i(z[i]) for hidden layers (f_i = net.activations[i]); the last entry is softmax(z[last]), equal to `probabilities`. */
  a: Float32Array[];
  probabilities: Float32Array;
}

export interface Evaluation {
  /** Fraction of correct predictions in [0, 1]. */
  accuracy: number;
  /** Mean cross-entropy loss. */
  loss: number;
  predictions: Int32Array;
}

export interface Gradients {
  /** Mean cross-entropy loss of the batch at the current parameters. */
  loss: number;
  /** d loss / d weight (out x in) and d loss / d bias, per layer. */
  layers: { weight: Float32Array; bias: Float32Array }[];
}

/** What the class score of an input gradient is: 'logit' z[t], or 'logprob' log_softmax(z)[t] = z[t] - logsumexp(z). */
export type ClassScore = 'logit' | 'logprob';

/** The class whose score is differentiated: one for every input, one per input, or each input's own prediction. */
export type ClassTarget = number | ArrayLike<number> | 'predicted';

export interface InputGradientOptions {
  /** 'logit' (default) or 'logprob'. */
  score?: ClassScore;
  /** Filled with the logits (batch x classes) of the forward pass the gradient was taken at, when given. */
  logits?: Float32Array;
}

/** Rows per internal chunk for inference: large enough to amortise calls, small enough to stay in cache. */
const INFERENCE_CHUNK = 256;

interface Layer {
  in: number;
  out: number;
  W: number; // (out, in) PyTorch layout, the master copy
  b: number; // (out)
  packedWb: number; // W^T and b in 8-column panels (dense_pack_f32), what the forward reads; refreshed lazily after W or b change
  dW: number; // (out, in)
  db: number; // (out)
  vW: number; // SGD's momentum buffers or Adam's exp_avg, 0 until the first step that needs them
  vb: number;
  sW: number; // Adam's exp_avg_sq, 0 until the first Adam step
  sb: number;
  mW: number; // AMSGrad's max_exp_avg_sq, 0 until the first AMSGrad step
  mb: number;
  hasBias: boolean; // false: PyTorch's bias=False, b stays 0 and is never updated
  packed: boolean;
  q: { packed: number; scale: number; rowsum: number } | null; // int8 weights, allocated at the first int8 job
  quantized: boolean; // q holds the current W
  finite: boolean | null; // every weight finite (null: not checked since the last change)
}

interface Workspace {
  rows: number; // capacity in batch rows
  base: number; // first block of the workspace allocation
  x: number; // (rows, sizes[0])
  act: number[]; // act[i]: (rows, sizes[i+1]); a_i = f_i(z_i) for hidden layers (in place unless z_i is kept), logits for the last
  z: number[]; // z[i]: (rows, sizes[i+1]) where layer i's activation backward reads z (needsZ), else 0
  probs: number; // (rows, classes)
  delta: [number, number]; // two (rows, maxWidth) gradient buffers used ping-pong in the backward pass
  dlogits: number; // (rows, classes) the last layer's output gradient
  losses: number; // (rows) per-row cross-entropy
  targets: number; // (rows) bytes
  int8: boolean; // holds the int8 forward's quantized rows (N_XQ, N_XSCALE, N_XZP)
  raw: number; // (rows, sizes[0]) a step's raw batch before its augmentation, or 0 (no augmentation block)
  params: number; // (rows, AUG_WORDS) the augmentation records, or 0
}

/**
 * The most linear memory the engine uses: pointers cross the JS/WASM boundary as signed 32-bit integers, so one
 * instance stays below 2 GiB; the threaded binaries declare a 1 GiB shared memory. Every allocation is sized in
 * float64 (exact integers below 2^53) and checked against this before the WASM allocator sees it: the allocator
 * takes a 32-bit size, and a larger one would silently wrap.
 */
export const MEMORY_LIMIT_BYTES = {
  single: 2 ** 31 - 2 ** 20,
  shared: SHARED_MEMORY_PAGES.maximum * 65536 - 2 ** 20,
} as const;

/** Bytes of engine memory a network of `sizes` takes before any batch: weights, biases, packed copies, gradients. */
export function parameterBytes(sizes: readonly number[]): number {
  let bytes = CTRL_BYTES + 4 * (N_LAYER0 + LAYER_WORDS * (sizes.length - 1));
  for (let i = 0; i + 1 < sizes.length; i++) {
    const inp = sizes[i],
      out = sizes[i + 1];
    // W, b, packed panels (ceil(out/8)*8 x (in+1)), dW, db; 32 bytes of alignment slack per block
    bytes += 4 * (out * inp + out + Math.ceil(out / 8) * 8 * (inp + 1) + out * inp + out) + 5 * 32;
  }
  return bytes;
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Throws CORE_TOO_LARGE, naming the network and `what` needs the memory, when `bytes` more would pass the limit. */
function checkMemory(
  used: number,
  bytes: number,
  limit: number,
  sizes: readonly number[],
  what: string,
  advice: string,
): void {
  if (Number.isSafeInteger(bytes) && bytes >= 0 && used + bytes <= limit) return;
  throw new CoreError(
    'CORE_TOO_LARGE',
    `a ${sizes.join('-')} network needs ${gib(used + bytes)} of engine memory for ${what}, more than the ${gib(limit + 2 ** 20)} one WebAssembly instance holds here; ${advice}`,
  );
}

function checkBatch(batch: number, what: string): void {
  if (!Number.isInteger(batch) || batch < 1) {
    throw new CoreError('CORE_BAD_SHAPE', `${what}: batch must be an integer >= 1, got ${batch}`);
  }
}

function checkFloat32(x: unknown, what: string): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `${what} must be a Float32Array, got ${x === null ? 'null' : typeof x === 'object' ? (x as object).constructor?.name : typeof x}`,
    );
  }
}

/**
 * The class of each of `batch` inputs for a ClassTarget, checked against `classes` (CORE_BAD_ARGUMENT, CORE_BAD_SHAPE),
 * or null for 'predicted' (each input's argmax, known after its forward pass). Shared with src/explain.ts.
 */
export function classTargets(target: ClassTarget, batch: number, classes: number, what: string): Int32Array | null {
  if (target === 'predicted') return null;
  const V = classes;
  const check = (c: number, where: string) => {
    if (!Number.isInteger(c) || c < 0 || c >= V) {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `${what}: target ${String(c)}${where} is not a class of this network (0..${V - 1})`,
        "pass a class number, one per input, or 'predicted'",
      );
    }
    return c;
  };
  if (typeof target === 'number') return new Int32Array(batch).fill(check(target, ''));
  if (target === null || typeof target !== 'object' || typeof target.length !== 'number') {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `${what}: invalid target ${JSON.stringify(target)}`,
      "pass a class number, one per input, or 'predicted'",
    );
  }
  if (target.length !== batch) {
    throw new CoreError('CORE_BAD_SHAPE', `${what}: ${target.length} targets for a batch of ${batch}`);
  }
  return Int32Array.from({ length: batch }, (_, i) => check(target[i], ` at index ${i}`));
}

export class Mlp {
  /** Layer widths, input first: [784, 512, 10] is 784 -> 512 -> activation (ReLU by default) -> 10. */
  readonly sizes: readonly number[];
  /** The activation after each hidden layer (sizes.length - 2 of them), normalized: { name } or { name, slope | alpha }. */
  readonly activations: readonly ActivationSpec[];
  /** Which binary runs the kernels. */
  readonly variant: Variant;
  /** Threads that share large batches (1: everything runs on the calling thread). */
  readonly threads: number;
  #dropout: number[];
  #dropoutSteps = 0; // the default dropout seed: training steps so far
  #lastCorrect = 0;
  /** Whether the first layer may skip zero inputs, forward and weight gradient (the option); same bits either way. */
  inputSparsity = true;
  #precision: Precision = 'float32';
  #k: KernelExports | null;
  #pool: ThreadPool | null = null;
  #ctrl: number; // CTRL_BYTES, the job control block (threads.ts)
  #net: number; // the net descriptor jobs read (assembly/jobs.ts)
  #flopsPerRow: number; // forward multiply-adds x 2 per input row
  #layers: Layer[];
  #ws: Workspace | null = null;
  // setAugmentation's block (AUGD_* words, per-thread pads, the elastic bank), kept when turned off for reuse
  #augBlock: { key: string; at: number; options: ResolvedAugmentOptions; side: number } | null = null;
  #augOn = false;
  #blockLists = 0; // per-thread scratch of layer 0's sparse weight gradient, allocated at the first backward
  #nonzeroLists = 0; // per-thread scratch of layer 0's sparse forward, allocated with the first workspace
  #limit: number; // MEMORY_LIMIT_BYTES for this instance's memory
  // the optimizer of the last step and its step count; its state lives in the layers' buffers
  #opt: { config: OptimizerConfig; step: number; momentumStarted: boolean } | null = null;

  // Memory, in allocation order (the stub runtime's bump allocator lays it out as one contiguous block):
  //   per layer l (in -> out):  W       out*in floats     PyTorch layout, the master copy
  //                             b       out
  //                             packed  ceil(out/8)*8*(in+1)   W^T and b in 8-column panels, for the forward
  //                             dW      out*in,  db  out        gradients (accumulated by the kernels)
  //   workspace (rows):         x rows*sizes[0]; act_l rows*out_l; probs rows*classes; 2 x rows*max(sizes); losses rows;
  //                             z_l rows*out_l for the hidden layers whose activation backward reads z; targets rows bytes
  //   optimizer state per layer (momentum / exp_avg, exp_avg_sq, max_exp_avg_sq), allocated at the first step that needs it
  //   (first of all: the job control block and the net descriptor, a few hundred bytes)
  //   scratch per thread, allocated at the first job that needs it: the first layer's nonzero lists for its sparse
  //   forward (dense_sparse_list_bytes: 64 rows x sizes[0] x 8 bytes) and block lists for its sparse weight gradient
  //   (dense_block_list_bytes, up to 256 rows: ~0.9 MB for 784 inputs)
  private constructor(
    sizes: number[],
    activations: readonly ActivationSpec[],
    variant: Variant,
    k: KernelExports,
    threads: number,
  ) {
    this.sizes = Object.freeze(sizes.slice());
    this.activations = activations;
    this.#dropout = activations.map(() => 0);
    this.variant = variant;
    this.threads = threads;
    this.#k = k;
    this.#layers = [];
    this.#limit = threads > 1 ? MEMORY_LIMIT_BYTES.shared : MEMORY_LIMIT_BYTES.single;
    checkMemory(
      k.memory.buffer.byteLength,
      parameterBytes(sizes),
      this.#limit,
      sizes,
      'its weights, gradients and packed copies',
      threads > 1
        ? 'use threads: 1 (2 GiB) or smaller hidden layers'
        : `use smaller hidden layers (784-512-10 takes ${gib(parameterBytes([784, 512, 10]))})`,
    );
    this.#ctrl = k.alloc(CTRL_BYTES);
    k.zero_f32(this.#ctrl, CTRL_BYTES / 4);
    const L = sizes.length - 1;
    this.#net = k.alloc((N_LAYER0 + LAYER_WORDS * L) * 4);
    k.zero_f32(this.#net, N_LAYER0 + LAYER_WORDS * L);
    this.#flopsPerRow = 0;
    for (let i = 0; i + 1 < sizes.length; i++) {
      const inp = sizes[i],
        out = sizes[i + 1];
      const W = k.alloc(out * inp * 4),
        b = k.alloc(out * 4),
        packedWb = k.alloc(k.dense_packed_size(inp, out) * 4);
      const dW = k.alloc(out * inp * 4),
        db = k.alloc(out * 4);
      this.#layers.push({
        in: inp,
        out,
        W,
        b,
        packedWb,
        dW,
        db,
        vW: 0,
        vb: 0,
        sW: 0,
        sb: 0,
        mW: 0,
        mb: 0,
        hasBias: true,
        packed: false,
        q: null,
        quantized: false,
        finite: null,
      });
      this.#flopsPerRow += 2 * inp * out;
    }
    const d = this.#desc();
    const f = new Float32Array(d.buffer, d.byteOffset, d.length);
    d[N_LAYERS] = L;
    this.#layers.forEach((ly, i) => {
      const w = N_LAYER0 + LAYER_WORDS * i;
      d[w + L_IN] = ly.in;
      d[w + L_OUT] = ly.out;
      d[w + L_W] = ly.W;
      d[w + L_B] = ly.b;
      d[w + L_PACKED] = ly.packedWb;
      d[w + L_DW] = ly.dW;
      d[w + L_DB] = ly.db;
      // the last layer gives the logits: identity
      const act = activations[i];
      d[w + L_ACT_FN] = act ? activationCode(act) : ACT_IDENTITY;
      f[w + L_ACT_PARAM] = act ? activationParam(act) : 0;
    });
    new Int32Array(k.memory.buffer, this.#ctrl, CTRL_BYTES / 4)[C_NET] = this.#net;
  }

  /**
   * A network with the given layer widths (input first, at least 2 entries) initialised like PyTorch's nn.Linear
   * default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)), from a seeded PRNG (not PyTorch's stream).
   */
  static async create(sizes: readonly number[], options: MlpOptions = {}): Promise<Mlp> {
    if (
      !Array.isArray(sizes) ||
      sizes.length < 2 ||
      !sizes.every((s) => Number.isInteger(s) && s >= 1 && s <= 1 << 24)
    ) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `invalid sizes: ${JSON.stringify(sizes)} (need at least 2 integer widths >= 1, e.g. [784, 512, 10])`,
      );
    }
    if (sizes[sizes.length - 1] > 256) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `invalid sizes: ${sizes[sizes.length - 1]} classes (labels are bytes: at most 256 classes)`,
      );
    }
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed)) throw new CoreError('CORE_BAD_ARGUMENT', `invalid seed: ${seed} (use a finite number)`);
    const activations = normalizeActivations(options.activation, sizes.length - 2, sizes);
    const variant = resolveVariant(options.simd ?? 'auto');
    const host = await threadHost();
    const threads = resolveThreads(options.threads, host);
    let net: Mlp | null = null;
    if (threads > 1 && typeof host !== 'string') {
      // one shared memory; this thread's instance allocates everything, the helpers only run their share of jobs
      try {
        const memory = new WebAssembly.Memory({ ...SHARED_MEMORY_PAGES, shared: true });
        const { exports, module } = await instantiateKernels(variant, memory);
        net = new Mlp(sizes.slice(), activations, variant, exports, threads);
        net.#pool = await ThreadPool.start(host, threads, module, memory, net.#ctrl);
      } catch (e) {
        // 'auto' promises a working network, threads or not; an explicit count says why it cannot have them
        if (options.threads !== undefined && options.threads !== 'auto') throw e;
        net?.dispose();
        net = null;
      }
    }
    if (!net) {
      const { exports } = await instantiateKernels(variant);
      net = new Mlp(sizes.slice(), activations, variant, exports, 1);
    }
    if (options.inputSparsity !== undefined) {
      if (typeof options.inputSparsity !== 'boolean') {
        net.dispose();
        throw new CoreError(
          'CORE_BAD_ARGUMENT',
          `invalid inputSparsity option: ${String(options.inputSparsity)} (use true or false)`,
        );
      }
      net.inputSparsity = options.inputSparsity;
    }
    if (options.precision !== undefined) {
      try {
        net.precision = options.precision;
      } catch (e) {
        net.dispose();
        throw e;
      }
    }
    if (options.dropout !== undefined) {
      try {
        net.setDropout(options.dropout);
      } catch (e) {
        net.dispose();
        throw e;
      }
    }
    const rand = seededRandom(seed);
    for (const L of net.#layers) {
      const bound = 1 / Math.sqrt(L.in);
      const weight = new Float32Array(L.out * L.in);
      for (let i = 0; i < weight.length; i++) weight[i] = (rand() * 2 - 1) * bound;
      const bias = new Float32Array(L.out);
      for (let i = 0; i < bias.length; i++) bias[i] = (rand() * 2 - 1) * bound;
      net.#write(L.W, weight);
      net.#write(L.b, bias);
    }
    return net;
  }

  /**
   * A network holding the given layers (PyTorch layout, e.g. from @mnist/loader); sizes are taken from them. A layer
   * whose bias is null has none (PyTorch's bias=False): it stays 0 and training never updates it.
   */
  static async fromLayers(layers: readonly (LayerParams | LayerInput)[], options: MlpOptions = {}): Promise<Mlp> {
    if (!Array.isArray(layers) || layers.length < 1) {
      throw new CoreError('CORE_BAD_SHAPE', 'fromLayers: need at least one layer { weight, bias, in, out }');
    }
    const sizes = [layers[0].in];
    layers.forEach((L, i) => {
      if (i > 0 && L.in !== layers[i - 1].out) {
        throw new CoreError(
          'CORE_BAD_SHAPE',
          `fromLayers: layer ${i} has in = ${L.in} but layer ${i - 1} has out = ${layers[i - 1].out}`,
        );
      }
      sizes.push(L.out);
    });
    const net = await Mlp.create(sizes, options);
    layers.forEach((L, i) => net.setLayer(i, L.weight, L.bias));
    return net;
  }

  /** Number of Linear layers (sizes.length - 1). */
  get layerCount(): number {
    return this.sizes.length - 1;
  }

  /** Number of output classes (the last width). */
  get classes(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /** The arithmetic of inference: 'float32' or 'int8' (MlpOptions.precision). */
  get precision(): Precision {
    return this.#precision;
  }

  set precision(p: Precision) {
    if (p !== 'float32' && p !== 'int8') {
      throw new CoreError('CORE_BAD_ARGUMENT', `invalid precision: ${String(p)} (use 'float32' or 'int8')`);
    }
    this.#kernels('precision');
    // the workspace gains (or keeps) the quantized rows at its next allocation
    if (p === 'int8' && this.#ws && !this.#ws.int8) this.#dropWorkspace();
    this.#precision = p;
  }

  // ---------------------------------------------------------------------------------------------- parameters

  /**
   * Replaces layer i's parameters: weight is out x in (PyTorch layout), bias is out, or null for a layer without
   * bias (PyTorch's bias=False: b is 0 and training leaves it so). Values are copied.
   */
  setLayer(i: number, weight: Float32Array, bias: Float32Array | null): void {
    const L = this.#layer(i, 'setLayer');
    checkFloat32(weight, `setLayer(${i}): weight`);
    if (bias !== null) checkFloat32(bias, `setLayer(${i}): bias`);
    if (weight.length !== L.out * L.in) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `setLayer(${i}): weight has ${weight.length} values, expected out x in = ${L.out} x ${L.in} = ${L.out * L.in} (PyTorch layout)`,
      );
    }
    if (bias !== null && bias.length !== L.out) {
      throw new CoreError('CORE_BAD_SHAPE', `setLayer(${i}): bias has ${bias.length} values, expected ${L.out}`);
    }
    this.#write(L.W, weight);
    if (bias) this.#write(L.b, bias);
    else this.#k!.zero_f32(L.b, L.out);
    L.hasBias = bias !== null;
    const d = this.#desc();
    const w = N_LAYER0 + LAYER_WORDS * i + L_FLAGS;
    d[w] = L.hasBias ? d[w] & ~LAYER_FLAG_NO_BIAS : d[w] | LAYER_FLAG_NO_BIAS;
    L.packed = false;
    L.quantized = false;
    L.finite = null;
  }

  /** The dropout probability after each hidden layer while training (0: none). */
  get dropout(): readonly number[] {
    return Object.freeze(this.#dropout.slice());
  }

  /** Sets the dropout probability after every hidden layer (one number) or each (an array), in [0, 1). */
  setDropout(p: number | readonly number[]): void {
    this.#kernels('setDropout');
    const H = this.sizes.length - 2;
    const list = typeof p === 'number' ? Array.from({ length: H }, () => p) : p;
    if (!Array.isArray(list) || list.length !== H || !list.every((v) => typeof v === 'number' && v >= 0 && v < 1)) {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `invalid dropout: ${JSON.stringify(p)} (need one probability in [0, 1) or ${H} of them, one per hidden layer)`,
        'e.g. dropout: 0.2',
      );
    }
    const before = this.#dropout.map((v) => v > 0).join();
    this.#dropout = list.slice();
    const d = this.#desc();
    const f = new Float32Array(d.buffer, d.byteOffset, d.length);
    list.forEach((v, i) => {
      f[N_LAYER0 + LAYER_WORDS * i + L_DROP_P] = v;
      f[N_LAYER0 + LAYER_WORDS * i + L_DROP_SCALE] = v > 0 ? 1 / Math.fround(1 - v) : 1;
    });
    // the workspace holds mask and dropped buffers for the layers that drop out
    if (this.#ws && before !== list.map((v) => v > 0).join()) this.#dropWorkspace();
  }

  /**
   * Augments the inputs of training steps inside the engine (src/augment.ts's seeded random affine maps and elastic
   * distortion), or stops (null). A trainBatch given an `augmentSeed` then takes x as raw images (pixel / 255, side x
   * side with side^2 = the input size), warps image j by the parameters of (augmentSeed, j), exactly as
   * `Augmenter.apply(x, batch, augmentSeed)` does, and then applies `normalize` ((x - mean) / std in f32, as
   * torchvision's Normalize after its transforms) if given. Each thread warps its own rows right before its forward,
   * so the warp costs no extra pass over the batch and is shared by the threads; the bits are the Augmenter's.
   * The elastic field bank (~2.2 MB) is built once and kept for the same options.
   */
  setAugmentation(options: AugmentOptions | null, normalize: { mean: number; std: number } | null = null): void {
    const k = this.#kernels('setAugmentation');
    if (options === null) {
      this.#augOn = false;
      return;
    }
    const C = this.sizes[0],
      side = Math.round(Math.sqrt(C));
    if (side * side !== C) {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `setAugmentation: the input has ${C} values, not a square image`,
        'augment only networks whose inputs are side x side images (784 = 28 x 28)',
      );
    }
    if (
      normalize !== null &&
      !(
        typeof normalize === 'object' &&
        Number.isFinite(normalize.mean) &&
        Number.isFinite(normalize.std) &&
        normalize.std > 0
      )
    ) {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `setAugmentation: invalid normalize ${JSON.stringify(normalize)}`,
        'pass { mean, std } with a finite mean and a std > 0, or null',
      );
    }
    const resolved = resolveAugmentOptions(options, side);
    const key = JSON.stringify(resolved);
    if (this.#augBlock?.key !== key) {
      const padBytes = Math.ceil(k.augment_pad_bytes(side) / 16) * 16;
      const bank = resolved.elastic ? elasticBank(resolved.elastic.sigma, side) : null;
      const bytes = AUGD_WORDS * 4 + this.threads * padBytes + (bank ? bank.length * 4 : 0);
      checkMemory(
        k.memory.buffer.byteLength,
        bytes + 16,
        this.#limit,
        this.sizes,
        'the augmentation (its elastic field bank)',
        'augment without elastic, or use smaller layers',
      );
      // the workspace is the last block (the bump allocator frees only that one): drop it, then the block, then the
      // next job allocates a workspace with the raw batch and the records
      this.#dropWorkspace();
      if (this.#augBlock) k.free(this.#augBlock.at);
      const at = k.alloc(bytes);
      const words = new Int32Array(k.memory.buffer, at, AUGD_WORDS);
      words.fill(0);
      words[AUGD_PADS] = at + AUGD_WORDS * 4;
      words[AUGD_PAD_BYTES] = padBytes;
      words[AUGD_SIDE] = side;
      words[AUGD_BANK_STRIDE] = bankStride(side);
      words[AUGD_BANK_MASK] = BANK_PERIOD - 1;
      if (bank) {
        words[AUGD_BANK] = at + AUGD_WORDS * 4 + this.threads * padBytes;
        new Float32Array(k.memory.buffer, words[AUGD_BANK], bank.length).set(bank);
      }
      this.#augBlock = { key, at, options: resolved, side };
    }
    const at = this.#augBlock.at;
    const words = new Int32Array(k.memory.buffer, at, AUGD_WORDS);
    const f = new Float32Array(k.memory.buffer, at, AUGD_WORDS);
    words[AUGD_NORMALIZE] = normalize ? 1 : 0;
    f[AUGD_MEAN] = normalize ? normalize.mean : 0;
    f[AUGD_STD] = normalize ? normalize.std : 1;
    this.#augOn = true;
  }

  /** The augmentation in force (defaults filled in), or null: see setAugmentation. */
  get augmentation(): Readonly<ResolvedAugmentOptions> | null {
    return this.#augOn && this.#augBlock ? this.#augBlock.options : null;
  }

  /** Whether layer i has a bias (false after setLayer(i, w, null): PyTorch's bias=False). */
  hasBias(i: number): boolean {
    return this.#layer(i, 'hasBias').hasBias;
  }

  /** Copies of layer i's parameters in PyTorch layout. */
  getLayer(i: number): LayerParams {
    const L = this.#layer(i, 'getLayer');
    return { weight: this.#read(L.W, L.out * L.in), bias: this.#read(L.b, L.out), in: L.in, out: L.out };
  }

  // ---------------------------------------------------------------------------------------------- inference

  /** Logits (batch x classes) for x (batch x sizes[0], row-major). Returns a copy. */
  forward(x: Float32Array, batch: number): Float32Array {
    return this.#infer(x, batch, 'forward', false);
  }

  /** Softmax of the logits, one row of `classes` probabilities per input. */
  probabilities(x: Float32Array, batch: number): Float32Array {
    return this.#infer(x, batch, 'probabilities', true);
  }

  /** Index of the largest logit per input (the first one on ties; NaN rows give 0). */
  predict(x: Float32Array, batch: number): Int32Array {
    const logits = this.#infer(x, batch, 'predict', false);
    return argmaxRows(logits, batch, this.classes);
  }

  /** Every layer's pre-activation and activation for one input (sizes[0] values). */
  trace(x: Float32Array): Trace {
    const k = this.#kernels('trace');
    checkFloat32(x, 'trace: x');
    if (x.length !== this.sizes[0]) {
      throw new CoreError('CORE_BAD_SHAPE', `trace: x has ${x.length} values, expected one input of ${this.sizes[0]}`);
    }
    const ws = this.#workspace(1);
    this.#write(ws.x, x);
    this.#pack();
    const z: Float32Array[] = [],
      a: Float32Array[] = [];
    let inp = ws.x;
    this.#layers.forEach((L, i) => {
      const out = ws.act[i];
      k.dense_forward_f32(out, inp, L.packedWb, 1, L.in, L.out);
      z.push(this.#read(out, L.out));
      if (i + 1 < this.#layers.length) {
        // the kernel the jobs run, elementwise: the same bits as a batch row
        const act = this.activations[i];
        k.activation_forward_f32(out, out, L.out, activationCode(act), activationParam(act));
        a.push(this.#read(out, L.out));
      }
      inp = out;
    });
    k.softmax_forward_f32(ws.probs, inp, 1, this.classes);
    const probabilities = this.#read(ws.probs, this.classes);
    a.push(probabilities.slice());
    return { z, a, probabilities };
  }

  /** Accuracy, mean cross-entropy and predictions over the first `count` inputs of x and labels. */
  evaluate(x: Float32Array, labels: Uint8Array, count: number, batchSize = 256): Evaluation {
    const k = this.#kernels('evaluate');
    checkFloat32(x, 'evaluate: x');
    checkBatch(count, 'evaluate');
    checkBatch(batchSize, 'evaluate (batchSize)');
    const C = this.sizes[0],
      V = this.classes;
    if (x.length < count * C) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `evaluate: x has ${x.length} values, fewer than count x ${C} = ${count * C}`,
      );
    }
    this.#checkLabels(labels, count, 'evaluate');
    const predictions = new Int32Array(count);
    let lossSum = 0,
      correct = 0;
    const rows = Math.min(batchSize, count);
    const ws = this.#workspace(rows);
    this.#pack(this.#precision === 'int8');
    for (let start = 0; start < count; start += rows) {
      const n = Math.min(rows, count - start);
      this.#write(ws.x, x.subarray(start * C, (start + n) * C));
      new Uint8Array(k.memory.buffer, ws.targets, n).set(labels.subarray(start, start + n));
      // the training forward gives the per-row losses (its dlogits are not used here)
      this.#job(OP_TRAIN_FORWARD, 0, n);
      const losses = new Float32Array(k.memory.buffer, ws.losses, n);
      for (let i = 0; i < n; i++) lossSum += losses[i];
      const p = argmaxRows(new Float32Array(k.memory.buffer, this.#logits(ws), n * V), n, V);
      predictions.set(p, start);
      for (let i = 0; i < n; i++) if (p[i] === labels[start + i]) correct++;
    }
    return { accuracy: correct / count, loss: lossSum / count, predictions };
  }

  // ---------------------------------------------------------------------------------------------- training

  /**
   * Gradients of the mean cross-entropy (with label smoothing if given) at the current parameters (PyTorch layout);
   * nothing is updated and nothing drops out.
   */
  gradients(x: Float32Array, labels: Uint8Array, batch: number, options: { labelSmoothing?: number } = {}): Gradients {
    const eps = labelSmoothing(options?.labelSmoothing, 'gradients');
    this.#kernels('gradients');
    const loss = this.#backprop(x, labels, batch, 'gradients', false, eps);
    const layers = this.#layers.map((L) => ({ weight: this.#read(L.dW, L.out * L.in), bias: this.#read(L.db, L.out) }));
    return { loss, layers };
  }

  /**
   * The loss gradient of every weight and bias for these inputs and labels, the weights unchanged: the same as
   * gradients() (mean cross-entropy, nothing drops out), under the name the explanation API uses.
   */
  layerGradients(x: Float32Array, labels: Uint8Array, batch: number): Gradients {
    return this.gradients(x, labels, batch);
  }

  /**
   * d s_t / d x for each input (batch x sizes[0]), s_t the score of class t (options.score: the logit z[t] by default,
   * or the log-probability log_softmax(z)[t]); `target` is one class for every input, one class per input, or
   * 'predicted' (each input's argmax logit, the first on ties). The gradient is w.r.t. the network input as given:
   * with normalized inputs x' = (x - mean) / std, d s / d x = (d s / d x') / std is the caller's step. The engine's
   * forward and backward jobs (layer 0 computing its input gradient too); the weights and their gradients are not
   * changed, nothing drops out, and the bits are the same for any thread count and batch split.
   */
  inputGradients(
    x: Float32Array,
    batch: number,
    target: ClassTarget,
    options: InputGradientOptions = {},
  ): Float32Array {
    const what = 'inputGradients';
    const k = this.#kernels(what);
    checkFloat32(x, `${what}: x`);
    checkBatch(batch, what);
    const C = this.sizes[0],
      V = this.classes;
    if (x.length !== batch * C) {
      throw new CoreError('CORE_BAD_SHAPE', `${what}: x has ${x.length} values, expected batch x ${C} = ${batch * C}`);
    }
    const score = options?.score ?? 'logit';
    if (score !== 'logit' && score !== 'logprob') {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `${what}: unknown score ${JSON.stringify(score)}`,
        "use 'logit' or 'logprob'",
      );
    }
    const targets = classTargets(target, batch, V, what);
    const logitsOut = options?.logits;
    if (logitsOut !== undefined) {
      checkFloat32(logitsOut, `${what}: options.logits`);
      if (logitsOut.length !== batch * V) {
        throw new CoreError(
          'CORE_BAD_SHAPE',
          `${what}: options.logits has ${logitsOut.length} values, expected batch x classes = ${batch * V}`,
        );
      }
    }
    const result = new Float32Array(batch * C);
    const L = this.#layers.length;
    const rows = Math.min(batch, INFERENCE_CHUNK * this.threads);
    const ws = this.#workspace(rows);
    this.#pack();
    for (let start = 0; start < batch; start += rows) {
      const n = Math.min(rows, batch - start);
      this.#write(ws.x, x.subarray(start * C, (start + n) * C));
      this.#job(OP_FORWARD, 1, n);
      const mem = k.memory.buffer;
      const logits = new Float32Array(mem, this.#logits(ws), n * V);
      logitsOut?.set(logits, start * V);
      const t = targets ?? argmaxRows(logits, n, V);
      const probs = new Float32Array(mem, ws.probs, n * V);
      // d s_t / d z into dlogits, where the last layer's backward reads its output gradient: one-hot(t) for the logit;
      // one-hot(t) - softmax(z) for the log-probability, whose t entry 1 - p_t is summed from the other
      // probabilities (in float64): 1 - p_t in float32 keeps no digits when p_t is close to 1
      const dz = new Float32Array(mem, ws.dlogits, n * V);
      for (let r = 0; r < n; r++) {
        const c = t[targets ? start + r : r];
        const row = r * V;
        let rest = 0;
        for (let v = 0; v < V; v++) {
          const p = score === 'logprob' && v !== c ? probs[row + v] : 0;
          dz[row + v] = p === 0 ? 0 : -p;
          rest += p;
        }
        dz[row + c] = score === 'logprob' ? rest : 1;
      }
      for (let i = L - 1; i >= 0; i--)
        this.#job(OP_BACKWARD, i | BACKWARD_NO_PARAMS | (i === 0 ? BACKWARD_INPUT : 0), n);
      // layer 0's input gradient: in delta[L & 1] (src/layout.ts)
      result.set(new Float32Array(k.memory.buffer, ws.delta[L & 1], n * C), start * C);
    }
    return result;
  }

  /**
   * One optimizer step on a batch (torch.optim's SGD by default; { optimizer: 'adam' | 'adamw', ... } for Adam), with
   * PyTorch's update rules and defaults; returns the batch's mean loss before the update. The optimizer's state
   * (momentum, Adam's moments and step count) carries over between calls while the optimizer stays the same; a
   * different optimizer starts from fresh state, as a new torch.optim object would.
   */
  trainBatch(x: Float32Array, labels: Uint8Array, batch: number, options: TrainOptions): number {
    const c = optimizerConfig(options);
    const eps = labelSmoothing(options.labelSmoothing, 'trainBatch');
    const seed = options.dropoutSeed ?? this.#dropoutSteps;
    if (!Number.isInteger(seed)) {
      throw new CoreError('CORE_BAD_ARGUMENT', `trainBatch: dropoutSeed must be an integer, got ${seed}`);
    }
    const augmentSeed = options.augmentSeed;
    if (augmentSeed !== undefined) {
      checkSeed(augmentSeed);
      if (!this.#augOn) {
        throw new CoreError(
          'CORE_BAD_ARGUMENT',
          'trainBatch: augmentSeed given but no augmentation is set',
          'call net.setAugmentation(options) first',
        );
      }
    }
    const k = this.#kernels('trainBatch');
    const prev = this.#opt;
    if (!prev || prev.config.optimizer !== c.optimizer || prev.config.amsgrad !== c.amsgrad) this.resetOptimizer();
    if (!this.#opt) this.#opt = { config: c, step: 0, momentumStarted: false };
    const opt = this.#opt;
    opt.config = c;
    let flags = 0;
    if (c.optimizer === 'sgd') {
      if (c.momentum !== 0) {
        this.#allocState('vW', 'vb', L_VW, L_VB, 'its momentum buffers', 'train it with momentum 0');
        flags |= OPT_FLAG_MOMENTUM | (opt.momentumStarted ? 0 : OPT_FLAG_FIRST) | (c.nesterov ? OPT_FLAG_NESTEROV : 0);
      }
    } else {
      const hint = 'use SGD, or smaller hidden layers';
      this.#allocState('vW', 'vb', L_VW, L_VB, "Adam's exp_avg", hint);
      this.#allocState('sW', 'sb', L_SW, L_SB, "Adam's exp_avg_sq", hint);
      if (c.amsgrad) {
        this.#allocState('mW', 'mb', L_MW, L_MB, "AMSGrad's max_exp_avg_sq", hint);
        flags |= OPT_FLAG_AMSGRAD;
      }
    }
    const d = new Int32Array(k.memory.buffer, this.#net, N_LAYER0);
    const f = new Float32Array(k.memory.buffer, this.#net, N_LAYER0);
    d[N_OPT] = optimizerCode(c.optimizer);
    d[N_OPT_FLAGS] = flags;
    f[N_LR] = c.lr;
    f[N_MU] = c.momentum;
    f[N_DAMP] = c.dampening;
    f[N_WD] = c.weightDecay;
    if (c.optimizer !== 'sgd') {
      const a = adamScalars(c, opt.step + 1);
      f[N_BETA1] = a.beta1;
      f[N_OMB1] = a.omb1;
      f[N_BETA2] = a.beta2;
      f[N_OMB2] = a.omb2;
      f[N_STEP_SIZE] = a.stepSize;
      f[N_BC2_SQRT] = a.bc2sqrt;
      f[N_EPS] = a.eps;
      f[N_WD] = a.wd;
      f[N_DECAY] = a.decay;
    }
    d[N_DROP_SEED] = seed | 0;
    this.#dropoutSteps++;
    // the backward jobs update each layer (and repack its forward panels) as soon as its gradient is complete
    const loss = this.#backprop(x, labels, batch, 'trainBatch', true, eps, augmentSeed);
    opt.step++;
    if (flags & OPT_FLAG_MOMENTUM) opt.momentumStarted = true;
    return loss;
  }

  /** Rows of the last trainBatch / gradients batch that the forward classified correctly (before the update). */
  get lastBatchCorrect(): number {
    return this.#lastCorrect;
  }

  /** The optimizer's state (torch.optim's names), or null before the first step; copies. */
  optimizerState(): OptimizerState | null {
    this.#kernels('optimizerState');
    const opt = this.#opt;
    if (!opt) return null;
    const sgd = opt.config.optimizer === 'sgd';
    const pick = (L: Layer, bias: boolean): Record<string, Float32Array> => {
      const n = bias ? L.out : L.out * L.in;
      const r: Record<string, Float32Array> = {};
      const v = bias ? L.vb : L.vW,
        sq = bias ? L.sb : L.sW,
        mx = bias ? L.mb : L.mW;
      if (sgd) {
        if (opt.momentumStarted && v) r.momentum_buffer = this.#read(v, n);
      } else if (opt.step > 0) {
        r.exp_avg = this.#read(v, n);
        r.exp_avg_sq = this.#read(sq, n);
        if (opt.config.amsgrad) r.max_exp_avg_sq = this.#read(mx, n);
      }
      return r;
    };
    return {
      optimizer: opt.config.optimizer,
      step: opt.step,
      layers: this.#layers.map((L) => ({ weight: pick(L, false), bias: L.hasBias ? pick(L, true) : null })),
    };
  }

  /**
   * Restores an optimizer's state (e.g. from a checkpoint) so the next trainBatch with the same optimizer continues
   * it exactly; the buffers must have the layers' shapes. `amsgrad` says whether max_exp_avg_sq is expected.
   */
  setOptimizerState(state: OptimizerState, options: { amsgrad?: boolean } = {}): void {
    const k = this.#kernels('setOptimizerState');
    const what = 'setOptimizerState';
    const name = state?.optimizer;
    if (name !== 'sgd' && name !== 'adam' && name !== 'adamw') {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `${what}: unknown optimizer ${JSON.stringify(name)}`,
        'use sgd, adam or adamw',
      );
    }
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new CoreError('CORE_BAD_ARGUMENT', `${what}: step must be an integer >= 0, got ${state.step}`);
    }
    if (!Array.isArray(state.layers) || state.layers.length !== this.#layers.length) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `${what}: state for ${state.layers?.length} layers, the network has ${this.#layers.length}`,
      );
    }
    const amsgrad = options.amsgrad ?? false;
    const keys =
      name === 'sgd' ? ['momentum_buffer'] : ['exp_avg', 'exp_avg_sq', ...(amsgrad ? ['max_exp_avg_sq'] : [])];
    // check everything before changing anything
    let momentum = false;
    state.layers.forEach((entry, i) => {
      const L = this.#layers[i];
      for (const [part, n, rec] of [
        ['weight', L.out * L.in, entry.weight],
        ['bias', L.out, entry.bias],
      ] as const) {
        if (part === 'bias' && !L.hasBias) continue;
        for (const key of keys) {
          const v = rec?.[key];
          if (v === undefined && (name === 'sgd' || state.step === 0)) continue;
          if (!(v instanceof Float32Array) || v.length !== n) {
            throw new CoreError(
              'CORE_BAD_SHAPE',
              `${what}: layer ${i} ${part} ${key} has ${v instanceof Float32Array ? `${v.length} values` : 'no Float32Array'}, expected ${n}`,
            );
          }
          if (key === 'momentum_buffer') momentum = true;
        }
      }
    });
    this.resetOptimizer();
    const base: TrainOptions = name === 'sgd' ? { optimizer: 'sgd', lr: 0 } : { optimizer: name, lr: 0, amsgrad };
    this.#opt = { config: optimizerConfig(base, what), step: state.step, momentumStarted: momentum };
    const hint = 'use smaller hidden layers';
    if (momentum || name !== 'sgd') this.#allocState('vW', 'vb', L_VW, L_VB, 'its optimizer state', hint);
    if (name !== 'sgd') this.#allocState('sW', 'sb', L_SW, L_SB, 'its optimizer state', hint);
    if (amsgrad) this.#allocState('mW', 'mb', L_MW, L_MB, 'its optimizer state', hint);
    state.layers.forEach((entry, i) => {
      const L = this.#layers[i];
      const put = (ptr: number, v: Float32Array | undefined) => {
        if (ptr && v) this.#write(ptr, v);
      };
      const w = entry.weight ?? {},
        b = (L.hasBias ? entry.bias : null) ?? {};
      put(L.vW, w.momentum_buffer ?? w.exp_avg);
      put(L.vb, b.momentum_buffer ?? b.exp_avg);
      put(L.sW, w.exp_avg_sq);
      put(L.sb, b.exp_avg_sq);
      put(L.mW, w.max_exp_avg_sq);
      put(L.mb, b.max_exp_avg_sq);
    });
    void k;
  }

  /** Forgets the optimizer's state (zero buffers, step 0), as a new torch.optim object starts. */
  resetOptimizer(): void {
    const k = this.#kernels('resetOptimizer');
    this.#opt = null;
    for (const L of this.#layers) {
      for (const [ptr, n] of [
        [L.vW, L.out * L.in],
        [L.vb, L.out],
        [L.sW, L.out * L.in],
        [L.sb, L.out],
        [L.mW, L.out * L.in],
        [L.mb, L.out],
      ]) {
        if (ptr) k.zero_f32(ptr, n);
      }
    }
  }

  /** Frees the WASM instance; any later call throws CORE_DISPOSED. Safe to call twice. */
  dispose(): void {
    this.#pool?.dispose();
    this.#pool = null;
    this.#k = null;
    this.#ws = null;
    this.#layers = [];
  }

  // ---------------------------------------------------------------------------------------------- internals

  /** Allocates (zeroed) one pair of optimizer-state buffers per layer where missing and records them in the descriptor. */
  #allocState(
    wKey: 'vW' | 'sW' | 'mW',
    bKey: 'vb' | 'sb' | 'mb',
    wWord: number,
    bWord: number,
    what: string,
    hint: string,
  ): void {
    if (this.#layers[0][wKey] !== 0) return;
    const k = this.#k!;
    const bytes = this.#layers.reduce((sum, L) => sum + 4 * (L.out * L.in + L.out) + 64, 0);
    checkMemory(k.memory.buffer.byteLength, bytes, this.#limit, this.sizes, what, hint);
    for (const L of this.#layers) {
      L[wKey] = k.alloc(L.out * L.in * 4);
      L[bKey] = k.alloc(L.out * 4);
      k.zero_f32(L[wKey], L.out * L.in);
      k.zero_f32(L[bKey], L.out);
    }
    const d = this.#desc(); // only now: alloc may grow the memory, which detaches earlier views
    this.#layers.forEach((L, i) => {
      d[N_LAYER0 + LAYER_WORDS * i + wWord] = L[wKey];
      d[N_LAYER0 + LAYER_WORDS * i + bWord] = L[bKey];
    });
  }

  #kernels(what: string): KernelExports {
    if (!this.#k) throw new CoreError('CORE_DISPOSED', `${what}: this network was disposed; create a new one`);
    return this.#k;
  }

  #layer(i: number, what: string): Layer {
    this.#kernels(what);
    if (!Number.isInteger(i) || i < 0 || i >= this.#layers.length) {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `${what}: layer index ${i} out of range (the network has ${this.#layers.length} layers, 0..${this.#layers.length - 1})`,
      );
    }
    return this.#layers[i];
  }

  // views are made per call: memory.grow detaches every earlier view
  #write(ptr: number, values: Float32Array): void {
    new Float32Array(this.#k!.memory.buffer, ptr, values.length).set(values);
  }

  #read(ptr: number, n: number): Float32Array {
    return new Float32Array(this.#k!.memory.buffer, ptr, n).slice();
  }

  #checkLabels(labels: Uint8Array, count: number, what: string): void {
    if (!(labels instanceof Uint8Array)) {
      throw new CoreError('CORE_BAD_ARGUMENT', `${what}: labels must be a Uint8Array`);
    }
    if (labels.length < count) {
      throw new CoreError('CORE_BAD_SHAPE', `${what}: ${labels.length} labels for ${count} inputs`);
    }
    const V = this.classes;
    for (let i = 0; i < count; i++) {
      if (labels[i] >= V) {
        throw new CoreError(
          'CORE_BAD_ARGUMENT',
          `${what}: label ${labels[i]} at index ${i} is not a class of this network (0..${V - 1})`,
        );
      }
    }
  }

  /**
   * The per-thread block lists of layer 0's sparse weight gradient (assembly/dense.ts, dense_block_list_f32): up to
   * 256 batch rows each (~0.9 MB per thread for 784 inputs), allocated once; larger batches run in chunks of them.
   */
  #blockListScratch(): number {
    if (this.#blockLists) return this.#blockLists;
    const k = this.#k!;
    const C = this.sizes[0];
    const rows = Math.max(4, Math.min(256, Math.floor(2 ** 20 / (Math.ceil(C / 8) * 36)) & ~3));
    const stride = Math.ceil(k.dense_block_list_bytes(rows, C) / 16) * 16;
    checkMemory(
      k.memory.buffer.byteLength,
      this.threads * stride + 16,
      this.#limit,
      this.sizes,
      'the scratch of its sparse weight gradient',
      'use smaller layers, or inputSparsity: false',
    );
    this.#blockLists = k.alloc(this.threads * stride);
    this.#desc()[N_BLOCK_ROWS] = rows;
    return this.#blockLists;
  }

  /** Forgets the workspace (the next job allocates one with the current buffers). */
  #dropWorkspace(): void {
    if (!this.#ws) return;
    this.#k!.free(this.#ws.base);
    this.#ws = null;
  }

  /** A workspace with room for `rows` batch rows; reallocated (at the end of memory) when too small. */
  #workspace(rows: number): Workspace {
    const k = this.#k!;
    if (this.#ws && this.#ws.rows >= rows) return this.#ws;
    if (this.#ws) k.free(this.#ws.base);
    if (!this.#nonzeroLists) {
      // before the workspace, which stays the last block (the bump allocator frees only that one)
      const stride = Math.ceil(k.dense_sparse_list_bytes(this.sizes[0]) / 16) * 16;
      checkMemory(
        k.memory.buffer.byteLength,
        this.threads * stride + 16,
        this.#limit,
        this.sizes,
        'the scratch of its sparse first layer',
        'use a smaller first layer',
      );
      this.#nonzeroLists = k.alloc(this.threads * stride);
      this.#desc()[N_NONZERO] = this.#nonzeroLists;
    }
    const sizes = this.sizes;
    const maxWidth = Math.max(...sizes);
    const zWidths = this.activations.map((act, i) => (needsZ(act) ? sizes[i + 1] : 0));
    const dropWidths = this.#dropout.map((p, i) => (p > 0 ? sizes[i + 1] : 0));
    const widths = [
      sizes[0],
      ...sizes.slice(1),
      this.classes,
      this.classes,
      maxWidth,
      maxWidth,
      1,
      ...zWidths,
      ...dropWidths,
      ...dropWidths,
      ...(this.#augBlock ? [sizes[0], AUG_WORDS] : []),
    ];
    const floats = widths.reduce((s, w) => s + Math.ceil((rows * w) / 4) * 4, 0);
    // the int8 forward's quantized rows, their scales and zero points (16-byte multiples)
    const int8 = this.#precision === 'int8';
    const qBytes = int8
      ? Math.ceil((rows * k.dense_i8_row_bytes(maxWidth)) / 16) * 16 + 2 * Math.ceil(rows / 4) * 16
      : 0;
    // the old block is freed only if it is the last one (bump allocator): count the whole memory as used
    checkMemory(
      k.memory.buffer.byteLength,
      floats * 4 + qBytes + rows + 64,
      this.#limit,
      sizes,
      `a batch of ${rows} rows`,
      'use a smaller batch',
    );
    const base = k.alloc(floats * 4 + qBytes + rows + 16);
    let p = base;
    const take = (w: number) => {
      const at = p;
      p += Math.ceil((rows * w) / 4) * 16;
      return at;
    };
    const x = take(sizes[0]);
    const act = sizes.slice(1).map((w) => take(w));
    const probs = take(this.classes);
    const dlogits = take(this.classes);
    const delta: [number, number] = [take(maxWidth), take(maxWidth)];
    const losses = take(1);
    const z = act.map((_, i) => (zWidths[i] ? take(zWidths[i]) : 0));
    const masks = dropWidths.map((w) => (w ? take(w) : 0));
    const dropped = dropWidths.map((w) => (w ? take(w) : 0));
    const raw = this.#augBlock ? take(sizes[0]) : 0;
    const params = this.#augBlock ? take(AUG_WORDS) : 0;
    const d = this.#desc();
    if (int8) {
      d[N_XSCALE] = take(1);
      d[N_XZP] = take(1);
      d[N_XQ] = p;
      d[N_XQ_ROW] = k.dense_i8_row_bytes(maxWidth);
      p += Math.ceil((rows * k.dense_i8_row_bytes(maxWidth)) / 16) * 16;
    }
    this.#ws = { rows, base, x, act, z, probs, delta, dlogits, losses, targets: p, int8, raw, params };
    d[N_X] = x;
    d[N_PROBS] = probs;
    d[N_TARGETS] = p;
    d[N_LOSSES] = losses;
    d[N_DELTA0] = delta[0];
    d[N_DELTA1] = delta[1];
    d[N_DLOGITS] = dlogits;
    act.forEach((a, i) => {
      d[N_LAYER0 + LAYER_WORDS * i + L_ACT] = a;
      d[N_LAYER0 + LAYER_WORDS * i + L_Z] = z[i];
      d[N_LAYER0 + LAYER_WORDS * i + L_DROP_MASK] = masks[i] ?? 0;
      d[N_LAYER0 + LAYER_WORDS * i + L_DROPPED] = dropped[i] ?? 0;
    });
    return this.#ws;
  }

  /**
   * Before a forward job: repacks layers whose parameters changed, and tells the job whether layer 0 may skip zero
   * inputs. It may only while every weight of layer 0 is finite: a skipped 0 * Inf would be NaN in the dense sum
   * (and in PyTorch), so a non-finite weight keeps the dense kernel. NaN and Inf inputs are nonzero and always kept.
   */
  #pack(int8 = false): void {
    const k = this.#k!;
    for (const L of this.#layers) {
      if (!L.packed) {
        k.dense_pack_f32(L.packedWb, L.W, L.b, L.out, L.in);
        L.packed = true;
      }
    }
    if (int8) this.#quantize();
    this.#desc()[N_INT8] = int8 ? 1 : 0;
    const L0 = this.#layers[0];
    L0.finite ??= k.all_finite_f32(L0.W, L0.out * L0.in) === 1;
    const on = this.inputSparsity && L0.finite;
    this.#desc()[N_SPARSE] = on ? Math.floor(inputSparsity.maxDensity[this.variant] * L0.in) + 1 : 0;
    if (on) inputSparsity.jobs++;
  }

  /** Quantizes the layers whose weights changed since (assembly/int8.ts), allocating their int8 buffers once. */
  #quantize(): void {
    const k = this.#k!;
    for (const [i, L] of this.#layers.entries()) {
      if (!L.q) {
        const bytes = k.dense_i8_packed_bytes(L.in, L.out);
        checkMemory(
          k.memory.buffer.byteLength,
          bytes + 8 * L.out + 64,
          this.#limit,
          this.sizes,
          'its int8 weights',
          'use float32 precision',
        );
        L.q = { packed: k.alloc(Math.max(bytes, 16)), scale: k.alloc(4 * L.out), rowsum: k.alloc(4 * L.out) };
        const d = this.#desc(); // after the allocations (memory.grow detaches views)
        const w = N_LAYER0 + LAYER_WORDS * i;
        d[w + L_QPACKED] = L.q.packed;
        d[w + L_QSCALE] = L.q.scale;
        d[w + L_QROWSUM] = L.q.rowsum;
      }
      if (!L.quantized) {
        k.dense_quantize_weight_i8(L.q.packed, L.q.scale, L.q.rowsum, L.W, L.out, L.in);
        L.quantized = true;
      }
    }
  }

  /** A view of the net descriptor (made per call: memory.grow detaches views of an unshared memory). */
  #desc(): Int32Array {
    const L = this.sizes.length - 1;
    return new Int32Array(this.#k!.memory.buffer, this.#net, N_LAYER0 + LAYER_WORDS * L);
  }

  /** Pointer to the logits of the last forward job (the last layer's activations). */
  #logits(ws: Workspace): number {
    return ws.act[ws.act.length - 1];
  }

  /**
   * Runs one job of assembly/jobs.ts over `rows` batch rows: on every thread of the pool when the batch is large
   * enough to pay for waking them (the same bits either way), else on this thread alone.
   */
  #job(op: number, arg: number, rows: number, input?: (from: number, to: number) => void): void {
    const k = this.#k!;
    const c = new Int32Array(k.memory.buffer, this.#ctrl, CTRL_BYTES / 4);
    new Int32Array(k.memory.buffer, this.#net, 2)[N_BATCH] = rows;
    c[C_OP] = op;
    c[C_ARG] = arg;
    const pool = this.#pool;
    const t0 = profile.onJob ? performance.now() : 0;
    let threads = 1;
    if (pool && rows >= 4 * pool.threads && rows * this.#flopsPerRow >= tuning.minFlops) {
      threads = c[C_THREADS] = pool.threads;
      // a row job with its input still to copy: the helpers' rows first, then this thread's own while they run
      const own = input ? rowSplit(rows, 1, pool.threads) : 0;
      input?.(own, rows);
      pool.run(() => {
        input?.(0, own);
        k.run_job(this.#ctrl, 0, pool.threads);
      });
    } else {
      c[C_THREADS] = 1;
      input?.(0, rows);
      k.run_job(this.#ctrl, 0, 1);
    }
    profile.onJob?.(op, arg, rows, threads, performance.now() - t0);
  }

  #infer(x: Float32Array, batch: number, what: string, softmax: boolean): Float32Array {
    const k = this.#kernels(what);
    checkFloat32(x, `${what}: x`);
    checkBatch(batch, what);
    const C = this.sizes[0],
      V = this.classes;
    if (x.length !== batch * C) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `${what}: x has ${x.length} values, expected batch x ${C} = ${batch * C} (pass x.subarray(0, batch * ${C}) for a prefix)`,
      );
    }
    const result = new Float32Array(batch * V);
    const rows = Math.min(batch, INFERENCE_CHUNK * this.threads);
    const ws = this.#workspace(rows);
    this.#pack(this.#precision === 'int8');
    for (let start = 0; start < batch; start += rows) {
      const n = Math.min(rows, batch - start);
      // rows [from, to) of this chunk into the engine, as the job asks for them (src/threads.ts: copy overlap)
      const input = (from: number, to: number) =>
        new Float32Array(k.memory.buffer, ws.x + 4 * from * C, (to - from) * C).set(
          x.subarray((start + from) * C, (start + to) * C),
        );
      this.#job(OP_FORWARD, softmax ? 1 : 0, n, input);
      result.set(new Float32Array(k.memory.buffer, softmax ? ws.probs : this.#logits(ws), n * V), start * V);
    }
    return result;
  }

  /**
   * Forward and backward over one batch (gradients overwrite dW, db); with `update`, the optimizer step too (its
   * scalars already in the net header: trainBatch).
   * Returns the mean loss before any update.
   */
  #backprop(
    x: Float32Array,
    labels: Uint8Array,
    batch: number,
    what: string,
    update = false,
    smoothing = 0,
    augmentSeed?: number,
  ): number {
    const k = this.#kernels(what);
    checkFloat32(x, `${what}: x`);
    checkBatch(batch, what);
    const C = this.sizes[0];
    if (x.length !== batch * C) {
      throw new CoreError('CORE_BAD_SHAPE', `${what}: x has ${x.length} values, expected batch x ${C} = ${batch * C}`);
    }
    this.#checkLabels(labels, batch, what);
    if (labels.length !== batch) {
      throw new CoreError('CORE_BAD_SHAPE', `${what}: ${labels.length} labels for a batch of ${batch}`);
    }
    const lists = this.inputSparsity ? this.#blockListScratch() : 0;
    const ws = this.#workspace(batch);
    new Uint8Array(k.memory.buffer, ws.targets, batch).set(labels);
    this.#pack();
    const desc = this.#desc();
    desc[N_BLOCKS] = lists; // 0: layer 0's weight gradient runs the dense kernel (the same bits)
    if (lists) inputSparsity.backwardJobs++;
    desc[N_NONFINITE] = 0;
    const header = () => new Float32Array(k.memory.buffer, this.#net, N_LAYER0);
    const h = header();
    h[N_SMOOTH] = smoothing;
    // with augmentation, x goes to the raw rows and each thread warps its own into ws.x (assembly/jobs.ts)
    let target = ws.x;
    if (augmentSeed !== undefined) {
      const block = this.#augBlock!;
      const f32 = new Float32Array(k.memory.buffer, ws.params, batch * AUG_WORDS),
        i32 = new Int32Array(k.memory.buffer, ws.params, batch * AUG_WORDS);
      for (let j = 0; j < batch; j++) {
        writeRecord(f32, i32, j * AUG_WORDS, drawAugmentParams(block.options, augmentSeed, j), block.side);
      }
      const words = new Int32Array(k.memory.buffer, block.at, AUGD_WORDS);
      words[AUGD_RAW] = ws.raw;
      words[AUGD_PARAMS] = ws.params;
      desc[N_AUG] = block.at;
      target = ws.raw;
    }
    new Int32Array(h.buffer, h.byteOffset, h.length)[N_TRAINING] = update ? 1 : 0;
    let total = 0;
    try {
      const L = this.#layers.length;
      // L jobs: the forward also runs the last layer's dX per row, the next job that layer's dW (src/layout.ts)
      // the input rows as the job asks for them: the helpers' first, this thread's own while they run
      const input = (from: number, to: number) =>
        new Float32Array(k.memory.buffer, target + 4 * from * C, (to - from) * C).set(x.subarray(from * C, to * C));
      this.#job(OP_TRAIN_FORWARD, L > 1 ? TRAIN_FORWARD_DX : 0, batch, input);
      if (update) {
        this.#layers[0].finite = null; // the backward jobs below change the weights, and say if finite
        for (const ly of this.#layers) ly.quantized = false;
      }
      // the mean in f64 over the rows in order, as softmax_xent_forward_f32 sums it
      const losses = new Float32Array(k.memory.buffer, ws.losses, batch);
      for (let i = 0; i < batch; i++) total += losses[i];
      // how many rows the forward got right (before any update): the training accuracy the driver reports
      const p = argmaxRows(
        new Float32Array(k.memory.buffer, this.#logits(ws), batch * this.classes),
        batch,
        this.classes,
      );
      let correct = 0;
      for (let i = 0; i < batch; i++) if (p[i] === labels[i]) correct++;
      this.#lastCorrect = correct;
      for (let i = L > 1 ? L - 2 : 0; i >= 0; i--)
        this.#job(OP_BACKWARD, i | (update ? BACKWARD_UPDATE : 0) | (i + 2 === L ? BACKWARD_WITH_NEXT : 0), batch);
      // the job that updated layer 0 checked its new weights (whether the next forward may skip zero inputs)
      if (update) this.#layers[0].finite = this.#desc()[N_NONFINITE] === 0;
    } finally {
      // evaluate() runs the training forward too: without smoothing or dropout
      const e = header();
      e[N_SMOOTH] = 0;
      new Int32Array(e.buffer, e.byteOffset, e.length)[N_AUG] = 0;
      new Int32Array(e.buffer, e.byteOffset, e.length)[N_TRAINING] = 0;
    }
    return total / batch;
  }
}
