/**
 * The whole local platform on free ports: the system test against it, a sweep of
 * malformed and hostile requests that must each get a clear 4xx and change nothing,
 * a refused second start, and a stop that leaves nothing running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { PlatformAlreadyRunningError } from '../../local/instance-lock';
import { startLocalPlatform, type LocalPlatform } from '../../local/platform';
import { READING_LIMITS } from '../../handlers/reading';
import { validateConfig } from '../../stacks/config';
import { runSystemTest } from '../../tools/system-test';
import { platformTarget, targetDynamo } from '../../tools/target';
import { request, waitFor, type HttpResult } from './harness';

const FREE_PORTS = { ingest: 0, web: 0, dynamodb: 0, kinesis: 0, messaging: 0 };

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

interface HostileRequest {
  readonly name: string;
  readonly method?: string;
  /** Relative to the ingest API's origin. */
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

const valid = { id: 'things/sweep/001', temperature: '21.5', timestamp: '2024-05-01 10:00:00.000001' };
const single = (data: unknown) => JSON.stringify({ Data: data });

function hostileRequests(singlePath: string, batchPath: string, apiKey: string): HostileRequest[] {
  const json = { 'content-type': 'application/json', 'x-api-key': apiKey };
  const put = (name: string, body: string, headers: Record<string, string> = json): HostileRequest => ({ name, method: 'PUT', path: singlePath, headers, body });
  const post = (name: string, body: string): HostileRequest => ({ name, method: 'POST', path: batchPath, headers: json, body });
  const manyMetrics = Object.fromEntries(Array.from({ length: READING_LIMITS.maxMetrics + 1 }, (_, index) => [`m${index}`, index]));
  let nested = '1';
  for (let depth = 0; depth < 5000; depth += 1) nested = `{"a":${nested}}`;
  return [
    put('truncated JSON', '{"Data":'),
    put('an empty body', ''),
    put('JSON null', 'null'),
    put('a JSON array', '[]'),
    put('a JSON string', '"Data"'),
    put('no Data', '{}'),
    put('an empty reading', single({})),
    put('no id', single({ temperature: 20, timestamp: valid.timestamp })),
    put('no timestamp', single({ id: valid.id, temperature: 20 })),
    put('no metric', single({ id: valid.id, timestamp: valid.timestamp })),
    put('a blank id', single({ ...valid, id: '   ' })),
    put('a numeric id', single({ ...valid, id: 42 })),
    put('an id over 256 characters', single({ ...valid, id: 'x'.repeat(READING_LIMITS.maxIdLength + 1) })),
    put('a timestamp in words', single({ ...valid, timestamp: 'yesterday' })),
    put('month 13', single({ ...valid, timestamp: '2024-13-01T00:00:00Z' })),
    put('negative epoch milliseconds', single({ ...valid, timestamp: -1 })),
    put('a non-numeric metric', single({ ...valid, temperature: 'hot' })),
    put('a boolean metric', single({ ...valid, temperature: true })),
    put('an object as metric', single({ ...valid, temperature: { $gt: 0 } })),
    put('a metric name with a slash', single({ ...valid, 'temp/../x': 1 })),
    put('a metric beyond DynamoDB numbers', single({ ...valid, temperature: 1e200 })),
    put('NaN', '{"Data":{"id":"things/x","temperature":NaN,"timestamp":"2024-05-01T10:00:00Z"}}'),
    put('too many metrics', single({ ...valid, ...manyMetrics })),
    put('a property beside Data', JSON.stringify({ Data: valid, Admin: true })),
    put('a __proto__ key beside Data', `{"__proto__":{"admin":true},"Data":${JSON.stringify(valid)}}`),
    put('5000 levels of nesting', `{"Data":{"id":"x","timestamp":"2024-05-01T10:00:00Z","t":${nested}}}`),
    put('a batch on the single path', single([valid])),
    post('an empty batch', single([])),
    post('a batch over 500 readings', single(Array.from({ length: READING_LIMITS.maxBatchReadings + 1 }, (_, index) => ({ ...valid, id: `things/sweep/${index}` })))),
    post('a batch with one bad reading among good ones', single([valid, { ...valid, temperature: 'warm' }, valid])),
    put('a body over 10 MB', single({ ...valid, id: 'x'.repeat(11 * 1024 * 1024) })),
    put('no API key', single(valid), { 'content-type': 'application/json' }),
    put('a wrong API key', single(valid), { 'content-type': 'application/json', 'x-api-key': `${apiKey}-wrong` }),
    put('text/plain', single(valid), { 'content-type': 'text/plain', 'x-api-key': apiKey }),
    put('XML', `<Data><id>${valid.id}</id></Data>`, { 'content-type': 'application/xml', 'x-api-key': apiKey }),
    { name: 'an unknown path', method: 'PUT', path: '/prod/other', headers: json, body: single(valid) },
    { name: 'a path escaping the stage', method: 'GET', path: '/prod/thingsstream/../../../etc/passwd', headers: json },
    { name: 'GET on the ingest path', method: 'GET', path: singlePath, headers: json },
    { name: 'DELETE on the batch path', method: 'DELETE', path: batchPath, headers: json },
  ];
}

