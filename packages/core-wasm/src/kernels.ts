// Loads the WASM core (plain-SIMD or relaxed-SIMD binary, both embedded as base64) and types its raw-pointer exports.
// Low-level and internal to the package's API; exported as '@mnist/core-wasm/kernels' for tests and benchmarks.

import { CoreError } from './errors.js';
import {
  relaxedSimdThreadsWasmBase64,
  relaxedSimdWasmBase64,
  simdThreadsWasmBase64,
  simdWasmBase64,
} from './wasm-bytes.js';

/** Which binary runs: 'relaxed-simd' uses f32x4.relaxed_madd (fused multiply-add), 'simd' separate mul + add. */
export type Variant = 'relaxed-simd' | 'simd';
/** How to choose the binary: 'auto' takes relaxed SIMD where the engine validates it. */
export type SimdChoice = 'auto' | 'relaxed' | 'plain';

/**
 * WebAssembly.Memory and WebAssembly.Module as the exported signatures name them. TypeScript declares the WebAssembly
 * namespace only in lib "dom" (not in es20xx, nor in @types/node 20), and the emitted .d.ts must compile in a Node
 * project without it: so these are the consumer's own WebAssembly types where its libs declare them (here they are
 * exactly those), and structural stand-ins otherwise.
 */
export type WasmMemory = typeof globalThis extends { WebAssembly: { Memory: { prototype: infer M } } }
  ? M
  : { readonly buffer: ArrayBuffer; grow(delta: number): number };
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;

type Ptr = number;

