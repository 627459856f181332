// Storage dtypes a torch.save file can name, their sizes, and element conversion to float32.

export type PthDtype =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const FLOAT_DTYPES: ReadonlySet<PthDtype> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

/** torch.<Name>Storage -> dtype and bytes per element. The storage classes are how a pickle names a dtype. */
export const STORAGE_TYPES: ReadonlyMap<string, { dtype: PthDtype; itemsize: number }> = new Map([
  ['FloatStorage', { dtype: 'float32', itemsize: 4 }],
  ['DoubleStorage', { dtype: 'float64', itemsize: 8 }],
  ['HalfStorage', { dtype: 'float16', itemsize: 2 }],
  ['BFloat16Storage', { dtype: 'bfloat16', itemsize: 2 }],
  ['LongStorage', { dtype: 'int64', itemsize: 8 }],
  ['IntStorage', { dtype: 'int32', itemsize: 4 }],
  ['ShortStorage', { dtype: 'int16', itemsize: 2 }],
  ['CharStorage', { dtype: 'int8', itemsize: 1 }],
  ['ByteStorage', { dtype: 'uint8', itemsize: 1 }],
  ['BoolStorage', { dtype: 'bool', itemsize: 1 }],
  ['UntypedStorage', { dtype: 'uint8', itemsize: 1 }],
] as [string, { dtype: PthDtype; itemsize: number }][]);

/** Storage classes that exist but whose tensors this loader does not convert (named so the error is precise). */
export const UNSUPPORTED_STORAGE_TYPES: ReadonlyMap<string, string> = new Map([
  ['ComplexFloatStorage', 'complex64'],
  ['ComplexDoubleStorage', 'complex128'],
  ['QInt8Storage', 'qint8'],
  ['QUInt8Storage', 'quint8'],
  ['QInt32Storage', 'qint32'],
  ['QUInt4x2Storage', 'quint4x2'],
  ['QUInt2x4Storage', 'quint2x4'],
]);

const F16_EXP = new Float32Array(32);
for (let e = 0; e < 32; e++) F16_EXP[e] = 2 ** (e - 15);

/** IEEE half-precision bits -> number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24; // subnormal
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * F16_EXP[e] * (1 + m / 1024);
}
