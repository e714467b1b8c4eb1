/**
 * The app while DynamoDB cannot be reached, and after it comes back: liveness stays up,
 * readiness and the API answer 503 with sentences that name no host, port or library
 * internals, each failed request is logged once, and readiness returns by itself. That
 * the dashboard stays up and the API shows the same data afterwards, on the real tables,
 * is the web-table-outage drill's (verify/drills/web-table-outage.ts).
 */
import { Writable } from 'node:stream';
import { buildApp } from '../../web/app';
import { readinessCheck } from '../../web/readiness';
import { InMemoryRepository, TABLE_ROLES, type ReadingsRepository, type TableCheck } from '../../web/repository';
import { listen, type TestClient } from './http-client';

const SERIES = 'things/harrow/001/temperature';
const TABLES = { things: 'iot-things', thresholds: 'iot-thresholds', alerts: 'iot-alerts', series: 'iot-series', rollups: 'iot-rollups' } as const;
const INTERNAL_HOST = '10.1.2.3';
const INTERNAL_PORT = '8000';

/** The error the SDK rejects with when the endpoint refuses connections (its real shape, message included). */
function connectionRefused(): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${INTERNAL_HOST}:${INTERNAL_PORT}`), {
    errno: -111,
    code: 'ECONNREFUSED',
    syscall: 'connect',
    address: INTERNAL_HOST,
    port: Number(INTERNAL_PORT),
    $metadata: { attempts: 2, totalRetryDelay: 40 },
  });
}

/** Seeded data behind five named tables that can be taken down (every call refused) and brought back. */
class OutageRepository implements ReadingsRepository {
  down = false;
  tableChecks = 0;
  readonly data = new InMemoryRepository();
  /** Errors per table while down; the rest refuse connections. */
  failingTables: Partial<Record<keyof typeof TABLES, () => unknown>> = {};

  constructor() {
    this.data.putReading(SERIES, { timestamp: '2016-09-09T13:00:00.000000Z', value: 19.5 });
    this.data.putThresholds(SERIES, { min: 18, max: 25 });
  }

  private async reach<T>(call: () => Promise<T>): Promise<T> {
    if (this.down) throw connectionRefused();
    return call();
  }

  async checkTables(): Promise<TableCheck[]> {
    this.tableChecks += 1;
    return TABLE_ROLES.map((role) => {
      const failure = this.failingTables[role] ?? (this.down ? connectionRefused : undefined);
      return failure === undefined ? { role, table: TABLES[role] } : { role, table: TABLES[role], error: failure() };
    });
  }

  listSeries = () => this.reach(() => this.data.listSeries());
  readings = (query: Parameters<ReadingsRepository['readings']>[0]) => this.reach(() => this.data.readings(query));
  rollups = (query: Parameters<ReadingsRepository['rollups']>[0]) => this.reach(() => this.data.rollups(query));
  alerts = (query: Parameters<ReadingsRepository['alerts']>[0]) => this.reach(() => this.data.alerts(query));
  thresholds = (series: string) => this.reach(() => this.data.thresholds(series));
}

/** Log lines the app wrote, parsed. */
function logCapture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

const API_ROUTES = ['/api/series', `/api/readings?thing=${encodeURIComponent(SERIES)}`, `/api/rollups?thing=${encodeURIComponent(SERIES)}&from=2016-09-09T00:00:00Z&to=2016-09-10T00:00:00Z`, `/api/alerts?thing=${encodeURIComponent(SERIES)}`, `/api/thresholds?thing=${encodeURIComponent(SERIES)}`];

/** Nothing a visitor should see: stack frames, the endpoint, the SDK's error code or message. */
const LEAKS = [/\n\s+at /, new RegExp(INTERNAL_HOST.replace(/\./g, '\\.')), new RegExp(`:${INTERNAL_PORT}\\b`), /ECONNREFUSED/, /\$metadata/, /errno|syscall/];
const leaksIn = (body: string) => LEAKS.filter((pattern) => pattern.test(body)).map(String);

describe('while DynamoDB cannot be reached, and after it is back', () => {
  const repository = new OutageRepository();
  const log = logCapture();
  let client: TestClient;
  beforeAll(async () => {
    client = await listen(buildApp({ repository, assets: new Map([['/', { body: Buffer.from('<!doctype html>'), contentType: 'text/html; charset=utf-8', immutable: false }]]), logger: { level: 'info', stream: log.stream }, readiness: { cacheSeconds: 0 } }));
  });
  afterAll(() => client.close());

  test('all is well before the outage', async () => {
    const health = await client.get('/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({
      status: 'ok',
      tables: [
        { table: 'iot-things', holds: 'readings', status: 'ok' },
        { table: 'iot-thresholds', holds: 'thresholds', status: 'ok' },
        { table: 'iot-alerts', holds: 'alert history', status: 'ok' },
        { table: 'iot-series', holds: 'series catalogue', status: 'ok' },
        { table: 'iot-rollups', holds: 'rollups', status: 'ok' },
      ],
    });
    for (const url of API_ROUTES) expect([url, (await client.get(url)).statusCode]).toEqual([url, 200]);
  });

  describe('during the outage', () => {
    beforeAll(() => {
      repository.down = true;
    });

    test('/livez still answers 200 and reads nothing', async () => {
      const before = repository.tableChecks;
      const response = await client.get('/livez');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok' });
      expect(repository.tableChecks).toBe(before);
    });

    test('/healthz answers 503 saying the data store cannot be reached, table by table, without internals', async () => {
      const response = await client.get('/healthz');
      expect(response.statusCode).toBe(503);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json() as { status: string; message: string; tables: { table: string; status: string; problem: string }[] };
      expect(body.status).toBe('unavailable');
      expect(body.message).toBe('The data store (DynamoDB) cannot be reached: connection refused. The app answers again by itself once it is back; nothing needs restarting.');
      expect(body.tables.map((table) => [table.table, table.status, table.problem])).toEqual(
        Object.values(TABLES).map((table) => [table, 'unreachable', 'cannot be reached: connection refused']),
      );
      expect(leaksIn(response.body)).toEqual([]);
    });

    test.each(API_ROUTES)('%s answers 503 unavailable with retry-after and a sentence, not a 500', async (url) => {
      const response = await client.get(url);
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toEqual({
        error: 'unavailable',
        message: 'The data store cannot be reached right now; retry in a few seconds. Stored data is not affected.',
      });
      expect(leaksIn(response.body)).toEqual([]);
    });

    test('each failed API request is logged once, with the error and its class', async () => {
      const url = `/api/thresholds?thing=${encodeURIComponent(SERIES)}`;
      const before = log.lines.length;
      for (let request = 0; request < 3; request += 1) await client.get(url);
      const failures = log.lines.slice(before).filter((line) => line.msg === 'request failed');
      expect(failures).toHaveLength(3);
      expect(new Set(failures.map((line) => line.reqId)).size).toBe(3);
      for (const line of failures) {
        expect(line).toMatchObject({ level: 50, problem: 'unreachable', err: { code: 'ECONNREFUSED', message: expect.stringContaining('ECONNREFUSED') } });
      }
    });

    test('readiness lost is logged once, however often it is checked', async () => {
      const lost = log.lines.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('The data store (DynamoDB) cannot be reached'));
      await client.get('/healthz');
      await client.get('/healthz');
      const after = log.lines.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('The data store (DynamoDB) cannot be reached'));
      expect(lost).toHaveLength(1);
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({ level: 50, failures: expect.arrayContaining([{ table: 'iot-things', error: expect.stringContaining('ECONNREFUSED') }]) });
    });
  });

  describe('once it is back', () => {
    beforeAll(() => {
      repository.down = false;
    });

    test('/healthz is ok again at the next check, and says so in the log once', async () => {
      const response = await client.get('/healthz');
      expect(response.statusCode).toBe(200);
      expect((response.json() as { status: string }).status).toBe('ok');
      await client.get('/healthz');
      expect(log.lines.filter((line) => line.msg === 'data store readable again')).toHaveLength(1);
    });
  });
});

describe('readiness answers', () => {
  const named = (name: string, extra: Record<string, unknown> = {}) => () => Object.assign(new Error(`${name}: arn:aws:dynamodb:eu-west-2:123456789012:table/x`), { name, ...extra });

  test('a missing table is named with the variable to check; the others stay ok', async () => {
    const repository = new OutageRepository();
    repository.failingTables = { alerts: named('ResourceNotFoundException', { $metadata: { httpStatusCode: 400 } }) };
    const readiness = await readinessCheck(repository, { cacheSeconds: 0 })();
    expect(readiness.ready).toBe(false);
    expect(readiness.body.message).toBe(
      '1 of 5 tables cannot be read: iot-alerts (alert history) does not exist in this account and region: check ALERTS_TABLE and AWS_REGION.',
    );
    expect(readiness.body.tables.map((table) => table.status)).toEqual(['ok', 'ok', 'missing-table', 'ok', 'ok']);
    expect(JSON.stringify(readiness.body)).not.toMatch(/arn:aws|123456789012/);
    expect(readiness.failures).toEqual([{ table: 'iot-alerts', error: expect.objectContaining({ name: 'ResourceNotFoundException' }) }]);
  });

  test('a refused role, throttling and a DynamoDB server error each get their own words', async () => {
    const repository = new OutageRepository();
    repository.failingTables = {
      things: named('AccessDeniedException', { $metadata: { httpStatusCode: 400 } }),
      thresholds: named('ProvisionedThroughputExceededException', { $metadata: { httpStatusCode: 400 } }),
      series: named('InternalServerError', { $fault: 'server', $metadata: { httpStatusCode: 500 } }),
    };
    const { body } = await readinessCheck(repository, { cacheSeconds: 0 })();
    expect(body.tables.map((table) => [table.table, table.status, table.problem])).toEqual([
      ['iot-things', 'access-denied', "DynamoDB refused the app's credentials or permissions for it: check the task role's policy"],
      ['iot-thresholds', 'busy', 'DynamoDB is throttling reads of it: retry in a moment, or raise its read capacity'],
      ['iot-alerts', 'ok', undefined],
      ['iot-series', 'unreachable', 'cannot be reached: DynamoDB answered with a server error (HTTP 500)'],
      ['iot-rollups', 'ok', undefined],
    ]);
    expect(body.message).toMatch(/^3 of 5 tables cannot be read: iot-things \(readings\) DynamoDB refused/);
  });

  test('tables that do not answer by the deadline count as unreachable, and the check answers at the deadline', async () => {
    const silent: ReadingsRepository = {
      ...new OutageRepository(),
      // Answers only when the deadline aborts, as the SDK does with an abortSignal.
      checkTables: (deadline) =>
        new Promise((resolve) =>
          deadline.addEventListener('abort', () =>
            resolve(TABLE_ROLES.map((role) => ({ role, table: TABLES[role], error: Object.assign(new Error('Request aborted'), { name: 'AbortError' }) }))),
          ),
        ),
    };
    const { ready, body } = await readinessCheck(silent, { timeoutMs: 50, cacheSeconds: 0 })();
    expect(ready).toBe(false);
    expect(body.message).toBe('The data store (DynamoDB) cannot be reached: no answer within 50 ms. The app answers again by itself once it is back; nothing needs restarting.');
  });

  test('a repository whose check itself throws is reported not ready, not ok', async () => {
    const broken = { ...new OutageRepository(), checkTables: () => Promise.reject(new Error('bug')) };
    const readiness = await readinessCheck(broken, { cacheSeconds: 0 })();
    expect(readiness.ready).toBe(false);
    expect(readiness.body).toEqual({ status: 'unavailable', message: 'The readiness check itself failed; the app log has the details.', tables: [] });
  });

  test('a flood of checks costs one round of reads per period, shared while in flight', async () => {
    const repository = new OutageRepository();
    let time = 1_000_000;
    const readiness = readinessCheck(repository, { cacheSeconds: 1 }, () => time);
    const answers = await Promise.all(Array.from({ length: 50 }, () => readiness()));
    expect(answers.every((answer) => answer.ready)).toBe(true);
    expect(repository.tableChecks).toBe(1);
    time += 999;
    await readiness();
    expect(repository.tableChecks).toBe(1);
    // A failure is reused for the period too: an outage does not multiply the reads.
    repository.down = true;
    time += 1;
    expect((await readiness()).ready).toBe(false);
    expect((await readiness()).ready).toBe(false);
    expect(repository.tableChecks).toBe(2);
    repository.down = false;
    time += 1_000;
    expect((await readiness()).ready).toBe(true);
    expect(repository.tableChecks).toBe(3);
  });
});
