// The PyTorch peer of the training table: runs scripts/pytorch_train.py (real torch, one thread) from the same
// initial weights and shuffle orders as ours. Skipped, with the reason printed, when python3 with torch is absent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayerParams } from '@mnist/core-wasm';
import { dataDir } from './mnist.js';

export interface TorchResult {
  torch: string;
  epoch_seconds: number[];
  accuracy: number[];
  first_losses: number[];
}

const python = process.env.PYTHON_TORCH || '/usr/bin/python3';
const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'pytorch_train.py');

/** null and a reason when torch cannot run here. */
export function torchAvailable(): string | null {
  try {
    execFileSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
    return null;
  } catch {
    return `${python} cannot import torch and numpy (install python3-torch, or set PYTHON_TORCH)`;
  }
}

export function trainTorch(
  layers: LayerParams[],
  orders: Uint32Array[],
  batch: number,
  lr: number,
  epochs: number,
): TorchResult {
  const sizes = [layers[0].in, ...layers.map((L) => L.out)];
  const n = orders[0].length;
  const parts: Uint8Array[] = [new TextEncoder().encode('MLPB')];
  const u32 = (...v: number[]) => new Uint8Array(Uint32Array.from(v).buffer);
  parts.push(u32(sizes.length, ...sizes, n, orders.length, batch), new Uint8Array(Float32Array.of(lr).buffer));
  for (const L of layers)
    parts.push(
      new Uint8Array(L.weight.buffer, L.weight.byteOffset, L.weight.byteLength),
      new Uint8Array(L.bias.buffer, L.bias.byteOffset, L.bias.byteLength),
    );
  for (const o of orders) parts.push(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
  const dir = mkdtempSync(join(tmpdir(), 'mnist-bench-'));
  try {
    const file = join(dir, 'input.bin');
    writeFileSync(file, Buffer.concat(parts));
    const out = execFileSync(python, [script, file, String(epochs), dataDir], {
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    });
    return JSON.parse(out.trim().split('\n').pop()!) as TorchResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
