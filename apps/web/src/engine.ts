// The page's handle on the engine worker: typed request/response calls over postMessage, progress callbacks.
import type { Envelope, ErrorInfo, Reply, Request, Responses, TrainProgress } from './protocol.js';

export class EngineError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'EngineError';
    this.code = info.code;
    this.hint = info.hint;
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (p: TrainProgress) => void };

export class Engine {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(url = 'worker.js') {
    this.worker = new Worker(url, { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<Reply>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      const err = new EngineError({ code: 'WEB_WORKER', message: `the engine worker failed: ${event.message}` });
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  call<R extends Request>(req: R, transfer: Transferable[] = [], progress?: (p: TrainProgress) => void): Promise<Responses[R['op']]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      this.worker.postMessage({ id, ...req } as Envelope, transfer);
    });
  }

  private receive(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    if ('progress' in reply) return p.progress?.(reply.progress);
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new EngineError(reply.error));
  }
}
