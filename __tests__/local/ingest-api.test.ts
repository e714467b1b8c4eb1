import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildIngestApi, INGEST_PATHS, MAX_PAYLOAD_BYTES } from '../../local/ingest-api';
import { READING_LIMITS } from '../../handlers/reading';
import { request, startKinesis, type KinesisHarness } from './harness';

const KEY = 'test-key';
const SEED_BODY = '{"Data":{"id":"things/harrow/001","temperature":"19.57","timestamp":"2016-09-09 13:33:07.381019"}}';
const json = { 'content-type': 'application/json', 'x-api-key': KEY };

describe('local ingest API', () => {
  let kinesis: KinesisHarness;
  let api: FastifyInstance;
  let base: string;
  const logged: string[] = [];

  const listen = async (app: FastifyInstance) => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  };
  const call = (options: { method: string; url: string; headers?: Record<string, string>; payload?: string }, at = base) =>
    request(`${at}${options.url}`, { method: options.method, ...(options.headers === undefined ? {} : { headers: options.headers }), ...(options.payload === undefined ? {} : { body: options.payload }) });

  beforeAll(async () => {
    kinesis = await startKinesis('ingest-test', 2);
    api = buildIngestApi({ kinesis: kinesis.client, streamName: kinesis.streamName, apiKey: KEY, logError: (line) => logged.push(line) });
    base = await listen(api);
  });

  afterAll(async () => {
    await api.close();
    await kinesis.stop();
  });

  /** Every record in the stream, all shards. */
  async function streamRecords(): Promise<{ key: string; data: string }[]> {
    const found: { key: string; data: string }[] = [];
    for (const shardId of kinesis.stream.shardIds) {
      const { ShardIterator } = await kinesis.client.send(new GetShardIteratorCommand({ StreamName: kinesis.streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
      const page = await kinesis.client.send(new GetRecordsCommand({ ShardIterator }));
      for (const record of page.Records ?? []) found.push({ key: record.PartitionKey as string, data: Buffer.from(record.Data as Uint8Array).toString('utf8') });
    }
    return found;
  }

  it("accepts the seed's body unchanged and answers as the stack's PutRecord mapping does", async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: SEED_BODY });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['x-amzn-requestid']).toEqual(expect.any(String));
    expect(response.json()).toEqual({ accepted: 1, failed: 0, shardId: expect.stringMatching(/^shardId-/), sequenceNumber: expect.stringMatching(/^\d+$/) });
  });

  it('puts the object under Data on the stream with Data.id as the partition key', async () => {
    const reading = { id: 'things/partition/check', temperature: 21.5, timestamp: 1_700_000_000_000 };
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: JSON.stringify({ Data: reading }) });
    expect(response.statusCode).toBe(200);
    const records = await streamRecords();
    expect(records).toContainEqual({ key: reading.id, data: JSON.stringify(reading) });
  });

  it('takes a request without a content type as JSON, as API Gateway does', async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: { 'x-api-key': KEY }, payload: SEED_BODY });
    expect(response.statusCode).toBe(200);
  });

  it('puts a batch with one partition key per reading and counts what was accepted', async () => {
    const readings = Array.from({ length: 20 }, (_, index) => ({ id: `things/batch/${index}`, humidity: `${40 + index}.5`, timestamp: `2024-01-01T00:00:${String(index).padStart(2, '0')}Z` }));
    const response = await call({ method: 'POST', url: INGEST_PATHS.batch, headers: json, payload: JSON.stringify({ Data: readings }) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ accepted: 20, failed: 0, failedIndexes: [] });
    const records = await streamRecords();
    for (const reading of readings) expect(records).toContainEqual({ key: reading.id, data: JSON.stringify(reading) });
  });

  it('requires the API key before it looks at the body', async () => {
    const attempts: Record<string, string>[] = [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'x-api-key': 'wrong' }];
    for (const headers of attempts) {
      const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers, payload: '{not json' });
      expect(response.statusCode).toBe(403);
      expect(response.json().message).toMatch(/x-api-key/);
    }
  });

  it('rejects a body that breaks the schema with the schema message and a reason a person can act on', async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: '{"Data":{"id":"things/x","temperature":"19.5"}}' });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.message).toBe('the body does not match the reading schema');
    expect(body.details).toMatch(/timestamp/);
  });

  it('points a batch sent to the single-reading path at the batch path', async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: '{"Data":[{"id":"a","timestamp":1,"t":1}]}' });
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toContain(INGEST_PATHS.batch);
  });

  it('rejects a batch over the Kinesis limit', async () => {
    const readings = Array.from({ length: READING_LIMITS.maxBatchReadings + 1 }, (_, index) => ({ id: `t${index}`, timestamp: 1, v: 1 }));
    const response = await call({ method: 'POST', url: INGEST_PATHS.batch, headers: json, payload: JSON.stringify({ Data: readings }) });
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toMatch(/500/);
  });

  it('refuses a day the calendar does not have, as API Gateway would with the same schema', async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: '{"Data":{"id":"things/x","t":1,"timestamp":"2016-02-30T00:00:00Z"}}' });
    expect(response.statusCode).toBe(400);
  });

  it('refuses a time its zone offset puts before 1970: the schema holds the range after offsets, so a 200 is never followed by a rejection', async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: '{"Data":{"id":"things/x","t":1,"timestamp":"1970-01-01T00:30:00+01:00"}}' });
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toMatch(/falls outside 1970-01-01 to 9999-12-31 UTC/);
  });

  it.each([
    ['invalid JSON', '{"Data":', /not valid JSON/],
    ['an empty body', '', /empty/],
  ])('rejects %s clearly', async (_name, payload, details) => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload });
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toMatch(details);
  });

  it('rejects other content types', async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: { 'content-type': 'text/plain', 'x-api-key': KEY }, payload: SEED_BODY });
    expect(response.statusCode).toBe(415);
    expect(response.json().message).toMatch(/application\/json/);
  });

  it('answers 405 naming the method for a known path and 404 naming the paths otherwise', async () => {
    const wrongMethod = await call({ method: 'GET', url: INGEST_PATHS.single, headers: json });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('PUT');
    const unknown = await call({ method: 'PUT', url: '/prod/other', headers: json, payload: SEED_BODY });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toContain(INGEST_PATHS.single);
  });

  it('refuses bodies over API Gateway’s payload limit', async () => {
    const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) });
    expect(response.statusCode).toBe(413);
    expect(response.json().message).toMatch(/10 MB/);
  });

  it('maps a missing stream to a 500 that names no internals, and logs the cause', async () => {
    const broken = buildIngestApi({ kinesis: kinesis.client, streamName: 'no-such-stream', apiKey: KEY, logError: (line) => logged.push(line) });
    try {
      const response = await call({ method: 'PUT', url: INGEST_PATHS.single, headers: json, payload: SEED_BODY }, await listen(broken));
      expect(response.statusCode).toBe(500);
      expect(response.json().message).toMatch(/not available/);
      expect(response.body).not.toContain('no-such-stream');
      expect(logged.some((line) => line.includes('ResourceNotFoundException'))).toBe(true);
    } finally {
      await broken.close();
    }
  });
});
