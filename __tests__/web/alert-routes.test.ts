/**
 * Alerts across the fleet, acknowledgements and silences, end to end on dynalite: the
 * threshold-alerts handler opens and resolves alerts, the web routes list, acknowledge
 * and silence them, and the handler then honours what the routes wrote.
 */
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createThresholdAlertsHandler } from '../../handlers/threshold-alerts';
import { buildApp } from '../../web/app';
import { createDynamoAlertConsole } from '../../web/alert-console';
import { createDynamoRepository } from '../../web/dynamo-repository';
import { localIdentity, noIdentity } from '../../web/identity';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';
import { SETTINGS, kinesisEvent, reading, silentLogger } from '../handlers/threshold-alerts.fixtures';
import { listen, type TestClient } from './http-client';

type Json = Record<string, unknown> & { items?: Record<string, unknown>[]; nextCursor?: string | null };

let db: DynaliteHarness;
let client: TestClient;
const sent: PublishCommandInput[] = [];
const commands: string[] = [];

/** The exact client, recording the name of every command the web app sends. */
function recording(inner: DynamoDBDocumentClient): DynamoDBDocumentClient {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: { constructor: { name: string } }) => {
        commands.push(command.constructor.name);
        return target.send(command as never);
      };
    },
  });
}

beforeAll(async () => {
  db = await startDynalite();
  const web = recording(db.exact);
  client = await listen(buildApp({ repository: createDynamoRepository({ client: web, tables: db.tables }), alertConsole: createDynamoAlertConsole({ client: web, tables: db.tables }), identity: localIdentity, assets: new Map() }));
});
afterAll(async () => {
  await client.close();
  await db.stop();
});

const sns = new SNSClient({ region: 'eu-west-2' });
mockClient(sns)
  .on(PublishCommand)
  .callsFake((input: PublishCommandInput) => {
    sent.push(input);
    return { MessageId: `m-${sent.length}` };
  });
// A fresh container each time: nothing cached, so what the routes wrote is read.
const consume = (payloads: Record<string, unknown>[]) => createThresholdAlertsHandler({ dynamo: db.exact, sns, settings: SETTINGS, logger: silentLogger() })(kinesisEvent(payloads));
const subjects = () => sent.map((input) => input.Subject ?? '');
const rule = (series: string, item: Record<string, unknown>) => db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: series, ...item } }));
const post = async (path: string, body: unknown) => client.request('POST', path, JSON.stringify(body));
const getJson = async (path: string) => (await client.get(path)).json() as Json;

describe('alerts across the fleet', () => {
  const things = ['fleet/a', 'fleet/b', 'fleet/c'];
  beforeAll(async () => {
    for (const thing of things) await rule(`${thing}/temperature`, { MaxThreshold: 25 });
    // One breach each, a minute apart, then a no-data-free recovery of the first.
    for (const [index, thing] of things.entries()) await consume([reading(`2024-05-01T10:0${index}:00Z`, { temperature: 30 }, thing)]);
  });

  it('lists firing alerts newest first, pages by cursor, and only ever Queries', async () => {
    commands.length = 0;
    const all = await getJson('/api/alerts');
    expect(all.items?.map((alert) => alert.series)).toEqual(['fleet/c/temperature', 'fleet/b/temperature', 'fleet/a/temperature']);
    expect(all.items?.[0]).toMatchObject({ alertKind: 'breach', kind: 'breach', state: 'firing', thingId: 'fleet/c', metric: 'temperature', value: 30, maxThreshold: 25, bound: 'max', acknowledged: null, resolvedAt: null });
    const first = await getJson('/api/alerts?limit=2');
    expect(first.items?.map((alert) => alert.series)).toEqual(['fleet/c/temperature', 'fleet/b/temperature']);
    const second = await getJson(`/api/alerts?limit=2&cursor=${first.nextCursor}`);
    expect(second.items?.map((alert) => alert.series)).toEqual(['fleet/a/temperature']);
    expect(second.nextCursor).toBeNull();
    expect(await getJson('/api/alerts?kind=no-data')).toMatchObject({ items: [], kinds: ['no-data'] });
    expect(new Set(commands)).toEqual(new Set(['QueryCommand']));
  });

  it('moves an alert to resolved when its series recovers', async () => {
    await consume([reading('2024-05-01T10:10:00Z', { temperature: 20 }, 'fleet/a')]);
    expect((await getJson('/api/alerts?state=resolved')).items?.map((alert) => [alert.series, alert.resolvedAt])).toEqual([['fleet/a/temperature', '2024-05-01T10:10:00.000000Z']]);
    expect((await getJson('/api/alerts?state=firing,acknowledged')).items?.map((alert) => alert.series)).toEqual(['fleet/c/temperature', 'fleet/b/temperature']);
  });
});

