// The thread pool behind `Mlp.create(sizes, { threads })`: helper threads (worker_threads in Node, Web Workers in a
// browser) each instantiate the threaded binary over the network's shared memory and run their share of every job.

import { CoreError } from './errors.js';
import type { WasmMemory, WasmModule } from './kernels.js';
import { C_DONE, C_ERROR, C_OP, C_SEQ, C_THREADS, CTRL_BYTES, OP_STOP } from './layout.js';

/** `threads` option: a count, or 'auto' (the cores this engine reports, capped at MAX_AUTO_THREADS). */
export type ThreadsOption = number | 'auto';

/** 'auto' never starts more threads than this: past 8 the 784-512-10 batches are too small to split further. */
export const MAX_AUTO_THREADS = 8;
/** An explicit count above this is refused as a mistake. */
export const MAX_THREADS = 64;

/** Tunables of the pool (internal; tests lower `minFlops` to force small jobs onto every thread). */
export const tuning = {
  /** Jobs under this many floating-point operations stay on the calling thread (batch 1 is ~0.8 MFLOP). */
  minFlops: 3e6,
  /**
   * Milliseconds a helper polls for the next job before it sleeps in Atomics.wait: long enough to stay awake between
   * the jobs of a training step and back-to-back batches, short enough not to take a shared core from anyone else.
   */
  helperSpinMs: 0.25,
  /** Milliseconds the caller polls for the helpers to finish before it sleeps. */
  callerSpinMs: 0.1,
};

/**
 * The first batch row of thread tid when a job's n rows are split between `threads` (blocks of 4 rows): split() of
 * assembly/jobs.ts, which the row jobs use. The caller copies the helpers' input rows first and its own while they
 * run (Mlp's inference), so the two must agree; a disagreement shows as wrong rows in test/threads.test.ts.
 */
export function rowSplit(n: number, tid: number, threads: number): number {
  const units = Math.ceil(n / 4);
  return Math.min(Math.floor((units * tid) / threads) * 4, n);
}

/** Counters for tests: how many jobs ran on more than one thread in this process. */
export const stats = { parallelJobs: 0 };

/**
 * Internal profiling hook (scripts/profile.mjs): when set, called after every job of every network with its op and
 * arg (src/layout.ts), batch rows, the threads that ran it and its wall time in milliseconds.
 */
export const profile: {
  onJob: ((op: number, arg: number, rows: number, threads: number, ms: number) => void) | null;
} = { onJob: null };

type Host =
  | { kind: 'node'; Worker: new (src: string, opts: { eval: true }) => NodeWorker; cores: number }
  | { kind: 'browser'; cores: number };

interface NodeWorker {
  postMessage(msg: unknown): void;
  on(event: 'message' | 'error' | 'exit', cb: (v: never) => void): void;
  unref(): void;
  terminate(): unknown;
}

