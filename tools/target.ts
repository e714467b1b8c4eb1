/**
 * Which platform a tool talks to: the local one by default (where the running platform's
 * lock file says it listens, else its default addresses), or a
 * deployment given by flags (`--api-url`, `--api-key`, `--web-url`, `--region`, table
 * names) or read from the pipeline stack's outputs (`--from-outputs`), so nobody pastes
 * keys and URLs into a script as the 2016 report's system test made its users do.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Command, Option } from 'commander';
import { DEFAULT_NAMES } from '../handlers/contract';
import { DEFAULT_PORTS, LOCAL_CREDENTIALS, LOCAL_DEFAULTS, type TableNames } from '../local/defaults';
import { runningPlatform } from '../local/instance-lock';
import type { LocalPlatform } from '../local/platform';
import { INGEST_PATHS } from '../stacks/ingest-paths';
import { PIPELINE_OUTPUTS } from '../stacks/output-names';

export interface Target {
  /** `local` when every address is the local platform's default. */
  readonly kind: 'local' | 'deployment';
  /** PUT one reading here. */
  readonly ingestUrl: string;
  /** POST a batch here. */
  readonly batchIngestUrl: string;
  readonly apiKey: string;
  /** The web app (dashboard and `/api/...`). */
  readonly webUrl: string;
  readonly region: string;
  /** Set for the local platform; AWS's own endpoint otherwise. */
  readonly dynamodbEndpoint?: string;
  readonly tables: TableNames;
  /** The ingest API's usage plan, when the deployment's outputs name it. */
  readonly usagePlanId?: string;
}

