/**
 * `npm run devices -- add|list|revoke ...`: an API key per device or device group on the
 * ingest API's usage plan, so one device can be cut off without touching the others. It
 * calls API Gateway with the AWS SDK: a deployment's (usage plan from the pipeline stack's
 * outputs), or the local platform's API Gateway twin, which answers the same calls.
 *
 *   npm run devices -- add boiler-7          # prints the key once
 *   npm run devices -- list
 *   npm run devices -- revoke boiler-7       # its requests now get 403 Forbidden
 *
 * Throttling: API Gateway applies a usage plan's throttle and quota to each key on its own
 * (keys in one plan do not share a bucket), so a noisy device cannot use up another's
 * limit. A different limit for one device needs a usage plan of its own (a tier defined in
 * the stack), named with --usage-plan.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetUsagePlansCommand,
  paginateGetApiKeys,
  paginateGetUsagePlanKeys,
  UpdateApiKeyCommand,
  type ApiKey,
} from '@aws-sdk/client-api-gateway';
import { Command, Option } from 'commander';
import { LOCAL_CREDENTIALS } from '../local/defaults';
import { runCli, throwParseErrors, UsageError } from './cli';
import { describeTarget, resolveTarget, TargetError, withTargetOptions, type Target, type TargetFlags } from './target';

/** API Gateway's limit on a key's name. */
const MAX_NAME_LENGTH = 1024;

/** The SDK client for the target: AWS's endpoint, or the twin's control plane beside the local API. */
export function apiGatewayClient(target: Target): APIGatewayClient {
  if (target.kind === 'deployment') return new APIGatewayClient({ region: target.region });
  return new APIGatewayClient({ region: target.region, endpoint: new URL(target.ingestUrl).origin, credentials: LOCAL_CREDENTIALS });
}

/** `https://<api id>.execute-api.<region>.amazonaws.com/<stage>/...` → its API id and stage. */
function apiOfUrl(url: string): { apiId?: string; stage?: string } {
  const { hostname, pathname } = new URL(url);
  const apiId = /^([a-z0-9]+)\.execute-api\./.exec(hostname)?.[1];
  const stage = pathname.split('/')[1];
  return { ...(apiId === undefined ? {} : { apiId }), ...(stage ? { stage } : {}) };
}

/** The usage plan keys join: --usage-plan, the outputs' usage_plan_id, else the one plan serving the ingest API's stage. */
export async function ingestUsagePlan(client: APIGatewayClient, target: Target, flag: string | undefined): Promise<string> {
  const named = flag ?? target.usagePlanId;
  if (named !== undefined) return named;
  const { apiId, stage } = apiOfUrl(target.ingestUrl);
  const plans = (await client.send(new GetUsagePlansCommand({ limit: 500 }))).items ?? [];
  const serving = plans.filter((plan) => (plan.apiStages ?? []).some((apiStage) => (apiId === undefined || apiStage.apiId === apiId) && (stage === undefined || apiStage.stage === stage)));
  if (serving.length === 1) return serving[0]?.id as string;
  throw new TargetError(
    serving.length === 0
      ? `no usage plan serves the ingest API ${target.ingestUrl}: give --usage-plan <id> or --from-outputs`
      : `several usage plans serve the ingest API (${serving.map((plan) => `${plan.id} ${plan.name ?? ''}`.trim()).join(', ')}): choose one with --usage-plan <id>`,
  );
}

async function allKeys(client: APIGatewayClient): Promise<ApiKey[]> {
  const keys: ApiKey[] = [];
  for await (const page of paginateGetApiKeys({ client }, { limit: 500, includeValues: false })) keys.push(...(page.items ?? []));
  return keys;
}

async function planKeyIds(client: APIGatewayClient, usagePlanId: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const page of paginateGetUsagePlanKeys({ client }, { usagePlanId, limit: 500 })) for (const key of page.items ?? []) if (key.id !== undefined) ids.add(key.id);
  return ids;
}

/** The one key a `revoke` argument names: an id, or a name no other key has. */
function keyNamed(keys: readonly ApiKey[], nameOrId: string): ApiKey {
  const byId = keys.find((key) => key.id === nameOrId);
  if (byId !== undefined) return byId;
  const byName = keys.filter((key) => key.name === nameOrId);
  if (byName.length > 1) throw new UsageError(`${byName.length} keys are named ${nameOrId} (${byName.map((key) => key.id).join(', ')}): give the id`);
  const found = byName[0];
  if (found === undefined) throw new NotFound(`no API key is named ${nameOrId} or has that id (see \`npm run devices -- list\`)`);
  return found;
}

/** A key that is not there: the tool ran, and the answer is no (exit 1). */
class NotFound extends Error {}

export function deviceName(text: string): string {
  if (text.trim() !== text || text === '' || text.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(text)) throw new UsageError(`a device or group name is 1 to ${MAX_NAME_LENGTH} printable characters, without leading or trailing spaces; got ${JSON.stringify(text)}`);
  return text;
}

const dateText = (date: Date | undefined) => (date === undefined ? '-' : date.toISOString().slice(0, 16).replace('T', ' '));

