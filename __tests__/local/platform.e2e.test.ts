/**
 * The whole local platform on free ports: the system test against it, a refused second
 * start, and a stop that leaves nothing running. Malformed and hostile requests are the
 * bad-input drill's (verify/drills/bad-input-cases.ts, __tests__/verify/bad-inputs.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { gunzipSync } from 'fflate';
import { LOCAL_CREDENTIALS } from '../../local/defaults';
import { PlatformAlreadyRunningError } from '../../local/instance-lock';
import { startLocalPlatform, type LocalPlatform } from '../../local/platform';
import { runSystemTest } from '../../tools/system-test';
import { platformTarget, targetDynamo } from '../../tools/target';
import { waitFor } from './harness';
import { PROJECT_ROOT } from '../../build/project-root';
import { DRILL_CONFIGURATION, FREE_PORTS } from '../../verify/probe';

/** The objects delivery streams wrote, below the archive folder. */
const archiveFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.gz'))
    .map((entry) => path.join(entry.parentPath, entry.name));

/** The lines of every object whose key has `folder` as a path segment. */
const archiveLines = (dir: string, folder: string): string[] =>
  archiveFiles(dir)
    .filter((file) => file.includes(`${path.sep}${folder}${path.sep}`))
    .flatMap((file) => new TextDecoder().decode(gunzipSync(readFileSync(file))).split('\n').filter((line) => line !== ''));

const run = promisify(execFile);

/** Resource kinds that would keep a process alive or hold a port. */
const HANDLE_KINDS = ['TCPServerWrap', 'TCPSocketWrap', 'Timeout', 'FSReqCallback', 'MessagePort'];
const countHandles = () => {
  const counts: Record<string, number> = Object.fromEntries(HANDLE_KINDS.map((kind) => [kind, 0]));
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
};

