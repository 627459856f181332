// Seeded data augmentation for training: random affine maps (shift, rotation, scale) and elastic distortion
// (Simard, Steinkraus & Platt 2003), composed into one sampling map per image and run by assembly/augment.ts.
//
// Determinism: image i of a call gets its parameters from (seed, i) alone (its own mulberry32 stream), and the
// elastic bank depends only on sigma: the result never depends on the batch it sits in, the call history or threads.
// The parameters are drawn here in float64 (V8's Math.cos/sin/exp are fdlibm ports: the same bits in Node and
// Chromium) and the kernel has no fused multiply-add, so every binary gives the same bits.

import {
  AUG_AX,
  AUG_AY,
  AUG_B0,
  AUG_B1,
  AUG_FX,
  AUG_FY,
  AUG_M00,
  AUG_M01,
  AUG_M10,
  AUG_M11,
  AUG_ROW,
  AUG_ROW_STEP,
  AUG_WORDS,
} from './augment-layout.js';
import { CoreError } from './errors.js';
import { instantiateKernels, type KernelExports, type SimdChoice, type Variant } from './kernels.js';
import { seededRandom } from './random.js';

/**
 * What to draw per image. All ranges are symmetric and uniform; 0 (or absent) turns a part off.
 * - shift: the largest translation in pixels, per axis (torchvision's RandomAffine takes a fraction of the image size
 *   and rounds the drawn shift to whole pixels; here it is pixels and stays fractional: shift 2 on 28 x 28 is
 *   translate=(2/28, 2/28) there).
 * - rotate: the largest rotation in degrees about the image centre (RandomAffine's `degrees`).
 * - scale: the largest relative size change: the factor is uniform in [1 - scale, 1 + scale] (RandomAffine's
 *   `scale=(1 - s, 1 + s)`).
 * - elastic: Simard et al.'s elastic distortion; `true` takes ELASTIC_DEFAULTS.
 * The affine part is RandomAffine's map (about the centre, zero fill) sampled bilinearly, where RandomAffine's
 * default is nearest-neighbour.
 */
export interface AugmentOptions {
  shift?: number;
  rotate?: number;
  scale?: number;
  elastic?: { alpha: number; sigma: number } | boolean;
}

/** The options with every default filled in, as `Augmenter.options` reports them. */
export interface ResolvedAugmentOptions {
  shift: number;
  rotate: number;
  scale: number;
  elastic: { alpha: number; sigma: number } | false;
}

/**
 * Simard et al. 2003 (section 2) report sigma = 4 and alpha = 34 for MNIST: the displacement fields are smoothed by a
 * Gaussian of standard deviation 4 pixels and scaled by 34 (displacements of about 1.4 pixels r.m.s. per axis).
 */
export const ELASTIC_DEFAULTS: Readonly<{ alpha: number; sigma: number }> = Object.freeze({ alpha: 34, sigma: 4 });

/**
 * The named settings the CLI (--augment affine | elastic) and the web app's Train tab offer: affine is a shift of up
 * to 2 px, a rotation of up to 10 degrees and a scale change of up to 10%; elastic adds Simard et al.'s distortion.
 */
export const AUGMENT_PRESETS: Readonly<Record<'affine' | 'elastic', Readonly<AugmentOptions>>> = Object.freeze({
  affine: Object.freeze({ shift: 2, rotate: 10, scale: 0.1 }),
  elastic: Object.freeze({ shift: 2, rotate: 10, scale: 0.1, elastic: ELASTIC_DEFAULTS }),
});