interface Helper {
  post(msg: unknown): void;
  terminate(): void;
  unref?(): void;
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (name: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

/**
 * Where helper threads can run, or why not. They need SharedArrayBuffer (in a browser: a cross-origin-isolated
 * page), Atomics.wait on the calling thread (Node: any thread; a browser: only inside a Worker) and a Worker
 * constructor.
 */
export async function threadHost(): Promise<Host | string> {
  const g = globalThis as Record<string, unknown>;
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    return 'this engine has no SharedArrayBuffer (a browser page must be cross-origin isolated: COOP/COEP headers)';
  }
  const proc = nodeProcess();
  if (proc) {
    // process.getBuiltinModule (Node >= 20.16) keeps bundlers from seeing a node: import; else a computed import
    const name = 'node:worker_threads';
    let wt = proc.getBuiltinModule?.(name) as { Worker?: unknown } | undefined;
    let os = proc.getBuiltinModule?.('node:os') as
      | { availableParallelism?: () => number; cpus?: () => unknown[] }
      | undefined;
    try {
      wt ??= (await import(/* @vite-ignore */ name)) as { Worker?: unknown };
      os ??= (await import(/* @vite-ignore */ 'node:' + 'os')) as typeof os;
    } catch {
      return 'node:worker_threads is not available';
    }
    if (typeof wt?.Worker !== 'function') return 'node:worker_threads is not available';
    const cores = os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1;
    return { kind: 'node', Worker: wt.Worker as never, cores };
  }
  if (g.crossOriginIsolated === false) {
    return 'this page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp), so it has no SharedArrayBuffer';
  }
  const inWorker =
    typeof g.WorkerGlobalScope === 'function' && g.self instanceof (g.WorkerGlobalScope as new () => object);
  if (!inWorker)
    return "Atomics.wait is not allowed on a browser's main thread: run the network in a Web Worker to use threads";
  if (typeof g.Worker !== 'function' || typeof Blob !== 'function' || typeof URL?.createObjectURL !== 'function') {
    return 'this worker cannot start nested Web Workers';
  }
  const cores = (g.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 1;
  return { kind: 'browser', cores };
}

/** Resolves the `threads` option against the host: a count >= 1 and, for 1, the reason threads are off. */
export function resolveThreads(option: ThreadsOption | undefined, host: Host | string): number {
  const want = option ?? 'auto';
  if (want === 'auto') return typeof host === 'string' ? 1 : Math.max(1, Math.min(MAX_AUTO_THREADS, host.cores));
  if (!Number.isInteger(want) || want < 1 || want > MAX_THREADS) {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `invalid threads option: ${String(want)} (use 'auto' or a whole number from 1 to ${MAX_THREADS})`,
    );
  }
  if (want > 1 && typeof host === 'string') {
    throw new CoreError(
      'CORE_UNSUPPORTED',
      `threads: ${want} asked for, but ${host}; use threads: 'auto' (falls back to 1) or 1`,
    );
  }
  return want;
}

// The helper's program, as source so nothing extra needs bundling: Node runs it with `eval: true`, a browser from
// a Blob URL. It instantiates the module over the shared memory, says ready, then loops: wait for a new seq, run
// its share, count itself done. op 0 (stop) ends the loop.
const HELPER_SOURCE = `'use strict';
const node = typeof process === 'object' && !!(process.versions && process.versions.node);
// eval'd code is CommonJS (require) or, under --input-type=module, ESM (process.getBuiltinModule, Node >= 20.16)
const port = node ? (process.getBuiltinModule ? process.getBuiltinModule('worker_threads') : require('worker_threads')).parentPort : self;
const receive = (cb) => { if (node) port.once('message', cb); else self.onmessage = (e) => cb(e.data); };
receive(async ({ module, memory, ctrl, tid, helperSpinMs }) => {
  let run;
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory, abort() { throw new Error('WASM core aborted'); } } });
    run = instance.exports.run_job;
  } catch (e) {
    port.postMessage({ error: String((e && e.message) || e) });
    return;
  }
  const c = new Int32Array(memory.buffer, ctrl, ${CTRL_BYTES / 4});
  // read seq before saying ready: the caller may start the first job the moment it hears
  let seq = Atomics.load(c, ${C_SEQ});
  port.postMessage({ ready: true });
  for (;;) {
    let s = Atomics.load(c, ${C_SEQ});
    if (s === seq) {
      const until = performance.now() + helperSpinMs;
      for (let n = 0; s === seq; s = Atomics.load(c, ${C_SEQ})) {
        if ((++n & 255) === 0 && performance.now() > until) Atomics.wait(c, ${C_SEQ}, seq);
      }
    }
    seq = s;
    if (c[${C_OP}] === ${OP_STOP}) break;
    try { run(ctrl, tid, c[${C_THREADS}]); } catch (e) { Atomics.store(c, ${C_ERROR}, 1); }
    Atomics.add(c, ${C_DONE}, 1);
    Atomics.notify(c, ${C_DONE});
  }
  if (node) port.close(); else self.close();
});
`;

/** Helper threads for one network's memory. The calling thread is thread 0; helpers are 1..threads-1. */
export class ThreadPool {
  readonly threads: number;
  readonly #ctrl: Int32Array;
  #helpers: Helper[];

  private constructor(threads: number, ctrl: Int32Array, helpers: Helper[]) {
    this.threads = threads;
    this.#ctrl = ctrl;
    this.#helpers = helpers;
  }

