/**
 * A local platform in a process of its own (`npm start` on free ports), for drills that
 * kill it (SIGKILL: no clean-up, no flush) and start it again on the same data folder, as
 * a user would after a crash; and ways to read its tables and messages from outside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TableNames } from '../local/defaults';
import type { LockOwner } from '../local/instance-lock';
import type { PublishedMessage, QueuedMessage } from '../local/messaging';
import { localDynamo, type TableAccess } from './probe';
import { PROJECT_ROOT } from '../build/project-root';


export interface PlatformProcess {
  readonly child: ChildProcess;
  readonly urls: Record<string, string>;
  readonly tables: TableNames;
  readonly region: string;
  readonly apiKey: string;
  readonly output: string[];
}

export interface PlatformProcessOptions {
  /** Start with empty tables, stream and queues. */
  readonly clean: boolean;
  /** Runs every EventBridge schedule this often (`--schedule-interval-seconds`). @default the stack's expressions */
  readonly scheduleIntervalSeconds?: number;
}

/** `npm start` on free ports in `dataDir`, in a process of its own, running `stackFile`; resolves once it is ready. */
export async function startPlatformProcess(dataDir: string, stackFile: string, options: PlatformProcessOptions): Promise<PlatformProcess> {
  const ports = ['--ingest-port', '--web-port', '--dynamodb-port', '--kinesis-port', '--messaging-port'].flatMap((flag) => [flag, '0']);
  const args = [
    path.join(PROJECT_ROOT, 'local', 'main.ts'),
    '--stack-file',
    stackFile,
    '--data-dir',
    dataDir,
    ...(options.clean ? ['--clean'] : []),
    ...(options.scheduleIntervalSeconds === undefined ? [] : ['--schedule-interval-seconds', String(options.scheduleIntervalSeconds)]),
    ...ports,
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (/ready in/.test(chunk.toString())) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the platform exited with code ${code} before it was ready:\n${output.join('')}`)));
  });
  await withTimeout(ready, 60_000, () => new Error(`the platform was not ready after 60 s:\n${output.join('')}`));
  const lock = JSON.parse(readFileSync(path.join(dataDir, 'platform.lock'), 'utf8')) as Required<LockOwner>;
  return { child, urls: { ...lock.urls }, tables: lock.tables as TableNames, region: lock.region, apiKey: lock.apiKey, output };
}

/** `promise`, or the error of `timedOut` after `ms`; the timer never outlives the race. */
async function withTimeout<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(timedOut()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL: the process gets no chance to flush or checkpoint. */
export async function killPlatform(platform: PlatformProcess): Promise<void> {
  if (platform.child.exitCode !== null) return;
  const exited = new Promise((resolve) => platform.child.once('exit', resolve));
  platform.child.kill('SIGKILL');
  await exited;
}

export async function stopPlatformGracefully(platform: PlatformProcess): Promise<void> {
  if (platform.child.exitCode !== null) return;
  const exited = new Promise((resolve) => platform.child.once('exit', resolve));
  platform.child.kill('SIGTERM');
  await withTimeout(exited, 20_000, () => new Error('the platform did not stop within 20 s of SIGTERM')).catch(() => killPlatform(platform));
}

export function processTableAccess(platform: PlatformProcess): TableAccess & { destroy(): void } {
  const dynamo = localDynamo(platform.urls.dynamodb ?? '', platform.region);
  return { dynamo, platform: { tables: platform.tables }, destroy: () => dynamo.destroy() };
}

/** What the local SNS/SQS lists at `GET /`: alerts published (earlier runs included) and queue contents. */
export async function messagingState(platform: PlatformProcess): Promise<{ published: PublishedMessage[]; failureQueue: QueuedMessage[] }> {
  const state = (await (await fetch(`${platform.urls.messaging}/`)).json()) as { topics: { published: PublishedMessage[] }[]; queues: { url: string; messages: QueuedMessage[] }[] };
  return {
    published: state.topics.flatMap((topic) => topic.published),
    failureQueue: state.queues.filter((queue) => queue.url === platform.urls.failureQueue).flatMap((queue) => queue.messages),
  };
}
