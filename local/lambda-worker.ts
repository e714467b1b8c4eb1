/**
 * The inside of one local Lambda "container": a worker thread that loads a handler
 * bundle (the same file Lambda runs) with its own environment, and answers invocations
 * posted by lambda-runtime.ts. Bundled by esbuild like the handlers, so it runs as plain
 * JavaScript wherever the platform runs (tsx, jest, node).
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

export interface WorkerSettings {
  readonly bundleFile: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly timeoutMs: number;
  readonly memoryMiB: number;
}

export interface InvokeRequest {
  readonly id: number;
  readonly event: unknown;
}

export type InvokeReply =
  | { readonly id: number; readonly ok: true; readonly response: unknown }
  | { readonly id: number; readonly ok: false; readonly errorType: string; readonly errorMessage: string };

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const settings = workerData as WorkerSettings;
const port = parentPort;
if (port === null) throw new Error('lambda-worker must run in a worker thread');

// Like Lambda, a module that fails to load fails every invocation with the load error.
let handler: Handler | undefined;
let initError: { errorType: string; errorMessage: string } | undefined;
try {
  // The bundle is chosen at run time, so this require must stay dynamic.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(settings.bundleFile) as { handler?: unknown };
  if (typeof loaded.handler !== 'function') throw new Error(`${settings.bundleFile} exports no function named "handler"`);
  handler = loaded.handler as Handler;
} catch (error) {
  initError = { errorType: 'Runtime.ImportModuleError', errorMessage: (error as Error).message };
}

function lambdaContext(requestId: string) {
  const deadline = Date.now() + settings.timeoutMs;
  return {
    functionName: settings.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: settings.functionArn,
    memoryLimitInMB: String(settings.memoryMiB),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${settings.functionName}`,
    logStreamName: `local/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

port.on('message', async (request: InvokeRequest) => {
  let reply: InvokeReply;
  if (handler === undefined) {
    reply = { id: request.id, ok: false, ...(initError ?? { errorType: 'Runtime.ImportModuleError', errorMessage: 'no handler' }) };
  } else {
    try {
      const response = await handler(request.event, lambdaContext(randomUUID()));
      // Lambda hands the caller the JSON of the result, so the same happens here.
      reply = { id: request.id, ok: true, response: response === undefined ? null : JSON.parse(JSON.stringify(response)) };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      reply = { id: request.id, ok: false, errorType: failure.name, errorMessage: failure.message };
    }
  }
  port.postMessage(reply);
});
