/**
 * The overview's API, GET /api/series: status judged at the time of the request (breached,
 * no data past the metric's window, ok, no threshold), counts by status, the status
 * filter, the attention order with "since", and paging through each.
 */
import { buildApp } from '../../web/app';
import { Decimal } from '../../handlers/decimal';
import { DEFAULT_STALE_AFTER_MINUTES } from '../../web/metrics';
import { InMemoryRepository } from '../../web/repository';
import { listen, type TestClient } from './http-client';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-30T12:00:00Z');
const iso = (millis: number): string => new Date(millis).toISOString().replace('Z', '000Z');
const n = (value: number): Decimal => Decimal.of(value) as Decimal;

interface Listed {
  series: string;
  status: string;
  since: string;
}
interface Answer {
  series: Listed[];
  total: number;
  counts: Record<string, number>;
  nextCursor: string | null;
}

/**
 * A small fleet, minutes before T0:
 *   boiler temperatures: b1 breached since an alert 40 min ago, b2 breached with no alert recorded (since = its latest reading)
 *   pump pressures: p1 silent for 3 h, p2 silent for 20 min (both past the default 15), p3 ok
 *   a battery reading from 2 h ago: its metric allows a day, so it is not silent
 *   flows without thresholds, one a minute ago, one 14 min ago
 */
function fleet(): InMemoryRepository {
  const repository = new InMemoryRepository();
  const put = (series: string, minutesAgo: number, value: number) => repository.putReading(series, { timestamp: iso(T0 - minutesAgo * MINUTE), value });
  put('things/site/b1/temperature', 50, 70).putReading('things/site/b1/temperature', { timestamp: iso(T0 - 40 * MINUTE), value: 90 });
  put('things/site/b1/temperature', 1, 91);
  repository.putThresholds('things/site/b1/temperature', { max: 80 });
  repository.putAlert('things/site/b1/temperature', { timestamp: iso(T0 - 40 * MINUTE), kind: 'breach', value: n(90), minThreshold: null, maxThreshold: n(80), messageId: 'm1' });
  // A reminder does not move "since".
  repository.putAlert('things/site/b1/temperature', { timestamp: iso(T0 - 10 * MINUTE), kind: 'reminder', value: n(91), minThreshold: null, maxThreshold: n(80), messageId: 'm2' });
  put('things/site/b2/temperature', 2, 99);
  repository.putThresholds('things/site/b2/temperature', { max: 80 });
  put('things/site/p1/pressure', 180, 2.1);
  repository.putThresholds('things/site/p1/pressure', { min: 1, max: 3 });
  put('things/site/p2/pressure', 20, 2.2);
  put('things/site/p3/pressure', 3, 2.3);
  repository.putThresholds('things/site/p3/pressure', { min: 1, max: 3 });
  put('things/site/t1/battery', 120, 80);
  repository.putThresholds('things/site/t1/battery', { min: 20 });
  put('things/site/f1/flow', 1, 12);
  put('things/site/f2/flow', DEFAULT_STALE_AFTER_MINUTES - 1, 13);
  return repository;
}

describe("a series whose rule sets a no-data period is silent by that period, not its metric's window", () => {
  test('an hour-long period keeps a reading 20 minutes old ok; a 5-minute one makes a reading 10 minutes old no-data', async () => {
    const repository = new InMemoryRepository();
    repository.putReading('things/site/slow/pressure', { timestamp: iso(T0 - 20 * MINUTE), value: 2 }).putThresholds('things/site/slow/pressure', { min: 1, max: 3, noDataAfterSeconds: 3_600 });
    repository.putReading('things/site/fast/pressure', { timestamp: iso(T0 - 10 * MINUTE), value: 2 }).putThresholds('things/site/fast/pressure', { min: 1, max: 3, noDataAfterSeconds: 300 });
    const client = await listen(buildApp({ repository, assets: new Map(), now: () => T0 }));
    try {
      const answer = (await client.get('/api/series')).json() as Answer;
      expect(Object.fromEntries(answer.series.map((entry) => [entry.series.split('/')[2], entry.status]))).toEqual({ fast: 'no-data', slow: 'ok' });
    } finally {
      await client.close();
    }
  });
});

