// The main thread's handle on a model worker (worker.ts): start it, wait until its model is
// loaded, send it messages, and route what it sends back to the request that waits for it.
// Runs the worker from its compiled .js, or from the .ts source through tsx (tests, development).
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import type { WorkerSpec } from './worker.js';

export class ModelWorker<Info = unknown> {
  private readonly worker: Worker;
  private readonly listeners = new Map<string, (m: Record<string, unknown>) => void>();
  readonly ready: Promise<Info>;
  private closedResolve: (() => void) | null = null;
  /** set when the worker died: every later request fails with this */
  failure: string | null = null;

  constructor(spec: WorkerSpec) {
    const self = new URL(import.meta.url);
    if (self.pathname.endsWith('.ts')) {
      const file = new URL('./worker.ts', self).href;
      const tsx = import.meta.resolve('tsx/esm/api');
      this.worker = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`, { eval: true, workerData: spec });
    } else {
      this.worker = new Worker(new URL('./worker.js', self), { workerData: spec });
    }
    this.ready = new Promise<Info>((resolve, reject) => {
      this.worker.on('message', (m: Record<string, unknown>) => {
        if (m.type === 'ready') resolve(m.info as Info);
        else if (m.type === 'fatal') {
          this.failure = String(m.message);
          reject(new UserError({ what: `the ${spec.kind} model could not be served`, where: spec.kind === 'policy' ? spec.model : spec.models.map((x) => x.dir).join(', '), received: String(m.message) }));
        } else if (m.type === 'closed') this.closedResolve?.();
        else if (m.type === 'events') for (const e of m.events as Record<string, unknown>[]) this.listeners.get(e.id as string)?.(e);
        else if (typeof m.id === 'string') this.listeners.get(m.id)?.(m);
      });
      this.worker.on('error', (e) => {
        this.failure = e.message;
        reject(e);
        for (const l of this.listeners.values()) l({ type: 'error', status: 500, code: 'internal_error', param: null, message: 'the model worker stopped; see the server log' });
      });
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
  }

  /** Receive the messages about request `id` until off(id). */
  on(id: string, listener: (m: Record<string, unknown>) => void): void {
    this.listeners.set(id, listener);
  }

  off(id: string): void {
    this.listeners.delete(id);
  }

  post(message: Record<string, unknown>): void {
    this.worker.postMessage(message);
  }

  /** Ask the worker to finish what it has and stop; then end the thread. */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.failure === null) {
      const closed = new Promise<void>((r) => (this.closedResolve = r));
      this.post({ type: 'close' });
      await Promise.race([closed, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
    await this.worker.terminate();
  }
}