const portOpen = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('local platform, end to end', () => {
  let dataDir: string;
  let platform: LocalPlatform;
  let baseline: Record<string, number>;
  const logs: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'local-platform-'));
    baseline = countHandles();
    // The no-data check every second, so the system test's no-data alert comes within seconds; the
    // drills' one-second batching window, so readings are stored within a second or two (the default
    // window, five seconds, only adds latency, and the cost test's sample runs on it).
    platform = await startLocalPlatform({ dataDir, ports: FREE_PORTS, configuration: DRILL_CONFIGURATION, archiveBufferSeconds: 1, scheduleIntervalSeconds: 1, log: (line) => logs.push(line) });
  }, 60_000);

  afterAll(async () => {
    // Normally stopped by the last test already; stopping twice is harmless.
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes the system test: readings in the table and the web API, exactly the expected alerts, one no-data alert and its recovery', async () => {
    const report = await runSystemTest(platformTarget(platform), { readings: 12, timeoutSeconds: 90, seed: 7, noDataAfterSeconds: 2 });
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.expectedAlerts.length).toBeGreaterThan(0);
    expect(report.checks.map((check) => check.name)).toEqual(expect.arrayContaining(['a no-data alert 2 s after the last reading (the scheduled no-data check)', 'exactly one no-data alert and one recovery in the history']));
    // The alerts went out through SNS, as on AWS: one publish per alert in the history, the no-data alert and its recovery
    // included. After the recovery the series is silent again, and until the run removed its rule the check could rightly
    // raise that silence too (it did once on a loaded machine): nothing else may follow.
    const published = platform.alerts().filter((alert) => alert.message.includes(report.thingId));
    const recovery = published.findIndex((alert) => alert.subject?.startsWith('Reporting again: '));
    expect(recovery).toBe(report.expectedAlerts.length + 1);
    expect(published.slice(recovery + 1).filter((alert) => alert.subject?.startsWith('No data: ') !== true)).toEqual([]);
    // It removed what it wrote: nothing of its series is left.
    const dynamo = targetDynamo(platformTarget(platform));
    try {
      const left = await dynamo.send(new ScanCommand({ TableName: platform.tables.things, FilterExpression: 'begins_with(ThingID, :thing)', ExpressionAttributeValues: { ':thing': report.thingId } }));
      expect(left.Items).toEqual([]);
    } finally {
      dynamo.destroy();
    }
  }, 120_000);

  it("archives every reading through the stack's delivery stream and its Lambda processor as the `readings` table's lines, which `npm run query` answers over the data folder", async () => {
    const thing = `things/e2e-archive/${Date.now()}`;
    const readings = [
      { id: thing, temperature: '19.57', humidity: 40, timestamp: '2026-03-01T10:00:00.123456Z' },
      { id: thing, temperature: 21.5, humidity: 41.25, timestamp: '2026-03-01T10:01:00Z' },
      { id: thing, temperature: '-0.5', humidity: 39, timestamp: '2026-03-01T10:02:00Z' },
    ];
    const response = await fetch(platform.urls.batchIngest, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': platform.apiKey }, body: JSON.stringify({ Data: readings }) });
    expect(response.status).toBe(200);
    // A record no producer through the API could send: the processor fails it, Firehose keeps it.
    const kinesis = new KinesisClient({ region: platform.region, endpoint: platform.urls.kinesis, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
    try {
      await kinesis.send(new PutRecordCommand({ StreamName: platform.streamName, PartitionKey: thing, Data: Buffer.from('{"id": "not a reading"') }));
    } finally {
      kinesis.destroy();
    }

    const mine = await waitFor('the archive lines', () => {
      const lines = archiveLines(platform.archiveDir, 'readings').filter((line) => line.includes(JSON.stringify(thing)));
      return lines.length === 6 ? lines : undefined;
    }, 30_000);
    expect(mine.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual({ series: `${thing}/temperature`, thing_id: thing, metric: 'temperature', ts: '2026-03-01 10:00:00.123456', value: 19.57 });
    const [file] = archiveFiles(path.join(platform.archiveDir)).filter((name) => name.includes(`${path.sep}readings${path.sep}`));
    expect(path.relative(platform.archiveDir, file ?? '')).toMatch(/^iot-archive-\d{26}\/readings\/year=\d{4}\/month=\d\d\/day=\d\d\/hour=\d\d\/iot-archive-\d+-[\d-]{19}-[0-9a-f-]{36}\.jsonl\.gz$/);

    const failed = await waitFor('the error document', () => {
      const documents = archiveLines(platform.archiveDir, 'errors').map((line) => JSON.parse(line) as { rawData: string; errorCode: string; lambdaArn: string });
      return documents.find((document) => Buffer.from(document.rawData, 'base64').toString() === '{"id": "not a reading"');
    }, 30_000);
    expect(failed).toMatchObject({ errorCode: 'Lambda.ProcessingFailedStatus', lambdaArn: expect.stringMatching(/:function:iot-archive-flatten$/) });
    expect(platform.deliveries()['iot-archive']).toMatchObject({ failed: expect.any(Number), records: expect.any(Number) });
    expect(platform.deliveries()['iot-archive']?.failed).toBeGreaterThanOrEqual(1);

    // The command a user runs, over the platform's data folder.
    const sql = `SELECT metric, count(*) AS n, round(sum(value), 6) AS total, min(ts) AS first FROM readings WHERE thing_id = '${thing}' GROUP BY metric ORDER BY metric`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/query.ts', '--data-dir', platform.dataDir, '--json', sql], { cwd: PROJECT_ROOT, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    expect(JSON.parse(stdout)).toEqual([
      { metric: 'humidity', n: 3, total: 120.25, first: '2026-03-01 10:00:00.123456' },
      { metric: 'temperature', n: 3, total: 40.57, first: '2026-03-01 10:00:00.123456' },
    ]);
  }, 90_000);

  it('refuses a second platform on the same data folder with a message that says so', async () => {
    await expect(startLocalPlatform({ dataDir, ports: FREE_PORTS, configuration: {}, log: () => undefined })).rejects.toBeInstanceOf(PlatformAlreadyRunningError);
  });

  it('stops cleanly: every port closed, no handle left behind', async () => {
    const urls = Object.values(platform.urls);
    await platform.stop();
    for (const url of urls) expect(await portOpen(url)).toBe(false);
    // Client sockets close a moment after the servers; wait for them, then compare.
    const settled = await waitFor('handles to close', () => {
      const now = countHandles();
      return HANDLE_KINDS.every((kind) => (now[kind] ?? 0) <= (baseline[kind] ?? 0)) ? now : undefined;
    }, 10_000).catch(() => countHandles());
    const leftOver = HANDLE_KINDS.filter((kind) => (settled[kind] ?? 0) > (baseline[kind] ?? 0)).map((kind) => `${kind}: ${settled[kind]} (before start: ${baseline[kind]})`);
    expect(leftOver).toEqual([]);
    // Worker threads (the handler containers) are not among these resources, and LevelDB
    // keeps a background thread for the life of the process, so thread counts prove
    // nothing here: lambda-runtime.test.ts checks that stopping ends each container's thread.
  }, 60_000);
});
