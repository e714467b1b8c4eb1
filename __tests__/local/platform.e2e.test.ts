/**
 * The whole local platform on free ports: the system test against it, a refused second
 * start, and a stop that leaves nothing running. Malformed and hostile requests are the
 * bad-input drill's (verify/drills/bad-input-cases.ts, __tests__/verify/bad-inputs.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { gunzipSync } from 'fflate';
import { PlatformAlreadyRunningError } from '../../local/instance-lock';
import { startLocalPlatform, type LocalPlatform } from '../../local/platform';
import { runSystemTest } from '../../tools/system-test';
import { platformTarget, targetDynamo } from '../../tools/target';
import { waitFor } from './harness';

const FREE_PORTS = { ingest: 0, web: 0, dynamodb: 0, kinesis: 0, messaging: 0 };

/** The objects delivery streams wrote, below the archive folder. */
const archiveFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.gz'))
    .map((entry) => path.join(entry.parentPath, entry.name));

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
    platform = await startLocalPlatform({ dataDir, ports: FREE_PORTS, configuration: {}, archiveBufferSeconds: 1, log: (line) => logs.push(line) });
  }, 60_000);

  afterAll(async () => {
    // Normally stopped by the last test already; stopping twice is harmless.
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes the system test: readings in the table and the web API, exactly the expected alerts', async () => {
    const report = await runSystemTest(platformTarget(platform), { readings: 12, timeoutSeconds: 90, seed: 7 });
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.expectedAlerts.length).toBeGreaterThan(0);
    // The alerts went out through SNS, as on AWS: one publish per alert in the history.
    expect(platform.alerts().filter((alert) => alert.message.includes(report.thingId))).toHaveLength(report.expectedAlerts.length);
    // It removed what it wrote: nothing of its series is left.
    const dynamo = targetDynamo(platformTarget(platform));
    try {
      const left = await dynamo.send(new ScanCommand({ TableName: platform.tables.things, FilterExpression: 'begins_with(ThingID, :thing)', ExpressionAttributeValues: { ':thing': report.thingId } }));
      expect(left.Items).toEqual([]);
    } finally {
      dynamo.destroy();
    }
  }, 120_000);

  it("archives every reading through the stack's delivery stream into the bucket's folder, as gzipped JSON lines", async () => {
    const report = await runSystemTest(platformTarget(platform), { readings: 5, timeoutSeconds: 60, seed: 11 });
    expect(report.ok).toBe(true);
    const archived = await waitFor('the archive', () => {
      const lines = archiveFiles(platform.archiveDir).flatMap((file) => new TextDecoder().decode(gunzipSync(readFileSync(file))).split('\n').filter((line) => line !== ''));
      const mine = lines.map((line) => JSON.parse(line) as { id: string }).filter((reading) => reading.id === report.thingId);
      return mine.length === 5 ? mine : undefined;
    }, 20_000);
    expect(archived).toHaveLength(5);
    expect(platform.deliveries()['iot-archive']?.records).toBeGreaterThanOrEqual(5);
    const [file] = archiveFiles(platform.archiveDir);
    expect(path.relative(platform.archiveDir, file ?? '')).toMatch(/^iot-archive-\d{26}\/readings\/year=\d{4}\/month=\d\d\/day=\d\d\/hour=\d\d\/iot-archive-1-[\d-]{19}-[0-9a-f-]{36}\.jsonl\.gz$/);
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
