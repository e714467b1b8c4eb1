/**
 * Alert rules set through the web API, end to end on dynalite: the same checks as the
 * thresholds CLI, only the rule's attributes written (the alert state kept), every change
 * recorded and listed, bulk changes by prefix and by list, and no change without a user.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { RULE_CHANGES_PARTITION } from '../../handlers/rule-change-item';
import { thresholdProblems } from '../../tools/threshold-store';
import { createDynamoAlertConsole } from '../../web/alert-console';
import { buildApp } from '../../web/app';
import { createDynamoRepository } from '../../web/dynamo-repository';
import { localIdentity, noIdentity, type UserIdentity } from '../../web/identity';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';
import { listen, type TestClient } from './http-client';

type Json = Record<string, unknown> & { items?: Record<string, unknown>[]; changes?: Record<string, unknown>[]; unchanged?: string[] };

let db: DynaliteHarness;
let client: TestClient;
let clock = Date.parse('2026-11-30T10:00:00Z');

const appWith = (identity: UserIdentity) =>
  buildApp({
    repository: createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 }),
    alertConsole: createDynamoAlertConsole({ client: db.exact, tables: db.tables }),
    identity,
    assets: new Map(),
    now: () => clock,
  });

beforeAll(async () => {
  db = await startDynalite();
  client = await listen(appWith(localIdentity));
});
afterAll(async () => {
  await client.close();
  await db.stop();
});

const put = (body: unknown) => client.request('PUT', '/api/thresholds', JSON.stringify(body));
const getJson = async (path: string) => (await client.get(path)).json() as Json;
const stored = async (series: string) => (await db.document.send(new GetCommand({ TableName: db.tables.thresholds, Key: { ThingID: series } }))).Item;
const catalogue = (series: string) => db.document.send(new PutCommand({ TableName: db.tables.series, Item: { ThingID: series, LatestTimestamp: '2026-11-30T09:59:00.000000Z', LatestValue: 60 } }));

describe('PUT /api/thresholds for one series', () => {
  const series = 'plant-1/boiler/temperature';

  it('sets the rule, keeps the alert state on the item, and records who, when, old and new', async () => {
    await db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: series, MaxThreshold: 78, AlertState: 'breached', AlertChangedAt: '2026-11-30T09:00:00.000000Z' } }));
    const response = await put({ thing: series, rule: { min: 55, max: 80.5, for: 120, hysteresis: 2, noDataAfterSeconds: 900, recipients: 'boiler-room' }, reason: 'summer load' });
    expect(response.statusCode).toBe(200);
    const answer = response.json() as Json;
    expect(answer.rule).toEqual({ min: 55, max: 80.5, for: 120, hysteresis: 2, noDataAfterSeconds: 900, recipients: 'boiler-room' });
    expect(answer.changes).toEqual([
      expect.objectContaining({
        series,
        changedBy: 'local',
        changedAt: '2026-11-30T10:00:00.000Z',
        reason: 'summer load',
        before: { min: null, max: 78, for: 0, hysteresis: null, noDataAfterSeconds: null, recipients: null },
        after: answer.rule,
      }),
    ]);
    expect(await stored(series)).toEqual({
      ThingID: series,
      MinThreshold: 55,
      MaxThreshold: 80.5,
      ForSeconds: 120,
      Hysteresis: 2,
      NoDataAfterSeconds: 900,
      Recipients: 'boiler-room',
      AlertState: 'breached',
      AlertChangedAt: '2026-11-30T09:00:00.000000Z',
    });
  });

  it('sets a rule exactly: fields left out are removed, and the change history lists both changes newest first', async () => {
    clock += 60_000;
    const response = await put({ thing: series, rule: { max: 90 } });
    expect(response.statusCode).toBe(200);
    const item = await stored(series);
    expect(item).toMatchObject({ MaxThreshold: 90, AlertState: 'breached' });
    expect(item).not.toHaveProperty('MinThreshold');
    expect(item).not.toHaveProperty('Recipients');
    const history = await getJson(`/api/thresholds/changes?thing=${encodeURIComponent(series)}`);
    expect(history.rule).toEqual({ min: null, max: 90, for: 0, hysteresis: null, noDataAfterSeconds: null, recipients: null });
    expect(history.items?.map((change) => [change.changedAt, (change.before as Json | null)?.max, (change.after as Json).max, change.reason])).toEqual([
      ['2026-11-30T10:01:00.000Z', 80.5, 90, ''],
      ['2026-11-30T10:00:00.000Z', 78, 80.5, 'summer load'],
    ]);
    const first = await getJson(`/api/thresholds/changes?thing=${encodeURIComponent(series)}&limit=1`);
    expect(first.items?.map((change) => change.changedAt)).toEqual(['2026-11-30T10:01:00.000Z']);
    const second = await getJson(`/api/thresholds/changes?thing=${encodeURIComponent(series)}&limit=1&cursor=${first.nextCursor as string}`);
    expect(second.items?.map((change) => change.changedAt)).toEqual(['2026-11-30T10:00:00.000Z']);
    expect(second.nextCursor).toBeNull();
  });

  it('records nothing when the rule is already the one given', async () => {
    const response = await put({ thing: series, rule: { max: 90 } });
    expect(response.json()).toMatchObject({ changes: [], unchanged: [series] });
    expect((await getJson(`/api/thresholds/changes?thing=${encodeURIComponent(series)}`)).items).toHaveLength(2);
  });

  it('keeps one series\' changes apart from another whose id starts the same', async () => {
    await put({ thing: 'plant-1/boiler/temperature_2', rule: { max: 1 } });
    expect((await getJson(`/api/thresholds/changes?thing=${encodeURIComponent(series)}`)).items).toHaveLength(2);
    expect((await getJson('/api/thresholds/changes?thing=plant-1%2Fboiler%2Ftemperature_2')).items).toHaveLength(1);
  });

  it('answers a series without a rule with a null rule and no changes', async () => {
    expect(await getJson('/api/thresholds/changes?thing=plant-9%2Fx%2Ftemperature')).toEqual({ thing: 'plant-9/x/temperature', rule: null, items: [], nextCursor: null });
  });
});

describe('validation, with the thresholds CLI\'s checks', () => {
  it.each([
    [{ thing: 'plant-1/boiler/temperature', rule: { min: 80, max: 70 } }, 'rule', /"min" 80 is above "max" 70/],
    [{ thing: 'plant-1/boiler/temperature', rule: { for: 90_000, max: 1 } }, 'rule', /"for" must be a whole number of seconds from 0 to 86400, got 90000/],
    [{ thing: 'plant-1/boiler/temperature', rule: { min: 0, max: 10, hysteresis: 5 } }, 'rule', /"hysteresis" 5 leaves no room to recover/],
    [{ thing: 'plant-1/boiler/temperature', rule: {} }, 'rule', /give "min", "max" or both, or "noDataAfterSeconds"/],
    [{ thing: 'plant-1/boiler/temperature', rule: { max: 'hot' } }, 'rule', /"max" must be a number, got "hot"/],
    [{ thing: 'plant-1/boiler/temperature', rule: { max: 1, colour: 'red' } }, 'rule', /unknown rule field "colour"/],
    [{ thing: 'plant-1/boiler/temperature', rule: { max: 1, recipients: 'Boiler Room' } }, 'rule', /"recipients" must name a recipient group/],
    [{ thing: 'boiler', rule: { max: 1 } }, 'thing', /must be "<thing id>\/<metric>"/],
    [{ rule: { max: 1 } }, 'thing', /give one of "thing"/],
    [{ thing: 'a/b', prefix: 'a/', rule: { max: 1 } }, 'prefix', /give one of "thing"/],
    [{ series: [], rule: { max: 1 } }, 'series', /list of 1 to 500 series ids/],
    [{ prefix: 'nowhere/', rule: { max: 1 } }, 'prefix', /no series starts with "nowhere\/"/],
    [{ thing: 'plant-1/boiler/temperature', rule: { max: 1 }, reason: 7 }, 'reason', /"reason" must be text/],
  ])('refuses %j naming %s', async (body, field, message) => {
    const response = await put(body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad-body', parameter: field, message: expect.stringMatching(message) });
  });

  it('says what the CLI says, with the JSON field names', async () => {
    const cli = thresholdProblems('plant-1/boiler/temperature', { min: 80, max: 70 });
    const response = await put({ thing: 'plant-1/boiler/temperature', rule: { min: 80, max: 70 } });
    expect((response.json() as Json).message).toBe(cli.join('; ').replaceAll('--min', '"min"').replaceAll('--max', '"max"'));
  });

  it('writes nothing for a refused change', async () => {
    const before = await stored('plant-1/boiler/temperature');
    await put({ thing: 'plant-1/boiler/temperature', rule: { min: 80, max: 70 } });
    expect(await stored('plant-1/boiler/temperature')).toEqual(before);
  });
});

describe('bulk changes', () => {
  const boilers = ['plant-2/boiler/1/temperature', 'plant-2/boiler/2/temperature', 'plant-2/boiler/3/temperature'];

  beforeAll(async () => {
    for (const series of [...boilers, 'plant-2/pump/1/temperature']) await catalogue(series);
  });

  it('applies one rule to every catalogued series under a prefix, and records each change', async () => {
    clock += 60_000;
    const response = await put({ prefix: 'plant-2/boiler/', rule: { min: 50, max: 85 }, reason: 'new burners' });
    expect(response.statusCode).toBe(200);
    const answer = response.json() as Json;
    expect(answer.changes?.map((change) => change.series).sort()).toEqual(boilers);
    for (const series of boilers) {
      expect(await stored(series)).toEqual({ ThingID: series, MinThreshold: 50, MaxThreshold: 85 });
      expect((await getJson(`/api/thresholds/changes?thing=${encodeURIComponent(series)}`)).items).toEqual([expect.objectContaining({ reason: 'new burners', before: null })]);
    }
    expect(await stored('plant-2/pump/1/temperature')).toBeUndefined();
  });

  it('applies one rule to a list of series, and says which already had it', async () => {
    const response = await put({ series: [boilers[0], 'plant-2/pump/1/temperature'], rule: { min: 50, max: 85 } });
    expect(response.json()).toMatchObject({ unchanged: [boilers[0]], changes: [expect.objectContaining({ series: 'plant-2/pump/1/temperature' })] });
  });

  it('refuses the whole list when one series id is wrong, writing nothing', async () => {
    const response = await put({ series: ['plant-3/a/temperature', 'not-a-series'], rule: { max: 1 } });
    expect(response.statusCode).toBe(400);
    expect((response.json() as Json).parameter).toBe('series');
    expect(await stored('plant-3/a/temperature')).toBeUndefined();
  });
});

describe('who may change rules', () => {
  it('refuses every change where there is no sign-in, and a page of another origin', async () => {
    const closed = await listen(appWith(noIdentity));
    const refused = await closed.request('PUT', '/api/thresholds', JSON.stringify({ thing: 'plant-4/a/temperature', rule: { max: 1 } }));
    expect(refused.statusCode).toBe(403);
    expect((refused.json() as Json).message).toMatch(/Changes need a signed-in user/);
    await closed.close();
    const foreign = await fetch(`${client.base}/api/thresholds`, { method: 'PUT', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ thing: 'plant-4/a/temperature', rule: { max: 1 } }) });
    expect(foreign.status).toBe(403);
    const form = await fetch(`${client.base}/api/thresholds`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(415);
    expect(await stored('plant-4/a/temperature')).toBeUndefined();
  });

  it('keeps rule changes out of every series\' alert history', async () => {
    const history = await getJson('/api/alerts?thing=plant-1%2Fboiler%2Ftemperature');
    expect(history.items).toEqual([]);
    expect(RULE_CHANGES_PARTITION).not.toContain('/');
  });
});
