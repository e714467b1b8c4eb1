/**
 * The inside of one local Lambda "container": a worker thread that loads the function's
 * code (the files of the zip Lambda runs) with its own environment, and answers
 * invocations posted by lambda-runtime.ts. Bundled by esbuild like the handlers, so it
 * runs as plain JavaScript wherever the platform runs (tsx, jest, node).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

export interface WorkerSettings {
  /** The unpacked code (Lambda's `LAMBDA_TASK_ROOT`). */
  readonly codeDir: string;
  /** Lambda's handler setting: `<module path>.<export>`, e.g. `index.handler`. */
  readonly handler: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly timeoutMs: number;
  readonly memoryMiB: number;
  /** The largest answer, as JSON bytes, Lambda hands back. */
  readonly responseLimitBytes: number;
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

/**
 * The handler function, found as Lambda's Node.js runtime finds it: the module named
 * before the last dot, as `.js` or `.cjs` in the code folder, and its export named after
 * it. https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
 */
function loadHandler(): Handler {
  const dot = settings.handler.lastIndexOf('.');
  if (dot <= 0 || dot === settings.handler.length - 1) {
    throw Object.assign(new Error(`Bad handler ${settings.handler}: expected <module>.<function>`), { name: 'Runtime.MalformedHandlerName' });
  }
  const modulePath = path.join(settings.codeDir, settings.handler.slice(0, dot));
  const exportName = settings.handler.slice(dot + 1);
  if (existsSync(`${modulePath}.mjs`)) throw new Error(`${settings.handler}: ES module handlers (.mjs) are not run locally; bundle the handler as CommonJS`);
  const file = ['.js', '.cjs'].map((extension) => `${modulePath}${extension}`).find((candidate) => existsSync(candidate));
  if (file === undefined) throw new Error(`Cannot find module '${settings.handler.slice(0, dot)}' in ${settings.codeDir}`);
  // The module is chosen at run time, so this require must stay dynamic.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(file) as Record<string, unknown>;
  const handler = loaded[exportName];
  if (typeof handler !== 'function') throw Object.assign(new Error(`${settings.handler} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  return handler as Handler;
}

// Like Lambda, a module that fails to load fails every invocation with the load error.
let handler: Handler | undefined;
let initError: { errorType: string; errorMessage: string } | undefined;
try {
  handler = loadHandler();
} catch (error) {
  const failure = error as Error;
  initError = { errorType: failure.name.startsWith('Runtime.') ? failure.name : 'Runtime.ImportModuleError', errorMessage: failure.message };
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
      const json = JSON.stringify(response) ?? 'null';
      const bytes = Buffer.byteLength(json);
      reply =
        bytes > settings.responseLimitBytes
          ? { id: request.id, ok: false, errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${settings.responseLimitBytes} bytes).` }
          : { id: request.id, ok: true, response: JSON.parse(json) };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      reply = { id: request.id, ok: false, errorType: failure.name, errorMessage: failure.message };
    }
  }
  port.postMessage(reply);
});