/** Mirror of assembly/index.ts. Pointers are byte offsets into `memory`; shapes follow the comments there. */
export interface KernelExports {
  memory: WasmMemory;
  alloc(size: number): Ptr;
  free(ptr: Ptr): void;
  zero_f32(ptr: Ptr, n: number): void;
  /** 1 if all n floats at ptr are finite, else 0. */
  all_finite_f32(ptr: Ptr, n: number): number;
  dense_packed_size(C: number, OC: number): number;
  dense_pack_f32(packed: Ptr, weight: Ptr, bias: Ptr, OC: number, C: number): void;
  dense_forward_f32_scalar(out: Ptr, inp: Ptr, weight: Ptr, bias: Ptr, B: number, C: number, OC: number): void;
  dense_forward_f32(out: Ptr, inp: Ptr, packed: Ptr, B: number, C: number, OC: number): void;
  dense_forward_sparse_f32_scalar(out: Ptr, inp: Ptr, weight: Ptr, bias: Ptr, B: number, C: number, OC: number): void;
  /** Nonzero inputs of one row as (32 c, x[c]) pairs (8 bytes each) at list; returns their count. */
  dense_nonzero_list_f32(list: Ptr, x: Ptr, C: number): number;
  /** Bytes of dense_forward_sparse_f32's list scratch for C inputs. */
  dense_sparse_list_bytes(C: number): number;
  /** dense_forward_f32 skipping zero inputs in rows with <= maxNonzero of them (< 0: none); list: dense_sparse_list_bytes(C). */
  dense_forward_sparse_f32(
    out: Ptr,
    inp: Ptr,
    packed: Ptr,
    list: Ptr,
    B: number,
    C: number,
    OC: number,
    maxNonzero: number,
  ): void;
  dense_backward_f32_scalar(
    dinp: Ptr,
    dweight: Ptr,
    dbias: Ptr,
    dout: Ptr,
    inp: Ptr,
    weight: Ptr,
    B: number,
    C: number,
    OC: number,
  ): void;
  dense_backward_f32(
    dinp: Ptr,
    dweight: Ptr,
    dbias: Ptr,
    dout: Ptr,
    inp: Ptr,
    weight: Ptr,
    B: number,
    C: number,
    OC: number,
  ): void;
  relu_forward_f32_scalar(out: Ptr, inp: Ptr, N: number): void;
  relu_forward_f32(out: Ptr, inp: Ptr, N: number): void;
  relu_backward_f32_scalar(dinp: Ptr, dout: Ptr, out: Ptr, N: number): void;
  relu_backward_f32(dinp: Ptr, dout: Ptr, out: Ptr, N: number): void;
  // assembly/activations.ts: forward (out, inp, N[, param]); backward (dinp, dout, x, N[, param]) with x the output
  // (relu, sigmoid, tanh; leaky_relu with slope >= 0) or the pre-activation z (gelu, gelu_tanh, silu, elu, leaky_relu)
  leaky_relu_forward_f32_scalar(out: Ptr, inp: Ptr, N: number, slope: number): void;
  leaky_relu_forward_f32(out: Ptr, inp: Ptr, N: number, slope: number): void;
  leaky_relu_backward_f32_scalar(dinp: Ptr, dout: Ptr, x: Ptr, N: number, slope: number): void;
  leaky_relu_backward_f32(dinp: Ptr, dout: Ptr, x: Ptr, N: number, slope: number): void;
  sigmoid_forward_f32_scalar(out: Ptr, inp: Ptr, N: number): void;
  sigmoid_forward_f32(out: Ptr, inp: Ptr, N: number): void;
  sigmoid_backward_f32_scalar(dinp: Ptr, dout: Ptr, out: Ptr, N: number): void;
  sigmoid_backward_f32(dinp: Ptr, dout: Ptr, out: Ptr, N: number): void;
  tanh_forward_f32_scalar(out: Ptr, inp: Ptr, N: number): void;
  tanh_forward_f32(out: Ptr, inp: Ptr, N: number): void;
  tanh_backward_f32_scalar(dinp: Ptr, dout: Ptr, out: Ptr, N: number): void;
  tanh_backward_f32(dinp: Ptr, dout: Ptr, out: Ptr, N: number): void;
  gelu_forward_f32_scalar(out: Ptr, inp: Ptr, N: number): void;
  gelu_forward_f32(out: Ptr, inp: Ptr, N: number): void;
  gelu_backward_f32_scalar(dinp: Ptr, dout: Ptr, inp: Ptr, N: number): void;
  gelu_backward_f32(dinp: Ptr, dout: Ptr, inp: Ptr, N: number): void;
  gelu_tanh_forward_f32_scalar(out: Ptr, inp: Ptr, N: number): void;
  gelu_tanh_forward_f32(out: Ptr, inp: Ptr, N: number): void;
  gelu_tanh_backward_f32_scalar(dinp: Ptr, dout: Ptr, inp: Ptr, N: number): void;
  gelu_tanh_backward_f32(dinp: Ptr, dout: Ptr, inp: Ptr, N: number): void;
  silu_forward_f32_scalar(out: Ptr, inp: Ptr, N: number): void;
  silu_forward_f32(out: Ptr, inp: Ptr, N: number): void;
  silu_backward_f32_scalar(dinp: Ptr, dout: Ptr, inp: Ptr, N: number): void;
  silu_backward_f32(dinp: Ptr, dout: Ptr, inp: Ptr, N: number): void;
  elu_forward_f32_scalar(out: Ptr, inp: Ptr, N: number, alpha: number): void;
  elu_forward_f32(out: Ptr, inp: Ptr, N: number, alpha: number): void;
  elu_backward_f32_scalar(dinp: Ptr, dout: Ptr, inp: Ptr, N: number, alpha: number): void;
  elu_backward_f32(dinp: Ptr, dout: Ptr, inp: Ptr, N: number, alpha: number): void;
  /** assembly/approx.ts, as kernels for the accuracy tests: exp, exp - 1 for inp <= 0, erf. */
  exp_f32(out: Ptr, inp: Ptr, N: number): void;
  expm1_neg_f32(out: Ptr, inp: Ptr, N: number): void;
  erf_f32(out: Ptr, inp: Ptr, N: number): void;
  /** out = f(inp) for an ACT_* code (src/layout.ts) and its parameter (leaky_relu's slope, elu's alpha). */
  activation_forward_f32(out: Ptr, inp: Ptr, N: number, act: number, param: number): void;
  /** dinp = dout * f'(.): reads z (0 where f' does not need it) or the output `out`, as the activation needs. */
  activation_backward_f32(dinp: Ptr, dout: Ptr, z: Ptr, out: Ptr, N: number, act: number, param: number): void;
  softmax_forward_f32(probs: Ptr, logits: Ptr, B: number, V: number): void;
  softmax_xent_forward_f32(losses: Ptr, probs: Ptr, logits: Ptr, targets: Ptr, B: number, V: number): number;
  softmax_xent_backward_f32(dlogits: Ptr, probs: Ptr, targets: Ptr, B: number, V: number): void;
  /** torch.optim.SGD's step (assembly/optim.ts): weight decay, momentum with dampening, Nesterov per OPT_FLAG_*. */
  sgd_step_f32_scalar(
    p: Ptr,
    g: Ptr,
    buf: Ptr,
    N: number,
    lr: number,
    mu: number,
    damp: number,
    wd: number,
    flags: number,
  ): void;
  sgd_step_f32(
    p: Ptr,
    g: Ptr,
    buf: Ptr,
    N: number,
    lr: number,
    mu: number,
    damp: number,
    wd: number,
    flags: number,
  ): void;
  /** torch.optim.Adam / AdamW's step (assembly/optim.ts); vmax is read with OPT_FLAG_AMSGRAD only. */
  adam_step_f32_scalar(
    p: Ptr,
    g: Ptr,
    m: Ptr,
    v: Ptr,
    vmax: Ptr,
    N: number,
    beta1: number,
    omb1: number,
    beta2: number,
    omb2: number,
    stepSize: number,
    bc2sqrt: number,
    eps: number,
    wd: number,
    decay: number,
    flags: number,
  ): void;
  adam_step_f32(
    p: Ptr,
    g: Ptr,
    m: Ptr,
    v: Ptr,
    vmax: Ptr,
    N: number,
    beta1: number,
    omb1: number,
    beta2: number,
    omb2: number,
    stepSize: number,
    bc2sqrt: number,
    eps: number,
    wd: number,
    decay: number,
    flags: number,
  ): void;
  dense_pack_panels_f32(packed: Ptr, weight: Ptr, bias: Ptr, OC: number, C: number, p0: number, p1: number): void;
  dense_backward_input_f32(dinp: Ptr, dout: Ptr, weight: Ptr, B: number, C: number, OC: number): void;
  dense_backward_weight_f32(
    dweight: Ptr,
    dbias: Ptr,
    dout: Ptr,
    inp: Ptr,
    B: number,
    C: number,
    OC: number,
    o0: number,
    o1: number,
  ): void;
  dense_backward_bias_f32(dbias: Ptr, dout: Ptr, B: number, OC: number, o0: number, o1: number): void;
  /** assembly/dense.ts, sparse weight gradient: the block list of inp (B,C) and its size in bytes. */
  dense_block_list_bytes(B: number, C: number): number;
  dense_block_list_f32(list: Ptr, inp: Ptr, B: number, C: number, OC: number): number;
  /** 1 if `rows` rows of n floats, stride floats apart, are all finite. */
  all_finite_rows_f32(ptr: Ptr, rows: number, n: number, stride: number): number;
  dense_backward_weight_sparse_f32_scalar(
    dweight: Ptr,
    dbias: Ptr,
    dout: Ptr,
    inp: Ptr,
    B: number,
    C: number,
    OC: number,
  ): void;
  dense_backward_weight_sparse_f32(
    dweight: Ptr,
    dbias: Ptr,
    dout: Ptr,
    inp: Ptr,
    list: Ptr,
    B: number,
    C: number,
    OC: number,
    o0: number,
    o1: number,
  ): void;
  /** Layer 0's dW fused with the SGD step (W, momentum buffer and packed panels updated); 1 if all new W finite. */
  dense_backward_weight_sparse_sgd_f32(
    weight: Ptr,
    packed: Ptr,
    buf: Ptr,
    dout: Ptr,
    inp: Ptr,
    list: Ptr,
    B: number,
    C: number,
    OC: number,
    o0: number,
    o1: number,
    lr: number,
    mu: number,
    damp: number,
    wd: number,
    flags: number,
  ): number;
  dense_pack_bias_f32(packed: Ptr, bias: Ptr, OC: number, C: number, p0: number, p1: number): void;
  softmax_xent_backward_rows_f32(dlogits: Ptr, probs: Ptr, targets: Ptr, n: number, V: number, batch: number): void;
  /** Cross-entropy with label smoothing eps (nn.CrossEntropyLoss(label_smoothing=eps)); returns the mean loss. */
  softmax_xent_smooth_forward_f32(
    losses: Ptr,
    probs: Ptr,
    logits: Ptr,
    targets: Ptr,
    B: number,
    V: number,
    eps: number,
  ): number;
  softmax_xent_smooth_backward_rows_f32(
    dlogits: Ptr,
    probs: Ptr,
    targets: Ptr,
    n: number,
    V: number,
    batch: number,
    eps: number,
  ): void;
  /** Dropout (assembly/dropout.ts): row masks of 0 or scale from (seed, layer, row); out = inp * mask. */
  dropout_mask_f32(
    mask: Ptr,
    r0: number,
    n: number,
    C: number,
    p: number,
    scale: number,
    seed: number,
    layer: number,
  ): void;
  dropout_apply_f32_scalar(out: Ptr, inp: Ptr, mask: Ptr, N: number): void;
  dropout_apply_f32(out: Ptr, inp: Ptr, mask: Ptr, N: number): void;
  /** iters x 12 register-only f32x4 multiply-adds (assembly/peak.ts): the benchmark's ceiling. */
  simd_madd_peak_f32(iters: number, s: number): number;
  /** assembly/augment.ts: out (count, side, side) = inp resampled by the maps of params (count, AUG_WORDS records). */
  augment_pad_bytes(side: number): number;
  augment_f32_scalar(
    out: Ptr,
    inp: Ptr,
    params: Ptr,
    pad: Ptr,
    bank: Ptr,
    count: number,
    side: number,
    bankStride: number,
    bankMask: number,
  ): void;
  augment_f32(
    out: Ptr,
    inp: Ptr,
    params: Ptr,
    pad: Ptr,
    bank: Ptr,
    count: number,
    side: number,
    bankStride: number,
    bankMask: number,
  ): void;
  /** assembly/augment.ts: the n floats at x become (x - mean) / std in f32 (SIMD and its scalar reference). */
  normalize_f32_scalar(x: Ptr, n: number, mean: number, std: number): void;
  normalize_f32(x: Ptr, n: number, mean: number, std: number): void;
  /** assembly/int8.ts: int8 inference (per-output-channel int8 weights, 7-bit rows with a zero point). */
  dense_i8_packed_bytes(C: number, OC: number): number;
  dense_i8_row_bytes(C: number): number;
  dense_quantize_weight_i8(packed: Ptr, scale: Ptr, rowsum: Ptr, weight: Ptr, OC: number, C: number): void;
  dense_quantize_rows_u7(xq: Ptr, xscale: Ptr, xzp: Ptr, inp: Ptr, B: number, C: number): void;
  dense_forward_i8(
    out: Ptr,
    xq: Ptr,
    xscale: Ptr,
    xzp: Ptr,
    packed: Ptr,
    wscale: Ptr,
    rowsum: Ptr,
    bias: Ptr,
    B: number,
    C: number,
    OC: number,
  ): void;
  /** The whole quantized layer from f32 inputs and weights; scratch is OC x 12 bytes. */
  dense_forward_i8_scalar(
    out: Ptr,
    inp: Ptr,
    weight: Ptr,
    bias: Ptr,
    scratch: Ptr,
    B: number,
    C: number,
    OC: number,
  ): void;
  /** One thread's share of the job at ctrl (assembly/jobs.ts; src/mlp.ts writes the descriptors). */
  run_job(ctrl: Ptr, tid: number, threads: number): void;
}

