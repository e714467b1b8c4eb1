/**
 * Route tests: every endpoint through real requests (see http-client.ts), each bad parameter, error
 * bodies, security headers and the dashboard's files.
 */
import { connect } from 'node:net';
import { buildApp } from '../../web/app';
import { PAGE_LIMITS } from '../../web/query';
import { Decimal } from '../../handlers/decimal';
import { InMemoryRepository, type ReadingsRepository } from '../../web/repository';
import { listen, type TestClient } from './http-client';

const SERIES = 'things/harrow/001/temperature';
const XSS = '<img src=x onerror=alert(1)>/temperature';

const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

const points: { timestamp: string; value: number }[] = Array.from({ length: 12 }, (_, minute) => ({
  timestamp: `2016-09-09T13:${String(minute * 5).padStart(2, '0')}:07.381019Z`,
  value: 16 + minute,
}));

function seeded(): InMemoryRepository {
  const repository = new InMemoryRepository();
  for (const point of points) repository.putReading(SERIES, point);
  repository.putReading(XSS, { timestamp: '2016-09-09T13:00:00.000000Z', value: 1 });
  repository.putThresholds(SERIES, { min: 18, max: 25 });
  repository.putAlert(SERIES, { timestamp: points[10]?.timestamp as string, kind: 'breach', value: n(26), minThreshold: n(18), maxThreshold: n(25), messageId: 'msg-1' });
  return repository;
}

/** The app's clock: three minutes after the harrow thermometer's last reading, an hour after the other series' only one. */
const NOW = Date.parse('2016-09-09T13:58:07Z');

let client: TestClient;
beforeAll(async () => {
  client = await listen(buildApp({ repository: seeded(), now: () => NOW }));
});
afterAll(() => client.close());

const get = (url: string) => client.get(url);
const query = (path: string, parameters: Record<string, string>) => get(`${path}?${new URLSearchParams(parameters)}`);

describe('GET /livez and /healthz', () => {
  test('/livez answers ok without touching the data store', async () => {
    const failing = await listen(buildApp({ repository: failingRepository(new Error('down')), assets: new Map() }));
    const response = await failing.get('/livez');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
    expect(response.headers['cache-control']).toBe('no-store');
    await failing.close();
  });

  test('/healthz is ok over a repository with no table to reach (memory)', async () => {
    const response = await get('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', tables: [] });
  });
});

