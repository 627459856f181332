// The page's handle on the engine worker: typed request/response calls over postMessage, progress callbacks.
// A failed call rejects with the error as it crossed the boundary, plain { code, message, hint? } (see errors.ts).
import { WebError } from './errors.js';
import type { Envelope, ErrorInfo, Reply, Request, Responses, TrainProgress } from './protocol.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: ErrorInfo) => void; progress?: (p: TrainProgress) => void };

export class Engine {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(url = 'worker.js') {
    this.worker = new Worker(url, { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<Reply>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      const err = new WebError('WEB_WORKER', `the engine worker failed: ${event.message}`, 'reload the page');
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  call<R extends Request>(
    req: R,
    transfer: Transferable[] = [],
    progress?: (p: TrainProgress) => void,
  ): Promise<Responses[R['op']]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      this.worker.postMessage({ id, ...req } as Envelope, transfer);
    });
  }

  private receive(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    if ('progress' in reply) {
      p.progress?.(reply.progress);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(reply.error);
  }
}
