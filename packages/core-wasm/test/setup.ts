// Turns on relaxed SIMD in this test process (Node 20 keeps it behind a flag) before any WASM is compiled.
// The library never does this itself: it is the caller's choice. Tests that need it skip with a reason if it did not take.
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