describe('GET /api/series', () => {
  test('lists every series with latest value, status and since, and the counts by status', async () => {
    const response = await get('/api/series');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      total: 2,
      counts: { breached: 1, 'no-data': 1, ok: 0, 'no-threshold': 0 },
      nextCursor: null,
      series: [
        // Silent for 58 minutes, past the 15 a temperature may go without a reading: no data since its last one.
        { series: XSS, thingId: '<img src=x onerror=alert(1)>', metric: 'temperature', latestTimestamp: '2016-09-09T13:00:00.000000Z', latestValue: 1, minThreshold: null, maxThreshold: null, status: 'no-data', since: '2016-09-09T13:00:00.000000Z' },
        // Breached since the reading the alert handler sent its breach notice for.
        { series: SERIES, thingId: 'things/harrow/001', metric: 'temperature', latestTimestamp: points[11]?.timestamp, latestValue: 27, minThreshold: 18, maxThreshold: 25, status: 'breached', since: points[10]?.timestamp },
      ],
    });
  });

  test('rejects a parameter it does not take', async () => {
    const response = await get('/api/series?thing=x');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad-parameter', parameter: 'thing' });
  });

  describe('paging and filtering on the server', () => {
    const many = new InMemoryRepository();
    const ids = Array.from({ length: 250 }, (_, index) => `things/site-${index % 5}/${String(index).padStart(3, '0')}/temperature`).sort();
    for (const id of ids) many.putReading(id, { timestamp: '2016-09-09T13:00:00.000000Z', value: 20 });
    let paged: TestClient;
    beforeAll(async () => {
      paged = await listen(buildApp({ repository: many, assets: new Map(), now: () => NOW }));
    });
    afterAll(() => paged.close());
    const listed = async (parameters: Record<string, string>) => {
      const response = await paged.get(`/api/series?${new URLSearchParams(parameters)}`);
      expect(response.statusCode).toBe(200);
      return response.json() as { series: { series: string }[]; total: number; nextCursor: string | null };
    };

    test('answers 100 series a page by default and walks every page with the cursor, each series once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await listed(cursor === null ? {} : { cursor });
        expect(page.total).toBe(250);
        seen.push(...page.series.map((entry) => entry.series));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual(ids);
    });

    test('keeps the series whose id holds q, in any case, with their total', async () => {
      const page = await listed({ q: 'SITE-3', limit: '20' });
      const expected = ids.filter((id) => id.includes('site-3'));
      expect(page.total).toBe(expected.length);
      expect(page.series.map((entry) => entry.series)).toEqual(expected.slice(0, 20));
      const next = await listed({ q: 'site-3', limit: '20', cursor: page.nextCursor as string });
      expect(next.series.map((entry) => entry.series)).toEqual(expected.slice(20, 40));
      expect(await listed({ q: 'nothing-like-this' })).toEqual({ series: [], total: 0, counts: { breached: 0, 'no-data': 0, ok: 0, 'no-threshold': 0 }, nextCursor: null });
    });

    test.each([
      [{ limit: '0' }, 'limit', /from 1 to 1000/],
      [{ limit: '1001' }, 'limit', /from 1 to 1000/],
      [{ cursor: 'not!base64' }, 'cursor', /not one this API issued/],
      [{ cursor: Buffer.from('{"before":"x"}').toString('base64url') }, 'cursor', /not one this API issued/],
      [{ q: 'x'.repeat(257) }, 'q', /at most 256 characters/],
    ])('refuses %o, naming %s', async (parameters, parameter, message) => {
      const response = await paged.get(`/api/series?${new URLSearchParams(parameters)}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'bad-parameter', parameter, message: expect.stringMatching(message) });
    });
  });
});

describe('GET /api/rollups', () => {
  // One reading a minute for two days from 2026-11-29, values cycling 0..9, and now on 2026-12-01.
  const NOW = Date.UTC(2026, 11, 1, 0, 0);
  const START = Date.UTC(2026, 10, 29);
  const history = new InMemoryRepository();
  for (let minute = 0; minute < 2 * 1440; minute++) history.putReading(SERIES, { timestamp: new Date(START + minute * 60_000).toISOString().replace('Z', '000Z'), value: minute % 10 });
  let rollups: TestClient;
  beforeAll(async () => {
    rollups = await listen(buildApp({ repository: history, assets: new Map(), now: () => NOW, rollupRetentionDays: { '1m': 90, '1h': 1095 } }));
  });
  afterAll(() => rollups.close());
  const ask = (parameters: Record<string, string>) => rollups.get(`/api/rollups?${new URLSearchParams({ thing: SERIES, ...parameters })}`);

  test('answers the buckets of a range at the step asked, starts in UTC, values exact, the mean a double', async () => {
    const response = await ask({ from: '2026-11-29T00:00:00Z', to: '2026-11-29T02:59:59Z', step: '1h' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      thing: SERIES,
      step: '1h',
      items: [0, 1, 2].map((hour) => ({ start: `2026-11-29T0${hour}:00:00.000000Z`, count: 60, min: 0, max: 9, mean: 4.5 })),
    });
  });

  test('auto picks the finest step with at most 2,000 buckets: minutes for a day, hours for a week, days for a year', async () => {
    const stepOf = async (from: string, to: string) => ((await ask({ from, to })).json() as { step: string }).step;
    await expect(stepOf('2026-11-29T00:00:00Z', '2026-11-30T00:00:00Z')).resolves.toBe('1m');
    await expect(stepOf('2026-11-24T00:00:00Z', '2026-12-01T00:00:00Z')).resolves.toBe('1h');
    await expect(stepOf('2025-12-01T00:00:00Z', '2026-12-01T00:00:00Z')).resolves.toBe('1d');
    // Minutes of a day 100 days back are gone (kept 90 days): hours instead.
    await expect(stepOf('2026-08-20T00:00:00Z', '2026-08-21T00:00:00Z')).resolves.toBe('1h');
    const week = (await ask({ from: '2026-11-24T00:00:00Z', to: '2026-12-01T00:00:00Z' })).json() as { items: { count: number }[] };
    // Every reading of the range is counted: none left out.
    expect(week.items.reduce((sum, item) => sum + item.count, 0)).toBe(2 * 1440);
  });

  test.each<[Record<string, string>, string, RegExp]>([
    [{ to: '2026-11-30T00:00:00Z' }, 'from', /"from" is required/],
    [{ from: '2026-11-30T00:00:00Z' }, 'to', /"to" is required/],
    [{ from: '2026-11-30T00:00:00Z', to: '2026-11-29T00:00:00Z' }, 'to', /is before "from"/],
    [{ from: '2026-11-29T00:00:00Z', to: '2026-11-30T00:00:00Z', step: '5m' }, 'step', /must be 1m, 1h, 1d or auto/],
    [{ from: '2016-01-01T00:00:00Z', to: '2026-11-30T00:00:00Z', step: '1h' }, 'step', /holds 95\d{3} buckets of 1h, more than 10000/],
    [{ from: '2026-11-29T00:00:00Z', to: '2026-11-30T00:00:00Z', order: 'desc' }, 'order', /unknown parameter "order"/],
  ])('refuses %o, naming %s', async (parameters, parameter, message) => {
    const response = await ask(parameters);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad-parameter', parameter, message: expect.stringMatching(message) });
  });
});

describe('GET /api/readings', () => {
  test('returns a range oldest first by default', async () => {
    const response = await query('/api/readings', { thing: SERIES });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ thing: SERIES, order: 'asc', items: points, nextCursor: null });
  });

  test('pages with the cursor it returns, newest first on request', async () => {
    const seen: (typeof points)[number][] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const parameters: Record<string, string> = { thing: SERIES, order: 'desc', limit: '5', ...(cursor === null ? {} : { cursor }) };
      const body = (await query('/api/readings', parameters)).json() as { items: (typeof points)[number][]; nextCursor: string | null };
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...points].reverse());
  });

  test.each([
    ['ISO 8601 UTC', '2016-09-09T13:10:07.381019Z', '2016-09-09T13:25:07.381019Z'],
    ["the 2016 report's form", '2016-09-09 13:10:07.381019', '2016-09-09 13:25:07.381019'],
    ['ISO 8601 with an offset', '2016-09-09T14:10:07.381019+01:00', '2016-09-09T14:25:07.381019+01:00'],
    // Milliseconds cannot name .381019 exactly: the nearest instants around it.
    ['epoch milliseconds', String(Date.UTC(2016, 8, 9, 13, 10, 7, 381)), String(Date.UTC(2016, 8, 9, 13, 25, 7, 382))],
  ])('takes from/to in %s, both inclusive', async (_form, from, to) => {
    const response = await query('/api/readings', { thing: SERIES, from, to });
    expect(response.statusCode).toBe(200);
    expect((response.json() as { items: { value: number }[] }).items.map((point) => point.value)).toEqual([18, 19, 20, 21]);
  });

  test('returns an empty page for a series with no readings', async () => {
    const response = await query('/api/readings', { thing: 'things/unknown/x' });
    expect(response.json()).toEqual({ thing: 'things/unknown/x', order: 'asc', items: [], nextCursor: null });
  });

  const firstCursor = async () => ((await query('/api/readings', { thing: SERIES, limit: '2' })).json() as { nextCursor: string }).nextCursor;

  test.each<[string, Record<string, string> | string, string, RegExp]>([
    ['no thing', {}, 'thing', /required/],
    ['a blank thing', { thing: '  ' }, 'thing', /required/],
    ['a thing longer than a DynamoDB key', { thing: 'x'.repeat(2049) }, 'thing', /2048 bytes/],
    ['a from that is no time', { thing: SERIES, from: 'yesterday' }, 'from', /"from": "yesterday" is not a recognised time/],
    ['a from on a day that does not exist', { thing: SERIES, from: '2016-02-30T00:00:00Z' }, 'from', /does not exist/],
    ['a to that is no time', { thing: SERIES, to: '13:00' }, 'to', /not a recognised time/],
    ['an epoch beyond the year 9999', { thing: SERIES, to: '999999999999999' }, 'to', /epoch milliseconds/],
    ['a to before from', { thing: SERIES, from: '2016-09-09T14:00:00Z', to: '2016-09-09T13:00:00Z' }, 'to', /before "from"/],
    ['a zero limit', { thing: SERIES, limit: '0' }, 'limit', /from 1 to 5000/],
    ['a limit above the cap', { thing: SERIES, limit: String(PAGE_LIMITS.max + 1) }, 'limit', /from 1 to 5000/],
    ['a fractional limit', { thing: SERIES, limit: '2.5' }, 'limit', /whole number/],
    ['a limit that is no number', { thing: SERIES, limit: 'ten' }, 'limit', /whole number/],
    ['an unknown order', { thing: SERIES, order: 'newest' }, 'order', /"asc".*"desc"/],
    ['a cursor this API never issued', { thing: SERIES, cursor: 'not-a-cursor' }, 'cursor', /not one this API issued/],
    ['an unknown parameter', { thing: SERIES, lmit: '5' }, 'lmit', /unknown parameter "lmit"/],
    ['a repeated parameter', `thing=${SERIES}&limit=1&limit=2`, 'limit', /once/],
    ['an unencoded "+" in a zone', `thing=${SERIES}&from=2016-09-09T13:00:00+01:00`, 'from', /%2B/],
  ])('answers 400 naming the parameter for %s', async (_case, parameters, parameter, message) => {
    const response = typeof parameters === 'string' ? await get(`/api/readings?${parameters}`) : await query('/api/readings', parameters);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json() as { error: string; parameter: string; message: string };
    expect(body.error).toBe('bad-parameter');
    expect(body.parameter).toBe(parameter);
    expect(body.message).toMatch(message);
  });

  test('answers 400 for a cursor used with a range it does not belong to', async () => {
    const cursor = await firstCursor();
    const response = await query('/api/readings', { thing: SERIES, cursor, from: '2016-09-09T13:30:00Z' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ parameter: 'cursor', message: expect.stringMatching(/another time range/) });
  });
});

describe('GET /api/alerts', () => {
  test('returns the alert history of a series in a range', async () => {
    const response = await query('/api/alerts', { thing: SERIES, from: '2016-09-09T13:00:00Z', to: '2016-09-09T14:00:00Z' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      thing: SERIES,
      order: 'asc',
      items: [{ timestamp: points[10]?.timestamp, kind: 'breach', value: 26, minThreshold: 18, maxThreshold: 25, messageId: 'msg-1' }],
      nextCursor: null,
    });
    const before = await query('/api/alerts', { thing: SERIES, to: '2016-09-09T13:00:00Z' });
    expect((before.json() as { items: unknown[] }).items).toEqual([]);
  });

  test.each([
    // Without "thing" it lists alerts across the fleet, which take other parameters.
    [{ order: 'desc' }, 'order'],
    [{ kind: 'warm' }, 'kind'],
    [{ state: 'firing,open' }, 'state'],
    [{ limit: '501' }, 'limit'],
    [{ thing: SERIES, from: 'soon' }, 'from'],
    [{ thing: SERIES, to: 'later' }, 'to'],
    [{ thing: SERIES, limit: '-1' }, 'limit'],
    [{ thing: SERIES, order: 'up' }, 'order'],
    [{ thing: SERIES, cursor: '!!' }, 'cursor'],
    [{ thing: SERIES, kind: 'breach' }, 'kind'],
  ])('answers 400 naming the bad parameter (%j)', async (parameters, parameter) => {
    const response = await query('/api/alerts', parameters as Record<string, string>);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad-parameter', parameter });
  });
});

describe('GET /api/thresholds', () => {
  test('returns the bounds of a series, or nulls when it has none', async () => {
    expect((await query('/api/thresholds', { thing: SERIES })).json()).toEqual({ thing: SERIES, minThreshold: 18, maxThreshold: 25 });
    expect((await query('/api/thresholds', { thing: XSS })).json()).toEqual({ thing: XSS, minThreshold: null, maxThreshold: null });
  });

  test.each([
    [{}, 'thing'],
    [{ thing: '' }, 'thing'],
    [{ thing: SERIES, from: '2016-09-09' }, 'from'],
  ])('answers 400 naming the bad parameter (%j)', async (parameters, parameter) => {
    const response = await query('/api/thresholds', parameters as Record<string, string>);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad-parameter', parameter });
  });
});

function failingRepository(error: Error): ReadingsRepository {
  const fail = async () => {
    throw error;
  };
  return { checkTables: fail, listSeries: fail, readings: fail, rollups: fail, alerts: fail, thresholds: fail };
}

describe('exact values', () => {
  const BIG = 'things/big/1/energy';
  const exactRepository = () =>
    new InMemoryRepository()
      .putReading(BIG, { timestamp: '2016-09-09T13:00:00.000000Z', value: '12345678901234567890123456789012345678' })
      .putReading(BIG, { timestamp: '2016-09-09T13:01:00.000000Z', value: '-1e-130' })
      .putThresholds(BIG, { max: '1.2345678901234567890123456789012345677e+37' });

  test('every endpoint writes values and thresholds as JSON numbers with every digit stored, never a 500 or a dropped series', async () => {
    const app = await listen(buildApp({ repository: exactRepository(), assets: new Map() }));
    const readings = await app.get(`/api/readings?thing=${encodeURIComponent(BIG)}`);
    expect(readings.statusCode).toBe(200);
    expect(readings.body).toContain('"value":1.2345678901234567890123456789012345678e+37');
    expect(readings.body).toContain('"value":-1e-130');
    const series = await app.get('/api/series');
    expect(series.body).toContain('"latestValue":-1e-130');
    expect(series.body).toContain('"maxThreshold":1.2345678901234567890123456789012345677e+37');
    const thresholds = await app.get(`/api/thresholds?thing=${encodeURIComponent(BIG)}`);
    expect(thresholds.body).toBe(`{"thing":"${BIG}","minThreshold":null,"maxThreshold":1.2345678901234567890123456789012345677e+37}`);
    // Valid JSON all the same, for clients that read doubles.
    expect((readings.json() as { items: { value: number }[] }).items[0]?.value).toBeCloseTo(1.2345678901234568e37);
    await app.close();
  });
});

describe('methods and probes', () => {
  test.each([
    ['POST', '/api/readings', '{"items":[]}', 'GET, HEAD'],
    // Rules are set with PUT (rule-routes.ts), never deleted from the web.
    ['DELETE', `/api/thresholds?thing=${encodeURIComponent(SERIES)}`, undefined, 'GET, HEAD, PUT'],
    ['PUT', '/api/series', '{}', 'GET, HEAD'],
    ['PATCH', '/livez', undefined, 'GET, HEAD'],
    ['POST', '/healthz?x', undefined, 'GET, HEAD'],
  ])('%s on the known route %s is 405 with the methods it takes in Allow', async (method, path, body, allowed) => {
    const response = await client.request(method, path, body);
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allowed);
    expect(response.json()).toEqual({ error: 'method-not-allowed', message: `${method} ${path.split('?')[0]} is not allowed: use ${allowed}` });
  });

  test.each(['a%FF/t', 'a%C3/t', '%ED%A0%80'])('a parameter whose escapes are not UTF-8 (%s) is refused by name, not read as other text', async (thing) => {
    const response = await get(`/api/readings?thing=${thing}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'bad-parameter', parameter: 'thing', message: '"thing" is not UTF-8 text: its percent-escapes must encode UTF-8 bytes' });
  });

  test('UTF-8 escapes, + for a space and repeated names are read as before', async () => {
    expect((await get(`/api/thresholds?thing=${encodeURIComponent('things/Zürich/温度')}`)).json()).toMatchObject({ thing: 'things/Zürich/温度' });
    expect((await get('/api/thresholds?thing=a+b/t')).json()).toMatchObject({ thing: 'a b/t' });
    expect((await get('/api/thresholds?thing=a/t&thing=b/t')).json()).toMatchObject({ parameter: 'thing', message: '"thing" must be given once' });
  });

  test('a path no route has stays 404 whatever the method', async () => {
    expect((await client.request('POST', '/api/things', '{}')).statusCode).toBe(404);
  });

  test.each(['/healthz?x', '/healthz?probe=1', '/livez?x'])('%s is never cached, like the probe without a query', async (url) => {
    const response = await get(url);
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('errors', () => {
  test('an unknown path is a JSON 404', async () => {
    const response = await get('/api/nothing?x=1');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not-found', message: 'Nothing at GET /api/nothing' });
  });

  test('a failure in the data store is a 500 that reveals no internal message or stack', async () => {
    const secret = new Error('Requested resource not found: Table: arn:aws:dynamodb:eu-west-2:123456789012:table/iot-things');
    const failing = await listen(buildApp({ repository: failingRepository(secret), assets: new Map() }));
    for (const url of ['/api/series', `/api/readings?thing=${SERIES}`, `/api/alerts?thing=${SERIES}`, `/api/thresholds?thing=${SERIES}`]) {
      const response = await failing.get(url);
      expect(response.statusCode).toBe(500);
      const body = response.json() as { error: string; message: string };
      expect(body.error).toBe('internal');
      expect(response.body).not.toMatch(/arn:aws|iot-things|123456789012|at .*\.ts|stack/);
    }
    await failing.close();
  });

  test('throttling by the data store is a 503 the client may retry', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    const failing = await listen(buildApp({ repository: failingRepository(throttled), assets: new Map() }));
    const response = await failing.get('/api/series');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json()).toMatchObject({ error: 'unavailable' });
    await failing.close();
  });
});

