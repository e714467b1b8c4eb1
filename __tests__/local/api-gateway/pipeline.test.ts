/**
 * The API Gateway twin serving the synthesized pipeline stack: each answer of the request
 * pipeline pinned to the AWS documentation it follows.
 */
import { javaStringHash } from '../../../local/api-gateway/vtl-util';
import { request } from '../harness';
import { API_KEY, pipelineStackJson, startTwin, type RunningTwin, type StackJson } from './fixture';

const READING = { id: 'things/twin/001', temperature: 21.5, timestamp: '2024-05-01T10:00:00Z' };
const floorMod = (value: number, modulus: number): number => ((value % modulus) + modulus) % modulus;
const JSON_KEYED = { 'content-type': 'application/json', 'x-api-key': API_KEY };
const put = (twin: RunningTwin, body: string, headers: Record<string, string> = JSON_KEYED, path = '/prod/thingsstream') => request(`${twin.baseUrl}${path}`, { method: 'PUT', headers, body });

describe('API Gateway twin on the synthesized pipeline stack', () => {
  let stack: StackJson;
  let twin: RunningTwin;

  beforeAll(async () => {
    stack = await pipelineStackJson();
    twin = await startTwin(stack);
  }, 120_000);
  afterAll(() => twin?.stop());

  it('puts the reading under Data on the stream with Data.id as partition key, and answers with the 200 template over PutRecord\'s reply', async () => {
    const response = await put(twin, JSON.stringify({ Data: READING }));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.json()).toEqual({ accepted: 1, failed: 0, shardId: expect.stringMatching(/^shardId-\d+$/), sequenceNumber: expect.stringMatching(/^\d+$/) });
    expect(await twin.records()).toContainEqual({ key: READING.id, data: JSON.stringify(READING) });
  });

  // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsRequestEntry.html: ExplicitHashKey picks the shard.
  it('puts a batch with PutRecords packed per bucket of thing ids, each bucket on the shard of its explicit hash key', async () => {
    const readings = Array.from({ length: 12 }, (_, n) => ({ ...READING, id: `things/twin/batch-${n % 6}`, timestamp: `2024-05-01T10:00:0${Math.floor(n / 6)}Z` }));
    const response = await request(`${twin.baseUrl}/prod/thingsstream/batch`, { method: 'POST', headers: JSON_KEYED, body: JSON.stringify({ Data: readings }) });
    expect(response.statusCode).toBe(200);
    const buckets = new Set(readings.map((reading) => floorMod(javaStringHash(reading.id), 2)));
    expect(response.json()).toEqual({ records: buckets.size, failedRecords: 0 });
    const added = (await twin.shardRecords()).filter((record) => record.data.includes('things/twin/batch-'));
    expect(added).toHaveLength(buckets.size);
    for (const record of added) {
      const packed = JSON.parse(record.data) as { id: string }[];
      // The stack's stream has 2 shards, so bucket b is on shard b.
      for (const reading of packed) expect(`${record.shard}:${record.key}`).toBe(`${floorMod(javaStringHash(reading.id), 2)}:${floorMod(javaStringHash(reading.id), 2)}`);
    }
    expect(added.flatMap((record) => JSON.parse(record.data) as object[]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([...readings].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
  // (MISSING_AUTHENTICATION_TOKEN covers unsupported methods and resources), customised by the stack.
  it.each([
    ['an unknown path', 'PUT', '/prod/other'],
    ['a path below the batch resource', 'PUT', '/prod/thingsstream/batch/extra'],
    ['an unknown stage', 'PUT', '/dev/thingsstream'],
    ['the root', 'GET', '/'],
    ['a method the resource lacks', 'GET', '/prod/thingsstream'],
    ['POST on the single-reading resource', 'POST', '/prod/thingsstream'],
  ])('answers %s with 403 MISSING_AUTHENTICATION_TOKEN and the way to the ingest paths', async (_name, method, path) => {
    const response = await request(`${twin.baseUrl}${path}`, { method, headers: JSON_KEYED, ...(method === 'GET' ? {} : { body: '{}' }) });
    expect(response.statusCode).toBe(403);
    expect(response.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(response.json()).toEqual({
      message: 'Missing Authentication Token',
      details: `no resource answers ${method} at this path: send readings with PUT /prod/thingsstream (one) or POST /prod/thingsstream/batch (up to 500), with the API key in the x-api-key header`,
      requestId: response.headers['x-amzn-requestid'],
    });
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html: a key that matches none → 403.
  it.each([
    ['no key', {}],
    ['a wrong key', { 'x-api-key': 'not-the-key' }],
    ['an empty key', { 'x-api-key': '' }],
    ['the key as a bearer token', { authorization: `Bearer ${API_KEY}` }],
  ])('answers %s with 403 INVALID_API_KEY', async (_name, headers) => {
    const response = await put(twin, JSON.stringify({ Data: READING }), { 'content-type': 'application/json', ...headers });
    expect(response.statusCode).toBe(403);
    expect(response.headers['x-amzn-errortype']).toBe('ForbiddenException');
    expect(response.json()).toMatchObject({ message: 'Forbidden', details: 'send a valid API key in the x-api-key header' });
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html: NEVER refuses unmapped types with 415.
  it('answers a body that is not JSON with 415 (passthrough NEVER, templates for application/json only); no content type counts as JSON', async () => {
    const text = await put(twin, JSON.stringify({ Data: READING }), { 'content-type': 'text/plain', 'x-api-key': API_KEY });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ message: 'Unsupported Media Type', details: 'send the body as application/json' });
    const none = await put(twin, JSON.stringify({ Data: READING }), { 'x-api-key': API_KEY });
    expect(none.statusCode).toBe(200);
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html: validation fails the request with 400.
  it.each([
    ['a metric in words', JSON.stringify({ Data: { ...READING, temperature: 'warm' } }), '[instance failed to match at least one required schema among 4]'],
    ['no id', JSON.stringify({ Data: { temperature: 1, humidity: 40, timestamp: READING.timestamp } }), '[object has missing required properties (["id"])]'],
    ['a property beside Data', JSON.stringify({ Data: READING, Admin: true }), '[object instance has properties which are not allowed by the schema: ["Admin"]]'],
    ['an id with quotes and a backslash over 256 characters', JSON.stringify({ Data: { ...READING, id: `"\\${'x'.repeat(300)}` } }), 'is too long (length: 302, maximum allowed: 256)'],
    ['truncated JSON', '{"Data":', 'Invalid JSON in request body'],
  ])('answers %s with 400 BAD_REQUEST_BODY as valid JSON, the validator\'s finding in the logs', async (_name, body, finding) => {
    const response = await put(twin, body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['x-amzn-errortype']).toBe('BadRequestException');
    const answer = response.json();
    expect(answer).toMatchObject({ message: 'Invalid request body', details: expect.stringMatching(/^the body does not match the reading schema: PUT \/prod\/thingsstream takes/), requestId: response.headers['x-amzn-requestid'] });
    expect(twin.log.some((line) => line.includes(finding))).toBe(true);
    const accessLine = twin.accessLog.find((line) => line.includes(String(answer.requestId)));
    expect(accessLine).toContain(finding.replace(/^\[|\]$/g, ''));
  });

  // https://github.com/awsdocs/amazon-api-gateway-developer-guide/blob/13945642c8779810147a5b1f16054f7c2e8b64bb/doc_source/limits.md
  it('answers a payload over 10 MB with 413 REQUEST_TOO_LARGE before reading it', async () => {
    const body = JSON.stringify({ Data: { ...READING, id: 'x'.repeat(10 * 1024 * 1024) } });
    const response = await put(twin, body);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ message: 'Request Too Long', details: expect.stringContaining('over 10 MB') });
  });

  it('answers headers over 10,240 bytes with 431', async () => {
    const response = await put(twin, JSON.stringify({ Data: READING }), { ...JSON_KEYED, 'x-padding': 'p'.repeat(10_300) });
    expect(response.statusCode).toBe(431);
  });

  it('writes one access-log line per request in the stage\'s format, - for what a request lacks', async () => {
    const response = await put(twin, JSON.stringify({ Data: READING }));
    const line = twin.accessLog.find((candidate) => candidate.includes(String(response.headers['x-amzn-requestid'])));
    expect(JSON.parse(line as string)).toMatchObject({ method: 'PUT', path: '/thingsstream', status: '200', integrationStatus: '200', error: '-' });
  });
});
