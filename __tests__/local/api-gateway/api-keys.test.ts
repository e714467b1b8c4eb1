/**
 * The twin's control plane for API keys, called with the AWS SDK as tools call API Gateway,
 * each behaviour pinned to the API Gateway documentation it follows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, GetApiKeyCommand, GetApiKeysCommand, GetUsagePlanKeysCommand, GetUsagePlansCommand, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { LOCAL_CREDENTIALS } from '../../../local/defaults';
import { request } from '../harness';
import { API_KEY, pipelineStackJson, resourceOf, startTwin, type RunningTwin, type StackJson } from './fixture';

const READING = { id: 'things/keys/001', temperature: 21.5, timestamp: '2024-05-01T10:00:00Z' };
const put = (twin: RunningTwin, key: string) => request(`${twin.baseUrl}/prod/thingsstream`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ Data: READING }) });

describe('API Gateway twin control plane for API keys', () => {
  let stack: StackJson;
  let dir: string;
  let twin: RunningTwin;
  let client: APIGatewayClient;
  let planId: string;
  let billed = 0;
  const file = () => path.join(dir, 'api-keys.json');
  const start = async (json = stack) => {
    twin = await startTwin(json, { apiKeysFile: file(), onRequest: () => (billed += 1) });
    client = new APIGatewayClient({ region: 'eu-west-2', endpoint: twin.baseUrl, credentials: LOCAL_CREDENTIALS });
  };
  const stop = async () => {
    client.destroy();
    await twin.stop();
  };
  const addKey = async (name: string, enabled = true) => {
    const key = await client.send(new CreateApiKeyCommand({ name, enabled }));
    await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: key.id, keyType: 'API_KEY' }));
    return key as { id: string; value: string };
  };

  beforeAll(async () => {
    stack = await pipelineStackJson();
    dir = mkdtempSync(path.join(tmpdir(), 'api-keys-'));
    await start();
    planId = (await client.send(new GetUsagePlansCommand({}))).items?.[0]?.id as string;
  }, 120_000);
  afterAll(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlans.html
  it("lists the stack's usage plan with its stage, throttle and quota", async () => {
    const plans = (await client.send(new GetUsagePlansCommand({}))).items ?? [];
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatchObject({ name: expect.stringMatching(/-devices$/) as string, apiStages: [{ stage: 'prod' }], throttle: { rateLimit: expect.any(Number) as number, burstLimit: expect.any(Number) as number }, quota: { period: 'DAY' } });
  });

  // https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html: `enabled` defaults to false;
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html: a key not enabled or on no plan of the stage → 403.
  it('creates keys disabled unless asked, and honours a key only when enabled and on the plan', async () => {
    const disabled = await client.send(new CreateApiKeyCommand({ name: 'defaults' }));
    expect(disabled).toMatchObject({ name: 'defaults', enabled: false, value: expect.stringMatching(/^[A-Za-z0-9]{40}$/) as string });
    expect(disabled.createdDate).toBeInstanceOf(Date);
    const enabledOffPlan = await client.send(new CreateApiKeyCommand({ name: 'off-plan', enabled: true }));
    expect((await put(twin, enabledOffPlan.value as string)).statusCode).toBe(403);
    await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: disabled.id, keyType: 'API_KEY' }));
    const refused = await put(twin, disabled.value as string);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ message: 'Forbidden' });
    await client.send(new UpdateApiKeyCommand({ apiKey: disabled.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'true' }] }));
    expect((await put(twin, disabled.value as string)).statusCode).toBe(200);
  });

  // https://docs.aws.amazon.com/apigateway/latest/api/API_GetApiKeys.html (values only with includeValues),
  // https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlanKeys.html
  it('lists keys without values unless includeValues, and the keys of a plan', async () => {
    const key = await addKey('listed');
    const listed = (await client.send(new GetApiKeysCommand({ nameQuery: 'listed' }))).items ?? [];
    expect(listed).toEqual([expect.objectContaining({ id: key.id, name: 'listed', enabled: true })]);
    expect(listed[0]?.value).toBeUndefined();
    expect((await client.send(new GetApiKeysCommand({ nameQuery: 'listed', includeValues: true }))).items?.[0]?.value).toBe(key.value);
    expect((await client.send(new GetApiKeyCommand({ apiKey: key.id }))).value).toBeUndefined();
    const onPlan = (await client.send(new GetUsagePlanKeysCommand({ usagePlanId: planId }))).items ?? [];
    expect(onPlan).toContainEqual({ id: key.id, type: 'API_KEY', name: 'listed', value: key.value });
  });

  // https://docs.aws.amazon.com/apigateway/latest/api/API_GetApiKeys.html: pages of `limit` with a `position`.
  it('pages GetApiKeys by limit and position', async () => {
    const first = await client.send(new GetApiKeysCommand({ limit: 2 }));
    expect(first.items).toHaveLength(2);
    expect(first.position).toBeDefined();
    const second = await client.send(new GetApiKeysCommand({ limit: 2, position: first.position }));
    expect(second.items?.[0]?.id).not.toBe(first.items?.[0]?.id);
  });

  // https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html (value: 20 to 128 alphanumeric; errors
  // BadRequestException, ConflictException, NotFoundException).
  it('answers bad requests with the SDK errors API Gateway gives', async () => {
    await expect(client.send(new CreateApiKeyCommand({ name: 'short', value: 'tooshort' }))).rejects.toMatchObject({ name: 'BadRequestException', $metadata: { httpStatusCode: 400 } });
    await expect(client.send(new CreateApiKeyCommand({ name: 'copy', value: 'importedKeyValue0123456789' }))).resolves.toBeDefined();
    await expect(client.send(new CreateApiKeyCommand({ name: 'copy-2', value: 'importedKeyValue0123456789' }))).rejects.toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } });
    await expect(client.send(new GetApiKeyCommand({ apiKey: 'nosuchkey0' }))).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
    await expect(client.send(new CreateUsagePlanKeyCommand({ usagePlanId: 'nosuchplan', keyId: 'x', keyType: 'API_KEY' }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  // https://aws.amazon.com/api-gateway/pricing/: API calls received are billed; management calls are not.
  it('meters the API requests, not the control-plane calls', async () => {
    const before = billed;
    const key = await addKey('metered');
    await client.send(new GetApiKeysCommand({}));
    expect(billed).toBe(before);
    await put(twin, key.value);
    expect(billed).toBe(before + 1);
  });

  // https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteApiKey.html (202, no body)
  it('deletes a key: its requests are refused, the others keep working', async () => {
    const gone = await addKey('gone');
    const kept = await addKey('kept');
    await client.send(new DeleteApiKeyCommand({ apiKey: gone.id }));
    expect((await put(twin, gone.value)).statusCode).toBe(403);
    expect((await put(twin, kept.value)).statusCode).toBe(200);
    expect((await put(twin, API_KEY)).statusCode).toBe(200);
  });

  it('keeps keys and their changes across a restart, in the file it was given', async () => {
    const kept = await addKey('survivor');
    const revoked = await addKey('revoked');
    await client.send(new UpdateApiKeyCommand({ apiKey: revoked.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
    await stop();
    await start();
    expect((await put(twin, kept.value)).statusCode).toBe(200);
    expect((await put(twin, revoked.value)).statusCode).toBe(403);
    expect((await client.send(new GetApiKeyCommand({ apiKey: revoked.id }))).enabled).toBe(false);
  }, 120_000);

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html: throttling
  // and quota limits apply to the requests of each API key; keys on one plan do not share them.
  it("gives each key the usage plan's throttle to itself", async () => {
    await stop();
    const json = JSON.parse(JSON.stringify(stack)) as StackJson;
    resourceOf(json, 'aws_api_gateway_usage_plan', 'usage-plan').throttle_settings = { rate_limit: 0.001, burst_limit: 1 };
    await start(json);
    const noisy = await addKey('noisy');
    const quiet = await addKey('quiet');
    expect((await put(twin, noisy.value)).statusCode).toBe(200);
    expect((await put(twin, noisy.value)).statusCode).toBe(429);
    expect((await put(twin, quiet.value)).statusCode).toBe(200);
  }, 120_000);
});