/**
 * The elastic field bank. Smoothing a fresh pair of 28 x 28 noise fields per image costs ~100,000 multiply-adds,
 * several times the whole sampling pass, so an Augmenter smooths once, at create(), a pair of BANK_PERIOD x
 * BANK_PERIOD fields on a torus: noise uniform in [-1, 1) (mulberry32 from BANK_SEED: field 0 then field 1, row by
 * row) convolved circularly with the sampled Gaussian of std sigma, truncated at radius round(4 sigma) and normalized
 * to sum 1 (scipy.ndimage.gaussian_filter's kernel). An image's displacement is a side x side window of it at a
 * random origin, its rows read downwards or upwards, the two fields possibly swapped, each scaled by +alpha or -alpha.
 *
 * Each window is distributed exactly as the paper's construction with noise that extends past the image border
 * (a window sees 2 radius + side <= BANK_PERIOD distinct noise cells; the paper does not say how it treats the
 * border; scipy's default reflects it), and the flips, swap and signs keep that distribution (the two fields are
 * independent and symmetric). What differs: the fields of two images are not independent; they come from
 * 16 x 512^2 overlapping windows instead of fresh noise.
 */
export const BANK_PERIOD = 512;
export const BANK_SEED = 0x51a4d;

/** Largest image side (the bank's windows need side + 2 round(4 sigma) <= BANK_PERIOD). */
export const MAX_SIDE = 256;

/** Where image i's elastic displacement comes from in the bank (see BANK_PERIOD). */
export interface ElasticWindow {
  /** Bank column of output column 0, in [0, BANK_PERIOD). */
  x: number;
  /** Bank row of output row 0, in [0, BANK_PERIOD). */
  y: number;
  /** Output row j reads bank row y - j instead of y + j (mod BANK_PERIOD). */
  flipRows: boolean;
  /** The column displacement reads field 1 and the row displacement field 0 (else 0 and 1). */
  swap: boolean;
  /** Scale of the column and row displacement: +alpha or -alpha when drawn. */
  alphaX: number;
  alphaY: number;
}

/**
 * One image's transform. Output pixel p reads the input at A^-1(p) + e(p): the inverse of the affine map
 * A(q) = c + t + scale R(angle) (q - c) (c the image centre, (side - 1) / 2 in pixel indices; t = (dx, dy)) plus the
 * elastic displacement e of the output pixel. Strictly "elastic, then affine" would read e at A^-1(p): e is a
 * stationary, isotropic random field, so e(A^-1(p)) has the same distribution as e(p) except that its correlation
 * length is scaled by `scale` (sigma changes by at most the scale option, e.g. 15%); reading e at p keeps it to one
 * bilinear pass with no interpolation of the field.
 */
export interface AugmentParams {
  /** Rotation in degrees, counter-clockwise as displayed (rows grow downwards). */
  angle: number;
  /** Size factor (> 1 enlarges). */
  scale: number;
  /** Translation in pixels: right and down. */
  dx: number;
  dy: number;
  /** The elastic displacement, or null. */
  field: ElasticWindow | null;
}

export interface AugmenterCreateOptions {
  /** Image side in pixels (images are side x side, row-major); default 28. */
  side?: number;
  /** Which binary: see SimdChoice. The results have the same bits on each. */
  simd?: SimdChoice;
  /** 'scalar' runs the scalar reference kernel instead of the SIMD one (for tests and the benchmark). */
  kernel?: 'simd' | 'scalar';
}

const bad = (problem: string, hint?: string) => new CoreError('CORE_BAD_ARGUMENT', problem, hint);

function checkKeys(value: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw bad(`unknown ${what} option: ${key}`, `use ${allowed.join(', ')}`);
  }
}

/** The Gaussian's radius in pixels: scipy's int(4 sigma + 0.5). */
export function gaussianRadius(sigma: number): number {
  return Math.floor(4 * sigma + 0.5);
}