/** `resolve` picks the target from the flags (tests hand in a platform of their own). */
export function devicesProgram(write: (line: string) => void = console.log, resolve: (flags: TargetFlags) => Target = (flags) => resolveTarget(flags)): Command {
  const program = new Command('npm run devices --')
    .description('Issue, list and revoke the API keys devices send to the ingest API (one per device or device group).')
    .option('--json', 'print JSON instead of text', false)
    .showHelpAfterError('(add --help for usage)');
  const flags = (command: Command) => command.optsWithGlobals<TargetFlags & { json: boolean; usagePlan?: string }>();
  const withPlan = (command: Command) => withTargetOptions(command).option('--usage-plan <id>', "usage plan of the ingest API (default: the outputs' usage_plan_id, or the one plan serving the API)");
  const connect = async <T>(command: Command, work: (client: APIGatewayClient, target: Target) => Promise<T>): Promise<T> => {
    const target = resolve(flags(command));
    const client = apiGatewayClient(target);
    try {
      return await work(client, target);
    } finally {
      client.destroy();
    }
  };

  withPlan(
    program
      .command('add')
      .description("issue an enabled API key for a device or device group on the ingest API's usage plan; the key is printed once")
      .argument('<name>', 'device or group name, e.g. boiler-7 or plant-3/pumps')
      .addOption(new Option('--rate <n>', 'not offered: see --help').hideHelp())
      .addOption(new Option('--burst <n>', 'not offered: see --help').hideHelp()),
  )
    .addHelpText('after', "\nEach key gets the usage plan's throttle and quota to itself (API Gateway keeps a bucket per key).\nA different limit for one device needs a usage plan of its own: define it in the stack and pass --usage-plan <id>.")
    .action(async (name: string, options: { rate?: string; burst?: string }, command: Command) => {
      if (options.rate !== undefined || options.burst !== undefined)
        throw new UsageError("API Gateway has no throttle per key: every key on a usage plan gets the plan's per-key throttle to itself. For a different limit, define a usage plan (a tier) in the stack and pass --usage-plan <id>.");
      deviceName(name);
      await connect(command, async (client, target) => {
        const usagePlanId = await ingestUsagePlan(client, target, flags(command).usagePlan);
        const existing = (await allKeys(client)).filter((key) => key.name === name);
        if (existing.length > 0) throw new Error(`${name} already has a key (${existing.map((key) => key.id).join(', ')}): revoke it first, or choose another name`);
        const key = await client.send(new CreateApiKeyCommand({ name, description: 'device key (npm run devices -- add)', enabled: true }));
        try {
          await client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id, keyType: 'API_KEY' }));
        } catch (error) {
          // A key on no plan is refused anyway; deleting it keeps the list honest.
          await client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
          throw error;
        }
        if (flags(command).json) write(JSON.stringify({ name, id: key.id, value: key.value, usagePlanId }));
        else {
          write(`Added ${name} (key id ${key.id}, usage plan ${usagePlanId}) on ${describeTarget(target)}.`);
          write(`Its key, shown only now (devices send it in the x-api-key header):\n${key.value}`);
        }
      });
    });

  withPlan(
    program
      .command('list')
      .description("list the keys on the ingest API's usage plan (name, id, enabled, created, plan); never their values")
      .option('--all', "every API key of the account and region, not only the ingest plan's (the plan column says which are on it)", false),
  ).action(async (options: { all: boolean }, command: Command) => {
    await connect(command, async (client, target) => {
      const usagePlanId = await ingestUsagePlan(client, target, flags(command).usagePlan);
      const onPlan = await planKeyIds(client, usagePlanId);
      const keys = (await allKeys(client)).filter((key) => options.all || onPlan.has(key.id ?? ''));
      const rows = keys.map((key) => ({ name: key.name ?? '', id: key.id ?? '', enabled: key.enabled === true, created: dateText(key.createdDate), plan: onPlan.has(key.id ?? '') ? usagePlanId : '-' }));
      if (flags(command).json) {
        write(JSON.stringify(rows));
        return;
      }
      if (rows.length === 0) {
        write(`No API keys${options.all ? '' : ` on usage plan ${usagePlanId}`} on ${describeTarget(target)}.`);
        return;
      }
      const table = [['NAME', 'ID', 'ENABLED', 'CREATED (UTC)', 'PLAN'], ...rows.map((row) => [row.name, row.id, row.enabled ? 'yes' : 'no', row.created, row.plan])];
      const widths = (table[0] as string[]).map((_, column) => Math.max(...table.map((row) => (row[column] as string).length)));
      for (const row of table) write(row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd());
    });
  });

  withTargetOptions(
    program
      .command('revoke')
      .description('disable a key (or delete it with --delete): requests with it get 403 Forbidden, other devices keep sending')
      .argument('<name-or-id>', 'key name (the device or group) or key id')
      .option('--delete', 'delete the key instead of disabling it (it cannot be enabled again)', false),
  ).action(async (nameOrId: string, options: { delete: boolean }, command: Command) => {
    await connect(command, async (client, target) => {
      let key: ApiKey;
      try {
        key = keyNamed(await allKeys(client), nameOrId);
      } catch (error) {
        if (!(error instanceof NotFound)) throw error;
        process.exitCode = 1;
        write(flags(command).json ? JSON.stringify({ revoked: false, reason: error.message }) : error.message);
        return;
      }
      if (options.delete) await client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
      else await client.send(new UpdateApiKeyCommand({ apiKey: key.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
      const how = options.delete ? 'deleted' : 'disabled';
      if (flags(command).json) write(JSON.stringify({ revoked: true, name: key.name, id: key.id, how }));
      else write(`${how === 'deleted' ? 'Deleted' : 'Disabled'} the key of ${key.name} (${key.id}) on ${describeTarget(target)}: its requests now get 403 Forbidden.`);
    });
  });
  return program;
}

if (require.main === module) runCli(() => throwParseErrors(devicesProgram()).parseAsync());
