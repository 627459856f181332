// The default model is embedded into dist/mnist.js by esbuild's binary loader (see scripts/build.mjs).
declare module '*.pth' {
  const bytes: Uint8Array;
  export default bytes;
}
