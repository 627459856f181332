// Entry of the WASM core: every kernel (one file per layer family) plus the allocator, as raw-pointer exports.
// The TS side (src/kernels.ts) mirrors these signatures; nothing here allocates except alloc().

export * from './dense';
export * from './relu';
export * from './softmax_xent';
export * from './sgd';
export * from './jobs';
export * from './peak';

/** Allocates `size` bytes, 16-byte aligned, growing memory as needed (stub runtime: a bump allocator). */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

/** Frees a block; the stub runtime only reclaims the most recently allocated one. */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Fills `n` floats at ptr with zero. */
export function zero_f32(ptr: usize, n: i32): void {
  memory.fill(ptr, 0, <usize>n << 2);
}