  /** Starts threads - 1 helpers over `memory` and resolves once every one has instantiated the module. */
  static async start(
    host: Host,
    threads: number,
    module: WasmModule,
    memory: WasmMemory,
    ctrl: number,
  ): Promise<ThreadPool> {
    const helpers: Helper[] = [];
    const ready: Promise<void>[] = [];
    let url: string | undefined;
    try {
      for (let tid = 1; tid < threads; tid++) {
        ready.push(
          new Promise<void>((resolve, reject) => {
            const fail = (why: string) =>
              reject(new CoreError('CORE_UNSUPPORTED', `thread ${tid} did not start: ${why}`));
            const onMessage = (m: { ready?: boolean; error?: string }) =>
              m?.ready ? resolve() : fail(m?.error ?? 'unknown reply');
            if (host.kind === 'node') {
              const w = new host.Worker(HELPER_SOURCE, { eval: true });
              w.on('message', onMessage as never);
              w.on('error', ((e: Error) => fail(e.message)) as never);
              w.on('exit', (() => fail('exited')) as never);
              helpers.push({
                post: (msg) => w.postMessage(msg),
                terminate: () => void w.terminate(),
                unref: () => w.unref(),
              });
            } else {
              url ??= URL.createObjectURL(new Blob([HELPER_SOURCE], { type: 'text/javascript' }));
              const w = new Worker(url);
              w.onmessage = (e) => onMessage(e.data);
              w.onerror = (e) => fail(e.message);
              helpers.push({ post: (msg) => w.postMessage(msg), terminate: () => w.terminate() });
            }
            helpers[helpers.length - 1].post({ module, memory, ctrl, tid, helperSpinMs: tuning.helperSpinMs });
          }),
        );
      }
      await Promise.all(ready);
      // only now: an unref'd worker does not keep the event loop alive while we wait for it to start. From here
      // a process whose networks were never disposed still exits.
      for (const h of helpers) h.unref?.();
    } catch (e) {
      for (const h of helpers) h.terminate();
      throw e;
    } finally {
      if (url) URL.revokeObjectURL(url);
    }
    return new ThreadPool(threads, new Int32Array(memory.buffer, ctrl, CTRL_BYTES / 4), helpers);
  }

  /**
   * Runs a job (op and arg already written by the caller's kernels view) on every thread: wakes the helpers, runs
   * share 0 through `runShare`, then waits for the others. Throws CORE_WASM_ABORT if any share failed.
   */
  run(runShare: () => void): void {
    const c = this.#ctrl,
      helpers = this.threads - 1;
    if (this.#helpers.length === 0) throw new CoreError('CORE_DISPOSED', 'the thread pool was disposed');
    stats.parallelJobs++;
    Atomics.store(c, C_ERROR, 0);
    Atomics.store(c, C_DONE, 0);
    Atomics.add(c, C_SEQ, 1);
    Atomics.notify(c, C_SEQ);
    let failed: unknown = null;
    try {
      runShare();
    } catch (e) {
      failed = e;
    }
    // every helper must be done before the memory is touched again, even when share 0 failed
    let done = Atomics.load(c, C_DONE);
    const until = performance.now() + tuning.callerSpinMs;
    for (let n = 0; done < helpers; done = Atomics.load(c, C_DONE)) {
      if ((++n & 255) === 0 && performance.now() > until) {
        if (Atomics.wait(c, C_DONE, done, 60_000) === 'timed-out' && Atomics.load(c, C_DONE) === done) {
          throw new CoreError(
            'CORE_WASM_ABORT',
            'a helper thread stopped responding (60 s): dispose this network and create a new one',
          );
        }
      }
    }
    if (failed) throw failed;
    if (Atomics.load(c, C_ERROR))
      throw new CoreError(
        'CORE_WASM_ABORT',
        'WASM core aborted in a helper thread (most likely out of memory: use a smaller batch)',
      );
  }

  /** Stops and terminates the helpers. Safe to call twice. */
  dispose(): void {
    if (this.#helpers.length === 0) return;
    const c = this.#ctrl;
    Atomics.store(c, C_OP, OP_STOP);
    Atomics.add(c, C_SEQ, 1);
    Atomics.notify(c, C_SEQ);
    for (const h of this.#helpers) h.terminate();
    this.#helpers = [];
  }
}