describe('acknowledging', () => {
  const series = 'ack/1/temperature';

  it('stops the reminders of a firing alert until it recovers, and the history says who and why', async () => {
    await rule(series, { MaxThreshold: 25 });
    await consume([reading('2024-05-01T11:00:00Z', { temperature: 30 }, 'ack/1')]);
    const alert = (await getJson('/api/alerts?state=firing')).items?.find((item) => item.series === series);
    const response = await post('/api/alerts/ack', { id: alert?.id, note: 'crew on site' });
    expect(response.statusCode).toBe(200);
    expect((response.json() as Json).alert).toMatchObject({ series, state: 'acknowledged', acknowledged: { by: 'local', note: 'crew on site', at: expect.any(String) } });
    expect((await db.document.send(new GetCommand({ TableName: db.tables.thresholds, Key: { ThingID: series } }))).Item?.AlertAcknowledged).toBe('2024-05-01T11:00:00.000000Z');

    const before = sent.length;
    // Two cooldowns later, still out of range: no reminder.
    await consume([reading('2024-05-01T11:30:00Z', { temperature: 31 }, 'ack/1')]);
    expect(sent.length).toBe(before);
    await consume([reading('2024-05-01T11:31:00Z', { temperature: 20 }, 'ack/1')]);
    expect(subjects().slice(before)).toEqual(['Back to normal: ack/1 temperature 20 at 2024-05-01 11:31:00 UTC']);

    const history = (await getJson(`/api/alerts?thing=${encodeURIComponent(series)}`)).items ?? [];
    expect(history.map((entry) => entry.kind)).toEqual(['breach', 'recovery']);
    expect(history[0]?.alert).toMatchObject({ state: 'resolved', acknowledged: { by: 'local', note: 'crew on site' } });

    // The next breach is a new alert, reminded again.
    await consume([reading('2024-05-01T12:00:00Z', { temperature: 30 }, 'ack/1'), reading('2024-05-01T12:16:00Z', { temperature: 30 }, 'ack/1')]);
    expect(subjects().slice(before + 1).map((subject) => subject.split(':')[0])).toEqual(['Alert', 'Still out of range']);
  });

  it('waits for an alert just recorded to be confirmed on its series, rather than call it resolved', async () => {
    const opening = 'ack/2/temperature';
    await rule(opening, { MaxThreshold: 25 });
    await consume([reading('2024-05-01T11:00:00Z', { temperature: 30 }, 'ack/2')]);
    const alert = (await getJson('/api/alerts?state=firing')).items?.find((item) => item.series === opening);
    const confirmed = (await db.document.send(new GetCommand({ TableName: db.tables.thresholds, Key: { ThingID: opening } }))).Item ?? {};
    // The series as a sender leaves it between recording the notice and confirming it: claimed, the alert not yet its open one.
    const { AlertOpenedAt: _opened, ...unconfirmed } = confirmed;
    await db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ...unconfirmed, AlertClaim: { Token: 'in-flight' } } }));
    const confirming = new Promise((resolve) => setTimeout(resolve, 300)).then(() => db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: confirmed })));
    const response = await post('/api/alerts/ack', { id: alert?.id, note: 'seen it' });
    await confirming;
    expect(response.statusCode).toBe(200);
    expect((response.json() as Json).alert).toMatchObject({ series: opening, state: 'acknowledged' });
  });

  it('answers 409 for an alert that is not firing, 404 for an id it never issued', async () => {
    const resolved = (await getJson('/api/alerts?state=resolved')).items?.find((item) => item.series === series);
    const again = await post('/api/alerts/ack', { id: resolved?.id });
    expect(again.statusCode).toBe(409);
    expect((again.json() as Json).message).toMatch(/The alert is resolved, not firing/);
    expect((await post('/api/alerts/ack', { id: 'WyJ4IiwieSJd' })).statusCode).toBe(404);
    expect((await post('/api/alerts/ack', { id: 'not an id' })).statusCode).toBe(404);
  });

  it.each([
    ['a body that is not JSON (text/plain, as a form of another site could send)', () => client.request('POST', '/api/alerts/ack', undefined), 415],
    ['an unknown field', () => post('/api/alerts/ack', { id: 'x', who: 'me' }), 400],
    ['no id', () => post('/api/alerts/ack', { note: 'x' }), 400],
    ['a note with control characters', () => post('/api/alerts/ack', { id: 'x', note: 'a\u0007b' }), 400],
  ])('refuses %s', async (_name, send, status) => {
    expect((await send()).statusCode).toBe(status);
  });

  it('refuses a page of another origin, and every change where there is no sign-in', async () => {
    const response = await fetch(`${client.base}/api/alerts/ack`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{"id":"x"}' });
    expect(response.status).toBe(403);
    const closed = await listen(buildApp({ repository: createDynamoRepository({ client: db.exact, tables: db.tables }), alertConsole: createDynamoAlertConsole({ client: db.exact, tables: db.tables }), identity: noIdentity, assets: new Map() }));
    const refused = await closed.request('POST', '/api/silences', JSON.stringify({ target: 'fleet/', reason: 'x', durationMinutes: 5 }));
    expect(refused.statusCode).toBe(403);
    expect((refused.json() as Json).message).toMatch(/Changes need a signed-in user/);
    await closed.close();
  });
});

