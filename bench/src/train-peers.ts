// The Python peers of the training table: PyTorch (scripts/pytorch_train.py: torch.optim SGD with momentum and Adam)
// and NumPy on OpenBLAS (scripts/numpy_train.py: SGD with momentum), each in its own process per thread count, from
// the same initial weights on the same batches as ours (the orders training.ts's epochOrder gives), so losses and
// accuracy compare one to one. Skipped, with the reason printed, when python3 with torch / numpy is absent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerParams } from '@mnist/core-wasm';
import { dataDir } from './mnist.js';
import { failure, python, runPython } from './peers.js';
import { writeWeights } from './weights.js';

/** One run of a training peer: per-epoch seconds and test accuracy, and the first batch losses. */
export interface PeerTrainRun {
  name: string;
  epoch_seconds: number[];
  accuracy: number[];
  first_losses: number[];
}

/** null, or why torch cannot run here. */
export function torchAvailable(): string | null {
  try {
    execFileSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
    return null;
  } catch {
    return `${python} cannot import torch and numpy (install python3-torch, or set PYTHON_TORCH)`;
  }
}

/**
 * The files the scripts read (weights_io.py read_train_input): the initial weights (weights.ts's format) and every
 * epoch's order as little-endian u32, epoch after epoch.
 */
function withTrainInput<T>(layers: LayerParams[], orders: Uint32Array[], use: (files: string[]) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-bench-'));
  try {
    const files = [join(dir, 'weights.bin'), join(dir, 'orders.bin')];
    writeWeights(files[0], layers);
    writeFileSync(files[1], Buffer.concat(orders.map((o) => new Uint8Array(o.buffer, o.byteOffset, o.byteLength))));
    return use(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A torch.optim optimizer by name and its keyword arguments, e.g. { optimizer: 'sgd', kwargs: { lr, momentum } }. */
export interface TorchOptimizer {
  name: string;
  optimizer: 'sgd' | 'adam' | 'adamw';
  kwargs: Record<string, number | number[] | boolean>;
}

/** PyTorch on `threads` threads: each optimizer trains all epochs from `layers`. */
export function trainTorch(
  layers: LayerParams[],
  orders: Uint32Array[],
  batch: number,
  threads: number,
  runs: TorchOptimizer[],
): { torch: string; runs: PeerTrainRun[] } | { skipped: string } {
  try {
    return withTrainInput(layers, orders, (files) => {
      const spec = JSON.stringify({ threads, batch, epochs: orders.length, runs });
      return runPython('pytorch_train.py', [...files, spec, dataDir], threads, { timeout: 900_000 }) as {
        torch: string;
        runs: PeerTrainRun[];
      };
    });
  } catch (e) {
    return { skipped: `PyTorch training on ${threads} thread(s) failed: ${failure(e)}` };
  }
}

/** NumPy on `threads` OpenBLAS threads, SGD with momentum. */
export function trainNumpy(
  layers: LayerParams[],
  orders: Uint32Array[],
  batch: number,
  threads: number,
  sgd: { lr: number; momentum: number },
): ({ numpy: string; blas: string } & PeerTrainRun) | { skipped: string } {
  try {
    return withTrainInput(layers, orders, (files) => {
      const spec = JSON.stringify({ ...sgd, batch, epochs: orders.length });
      const r = runPython('numpy_train.py', [...files, spec, dataDir], threads, { timeout: 900_000 }) as {
        numpy: string;
        blas: string;
      } & Omit<PeerTrainRun, 'name'>;
      return { ...r, name: 'sgd' };
    });
  } catch (e) {
    return { skipped: `NumPy training on ${threads} thread(s) failed: ${failure(e)}` };
  }
}