describe('local platform, end to end', () => {
  let dataDir: string;
  let platform: LocalPlatform;
  let baseline: Record<string, number>;
  const logs: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'local-platform-'));
    baseline = countHandles();
    platform = await startLocalPlatform({ dataDir, ports: FREE_PORTS, config: validateConfig({}), log: (line) => logs.push(line) });
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

  it('answers each of 39 malformed or hostile requests with a clear 4xx and stores none of them', async () => {
    const origin = new URL(platform.urls.ingest).origin;
    const requests = hostileRequests(new URL(platform.urls.ingest).pathname, new URL(platform.urls.batchIngest).pathname, platform.apiKey);
    expect(requests.length).toBeGreaterThanOrEqual(30);

    const answers: { name: string; result: HttpResult }[] = [];
    for (const hostile of requests) {
      const result = await request(`${origin}${hostile.path}`, {
        method: hostile.method ?? 'PUT',
        ...(hostile.headers === undefined ? {} : { headers: hostile.headers }),
        ...(hostile.body === undefined ? {} : { body: hostile.body }),
      });
      answers.push({ name: hostile.name, result });
    }
    const unclear = answers.filter(({ result }) => {
      if (result.statusCode < 400 || result.statusCode >= 500) return true;
      const body = result.json();
      const text = `${String(body.message ?? '')} ${String(body.details ?? '')}`.trim();
      return typeof body.message !== 'string' || text.length < 15;
    });
    expect(unclear.map(({ name, result }) => `${name}: ${result.statusCode} ${result.body.slice(0, 100)}`)).toEqual([]);

    // A sentinel sent after the sweep is stored; when it is, everything before it has been
    // consumed, so the table holds the sentinel and nothing from the sweep.
    const sentinel = { id: 'things/sweep/sentinel', temperature: 20, timestamp: '2024-05-01T11:00:00Z' };
    const accepted = await request(platform.urls.ingest, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': platform.apiKey }, body: single(sentinel) });
    expect(accepted.statusCode).toBe(200);
    const dynamo = targetDynamo(platformTarget(platform));
    try {
      const sweepItems = async () =>
        (
          await dynamo.send(
            new ScanCommand({ TableName: platform.tables.things, FilterExpression: 'begins_with(ThingID, :sweep) OR ThingID = :x', ExpressionAttributeValues: { ':sweep': 'things/sweep/', ':x': 'x/t' } }),
          )
        ).Items ?? [];
      const items = await waitFor('the sentinel', async () => {
        const found = await sweepItems();
        return found.some((item) => item.ThingID === 'things/sweep/sentinel/temperature') ? found : undefined;
      }, 60_000);
      expect(items.map((item) => item.ThingID)).toEqual(['things/sweep/sentinel/temperature']);
    } finally {
      dynamo.destroy();
    }
    // Nothing reached the failure queue either: every hostile body was stopped at the door.
    const queue = (await (await fetch(`${platform.urls.messaging}/`)).json()) as { queues: { messages: unknown[] }[] };
    expect(queue.queues.flatMap((entry) => entry.messages)).toEqual([]);
  }, 120_000);

  it('refuses a second platform on the same data folder with a message that says so', async () => {
    await expect(startLocalPlatform({ dataDir, ports: FREE_PORTS, config: validateConfig({}), log: () => undefined })).rejects.toBeInstanceOf(PlatformAlreadyRunningError);
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