describe('silences', () => {
  const series = 'plant-7/boiler/temperature';
  /** Reading times around now: a silence must end in the future. */
  const minutesFromNow = (minutes: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 + minutes * 60_000).toISOString();

  it('holds the notices of readings inside the window for the series it covers', async () => {
    await rule(series, { MaxThreshold: 25 });
    const created = await post('/api/silences', { target: 'plant-7/', reason: 'boiler service', startsAt: minutesFromNow(-10), durationMinutes: 120 });
    expect(created.statusCode).toBe(201);
    expect((created.json() as Json).silence).toMatchObject({ target: 'plant-7/', startsAt: minutesFromNow(-10).replace('Z', '000Z'), endsAt: minutesFromNow(110).replace('Z', '000Z'), createdBy: 'local', reason: 'boiler service' });
    const before = sent.length;
    await consume([reading(minutesFromNow(0), { temperature: 30 }, 'plant-7/boiler'), reading(minutesFromNow(30), { temperature: 31 }, 'plant-7/boiler')]);
    expect(sent.length).toBe(before);
    expect((await getJson(`/api/silences?thing=${encodeURIComponent(series)}`)).items?.map((silence) => silence.reason)).toEqual(['boiler service']);
    expect((await getJson('/api/silences?thing=fleet%2Fa%2Ftemperature')).items).toEqual([]);
  });

  it('resumes at the first reading after the window: the breach is notified then', async () => {
    const other = 'plant-8/boiler/temperature';
    await rule(other, { MaxThreshold: 25 });
    expect((await post('/api/silences', { target: other, reason: 'sensor swap', startsAt: minutesFromNow(-1), endsAt: minutesFromNow(5) })).statusCode).toBe(201);
    const before = sent.length;
    await consume([reading(minutesFromNow(1), { temperature: 30 }, 'plant-8/boiler'), reading(minutesFromNow(5), { temperature: 31 }, 'plant-8/boiler')]);
    expect(subjects().slice(before)).toEqual([expect.stringMatching(/^Alert: plant-8\/boiler temperature 31 above max 25 at /)]);
    expect((await getJson(`/api/silences?active=false&thing=${encodeURIComponent(other)}`)).items?.map((silence) => silence.reason)).toEqual(['sensor swap']);
  });

  it.each([
    [{ reason: 'x', durationMinutes: 5 }, 'target', /"target" is required/],
    [{ target: 'things', reason: 'x', durationMinutes: 5 }, 'target', /or give a prefix ending in "\/"/],
    [{ target: 'plant-7/', durationMinutes: 5 }, 'reason', /"reason" must be text/],
    [{ target: 'plant-7/', reason: 'x' }, 'endsAt', /give "endsAt" or "durationMinutes"/],
    [{ target: 'plant-7/', reason: 'x', durationMinutes: 60 * 24 * 31 }, 'durationMinutes', /whole number from 1 to 43200/],
    [{ target: 'plant-7/', reason: 'x', endsAt: '2020-01-01T00:00:00Z' }, 'endsAt', /already past/],
    [{ target: 'plant-7/', reason: 'x', startsAt: 'soon', durationMinutes: 5 }, 'startsAt', /"startsAt":/],
    [{ target: 'plant-7/', reason: 'x', startsAt: '2099-01-02T00:00:00Z', endsAt: '2099-01-01T00:00:00Z' }, 'endsAt', /must be after "startsAt"/],
  ])('refuses %j naming %s', async (body, field, message) => {
    const response = await post('/api/silences', body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad-body', parameter: field, message: expect.stringMatching(message) });
  });
});
