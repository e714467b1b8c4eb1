/**
 * `npm run devices` against a running local platform: a key per device, a revoked device
 * refused while another keeps sending, keys kept across a restart, usage errors exit 2.
 *
 * AWS behaviours pinned here:
 * - A request whose X-API-Key is not an enabled key of the stage's usage plan is refused with
 *   403 and the gateway response INVALID_API_KEY's message "Forbidden".
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
 * - Keys are created with CreateApiKey and attached with CreateUsagePlanKey; disabling is an
 *   UpdateApiKey patch of /enabled; GetApiKeys leaves out values unless includeValues.
 *   https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html
 *   https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateApiKey.html
 *   https://docs.aws.amazon.com/apigateway/latest/api/API_GetApiKeys.html
 */
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startLocalPlatform, type LocalPlatform } from '../../local/platform';
import { apiGatewayClient, devicesProgram, ingestUsagePlan } from '../../tools/devices';
import { platformTarget, TargetError, type Target } from '../../tools/target';
import { FREE_PORTS } from '../../verify/probe';
import { request } from '../local/harness';
import { PROJECT_ROOT } from '../../build/project-root';

const execute = promisify(execFile);

interface ListedKey {
  readonly name: string;
  readonly id: string;
  readonly enabled: boolean;
  readonly created: string;
  readonly plan: string;
}

describe('npm run devices against a running local platform', () => {
  let dataDir: string;
  let platform: LocalPlatform;
  const start = () => startLocalPlatform({ dataDir, ports: FREE_PORTS, configuration: {}, log: () => undefined });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'devices-'));
    platform = await start();
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(() => {
    process.exitCode = undefined;
  });

  const run = async (...args: string[]) => {
    const lines: string[] = [];
    const program = devicesProgram((line) => lines.push(line), () => platformTarget(platform));
    for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: () => undefined });
    await program.parseAsync(args, { from: 'user' });
    return lines;
  };
  const add = async (name: string) => JSON.parse((await run('--json', 'add', name))[0] as string) as { name: string; id: string; value: string; usagePlanId: string };
  const list = async () => JSON.parse((await run('--json', 'list'))[0] as string) as ListedKey[];
  const send = (key: string, thing: string) =>
    request(platform.urls.ingest, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ Data: { id: thing, temperature: 21.5, timestamp: Date.now() } }),
    });

  let boiler: Awaited<ReturnType<typeof add>>;
  let pump: Awaited<ReturnType<typeof add>>;

  it('issues a key per device that the ingest API accepts at once', async () => {
    boiler = await add('boiler-7');
    pump = await add('plant-3/pumps');
    expect(boiler.value).toMatch(/^[A-Za-z0-9]{20,128}$/);
    expect(pump.value).not.toBe(boiler.value);
    expect((await send(boiler.value, 'things/boiler/007')).statusCode).toBe(200);
    expect((await send(pump.value, 'things/pump/003')).statusCode).toBe(200);
  });

  it('prints the key once in text, with its id and usage plan', async () => {
    const lines = await run('add', 'chiller-2');
    expect(lines[0]).toMatch(/^Added chiller-2 \(key id [a-z0-9]+, usage plan .+\) on the local platform/);
    expect(lines[1]).toMatch(/shown only now[^\n]*\n[A-Za-z0-9]{40}$/);
  });

  it('lists every key with name, id, enabled, created and plan, never a value', async () => {
    const keys = await list();
    const boilerRow = keys.find((key) => key.name === 'boiler-7');
    expect(boilerRow).toEqual({ name: 'boiler-7', id: boiler.id, enabled: true, created: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/) as string, plan: boiler.usagePlanId });
    // The stack's own shared key is on the plan too.
    expect(keys.some((key) => key.name.endsWith('-devices') && key.plan === boiler.usagePlanId)).toBe(true);
    const text = (await run('list')).join('\n');
    expect(text).toMatch(/^NAME +ID +ENABLED +CREATED \(UTC\) +PLAN/);
    expect(text).toContain('plant-3/pumps');
    for (const secret of [boiler.value, pump.value, platform.apiKey]) expect(text).not.toContain(secret);
  });

  it("lists only the ingest plan's keys unless --all", async () => {
    const client = apiGatewayClient(platformTarget(platform));
    try {
      await client.send(new CreateApiKeyCommand({ name: 'not-a-device', enabled: true }));
    } finally {
      client.destroy();
    }
    expect((await list()).map((key) => key.name)).not.toContain('not-a-device');
    const all = JSON.parse((await run('--json', 'list', '--all'))[0] as string) as ListedKey[];
    expect(all.find((key) => key.name === 'not-a-device')).toMatchObject({ enabled: true, plan: '-' });
  });

  it('revoking one device refuses it with 403 Forbidden while the others keep sending', async () => {
    expect(await run('revoke', 'boiler-7')).toEqual([expect.stringMatching(/^Disabled the key of boiler-7 \(.+\) on .*: its requests now get 403 Forbidden\.$/)]);
    const refused = await send(boiler.value, 'things/boiler/007');
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['x-amzn-errortype']).toBe('ForbiddenException');
    expect(refused.json()).toMatchObject({ message: 'Forbidden' });
    expect((await send(pump.value, 'things/pump/003')).statusCode).toBe(200);
    expect((await send(platform.apiKey, 'things/shared/001')).statusCode).toBe(200);
    expect((await list()).find((key) => key.name === 'boiler-7')?.enabled).toBe(false);
  });

  it('refuses a second key under a name that has one (exit 1), and says so', async () => {
    await expect(run('add', 'boiler-7')).rejects.toThrow(/boiler-7 already has a key \([a-z0-9]+\): revoke it first/);
  });

  it('revoke --delete by id removes the key; an unknown name exits 1', async () => {
    const chiller = (await list()).find((key) => key.name === 'chiller-2') as ListedKey;
    expect((await run('revoke', chiller.id, '--delete'))[0]).toMatch(/^Deleted the key of chiller-2/);
    expect((await list()).map((key) => key.name)).not.toContain('chiller-2');
    expect(await run('revoke', 'chiller-2')).toEqual(['no API key is named chiller-2 or has that id (see `npm run devices -- list`)']);
    expect(process.exitCode).toBe(1);
  });

  it('keeps added and revoked keys across a restart (they live in the data folder)', async () => {
    await platform.stop();
    platform = await start();
    expect((await send(pump.value, 'things/pump/003')).statusCode).toBe(200);
    expect((await send(boiler.value, 'things/boiler/007')).statusCode).toBe(403);
    expect((await list()).map((key) => [key.name, key.enabled])).toEqual(expect.arrayContaining([['boiler-7', false], ['plant-3/pumps', true]]));
  }, 120_000);
});