/** Validates `options` and fills in the defaults; throws CORE_BAD_ARGUMENT naming the first bad value. */
export function resolveAugmentOptions(options: AugmentOptions, side = 28): ResolvedAugmentOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw bad(`invalid augment options: ${String(options)}`, 'pass an object such as { shift: 2, rotate: 15 }');
  }
  checkKeys(options, ['shift', 'rotate', 'scale', 'elastic'], 'augment');
  const range = (name: 'shift' | 'rotate' | 'scale', max: number, maxText: string): number => {
    const v = options[name] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) {
      throw bad(`invalid ${name}: ${String(v)}`, `use a number from 0 to ${maxText}`);
    }
    return v;
  };
  const shift = range('shift', side, `${side} (pixels)`);
  const rotate = range('rotate', 180, '180 (degrees)');
  const scale = range('scale', 0.99, '0.99 (the factor is drawn from [1 - scale, 1 + scale])');
  const e = options.elastic ?? false;
  let elastic: ResolvedAugmentOptions['elastic'] = false;
  if (e === true) elastic = { ...ELASTIC_DEFAULTS };
  else if (typeof e === 'object' && e !== null && !Array.isArray(e)) {
    checkKeys(e, ['alpha', 'sigma'], 'elastic');
    const { alpha, sigma } = e;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
      throw bad(
        `invalid elastic alpha: ${String(alpha)}`,
        `use a number >= 0 (Simard et al.: ${ELASTIC_DEFAULTS.alpha})`,
      );
    }
    const maxSigma = (BANK_PERIOD - side) / 8;
    if (
      typeof sigma !== 'number' ||
      !Number.isFinite(sigma) ||
      sigma <= 0 ||
      side + 2 * gaussianRadius(sigma) > BANK_PERIOD
    ) {
      throw bad(
        `invalid elastic sigma: ${String(sigma)}`,
        `use a number > 0 and at most ${Math.floor(maxSigma)} for ${side}-pixel images (Simard et al.: ${ELASTIC_DEFAULTS.sigma})`,
      );
    }
    elastic = { alpha, sigma };
  } else if (e !== false) {
    throw bad(`invalid elastic: ${String(e)}`, 'use true, false or { alpha, sigma }');
  }
  return { shift, rotate, scale, elastic };
}

/** The normalized taps g[0..2r] of the Gaussian of std sigma, truncated at r = gaussianRadius(sigma). */
export function gaussianTaps(sigma: number): Float64Array {
  const r = gaussianRadius(sigma);
  const g = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let k = -r; k <= r; k++) sum += g[k + r] = Math.exp((-0.5 * k * k) / (sigma * sigma));
  for (let k = 0; k < g.length; k++) g[k] /= sum;
  return g;
}

/** Row stride of the bank in floats: a window's row (side floats, read 4 at a time) never wraps. */
export function bankStride(side: number): number {
  return (BANK_PERIOD + side + 3 + 3) & ~3;
}

/**
 * The bank as the kernel reads it: field f's row r at floats [(f T + r) stride, ...), column j holding the smoothed
 * field at column j mod T (T = BANK_PERIOD). Smoothing is separable and circular, in float64; stored in f32.
 */
export function elasticBank(sigma: number, side: number): Float32Array {
  const T = BANK_PERIOD,
    stride = bankStride(side);
  const g = gaussianTaps(sigma),
    r = (g.length - 1) / 2;
  const random = seededRandom(BANK_SEED);
  const noise = new Float64Array(T * T),
    rows = new Float64Array(T * T),
    line = new Float64Array(T + 2 * r),
    acc = new Float64Array(T);
  const bank = new Float32Array(2 * T * stride);
  for (let f = 0; f < 2; f++) {
    for (let i = 0; i < T * T; i++) noise[i] = 2 * random() - 1;
    // along each row: rows[y, x] = sum_k g[k] noise[y, x + k - r], x + k - r taken mod T
    for (let y = 0; y < T; y++) {
      for (let j = 0; j < line.length; j++) line[j] = noise[y * T + ((((j - r) % T) + T) % T)];
      for (let x = 0; x < T; x++) {
        let s = 0;
        for (let k = 0; k < g.length; k++) s += g[k] * line[x + k];
        rows[y * T + x] = s;
      }
    }
    // along each column, one output row at a time: field[y, :] = sum_k g[k] rows[y + k - r, :]
    for (let y = 0; y < T; y++) {
      acc.fill(0);
      for (let k = 0; k < g.length; k++) {
        const src = ((((y + k - r) % T) + T) % T) * T,
          w = g[k];
        for (let x = 0; x < T; x++) acc[x] += w * rows[src + x];
      }
      const dst = (f * T + y) * stride;
      for (let j = 0; j < stride; j++) bank[dst + j] = acc[j % T];
    }
  }
  return bank;
}

