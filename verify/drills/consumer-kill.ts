/**
 * Drill: the platform process running the consumers is killed (SIGKILL: no clean-up, no
 * flush) while batches are in flight, then started again on the same data folder, as
 * `npm start` would be after a crash. Every reading must be stored exactly once and every
 * alert sent exactly once across both runs: checkpoints, idempotent writes and the alert
 * claim protocol have to hold up, not a graceful stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import type { TableNames } from '../../local/defaults';
import type { LockOwner } from '../../local/instance-lock';
import type { PublishedMessage, QueuedMessage } from '../../local/messaging';
import { synthesizeStacks } from '../../local/twin/synth';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill } from '../drill';
import { auditRollups, describeAudit } from '../rollup-audit';
import {
  auditAlerts,
  compareKeys,
  count,
  DRILL_CONFIGURATION,
  drillReadings,
  expectedKeys,
  expectedNotices,
  localDynamo,
  pollUntil,
  sendBatches,
  sleep,
  storedCount,
  storedKeys,
  type TableAccess,
} from '../probe';
import { PROJECT_ROOT } from '../../build/project-root';

const READINGS = 6_000;
const ALARMED_SERIES = 'things/kill-drill/000/temperature';
const THRESHOLDS = { max: 25 };
/** Thing 000 runs hot three times: six state changes spread over the whole stream. */
const temperature = (index: number): number => (Math.floor(index / 1_000) % 2 === 1 ? 30 : 20 + (index % 30) / 10);

interface PlatformProcess {
  readonly child: ChildProcess;
  readonly urls: Record<string, string>;
  readonly tables: TableNames;
  readonly region: string;
  readonly apiKey: string;
  readonly output: string[];
}

