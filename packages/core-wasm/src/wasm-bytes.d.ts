// Declarations for the module scripts/embed-wasm.mjs generates at build time (the four WASM binaries as base64).
export declare const simdWasmBase64: string;
export declare const relaxedSimdWasmBase64: string;
/** The threaded twins import a shared memory (env.memory, maximum 16384 pages = 1 GiB). */
export declare const simdThreadsWasmBase64: string;
export declare const relaxedSimdThreadsWasmBase64: string;
