/**
 * The stack's Lambda functions as the local runtime runs them: the zip Terraform uploads
 * (`filename`, relative to the stack's folder), unpacked once per archive into the data
 * folder, with the function's handler, timeout, memory size and environment variables,
 * and the variables Lambda's runtime adds itself. Nothing else: a variable the stack does
 * not give a function is missing locally too.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import type { LoadedStack } from './load-stack';
import { TwinResolutionError, type StackResource } from './stack';

/** Lambda's defaults for arguments a function resource leaves out. */
export const LAMBDA_DEFAULTS = { timeoutSeconds: 3, memoryMiB: 128 } as const;

/**
 * Variables Lambda sets itself and refuses in a function's configuration.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
export const RESERVED_VARIABLES = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
] as const;

export interface FunctionSpec {
  readonly address: string;
  readonly name: string;
  readonly arn: string;
  /** The execution role's ARN (the `invokeIdentityArn` of Kinesis events). */
  readonly roleArn: string;
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
  /** `environment.variables` of the resource, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  /** The deployment package, absolute. */
  readonly zipFile: string;
  readonly logGroup: string;
  /** `logging_config.log_format`: `JSON` or `Text`. */
  readonly logFormat?: string;
  /** `logging_config.application_log_level`. */
  readonly applicationLogLevel?: string;
}

export function functionSpec(stack: Pick<LoadedStack, 'dir' | 'attribute'>, resource: StackResource): FunctionSpec {
  const config = resource.config as {
    function_name: string;
    handler?: string;
    runtime?: string;
    filename?: string;
    package_type?: string;
    layers?: readonly string[];
    timeout?: number;
    memory_size?: number;
    environment?: { variables?: Readonly<Record<string, unknown>> };
    logging_config?: { log_format?: string; log_group?: string; application_log_level?: string };
  };
  const refuse = (attribute: string, why: string): never => {
    throw new TwinResolutionError(`${resource.address}: ${why}`, resource.address, attribute);
  };
  if (config.package_type === 'Image') refuse('package_type', 'container image functions are not run locally');
  if (config.filename === undefined) refuse('filename', 'only functions deployed from a local zip (filename) are run locally');
  if (config.runtime === undefined || !config.runtime.startsWith('nodejs')) refuse('runtime', `the local runtime runs Node.js functions only, not ${config.runtime ?? 'no runtime'}`);
  if (config.handler === undefined) refuse('handler', 'a zip function needs a handler');
  if ((config.layers ?? []).length > 0) refuse('layers', 'layers are not emulated locally');
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.environment?.variables ?? {})) {
    if ((RESERVED_VARIABLES as readonly string[]).includes(name)) refuse(`environment.variables.${name}`, `${name} is reserved by Lambda and cannot be set in a function's environment`);
    environment[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return {
    address: resource.address,
    name: config.function_name,
    arn: String(stack.attribute(resource.address, 'arn')),
    roleArn: String(resource.config.role),
    handler: config.handler as string,
    runtime: config.runtime as string,
    timeoutSeconds: Number(config.timeout ?? LAMBDA_DEFAULTS.timeoutSeconds),
    memoryMiB: Number(config.memory_size ?? LAMBDA_DEFAULTS.memoryMiB),
    environment,
    zipFile: path.resolve(stack.dir, config.filename as string),
    logGroup: config.logging_config?.log_group ?? `/aws/lambda/${config.function_name}`,
    ...(config.logging_config?.log_format === undefined ? {} : { logFormat: config.logging_config.log_format }),
    ...(config.logging_config?.application_log_level === undefined ? {} : { applicationLogLevel: config.logging_config.application_log_level }),
  };
}

/**
 * Unpacks the function's zip into `<root>/<function>-<archive digest>/` (once: an
 * unchanged archive is reused) and returns that folder. Entries that would land outside
 * it are refused.
 */
export function unpackFunction(spec: Pick<FunctionSpec, 'name' | 'zipFile' | 'address'>, root: string): string {
  let archive: Buffer;
  try {
    archive = readFileSync(spec.zipFile);
  } catch (error) {
    throw new TwinResolutionError(`${spec.address}: cannot read the deployment package ${spec.zipFile} (${(error as Error).message})`, spec.address, 'filename');
  }
  const dir = path.join(root, `${spec.name}-${createHash('sha256').update(archive).digest('hex').slice(0, 16)}`);
  const complete = path.join(dir, '.unpacked');
  if (existsSync(complete)) return dir;
  const work = `${dir}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  for (const [name, content] of Object.entries(unzipSync(archive))) {
    const target = path.resolve(work, name);
    if (!target.startsWith(`${work}${path.sep}`)) throw new TwinResolutionError(`${spec.address}: the deployment package holds an entry outside its folder: ${name}`, spec.address, 'filename');
    if (name.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  writeFileSync(path.join(work, '.unpacked'), '');
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return dir;
}

export interface RuntimeSettings {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** `AWS_ENDPOINT_URL_<SERVICE>` → the local endpoint the function's SDK clients call. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Stands in for `logging_config.application_log_level` (the functions' log level on the console). */
  readonly applicationLogLevel?: string;
}

/**
 * The function's whole environment: its own variables, and those Lambda's runtime adds
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * credentials standing for the execution role's, and the local endpoints.
 */
export function lambdaEnvironment(spec: FunctionSpec, codeDir: string, settings: RuntimeSettings): Record<string, string> {
  const logLevel = settings.applicationLogLevel ?? spec.applicationLogLevel;
  return {
    ...spec.environment,
    _HANDLER: spec.handler,
    AWS_REGION: settings.region,
    AWS_DEFAULT_REGION: settings.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMiB),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${createHash('sha256').update(spec.arn).digest('hex').slice(0, 32)}`,
    AWS_ACCESS_KEY_ID: settings.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: settings.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: 'local',
    LAMBDA_TASK_ROOT: codeDir,
    // Advanced logging controls: with JSON logs, Lambda tells the code its log level.
    ...(spec.logFormat === 'JSON' ? { AWS_LAMBDA_LOG_FORMAT: 'JSON', ...(logLevel === undefined ? {} : { AWS_LAMBDA_LOG_LEVEL: logLevel }) } : {}),
    ...Object.fromEntries(Object.entries(settings.endpoints).map(([service, url]) => [`AWS_ENDPOINT_URL_${service}`, url])),
    // Lambda runs nodejs22.x where the SDK has nothing to warn about; this runtime is Node 20.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