describe('GET /api/series as the overview asks it', () => {
  let clock = T0;
  let client: TestClient;
  beforeAll(async () => {
    client = await listen(buildApp({ repository: fleet(), assets: new Map(), now: () => clock }));
  });
  afterAll(() => client.close());
  beforeEach(() => (clock = T0));

  const list = async (parameters: Record<string, string> = {}): Promise<Answer> => {
    const response = await client.get(`/api/series?${new URLSearchParams(parameters)}`);
    expect(response.statusCode).toBe(200);
    return response.json() as Answer;
  };
  const statuses = (answer: Answer) => Object.fromEntries(answer.series.map((entry) => [entry.series.split('/')[2], entry.status]));

  test('judges each series now: breached, no data past its metric\'s window, ok, no threshold; and counts them', async () => {
    const answer = await list();
    expect(statuses(answer)).toEqual({ b1: 'breached', b2: 'breached', p1: 'no-data', p2: 'no-data', p3: 'ok', t1: 'ok', f1: 'no-threshold', f2: 'no-threshold' });
    expect(answer.counts).toEqual({ breached: 2, 'no-data': 2, ok: 2, 'no-threshold': 2 });
    expect(answer.total).toBe(8);
  });

  test('"since" is when the alert state says the breach began, else the latest reading; for no data, the last reading', async () => {
    const since = Object.fromEntries((await list()).series.map((entry) => [entry.series.split('/')[2], entry.since]));
    expect(since.b1).toBe(iso(T0 - 40 * MINUTE));
    expect(since.b2).toBe(iso(T0 - 2 * MINUTE));
    expect(since.p1).toBe(iso(T0 - 180 * MINUTE));
    expect(since.p2).toBe(iso(T0 - 20 * MINUTE));
  });

  test('a series goes quiet as the clock passes its window, with no new catalogue', async () => {
    clock = T0 + 2 * MINUTE;
    const answer = await list();
    expect(statuses(answer).f2).toBe('no-data');
    expect(answer.counts).toEqual({ breached: 2, 'no-data': 3, ok: 2, 'no-threshold': 1 });
    clock = T0 + 24 * 60 * MINUTE;
    expect((await list()).counts).toEqual({ breached: 0, 'no-data': 8, ok: 0, 'no-threshold': 0 });
  });

  test('sort=attention: breached, then no data, each the longest standing first, then ok and no threshold by id', async () => {
    const answer = await list({ sort: 'attention' });
    expect(answer.series.map((entry) => entry.series.split('/')[2])).toEqual(['b1', 'b2', 'p1', 'p2', 'p3', 't1', 'f1', 'f2']);
  });

  test('pages through the attention order with the cursor, each series once and in order', async () => {
    const whole = (await list({ sort: 'attention' })).series.map((entry) => entry.series);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Answer = await list({ sort: 'attention', limit: '3', ...(cursor === null ? {} : { cursor }) });
      expect(page.total).toBe(8);
      seen.push(...page.series.map((entry) => entry.series));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(whole);
  });

  test('status= keeps the statuses named, with q, and the counts still cover every status of q\'s matches', async () => {
    const attention = await list({ status: 'breached,no-data', sort: 'attention' });
    expect(attention.series.map((entry) => entry.status)).toEqual(['breached', 'breached', 'no-data', 'no-data']);
    expect(attention.total).toBe(4);
    expect(attention.counts).toEqual({ breached: 2, 'no-data': 2, ok: 2, 'no-threshold': 2 });
    const pressure = await list({ status: 'ok', q: 'PRESSURE' });
    expect(pressure.series.map((entry) => entry.series)).toEqual(['things/site/p3/pressure']);
    expect(pressure.counts).toEqual({ breached: 0, 'no-data': 2, ok: 1, 'no-threshold': 0 });
    const first = await list({ status: 'no-threshold', limit: '1' });
    const second = await list({ status: 'no-threshold', limit: '1', cursor: first.nextCursor as string });
    expect([...first.series, ...second.series].map((entry) => entry.series)).toEqual(['things/site/f1/flow', 'things/site/f2/flow']);
    expect(second.nextCursor).toBeNull();
  });

  test.each([
    [{ status: 'broken' }, 'status', /one or more of breached, no-data, ok, no-threshold/],
    [{ status: 'ok,' }, 'status', /got ""/],
    [{ sort: 'newest' }, 'sort', /"series" \(by id\) or "attention"/],
    [{ sort: 'attention', cursor: Buffer.from('{"after":"x"}').toString('base64url') }, 'cursor', /another sort order/],
    [{ cursor: Buffer.from('{"after":"x","status":"ok","since":"2026"}').toString('base64url') }, 'cursor', /another sort order/],
    [{ sort: 'attention', cursor: Buffer.from('{"after":"x","status":"fine","since":"2026"}').toString('base64url') }, 'cursor', /not one this API issued/],
  ])('refuses %o, naming %s', async (parameters, parameter, message) => {
    const response = await client.get(`/api/series?${new URLSearchParams(parameters)}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad-parameter', parameter, message: expect.stringMatching(message) });
  });
});