/**
 * When the first layer skips zero inputs (internal tunables; a network turns the path off with its `inputSparsity`
 * option or property, e.g. for a benchmark's dense-only rows). A row takes the sparse kernel when at most `maxDensity[variant]` of its inputs are nonzero: just under the
 * crossover `pnpm bench` measures on 256 x 784 -> 512 with nonzeros at random positions (relaxed SIMD: 1.1x faster
 * at 40%, slower at 50%; plain SIMD: 1.15x at 60%, slower at 80%), where the sparse kernel's 8 weight loads per 8
 * multiply-adds stop paying for the skipped zeros against the dense kernel's 4-row tiles. Real images (strokes) are
 * kinder to its caches than random positions. The result has the same bits either way.
 */
export const inputSparsity = {
  maxDensity: { 'relaxed-simd': 0.4, simd: 0.7 } as Record<Variant, number>,
  /** Counter for tests: forward jobs (inference or training) that ran with the sparse first layer on. */
  jobs: 0,
  /** Counter for tests: backward passes whose first-layer weight gradient could skip zero inputs (block lists on). */
  backwardJobs: 0,
};

/** Pages of the shared memory a threaded instance imports: initial, and the maximum the binary declares (1 GiB). */
export const SHARED_MEMORY_PAGES = { initial: 2, maximum: 16384 } as const;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const bytesCache = new Map<string, Uint8Array<ArrayBuffer>>();
/** The raw binary of a variant (decoded once); `threaded` gives its twin that imports a shared memory. */
export function wasmBytes(variant: Variant, threaded = false): Uint8Array<ArrayBuffer> {
  const key = `${variant}${threaded ? '-threads' : ''}`;
  let bytes = bytesCache.get(key);
  if (!bytes) {
    const b64 =
      variant === 'relaxed-simd'
        ? threaded
          ? relaxedSimdThreadsWasmBase64
          : relaxedSimdWasmBase64
        : threaded
          ? simdThreadsWasmBase64
          : simdWasmBase64;
    bytes = decodeBase64(b64);
    bytesCache.set(key, bytes);
  }
  return bytes;
}