describe('security headers', () => {
  test.each(['/', '/missing'])('%s carries a self-only CSP and the usual hardening headers', async (url) => {
    const response = await get(url);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|upgrade-insecure-requests/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });

  test.each(['/api/series', '/api/readings?limit=x', '/api/nothing', '/healthz', '/livez'])('%s carries the API set and is never cached', async (url) => {
    const response = await get(url);
    expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['strict-transport-security']).toMatch(/^max-age=/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers a URL that cannot be decoded with the API error shape and headers', async () => {
    const response = await get('/api/%');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'bad-request', message: expect.stringContaining("'/api/%' is not a valid url component") });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('GET / (dashboard)', () => {
  test('serves the page and its bundled script and stylesheet from the app itself', async () => {
    const page = await get('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    const script = /<script defer src="(\/assets\/main-[A-Z0-9]+\.js)"><\/script>/.exec(page.body)?.[1];
    const style = /<link rel="stylesheet" href="(\/assets\/main-[A-Z0-9]+\.css)">/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    // Nothing is loaded from another origin.
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);

    const js = await get(script as string);
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect(js.body).toContain('uplot'); // uPlot's own class names: the library is inside the bundle
    const css = await get(style as string);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('.u-legend');
  });
});

describe('slow clients (https://nodejs.org/api/http.html#serverheaderstimeout, #serverrequesttimeout)', () => {
  /** Opens a raw connection, writes `sent`, and resolves with what the server answered once it closed the connection. */
  function trickle(base: string, sent: string): Promise<{ answer: string }> {
    const { hostname, port } = new URL(base);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(sent));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('close', () => resolve({ answer }));
      socket.on('error', reject);
      // A server without timeouts would keep the connection open: the test fails by its own timeout.
    });
  }

  test('a client that never finishes its headers gets 408 and loses the connection', async () => {
    const app = await listen(buildApp({ repository: seeded(), assets: new Map(), timeouts: { headersMs: 300, requestMs: 600 } }));
    const { answer } = await trickle(app.base, 'GET /api/series HTTP/1.1\r\nHost: x\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    await app.close();
  });

  test('a client that never finishes its body gets 408 and loses the connection', async () => {
    const app = await listen(buildApp({ repository: seeded(), assets: new Map(), timeouts: { headersMs: 300, requestMs: 600 } }));
    const { answer } = await trickle(app.base, 'POST /api/series HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    await app.close();
  });
});
