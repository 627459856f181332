// Out-of-process peers of the inference table: onnxruntime-web (WASM) and onnxruntime-node (native, CPU execution
// provider), one child process per runtime and thread count, on an ONNX file real PyTorch exports from the same
// weights; NumPy on OpenBLAS and PyTorch, each a Python script per thread count. Each is skipped with a printed
// reason when it cannot run here. runPython is also how the training peers (train-peers.ts) start their scripts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BATCH1_IMAGES, BATCHES, type Passes } from './inference.js';
import { dataDir } from './mnist.js';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = join(here, '..', 'scripts');
export const python = process.env.PYTHON_TORCH || '/usr/bin/python3';

export interface PeerResult {
  name: string;
  threads: string;
  passes: Record<string, Passes>;
  predictions: Int32Array;
}

export type Outcome = PeerResult | { skipped: string };

/** The last line a failed child printed on stderr (its exception), or the error's first line. */
export function failure(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return String(err.stderr?.trim() || err.message || e)
    .trim()
    .split('\n')
    .pop()!;
}

/**
 * Runs scripts/SCRIPT with `python`, its BLAS and OpenMP pools pinned to `threads` (null: their defaults; OpenMP
 * waiting passively on more than one), and
 * returns the JSON of its last output line. `cleanEnv` drops OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for this command.
 */
export function runPython(
  script: string,
  args: string[],
  threads: number | null,
  { cleanEnv = false, timeout = 300_000 } = {},
): unknown {
  const env = { ...process.env };
  if (threads !== null) env.OMP_NUM_THREADS = env.OPENBLAS_NUM_THREADS = String(threads);
  // PyTorch's OpenMP threads spin-wait between its parallel regions by default and then fight OpenBLAS's own threads
  // for the 2 cores: an epoch on 2 threads took 9.2 s here that way and 1.2-2.2 s with passive waiting (1 thread:
  // 2.0-2.4 s). Passive is PyTorch's better configuration here; NumPy's OpenBLAS (pthreads) ignores the variable.
  if (threads !== null && threads > 1) env.OMP_WAIT_POLICY = 'PASSIVE';
  if (cleanEnv) {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  const out = execFileSync(python, [join(scripts, script), ...args], {
    encoding: 'utf8',
    timeout,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Exports WEIGHTS as an ONNX file with torch.onnx.export (scripts/make_onnx.py), or a reason it cannot. */
export function makeOnnx(weightsFile: string, onnxFile: string): { torch: string } | { skipped: string } {
  try {
    const r = runPython('make_onnx.py', [weightsFile, onnxFile], 1, { timeout: 120_000 }) as { torch: string };
    if (!existsSync(onnxFile)) return { skipped: 'make_onnx.py wrote no file' };
    return r;
  } catch (e) {
    return {
      skipped: `${python} could not export the ONNX file with torch.onnx.export (${failure(e)}); install python3-torch, or set PYTHON_TORCH`,
    };
  }
}

/** onnxruntime-web (wasm backend) or onnxruntime-node (CPU execution provider) in a child process. */
export function runOrt(
  runtime: 'web' | 'node',
  onnxFile: string,
  threads: number,
  images: number,
  passes: number,
): Outcome {
  try {
    const out = execFileSync(
      process.execPath,
      [join(here, 'ort-child.js'), runtime, String(threads), onnxFile, String(images), String(passes)],
      { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      version: string;
      passes: Record<string, Passes>;
      predictions: number[];
    };
    return {
      name: runtime === 'node' ? `onnxruntime-node ${r.version} (CPU EP)` : `onnxruntime-web ${r.version} (wasm)`,
      threads: String(threads),
      passes: r.passes,
      predictions: Int32Array.from(r.predictions),
    };
  } catch (e) {
    return { skipped: `onnxruntime-${runtime} with ${threads} thread(s) failed: ${failure(e)}` };
  }
}

const batchArgs = (passes: number) => [String(passes), BATCHES.join(','), String(BATCH1_IMAGES)];

/** NumPy batched matmul on `threads` OpenBLAS threads; `cleanEnv` as in runPython. */
export function runNumpy(weightsFile: string, threads: number, passes: number, cleanEnv: boolean): Outcome {
  try {
    const r = runPython('numpy_infer.py', [weightsFile, dataDir, ...batchArgs(passes)], threads, { cleanEnv }) as {
      numpy: string;
      blas: string;
      openblas_coretype: string;
      passes: Record<string, Passes>;
      predictions: number[];
    };
    const blas = r.blas.split('/').pop() || r.blas;
    const coretype = r.openblas_coretype
      ? `, OPENBLAS_CORETYPE=${r.openblas_coretype}`
      : cleanEnv && process.env.OPENBLAS_CORETYPE
        ? ', OPENBLAS_CORETYPE unset'
        : '';
    return {
      name: `NumPy ${r.numpy} matmul (${blas}${coretype})`,
      threads: String(threads),
      passes: r.passes,
      predictions: Int32Array.from(r.predictions),
    };
  } catch (e) {
    return {
      skipped: `${python} with numpy could not run (${failure(e)}); install python3-numpy and libopenblas0-pthread`,
    };
  }
}

/** PyTorch (nn.Sequential in eval mode, inference_mode) with torch.set_num_threads(threads). */
export function runTorch(weightsFile: string, threads: number, passes: number): Outcome {
  try {
    const r = runPython('torch_infer.py', [weightsFile, dataDir, String(threads), ...batchArgs(passes)], threads) as {
      torch: string;
      blas: string;
      passes: Record<string, Passes>;
      predictions: number[];
    };
    const blas = r.blas.split('/').pop() || r.blas;
    return {
      name: `PyTorch ${r.torch} (${blas})`,
      threads: String(threads),
      passes: r.passes,
      predictions: Int32Array.from(r.predictions),
    };
  } catch (e) {
    return { skipped: `PyTorch with ${threads} thread(s) could not run (${failure(e)}); install python3-torch` };
  }
}
