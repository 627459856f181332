// Out-of-process peers of the inference table: onnxruntime-web (one child process per thread count, on an ONNX file
// real PyTorch exports from the same weights) and NumPy on OpenBLAS. Each is skipped with a printed reason when it
// cannot run here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Rate } from './inference.js';
import { dataDir } from './mnist.js';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = join(here, '..', 'scripts');
export const python = process.env.PYTHON_TORCH || '/usr/bin/python3';

export interface PeerResult {
  name: string;
  threads: string;
  rates: Record<string, Rate>;
  predictions: Int32Array;
  note?: string;
}

export type Outcome = PeerResult | { skipped: string };

function lastJsonLine(out: string): unknown {
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Exports WEIGHTS as an ONNX file with torch.onnx.export (scripts/make_onnx.py); null and a reason if it cannot. */
export function makeOnnx(weightsFile: string, onnxFile: string): { torch: string } | { skipped: string } {
  try {
    const out = execFileSync(python, [join(scripts, 'make_onnx.py'), weightsFile, onnxFile], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (!existsSync(onnxFile)) return { skipped: 'make_onnx.py wrote no file' };
    return lastJsonLine(out) as { torch: string };
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr || (e as Error).message)
      .trim()
      .split('\n')
      .pop();
    return {
      skipped: `${python} could not export the ONNX file with torch.onnx.export (${msg}); install python3-torch, or set PYTHON_TORCH`,
    };
  }
}

export function runOrt(onnxFile: string, threads: number, images: number, runs: number): Outcome {
  try {
    const out = execFileSync(
      process.execPath,
      [join(here, 'ort-child.js'), String(threads), onnxFile, String(images), String(runs)],
      { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const r = lastJsonLine(out) as { version: string; rates: Record<string, Rate>; predictions: number[] };
    return {
      name: `onnxruntime-web ${r.version} (wasm)`,
      threads: String(threads),
      rates: r.rates,
      predictions: Int32Array.from(r.predictions),
    };
  } catch (e) {
    return {
      skipped: `onnxruntime-web with ${threads} thread(s) failed: ${String((e as Error).message).split('\n')[0]}`,
    };
  }
}

/** NumPy batched matmul; `cleanEnv` drops OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for this one command. */
export function runNumpy(weightsFile: string, runs: number, cleanEnv: boolean): Outcome {
  const env = { ...process.env };
  if (cleanEnv) {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  try {
    const out = execFileSync(python, [join(scripts, 'numpy_infer.py'), weightsFile, dataDir, String(runs)], {
      encoding: 'utf8',
      timeout: 300_000,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = lastJsonLine(out) as {
      numpy: string;
      blas: string;
      openblas_threads: string;
      openblas_coretype: string;
      rates: Record<string, Rate>;
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
      threads: r.openblas_threads.startsWith('default') ? 'all' : r.openblas_threads,
      rates: r.rates,
      predictions: Int32Array.from(r.predictions),
      note: r.blas,
    };
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr || (e as Error).message)
      .trim()
      .split('\n')
      .pop();
    return { skipped: `${python} with numpy could not run (${msg}); install python3-numpy and libopenblas0-pthread` };
  }
}