/** murmur3's 32-bit finalizer: a bijection that spreads every input bit over the output. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The parameters image i gets under `seed` (the low 32 bits of an integer): 7 draws from its own mulberry32 stream,
 * always in this order (angle, scale, dx, dy, window column, window row, flips), so turning one part off leaves the
 * others' values as they were.
 */
export function drawAugmentParams(options: ResolvedAugmentOptions, seed: number, i: number): AugmentParams {
  const random = seededRandom(mix32(mix32(seed >>> 0) ^ mix32((i + 0x9e3779b9) >>> 0)));
  const sym = () => 2 * random() - 1;
  const angle = options.rotate * sym();
  const scale = 1 + options.scale * sym();
  const dx = options.shift * sym();
  const dy = options.shift * sym();
  const x = Math.floor(random() * BANK_PERIOD),
    y = Math.floor(random() * BANK_PERIOD),
    bits = Math.floor(random() * 16);
  const e = options.elastic;
  const field = e
    ? {
        x,
        y,
        flipRows: (bits & 1) !== 0,
        swap: (bits & 2) !== 0,
        alphaX: bits & 4 ? -e.alpha : e.alpha,
        alphaY: bits & 8 ? -e.alpha : e.alpha,
      }
    : null;
  return { angle, scale, dx, dy, field };
}

/** Throws CORE_BAD_ARGUMENT unless p is a usable transform (a field only where the augmenter has a bank). */
function checkParams(p: AugmentParams, n: number, hasBank: boolean): void {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!finite(p?.angle) || !finite(p.scale) || p.scale <= 0 || !finite(p.dx) || !finite(p.dy)) {
    throw bad(
      `invalid augment params[${n}]: ${JSON.stringify(p)}`,
      'need finite angle, dx, dy and a scale > 0 (see Augmenter.draw)',
    );
  }
  const f = p.field;
  if (f === null || f === undefined) return;
  if (!hasBank) {
    throw bad(`augment params[${n}] has an elastic field`, 'create the Augmenter with elastic to use fields');
  }
  const cell = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < BANK_PERIOD;
  if (!cell(f.x) || !cell(f.y) || !finite(f.alphaX) || !finite(f.alphaY)) {
    throw bad(
      `invalid elastic field in augment params[${n}]: ${JSON.stringify(f)}`,
      `need integer x, y in [0, ${BANK_PERIOD}) and finite alphaX, alphaY`,
    );
  }
}

/** Writes p as the kernel's record at word `at` of (f32, i32) views of the same memory (also Mlp's augmentation). */
export function writeRecord(f32: Float32Array, i32: Int32Array, at: number, p: AugmentParams, side: number): void {
  const theta = (p.angle * Math.PI) / 180;
  const cs = Math.cos(theta) / p.scale,
    sn = Math.sin(theta) / p.scale;
  const c = (side - 1) / 2;
  // A^-1(p) = c + M (p - c - t), M = R(angle)^T / scale, with R(a) = [cos a, sin a; -sin a, cos a] in (x right,
  // y down) coordinates: counter-clockwise as displayed
  const m00 = cs,
    m01 = -sn,
    m10 = sn,
    m11 = cs;
  f32[at + AUG_M00] = m00;
  f32[at + AUG_M01] = m01;
  f32[at + AUG_M10] = m10;
  f32[at + AUG_M11] = m11;
  f32[at + AUG_B0] = c - (m00 * p.dx + m01 * p.dy);
  f32[at + AUG_B1] = c - (m10 * p.dx + m11 * p.dy);
  const f = p.field;
  const fieldFloats = BANK_PERIOD * bankStride(side);
  f32[at + AUG_AX] = f ? f.alphaX : 0;
  f32[at + AUG_AY] = f ? f.alphaY : 0;
  i32[at + AUG_FX] = f ? (f.swap ? fieldFloats : 0) + f.x : 0;
  i32[at + AUG_FY] = f ? (f.swap ? 0 : fieldFloats) + f.x : 0;
  i32[at + AUG_ROW] = f ? f.y : 0;
  i32[at + AUG_ROW_STEP] = f?.flipRows ? -1 : 1;
}