/** `npm start` on free ports in `dataDir`, in a process of its own, running `stackFile`; resolves once it is ready. */
async function startPlatformProcess(dataDir: string, stackFile: string, clean: boolean): Promise<PlatformProcess> {
  const ports = ['--ingest-port', '--web-port', '--dynamodb-port', '--kinesis-port', '--messaging-port'].flatMap((flag) => [flag, '0']);
  const args = [path.join(PROJECT_ROOT, 'local', 'main.ts'), '--stack-file', stackFile, '--data-dir', dataDir, ...(clean ? ['--clean'] : []), ...ports];
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

async function kill(platform: PlatformProcess): Promise<void> {
  if (platform.child.exitCode !== null) return;
  const exited = new Promise((resolve) => platform.child.once('exit', resolve));
  platform.child.kill('SIGKILL');
  await exited;
}

async function stopGracefully(platform: PlatformProcess): Promise<void> {
  if (platform.child.exitCode !== null) return;
  const exited = new Promise((resolve) => platform.child.once('exit', resolve));
  platform.child.kill('SIGTERM');
  await withTimeout(exited, 20_000, () => new Error('the platform did not stop within 20 s of SIGTERM')).catch(() => kill(platform));
}

function tableAccess(platform: PlatformProcess): TableAccess & { destroy(): void } {
  const dynamo = localDynamo(platform.urls.dynamodb ?? '', platform.region);
  return { dynamo, platform: { tables: platform.tables }, destroy: () => dynamo.destroy() };
}

/** What the local SNS/SQS lists at `GET /`: alerts published (earlier runs included) and queue contents. */
async function messagingState(platform: PlatformProcess): Promise<{ published: PublishedMessage[]; failureQueue: QueuedMessage[] }> {
  const state = (await (await fetch(`${platform.urls.messaging}/`)).json()) as { topics: { published: PublishedMessage[] }[]; queues: { url: string; messages: QueuedMessage[] }[] };
  return {
    published: state.topics.flatMap((topic) => topic.published),
    failureQueue: state.queues.filter((queue) => queue.url === platform.urls.failureQueue).flatMap((queue) => queue.messages),
  };
}

export const consumerKillDrill: Drill = {
  id: 'consumer-kill',
  title: 'the consumers\' process killed mid-batch and restarted: no reading or alert lost, none twice',
  async run({ workDir, log = () => undefined }) {
    const dataDir = path.join(workDir, 'platform');
    // Dated now, so every step of rollups is kept (older readings are rolled up by hour and day only).
    const readings = drillReadings(READINGS, { prefix: 'kill-drill', value: temperature, startMs: Date.now() - 60_000 });
    const expected = expectedKeys(readings);

    // The drills' configuration, whatever the checkout's configuration or the shell says.
    const stackFile = (await synthesizeStacks({ configuration: DRILL_CONFIGURATION })).stackFile('pipeline');
    let platform = await startPlatformProcess(dataDir, stackFile, true);
    let access = tableAccess(platform);
    try {
      await setThresholds(access.dynamo, access.platform.tables.thresholds, ALARMED_SERIES, THRESHOLDS);
      await sendBatches({ urls: { batchIngest: platform.urls.batchIngest ?? '' }, apiKey: platform.apiKey }, readings);
      log(`consumer-kill: ${count(READINGS)} readings acknowledged; killing once a fifth is stored`);

      const storedAtKill = await pollUntil(async () => {
        const stored = await storedCount(access);
        return stored >= expected.size / 5 ? stored : undefined;
      }, 60_000, 20);
      const alertsAtKill = (await messagingState(platform)).published.length;
      await kill(platform);
      access.destroy();
      log(`consumer-kill: killed with ${count(storedAtKill ?? 0)} of ${count(expected.size)} items stored and ${alertsAtKill} alerts sent; restarting`);

      platform = await startPlatformProcess(dataDir, stackFile, false);
      access = tableAccess(platform);
      const expectedAlerts = expectedNotices(readings, ALARMED_SERIES, THRESHOLDS, DEFAULT_ALERT_COOLDOWN_SECONDS);
      // A claim left by the killed process holds its series for up to the 30 s claim timeout.
      const drained = await pollUntil(async () => {
        const [stored, state] = await Promise.all([storedCount(access), messagingState(platform)]);
        return stored >= expected.size && state.published.length >= expectedAlerts.length ? true : undefined;
      }, 90_000, 500);
      // Anything sent twice would arrive now.
      await sleep(3_000);

      const stored = compareKeys(expected, await storedKeys(access));
      const rollups = await auditRollups(access);
      const state = await messagingState(platform);
      const alerts = await auditAlerts(access, ALARMED_SERIES, expectedAlerts, state.published);
      const midBatch = storedAtKill !== undefined && storedAtKill < expected.size;
      return {
        checks: [
          check('the process was killed while readings were still being stored', midBatch, `killed with ${count(storedAtKill ?? 0)} of ${count(expected.size)} items stored, ${alertsAtKill} of ${expectedAlerts.length} alerts sent`),
          check('the restarted platform caught up', drained === true, drained === true ? 'every item stored and every alert sent' : 'not caught up after 90 s'),
          check('no reading lost, none duplicated', stored.found === expected.size && stored.unexpected.length === 0, `${count(stored.found)} of ${count(expected.size)} items; ${stored.unexpected.length} unexpected`),
          check('the rollups equal those recomputed from the stored readings', rollups.buckets > 0 && rollups.differences.length === 0, describeAudit(rollups)),
          check('nothing sent to the failure queue', state.failureQueue.length === 0, `${state.failureQueue.length} messages`),
          check('no alert lost: the history is exactly what the rule says', alerts.historyMatches, alerts.detail),
          check('no alert sent twice', alerts.sentOnce, alerts.detail),
        ],
        // One metric per reading: items and readings are the same count.
        readings: { sent: READINGS, stored: stored.found, failureQueue: state.failureQueue.length },
      };
    } finally {
      access.destroy();
      await stopGracefully(platform);
    }
  },
};
