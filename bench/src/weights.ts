// Writes a network's layers to the small binary file the Python peers read (scripts/weights_io.py): 'MLPW', u32 layer
// count, u32 sizes, then each layer's weight (out x in, PyTorch layout) and bias as little-endian float32.
import { writeFileSync } from 'node:fs';
import type { LayerParams } from '@mnist/core-wasm';

export function writeWeights(path: string, layers: LayerParams[]): void {
  const sizes = [layers[0].in, ...layers.map((L) => L.out)];
  const parts: Uint8Array[] = [
    new TextEncoder().encode('MLPW'),
    new Uint8Array(Uint32Array.from([layers.length, ...sizes]).buffer),
  ];
  for (const L of layers) {
    parts.push(new Uint8Array(L.weight.buffer, L.weight.byteOffset, L.weight.byteLength));
    parts.push(new Uint8Array(L.bias.buffer, L.bias.byteOffset, L.bias.byteLength));
  }
  writeFileSync(path, Buffer.concat(parts));
}