describe('npm run devices usage errors', () => {
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', 'tools/devices.ts', ...args], { cwd: PROJECT_ROOT, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  it.each([
    ['a per-key rate (API Gateway throttles per key by the usage plan)', ['add', 'boiler-7', '--rate', '5'], /no throttle per key: every key on a usage plan gets the plan's per-key throttle/],
    ['a name with a control character', ['add', 'boiler\t7'], /a device or group name is 1 to 1024 printable characters/],
    ['an unknown command', ['enable', 'boiler-7'], /unknown command 'enable'/],
    ['revoke without a name', ['revoke'], /missing required argument 'name-or-id'/],
  ])('exits 2 on %s', async (_case, args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  }, 60_000);
});

describe('npm run devices on a deployment (API Gateway mocked)', () => {
  // Mocked only here: the tests above talk to the twin with the real client.
  let api: AwsClientStub<APIGatewayClient>;
  beforeAll(() => {
    api = mockClient(APIGatewayClient);
  });
  const deployment = (usagePlanId?: string): Target => ({
    kind: 'deployment',
    ingestUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/thingsstream',
    batchIngestUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/thingsstream/batch',
    apiKey: 'k',
    webUrl: 'https://web.example.com',
    region: 'eu-west-1',
    tables: { things: 't', thresholds: 't', alerts: 't', series: 't', rollups: 't' },
    ...(usagePlanId === undefined ? {} : { usagePlanId }),
  });
  const plans = [
    { id: 'other', name: 'another API', apiStages: [{ apiId: 'zzz999', stage: 'prod' }] },
    { id: 'ingest', name: 'iot-ingest-devices', apiStages: [{ apiId: 'abc123', stage: 'prod' }] },
  ];
  afterEach(() => api.reset());
  afterAll(() => api.restore());

  it("attaches keys to the outputs' usage plan, else to the one plan serving the ingest API's id and stage", async () => {
    const client = new APIGatewayClient({ region: 'eu-west-1' });
    expect(await ingestUsagePlan(client, deployment('from-outputs'), undefined)).toBe('from-outputs');
    expect(await ingestUsagePlan(client, deployment('from-outputs'), 'flag')).toBe('flag');
    api.on(GetUsagePlansCommand).resolves({ items: plans });
    expect(await ingestUsagePlan(client, deployment(), undefined)).toBe('ingest');
    api.on(GetUsagePlansCommand).resolves({ items: [...plans, { id: 'tier-2', apiStages: [{ apiId: 'abc123', stage: 'prod' }] }] });
    await expect(ingestUsagePlan(client, deployment(), undefined)).rejects.toThrow(new TargetError('several usage plans serve the ingest API (ingest iot-ingest-devices, tier-2): choose one with --usage-plan <id>'));
  });

  it('deletes the new key when it cannot join the usage plan, so no stray key is left', async () => {
    api.on(GetApiKeysCommand).resolves({ items: [] });
    api.on(CreateApiKeyCommand).resolves({ id: 'new1', value: 'v'.repeat(40), name: 'boiler-7', enabled: true });
    api.on(CreateUsagePlanKeyCommand).rejects(Object.assign(new Error('Invalid Usage Plan ID specified'), { name: 'NotFoundException' }));
    api.on(DeleteApiKeyCommand).resolves({});
    const program = devicesProgram(() => undefined, () => deployment('gone-plan'));
    for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(program.parseAsync(['add', 'boiler-7'], { from: 'user' })).rejects.toThrow('Invalid Usage Plan ID specified');
    expect(api.commandCalls(CreateApiKeyCommand)[0]?.args[0].input).toEqual({ name: 'boiler-7', description: 'device key (npm run devices -- add)', enabled: true });
    expect(api.commandCalls(DeleteApiKeyCommand).map((call) => call.args[0].input)).toEqual([{ apiKey: 'new1' }]);
  });
});
