// Declarations for the module scripts/embed-wasm.mjs generates at build time (the two WASM binaries as base64).
export declare const simdWasmBase64: string;
export declare const relaxedSimdWasmBase64: string;