/**
 * Applies seeded random transforms to batches of images (f32, side x side, row-major, one after another), in its own
 * WASM instance. Pixels outside the image read as 0, so apply it to images whose background is 0 (x / 255, before
 * any mean/std normalization, as torchvision's transforms run before Normalize).
 */
export class Augmenter {
  /** The options in force, defaults filled in. */
  readonly options: Readonly<ResolvedAugmentOptions>;
  readonly side: number;
  /** The binary in use (the results have the same bits on either). */
  readonly variant: Variant;
  #k: KernelExports | null;
  readonly #kernel: 'simd' | 'scalar';
  readonly #chunk: number;
  readonly #bank: number;
  readonly #pad: number;
  readonly #params: number;
  readonly #inp: number;
  readonly #out: number;

  private constructor(
    options: ResolvedAugmentOptions,
    side: number,
    variant: Variant,
    k: KernelExports,
    kernel: 'simd' | 'scalar',
  ) {
    this.options = Object.freeze({ ...options, elastic: options.elastic && Object.freeze({ ...options.elastic }) });
    this.side = side;
    this.variant = variant;
    this.#k = k;
    this.#kernel = kernel;
    const P = side * side;
    // images per kernel call: ~1 MiB of input, so memory is allocated once here and never grows
    this.#chunk = Math.max(1, Math.min(256, Math.floor(262_144 / P)));
    this.#pad = k.alloc(k.augment_pad_bytes(side));
    this.#params = k.alloc(this.#chunk * AUG_WORDS * 4);
    this.#inp = k.alloc(this.#chunk * P * 4);
    this.#out = k.alloc(this.#chunk * P * 4);
    this.#bank = 0;
    if (options.elastic) {
      const bank = elasticBank(options.elastic.sigma, side);
      this.#bank = k.alloc(bank.length * 4);
      new Float32Array(k.memory.buffer, this.#bank, bank.length).set(bank);
    }
  }

  /** Validates the options and instantiates the kernels (and, with elastic, smooths the field bank: ~50 ms). */
  static async create(options: AugmentOptions, opts: AugmenterCreateOptions = {}): Promise<Augmenter> {
    if (typeof opts !== 'object' || opts === null) throw bad(`invalid create options: ${String(opts)}`);
    checkKeys(opts, ['side', 'simd', 'kernel'], 'Augmenter.create');
    const side = opts.side ?? 28;
    if (!Number.isInteger(side) || side < 1 || side > MAX_SIDE) {
      throw bad(`invalid side: ${String(side)}`, `use an integer from 1 to ${MAX_SIDE} (pixels)`);
    }
    const kernel = opts.kernel ?? 'simd';
    if (kernel !== 'simd' && kernel !== 'scalar')
      throw bad(`invalid kernel: ${String(kernel)}`, "use 'simd' or 'scalar'");
    const resolved = resolveAugmentOptions(options, side);
    const { variant, exports } = await instantiateKernels(opts.simd ?? 'auto');
    return new Augmenter(resolved, side, variant, exports, kernel);
  }

  /** The parameters image i gets under `seed` (what apply() uses). */
  draw(seed: number, i: number): AugmentParams {
    checkSeed(seed);
    if (!Number.isInteger(i) || i < 0 || i >= 2 ** 32)
      throw bad(`invalid image index: ${String(i)}`, 'use an integer from 0 to 2^32 - 1');
    return drawAugmentParams(this.options, seed, i);
  }

  /**
   * Augments `count` images of x (count x side^2 floats) into out (a new array if not given; out may be x): image j
   * gets the parameters of index first + j under `seed`, so its result depends on (seed, first + j) alone.
   */
  apply(x: Float32Array, count: number, seed: number, out?: Float32Array, first = 0): Float32Array {
    checkSeed(seed);
    if (!Number.isInteger(first) || first < 0 || first + count > 2 ** 32) {
      throw bad(`invalid first index: ${String(first)}`, 'use an integer >= 0 with first + count <= 2^32');
    }
    return this.#run(x, count, out, 'apply', (j) => drawAugmentParams(this.options, seed, first + j));
  }

  /** Applies given transforms: image j of x by params[j] (e.g. from draw(), or fixed ones for a figure). */
  transform(x: Float32Array, params: readonly AugmentParams[], out?: Float32Array): Float32Array {
    if (!Array.isArray(params)) throw bad('invalid augment params: not an array');
    params.forEach((p, n) => checkParams(p, n, this.#bank !== 0));
    return this.#run(x, params.length, out, 'transform', (j) => params[j]!);
  }

  /** Releases the instance; later calls throw CORE_DISPOSED. */
  dispose(): void {
    this.#k = null;
  }

  #run(
    x: Float32Array,
    count: number,
    out: Float32Array | undefined,
    what: string,
    paramsOf: (j: number) => AugmentParams,
  ): Float32Array {
    const k = this.#k;
    if (!k) throw new CoreError('CORE_DISPOSED', `${what}: this augmenter was disposed; create a new one`);
    const P = this.side * this.side;
    if (!(x instanceof Float32Array)) throw bad(`${what}: x must be a Float32Array`);
    if (!Number.isInteger(count) || count < 0)
      throw bad(`${what}: invalid count: ${String(count)}`, 'use an integer >= 0');
    if (x.length < count * P) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `${what}: x holds ${x.length} floats, ${count} images of ${this.side} x ${this.side} need ${count * P}`,
      );
    }
    const result = out ?? new Float32Array(count * P);
    if (!(result instanceof Float32Array) || result.length < count * P) {
      throw new CoreError('CORE_BAD_SHAPE', `${what}: out must be a Float32Array of at least ${count * P} floats`);
    }
    const run = this.#kernel === 'scalar' ? k.augment_f32_scalar : k.augment_f32;
    const fieldStride = bankStride(this.side);
    for (let start = 0; start < count; start += this.#chunk) {
      const n = Math.min(this.#chunk, count - start);
      // views made per chunk: nothing here allocates, but a detached buffer must never be written
      const buf = k.memory.buffer;
      const f32 = new Float32Array(buf, this.#params, n * AUG_WORDS),
        i32 = new Int32Array(buf, this.#params, n * AUG_WORDS);
      for (let j = 0; j < n; j++) writeRecord(f32, i32, j * AUG_WORDS, paramsOf(start + j), this.side);
      new Float32Array(buf, this.#inp, n * P).set(x.subarray(start * P, (start + n) * P));
      run(this.#out, this.#inp, this.#params, this.#pad, this.#bank, n, this.side, fieldStride, BANK_PERIOD - 1);
      result.set(new Float32Array(buf, this.#out, n * P), start * P);
    }
    return result;
  }
}

/** Throws CORE_BAD_ARGUMENT unless seed is an integer whose low 32 bits can be used (also Mlp's augmentSeed). */
export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
    throw bad(`invalid seed: ${String(seed)}`, 'use an integer (its low 32 bits are used)');
  }
}
