import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bundleLambdaWorker, startLocalFunction, type RunningFunction } from '../../local/lambda-runtime';
import { waitFor } from './harness';

/** Threads of this process: a container is a worker thread. */
const threadCount = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);

/** A handler with one behaviour per `event.mode`, standing in for a bundle. */
const FIXTURE_HANDLER = `
let calls = 0;
exports.handler = async (event, context) => {
  calls += 1;
  switch (event.mode) {
    case 'env': return { setting: process.env.MY_SETTING ?? null, inherited: process.env.HOME ?? null, name: context.functionName, remaining: context.getRemainingTimeInMillis() };
    case 'throw': throw new TypeError('bad input');
    case 'hang': return new Promise(() => {});
    case 'count': return { calls };
    case 'log': console.log('hello from the handler'); return undefined;
    case 'date': return { at: new Date(0) };
    case 'sized': return { text: 'x'.repeat(event.length) };
  }
};
`;

describe('local Lambda runtime', () => {
  let dir: string;
  let workerFile: string;
  const running: RunningFunction[] = [];
  const logs: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lambda-runtime-'));
    workerFile = bundleLambdaWorker(dir);
    writeFileSync(path.join(dir, 'fixture.js'), FIXTURE_HANDLER);
    writeFileSync(path.join(dir, 'broken.js'), 'throw new Error("cannot load: missing setting");');
  });

  afterEach(async () => {
    for (const fn of running.splice(0)) await fn.stop();
    logs.length = 0;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const options = (bundle = 'fixture.js', timeoutSeconds = 5) => ({
    name: 'fixture',
    arn: 'arn:aws:lambda:eu-west-2:000000000000:function:fixture',
    codeDir: dir,
    handler: `${bundle.replace(/\.js$/, '')}.handler`,
    workerFile,
    env: { MY_SETTING: 'from-the-stack' },
    timeoutSeconds,
    memoryMiB: 256,
    onLog: (line: string) => logs.push(line),
  });
  const start = (bundle = 'fixture.js', timeoutSeconds = 5) => {
    const fn = startLocalFunction(options(bundle, timeoutSeconds));
    running.push(fn);
    return fn;
  };

  it('runs the handler with exactly the environment it is given, and a Lambda context', async () => {
    const outcome = await start().invoke({ mode: 'env' });
    expect(outcome).toEqual({ ok: true, response: { setting: 'from-the-stack', inherited: null, name: 'fixture', remaining: expect.any(Number) } });
    expect((outcome as { response: { remaining: number } }).response.remaining).toBeGreaterThan(0);
  });

  it('hands back the JSON of the result, as Lambda does', async () => {
    const fn = start();
    expect(await fn.invoke({ mode: 'date' })).toEqual({ ok: true, response: { at: '1970-01-01T00:00:00.000Z' } });
    expect(await fn.invoke({ mode: 'log' })).toEqual({ ok: true, response: null });
  });

  it('fails an invocation whose answer is more than 6 MB of JSON, as a synchronous Lambda invocation does (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)', async () => {
    const fn = start();
    const limit = 6 * 1024 * 1024;
    // {"text":"..."} is 11 bytes around the text.
    const fits = await fn.invoke({ mode: 'sized', length: limit - 11 });
    expect(fits.ok).toBe(true);
    expect(await fn.invoke({ mode: 'sized', length: limit - 10 })).toEqual({
      ok: false,
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size (${limit + 1} bytes) exceeded maximum allowed payload size (${limit} bytes).`,
    });
  });

  it('reports a thrown error as a function error', async () => {
    expect(await start().invoke({ mode: 'throw' })).toEqual({ ok: false, errorType: 'TypeError', errorMessage: 'bad input' });
  });

  it('keeps its container warm between invocations', async () => {
    const fn = start();
    await fn.invoke({ mode: 'count' });
    expect(await fn.invoke({ mode: 'count' })).toEqual({ ok: true, response: { calls: 2 } });
  });

  it('times out a hung invocation and starts a fresh container for the next', async () => {
    const fn = start('fixture.js', 1);
    await fn.invoke({ mode: 'count' });
    expect(await fn.invoke({ mode: 'hang' })).toEqual({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 1 seconds' });
    expect(await fn.invoke({ mode: 'count' })).toEqual({ ok: true, response: { calls: 1 } });
  });

  it('fails every invocation with the load error when the bundle cannot load', async () => {
    const outcome = await start('broken.js').invoke({});
    expect(outcome).toEqual({ ok: false, errorType: 'Runtime.ImportModuleError', errorMessage: 'cannot load: missing setting' });
  });

  it('finds the handler as Lambda does: <module>.<export>, the module in a subfolder too (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html)', async () => {
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'app.cjs'), 'exports.main = async () => ({ from: "src/app" });');
    const fn = startLocalFunction({ ...options(), handler: 'src/app.main' });
    running.push(fn);
    expect(await fn.invoke({})).toEqual({ ok: true, response: { from: 'src/app' } });
    const missing = startLocalFunction({ ...options(), handler: 'fixture.nothing' });
    running.push(missing);
    expect(await missing.invoke({})).toEqual({ ok: false, errorType: 'Runtime.HandlerNotFound', errorMessage: 'fixture.nothing is undefined or not exported' });
  });

  it("passes the handler's log lines on", async () => {
    await start().invoke({ mode: 'log' });
    await waitFor('the log line', () => (logs.includes('hello from the handler') ? true : undefined));
  });

  it('ends the container thread when stopped', async () => {
    const before = threadCount();
    const fn = start();
    await fn.invoke({ mode: 'count' });
    expect(threadCount()).toBeGreaterThan(before);
    await fn.stop();
    await waitFor('the thread to end', () => (threadCount() <= before ? true : undefined));
  });

  it('refuses invocations once stopped', async () => {
    const fn = start();
    await fn.stop();
    expect(await fn.invoke({ mode: 'count' })).toMatchObject({ ok: false, errorType: 'ServiceException' });
  });
});
