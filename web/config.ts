/**
 * The web app's settings, read from the environment the ECS task definition (or the
 * local platform, from that task definition) sets, validated once at start so a misconfigured task fails
 * at once with every problem named, not at the first request.
 */
import { DEFAULT_NAMES, DEFAULT_ROLLUP_RETENTION_DAYS, HANDLER_ENV, IDENTITY_ENV } from '../handlers/contract';
import type { RollupStep } from '../handlers/rollup';
import { loadBalancerIdentity, localIdentity, noIdentity, type IdentityMode, type UserIdentity } from './identity';

export { IDENTITY_ENV };

export interface WebConfig {
  /** @default 5000 */
  readonly port: number;
  /** @default '0.0.0.0' (every interface, as a container needs) */
  readonly host: string;
  /** Region for the DynamoDB client: `AWS_REGION`, else `AWS_DEFAULT_REGION`. */
  readonly region: string;
  readonly tables: {
    readonly things: string;
    readonly thresholds: string;
    readonly alerts: string;
    /** @default DEFAULT_NAMES.seriesTable */
    readonly series: string;
    /** @default DEFAULT_NAMES.rollupsTable */
    readonly rollups: string;
  };
  /**
   * Days the rollups of each step are kept (the store consumer's settings), so `step=auto`
   * never picks a step whose buckets are gone. @default DEFAULT_ROLLUP_RETENTION_DAYS
   */
  readonly rollupRetentionDays: RollupRetentionDays;
  /** How long the series overview is reused before the catalogue is read again. @default 5 */
  readonly seriesCacheSeconds: number;
  /**
   * Who may change things (acknowledge, silence): `load-balancer` (the user its sign-in
   * vouches for, `loadBalancerArn` the signer), `local` (everyone, as "local"), or `none`
   * (changes refused). @default none
   */
  readonly identity: { readonly mode: IdentityMode; readonly loadBalancerArn?: string };
}


export type Environment = Readonly<Record<string, string | undefined>>;

/** Days each step of rollups is kept; undefined: for ever. */
export type RollupRetentionDays = Readonly<Partial<Record<RollupStep, number>>>;

export const DEFAULT_PORT = 5000;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_SERIES_CACHE_SECONDS = 5;

/** Endpoint variables the AWS SDK reads by itself; checked here so a typo fails at start. */
export const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB'] as const;

/** Thrown by `loadWebConfig`, naming every missing or malformed variable at once. */
export class WebConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The web app cannot start; fix these environment variables:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'WebConfigError';
  }
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export function loadWebConfig(env: Environment): WebConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const text = env[name]?.trim();
    return text === undefined || text === '' ? undefined : text;
  };

  const table = (variable: string, fallback?: string): string => {
    const name = read(variable) ?? fallback;
    if (name === undefined) problems.push(`${variable} is missing: set it to the DynamoDB table name`);
    else if (!TABLE_NAME.test(name)) problems.push(`${variable} must be a DynamoDB table name (3-255 letters, digits, "_", "." or "-"), got ${JSON.stringify(name)}`);
    return name ?? '';
  };
  const tables = {
    things: table(HANDLER_ENV.thingsTable),
    thresholds: table(HANDLER_ENV.thresholdsTable),
    alerts: table(HANDLER_ENV.alertsTable),
    series: table(HANDLER_ENV.seriesTable, DEFAULT_NAMES.seriesTable),
    rollups: table(HANDLER_ENV.rollupsTable, DEFAULT_NAMES.rollupsTable),
  };

  const whole = (variable: string, fallback: number, min: number, max: number, unit: string): number => {
    const text = read(variable);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (/^\d+$/.test(text) && value >= min && value <= max) return value;
    problems.push(`${variable} must be ${unit} from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return fallback;
  };
  const port = whole('PORT', DEFAULT_PORT, 0, 65_535, 'a TCP port');
  const seriesCacheSeconds = whole('SERIES_CACHE_SECONDS', DEFAULT_SERIES_CACHE_SECONDS, 0, 3_600, 'a whole number of seconds');
  const days = (variable: string, fallback: number | undefined): number | undefined => {
    const text = read(variable);
    if (text === undefined) return fallback;
    if (/^\d+$/.test(text) && Number(text) >= 1) return Number(text);
    problems.push(`${variable} must be a whole number of days, 1 or more, got ${JSON.stringify(text)}`);
    return fallback;
  };
  const hours = days(HANDLER_ENV.hourRollupRetentionDays, DEFAULT_ROLLUP_RETENTION_DAYS['1h']);
  // Minutes are parts of their hour's item, kept as long as it.
  const rollupRetentionDays: RollupRetentionDays = { '1m': hours, '1h': hours, '1d': days(HANDLER_ENV.dayRollupRetentionDays, DEFAULT_ROLLUP_RETENTION_DAYS['1d']) };

  const region = read('AWS_REGION') ?? read('AWS_DEFAULT_REGION');
  if (region === undefined) problems.push('AWS_REGION is missing: set it to the region of the tables, e.g. eu-west-2');

  for (const variable of ENDPOINT_VARIABLES) {
    const url = read(variable);
    if (url !== undefined && !(URL.canParse(url) && /^https?:$/.test(new URL(url).protocol))) {
      problems.push(`${variable} must be an http(s) URL such as http://127.0.0.1:8000, got ${JSON.stringify(url)}`);
    }
  }

  const mode = read(IDENTITY_ENV.mode) ?? 'none';
  const loadBalancerArn = read(IDENTITY_ENV.loadBalancerArn);
  if (mode !== 'load-balancer' && mode !== 'local' && mode !== 'none') problems.push(`${IDENTITY_ENV.mode} must be load-balancer, local or none, got ${JSON.stringify(mode)}`);
  if (mode === 'load-balancer' && (loadBalancerArn === undefined || !/^arn:[^:\s]+:elasticloadbalancing:[^:\s]+:\d{12}:loadbalancer\/app\/\S+$/.test(loadBalancerArn))) {
    problems.push(`${IDENTITY_ENV.loadBalancerArn} must be the ARN of the application load balancer that signs users in (arn:aws:elasticloadbalancing:...:loadbalancer/app/...), got ${JSON.stringify(loadBalancerArn ?? '')}`);
  }

  if (problems.length > 0) throw new WebConfigError(problems);
  const identity = { mode: mode as IdentityMode, ...(mode === 'load-balancer' ? { loadBalancerArn: loadBalancerArn as string } : {}) };
  return { port, host: read('HOST') ?? DEFAULT_HOST, region: region as string, tables, seriesCacheSeconds, rollupRetentionDays, identity };
}

/** The identity the configuration asks for. */
export function identityOf(config: Pick<WebConfig, 'identity' | 'region'>): UserIdentity {
  if (config.identity.mode === 'local') return localIdentity;
  if (config.identity.mode === 'none' || config.identity.loadBalancerArn === undefined) return noIdentity;
  return loadBalancerIdentity({ region: config.region, loadBalancerArn: config.identity.loadBalancerArn });
}
