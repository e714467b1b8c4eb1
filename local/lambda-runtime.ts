/**
 * Runs a Lambda function's code locally the way Lambda does: in its own "container" (a
 * worker thread with its own environment and module cache, so nothing leaks between
 * functions or into the platform), with a timeout after which the container is thrown
 * away and a fresh one started, and with its log lines handed to the platform. The memory
 * size is what the function is told (its context and environment); the container's heap
 * is not bounded by it, since a bounded worker heap slows every invocation.
 */
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { bundleEntry } from '../build/handler-bundle';
import type { InvokeReply, WorkerSettings } from './lambda-worker';

/**
 * Lambda's limit on a synchronous invocation's request and on its response, in bytes: an
 * answer past it fails the invocation with `Function.ResponseSizeTooLarge`.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
export const LAMBDA_SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;

export type InvocationOutcome =
  | { readonly ok: true; readonly response: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

/** What the event source mapping needs of a function. */
export interface LocalFunction {
  readonly name: string;
  readonly arn: string;
  invoke(event: unknown): Promise<InvocationOutcome>;
}

export interface LocalFunctionOptions {
  readonly name: string;
  readonly arn: string;
  /** The function's unpacked code. */
  readonly codeDir: string;
  /** Lambda's handler setting, e.g. `index.handler`. */
  readonly handler: string;
  /** The bundled worker script, from `bundleLambdaWorker`. */
  readonly workerFile: string;
  /** The whole environment of the function: nothing of the platform's own is inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
  /** Receives each line the function logs. */
  readonly onLog: (line: string) => void;
}

export interface RunningFunction extends LocalFunction {
  stop(): Promise<void>;
}

/** Bundles the worker script into `<outDir>/lambda-worker/index.js`. */
export function bundleLambdaWorker(outDir: string): string {
  return bundleEntry(path.join('local', 'lambda-worker.ts'), path.join(outDir, 'lambda-worker')).file;
}

interface Pending {
  /** The container running the invocation. */
  readonly worker: Worker;
  readonly resolve: (outcome: InvocationOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

export function startLocalFunction(options: LocalFunctionOptions): RunningFunction {
  const settings: WorkerSettings = {
    codeDir: options.codeDir,
    handler: options.handler,
    functionName: options.name,
    functionArn: options.arn,
    timeoutMs: options.timeoutSeconds * 1000,
    memoryMiB: options.memoryMiB,
    responseLimitBytes: LAMBDA_SYNC_PAYLOAD_LIMIT,
  };
  let worker: Worker | undefined;
  let stopped = false;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  /** Fails the invocations running in `container` (every one when absent). */
  const failAll = (errorType: string, errorMessage: string, container?: Worker): void => {
    for (const [id, entry] of pending) {
      if (container !== undefined && entry.worker !== container) continue;
      clearTimeout(entry.timer);
      pending.delete(id);
      entry.resolve({ ok: false, errorType, errorMessage });
    }
  };

  const spawn = (): Worker => {
    const created = new Worker(options.workerFile, { workerData: settings, env: { ...options.env }, stdout: true, stderr: true });
    for (const stream of [created.stdout, created.stderr]) {
      createInterface({ input: stream }).on('line', (line) => options.onLog(line));
    }
    created.on('message', (reply: InvokeReply) => {
      const entry = pending.get(reply.id);
      if (entry === undefined) return;
      clearTimeout(entry.timer);
      pending.delete(reply.id);
      entry.resolve(reply.ok ? { ok: true, response: reply.response } : { ok: false, errorType: reply.errorType, errorMessage: reply.errorMessage });
    });
    created.on('error', (error) => {
      if (worker === created) worker = undefined;
      failAll('Runtime.ExitError', `the function crashed: ${error.message}`, created);
    });
    created.on('exit', (code) => {
      if (worker === created) worker = undefined;
      if (!stopped) failAll('Runtime.ExitError', `the function's container exited with code ${code}`, created);
    });
    return created;
  };

  return {
    name: options.name,
    arn: options.arn,
    invoke(event) {
      if (stopped) return Promise.resolve({ ok: false, errorType: 'ServiceException', errorMessage: `${options.name} is stopped` });
      const current = (worker ??= spawn());
      const id = nextId++;
      return new Promise<InvocationOutcome>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${options.timeoutSeconds} seconds` });
          // A timed-out container may be stuck: discard it, the next invocation starts a fresh one.
          if (worker === current) worker = undefined;
          void current.terminate();
        }, settings.timeoutMs);
        pending.set(id, { worker: current, resolve, timer });
        current.postMessage({ id, event });
      });
    },
    async stop() {
      stopped = true;
      failAll('ServiceException', `${options.name} is stopped`);
      const current = worker;
      worker = undefined;
      if (current !== undefined) await current.terminate();
    },
  };
}