/** True when this engine accepts the relaxed-SIMD binary (Chromium does; Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(wasmBytes('relaxed-simd'));
}

/** Resolves a SimdChoice to a variant this engine can run, or throws CORE_UNSUPPORTED / CORE_BAD_ARGUMENT. */
export function resolveVariant(choice: SimdChoice = 'auto'): Variant {
  if (choice !== 'auto' && choice !== 'relaxed' && choice !== 'plain') {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `invalid simd option: ${String(choice)} (use 'auto', 'relaxed' or 'plain')`,
    );
  }
  if (choice === 'relaxed' || choice === 'auto') {
    if (relaxedSimdSupported()) return 'relaxed-simd';
    if (choice === 'relaxed') {
      throw new CoreError(
        'CORE_UNSUPPORTED',
        "this engine does not validate relaxed SIMD: use simd: 'auto' or 'plain' (in Node 20, run node with --experimental-wasm-relaxed-simd)",
      );
    }
  }
  if (!WebAssembly.validate(wasmBytes('simd'))) {
    throw new CoreError(
      'CORE_UNSUPPORTED',
      'this engine does not support WebAssembly SIMD (128-bit); use a current browser or Node >= 16.4',
    );
  }
  return 'simd';
}

const moduleCache = new Map<string, Promise<WasmModule>>();
/** The compiled module of a variant (compiled once per process). */
export function compiledModule(variant: Variant, threaded = false): Promise<WasmModule> {
  const key = `${variant}${threaded ? '-threads' : ''}`;
  let m = moduleCache.get(key);
  if (!m) {
    m = WebAssembly.compile(wasmBytes(variant, threaded));
    moduleCache.set(key, m);
  }
  return m;
}

