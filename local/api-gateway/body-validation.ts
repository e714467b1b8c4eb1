/**
 * Request-body validation that never holds the event loop for long: bodies up to a size
 * are parsed and checked on the calling thread (a few milliseconds at most), larger ones in
 * a small pool of worker threads, so a 10 MB body with hundreds of thousands of keys costs
 * the process nothing but a copy. The schemas are compiled once per thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createBodyValidator, type BodyCheck } from './body-validator.cjs';

export type { BodyCheck } from './body-validator.cjs';

export interface BodyValidationOptions {
  /** Bodies larger than this go to a worker thread. @default 262144 (256 KiB: about 3 ms of parsing) */
  readonly workerThresholdBytes?: number;
  /**
   * Worker threads, started as needed. One core is left to the event loop: with every core
   * parsing, the loop would wait for the scheduler instead. @default cores - 1, 1 to 4
   */
  readonly workers?: number;
}

export const BODY_VALIDATION_DEFAULTS = { workerThresholdBytes: 256 * 1024, workers: Math.min(4, Math.max(1, availableParallelism() - 1)) } as const;

type WorkerReply = { id: number; ok: true } | { id: number; ok: false; message: string } | { id: number; error: string };

interface PooledWorker {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve(reply: WorkerReply): void; reject(error: Error): void }>;
}

export class BodyValidation {
  private readonly validate: (model: string, text: string) => BodyCheck;
  private readonly threshold: number;
  private readonly poolSize: number;
  private readonly pool: PooledWorker[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    /** Each model's draft-04 schema, by model name. */
    private readonly schemas: Readonly<Record<string, object>>,
    options: BodyValidationOptions = {},
  ) {
    this.validate = createBodyValidator(schemas);
    this.threshold = options.workerThresholdBytes ?? BODY_VALIDATION_DEFAULTS.workerThresholdBytes;
    this.poolSize = Math.max(1, options.workers ?? BODY_VALIDATION_DEFAULTS.workers);
  }

  /** Parses `body` as JSON and checks it against `model`. A valid body comes back parsed. */
  async check(model: string, body: Buffer): Promise<BodyCheck> {
    if (body.byteLength <= this.threshold) return this.validate(model, body.toString('utf8'));
    const reply = await this.inWorker(model, body);
    if ('error' in reply) throw new Error(`body validation failed: ${reply.error}`);
    if (!reply.ok) return { ok: false, message: reply.message };
    // Valid against the model, so bounded by it: parsing it here is quick.
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  }

  private inWorker(model: string, body: Buffer): Promise<WorkerReply> {
    if (this.closed) return Promise.reject(new Error('body validation is closed'));
    const pooled = this.leastBusy();
    const id = this.nextId++;
    // A copy the worker owns, so the transfer does not detach the caller's buffer.
    const copy = new Uint8Array(body);
    return new Promise((resolve, reject) => {
      pooled.pending.set(id, { resolve, reject });
      pooled.worker.postMessage({ id, model, body: copy }, [copy.buffer]);
    });
  }

  private leastBusy(): PooledWorker {
    if (this.pool.length < this.poolSize && this.pool.every((pooled) => pooled.pending.size > 0)) this.pool.push(this.spawn());
    return this.pool.reduce((best, pooled) => (pooled.pending.size < best.pending.size ? pooled : best));
  }

  private spawn(): PooledWorker {
    const worker = new Worker(require.resolve('./body-validator.cjs'), { workerData: { bodyValidatorSchemas: this.schemas } });
    const pooled: PooledWorker = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      pooled.pending.get(reply.id)?.resolve(reply);
      pooled.pending.delete(reply.id);
    });
    const fail = (error: Error) => {
      for (const waiting of pooled.pending.values()) waiting.reject(error);
      pooled.pending.clear();
      const at = this.pool.indexOf(pooled);
      if (at >= 0) this.pool.splice(at, 1);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`body validation worker exited with code ${code}`)));
    return pooled;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pool.splice(0).map((pooled) => pooled.worker.terminate()));
  }
}