/** The flags every tool takes, as commander gives them. */
export interface TargetFlags {
  readonly apiUrl?: string;
  readonly apiKey?: string;
  readonly webUrl?: string;
  readonly region?: string;
  readonly dynamodbEndpoint?: string;
  readonly thingsTable?: string;
  readonly thresholdsTable?: string;
  readonly alertsTable?: string;
  readonly seriesTable?: string;
  readonly rollupsTable?: string;
  readonly fromOutputs?: string;
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/** Adds the target flags to a command. */
export function withTargetOptions(command: Command): Command {
  return command
    .addOption(new Option('--from-outputs <path>', "read the deployment from the pipeline stack's outputs: its Terraform folder (runs `terraform output -json` there) or a JSON file of those outputs"))
    .option('--api-url <url>', `ingest URL of a deployment (…/prod/thingsstream, or the stage URL); default: the local platform's`)
    .option('--api-key <key>', 'API key of the ingest API (also $IOT_API_KEY)')
    .option('--web-url <url>', 'URL of the web app')
    .option('--region <region>', 'AWS region of the tables (default: from the API URL, $AWS_REGION, or eu-west-2)')
    .option('--dynamodb-endpoint <url>', "DynamoDB endpoint (default: the local platform's when no deployment is named, else AWS)")
    .option('--things-table <name>', 'readings table name')
    .option('--thresholds-table <name>', 'thresholds table name')
    .option('--alerts-table <name>', 'alerts table name')
    .option('--series-table <name>', 'series catalogue table name')
    .option('--rollups-table <name>', 'rollups table name');
}

export type Outputs = Readonly<Record<string, string>>;

/** Reads outputs from `terraform output -json` text, or a cdktf outputs file (`{stack: {name: value}}`). */
export function parseOutputs(text: string, origin: string): Outputs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TargetError(`${origin} is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TargetError(`${origin} does not hold a JSON object of outputs`);
  const entries = Object.entries(parsed as Record<string, unknown>);
  const flat = (values: [string, unknown][]): Record<string, string> => {
    const outputs: Record<string, string> = {};
    for (const [name, value] of values) {
      // terraform output -json: {"name": {"value": ..., "type": ..., "sensitive": ...}}
      const inner = typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value;
      if (typeof inner === 'string' || typeof inner === 'number') outputs[name] = String(inner);
    }
    return outputs;
  };
  // A cdktf outputs file nests each stack's outputs under its name.
  const pipeline = (parsed as Record<string, unknown>).pipeline;
  if (typeof pipeline === 'object' && pipeline !== null && !('value' in pipeline)) return flat(Object.entries(pipeline as Record<string, unknown>));
  return flat(entries);
}

export function readOutputs(location: string): Outputs {
  let isFolder: boolean;
  try {
    isFolder = statSync(location).isDirectory();
  } catch {
    throw new TargetError(`--from-outputs ${location} does not exist: give the pipeline stack's Terraform folder (e.g. cdktf.out/stacks/pipeline) or a JSON file of its outputs`);
  }
  if (!isFolder) return parseOutputs(readFileSync(location, 'utf8'), location);
  let text: string;
  try {
    text = execFileSync('terraform', ['output', '-json'], { cwd: location, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new TargetError(`could not read the outputs with \`terraform output -json\` in ${location}: ${detail}`);
  }
  const outputs = parseOutputs(text, `terraform output -json in ${location}`);
  if (Object.keys(outputs).length === 0) throw new TargetError(`the Terraform state in ${location} has no outputs: deploy the pipeline stack first`);
  return outputs;
}

/** `https://id.execute-api.eu-west-2.amazonaws.com/...` → `eu-west-2`. */
export function regionOfUrl(url: string | undefined): string | undefined {
  return url === undefined ? undefined : /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
}

function checkUrl(flag: string, url: string): string {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new TargetError(`${flag} must be an http(s) URL, got ${JSON.stringify(url)}`);
  return url.replace(/\/+$/, '');
}

/** The lock file of a local platform on the default data folder: it names the running platform's URLs and tables. */
export const LOCAL_LOCK_FILE = path.join(LOCAL_DEFAULTS.dataDir, 'platform.lock');

/** Resolves the target from flags and environment; throws `TargetError` naming what is missing. */
export function resolveTarget(flags: TargetFlags, env: Readonly<Record<string, string | undefined>> = process.env, localLockFile = LOCAL_LOCK_FILE): Target {
  const outputs: Outputs = flags.fromOutputs === undefined ? {} : readOutputs(flags.fromOutputs);
  const output = (name: string): string | undefined => outputs[name];

  const apiUrl = flags.apiUrl ?? output(PIPELINE_OUTPUTS.ingestUrl);
  const deployment = apiUrl !== undefined || flags.webUrl !== undefined || flags.fromOutputs !== undefined;

  if (!deployment) {
    // The running platform says where it listens and what its tables are called; else the defaults.
    const running = runningPlatform(localLockFile);
    const base = `http://${LOCAL_DEFAULTS.host}:${DEFAULT_PORTS.ingest}`;
    return {
      kind: 'local',
      ingestUrl: running?.urls?.ingest ?? `${base}${INGEST_PATHS.single}`,
      batchIngestUrl: running?.urls?.batchIngest ?? `${base}${INGEST_PATHS.batch}`,
      apiKey: flags.apiKey ?? env.IOT_API_KEY ?? running?.apiKey ?? LOCAL_DEFAULTS.apiKey,
      webUrl: running?.urls?.web ?? `http://${LOCAL_DEFAULTS.host}:${DEFAULT_PORTS.web}`,
      region: flags.region ?? running?.region ?? LOCAL_DEFAULTS.region,
      dynamodbEndpoint: checkUrl('--dynamodb-endpoint', flags.dynamodbEndpoint ?? running?.urls?.dynamodb ?? `http://${LOCAL_DEFAULTS.host}:${DEFAULT_PORTS.dynamodb}`),
      tables: {
        things: flags.thingsTable ?? running?.tables?.things ?? DEFAULT_NAMES.thingsTable,
        thresholds: flags.thresholdsTable ?? running?.tables?.thresholds ?? DEFAULT_NAMES.thresholdsTable,
        alerts: flags.alertsTable ?? running?.tables?.alerts ?? DEFAULT_NAMES.alertsTable,
        series: flags.seriesTable ?? running?.tables?.series ?? DEFAULT_NAMES.seriesTable,
        rollups: flags.rollupsTable ?? running?.tables?.rollups ?? DEFAULT_NAMES.rollupsTable,
      },
    };
  }

  const missing: string[] = [];
  if (apiUrl === undefined) missing.push('--api-url (or --from-outputs)');
  const apiKey = flags.apiKey ?? env.IOT_API_KEY ?? output(PIPELINE_OUTPUTS.apiKey);
  if (apiKey === undefined) missing.push('--api-key (or $IOT_API_KEY, or --from-outputs)');
  const webUrl = flags.webUrl ?? output(PIPELINE_OUTPUTS.webUrl);
  if (webUrl === undefined) missing.push('--web-url (or --from-outputs)');
  if (missing.length > 0) throw new TargetError(`to use a deployment, also give ${missing.join(', ')}`);

  // The ingest URL may be given as the stage URL; the batch URL sits beside it.
  const ingestUrl = checkUrl('--api-url', apiUrl as string);
  const single = /\/thingsstream$/.test(ingestUrl) ? ingestUrl : `${ingestUrl}/thingsstream`;
  const batchIngestUrl = output(PIPELINE_OUTPUTS.batchIngestUrl) ?? `${single}/batch`;
  return {
    kind: 'deployment',
    ingestUrl: single,
    batchIngestUrl: checkUrl('batch ingest URL', batchIngestUrl),
    apiKey: apiKey as string,
    webUrl: checkUrl('--web-url', webUrl as string),
    region: flags.region ?? regionOfUrl(single) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? LOCAL_DEFAULTS.region,
    ...(flags.dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint: checkUrl('--dynamodb-endpoint', flags.dynamodbEndpoint) }),
    tables: {
      things: flags.thingsTable ?? output(PIPELINE_OUTPUTS.thingsTable) ?? DEFAULT_NAMES.thingsTable,
      thresholds: flags.thresholdsTable ?? output(PIPELINE_OUTPUTS.thresholdsTable) ?? DEFAULT_NAMES.thresholdsTable,
      alerts: flags.alertsTable ?? output(PIPELINE_OUTPUTS.alertsTable) ?? DEFAULT_NAMES.alertsTable,
      series: flags.seriesTable ?? output(PIPELINE_OUTPUTS.seriesTable) ?? DEFAULT_NAMES.seriesTable,
      rollups: flags.rollupsTable ?? output(PIPELINE_OUTPUTS.rollupsTable) ?? DEFAULT_NAMES.rollupsTable,
    },
    ...(output(PIPELINE_OUTPUTS.usagePlanId) === undefined ? {} : { usagePlanId: output(PIPELINE_OUTPUTS.usagePlanId) as string }),
  };
}

/** A running local platform as a target (tests and benchmarks start it on free ports). */
export function platformTarget(platform: Pick<LocalPlatform, 'urls' | 'apiKey' | 'region' | 'tables'>): Target {
  return {
    kind: 'local',
    ingestUrl: platform.urls.ingest,
    batchIngestUrl: platform.urls.batchIngest,
    apiKey: platform.apiKey,
    webUrl: platform.urls.web,
    region: platform.region,
    dynamodbEndpoint: platform.urls.dynamodb,
    tables: platform.tables,
  };
}

/**
 * A DynamoDB document client for the target: the emulator with its dummy credentials, or
 * AWS with the usual credential chain. With `exactNumbers`, numbers are read as
 * `NumberValue`s with every digit stored (handlers/stored-number.ts), not as doubles.
 */
export function targetDynamo(target: Target, options: { readonly exactNumbers?: boolean } = {}): DynamoDBDocumentClient {
  // An emulator on this machine takes the dummy credentials; AWS needs the real chain.
  const local = target.dynamodbEndpoint !== undefined && ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(target.dynamodbEndpoint).hostname);
  const client = new DynamoDBClient({
    region: target.region,
    ...(target.dynamodbEndpoint === undefined ? {} : { endpoint: target.dynamodbEndpoint }),
    ...(local ? { credentials: LOCAL_CREDENTIALS } : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
    ...(options.exactNumbers === true ? { unmarshallOptions: { wrapNumbers: true } } : {}),
  });
}

/** Where the tool is pointed, for its first line of output. */
export function describeTarget(target: Target): string {
  return target.kind === 'local' ? `the local platform (${target.ingestUrl})` : `the deployment at ${target.ingestUrl} (region ${target.region})`;
}