function abortImport(_msg: number, _file: number, line: number, column: number): never {
  throw new CoreError(
    'CORE_WASM_ABORT',
    `WASM core aborted at ${line}:${column} (most likely out of memory: use a smaller batch)`,
  );
}

/**
 * A fresh instance of the chosen binary: with its own memory, or (`shared` given) the threaded twin over that
 * shared memory, the way each thread of a pool instantiates it.
 */
export async function instantiateKernels(
  choice: SimdChoice | Variant = 'auto',
  shared?: WasmMemory,
): Promise<{ variant: Variant; exports: KernelExports; module: WasmModule }> {
  const variant: Variant = choice === 'simd' || choice === 'relaxed-simd' ? choice : resolveVariant(choice);
  if (variant === 'relaxed-simd' && !relaxedSimdSupported()) resolveVariant('relaxed');
  const module = await compiledModule(variant, shared !== undefined);
  const env: Record<string, unknown> = { abort: abortImport };
  if (shared) env.memory = shared;
  const instance = await WebAssembly.instantiate(module, { env } as WebAssembly.Imports);
  const exports = instance.exports as unknown as KernelExports;
  // the threaded binary imports its memory instead of exporting it: expose it the same way
  if (shared)
    return {
      variant,
      module,
      exports: Object.assign(Object.create(null), instance.exports, { memory: shared }) as KernelExports,
    };
  return { variant, module, exports };
}
