/**
 * Reads a synthesized stack (`cdktf.out/stacks/<stack>/cdk.tf.json`) for the local twin:
 * indexes its resources and data sources, gives each the attributes AWS would compute
 * (attributes.ts), and resolves `${...}` references lazily, when an emulator reads the
 * argument that holds them. What no emulator reads never has to resolve; what one reads
 * and cannot be resolved throws a `TwinResolutionError` naming the resource, the
 * argument and the reference.
 *
 *   const stack = loadStack('cdktf.out/stacks/pipeline/cdk.tf.json', { endpoints: { sqs: () => messaging.endpoint } });
 *   stack.resources('aws_lambda_function')[0].config.environment  // { variables: { THINGS_TABLE: 'iot-things', ... } }
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LOCAL_ACCOUNT_ID, LOCAL_DEFAULTS } from '../defaults';
import { COMPUTED_ATTRIBUTES, type AttributeContext, type LocalService } from './attributes';
import { parseReference, parseTemplate } from './expressions';
import { TwinResolutionError, type StackResource, type TwinStack } from './stack';

export interface LoadStackOptions {
  /** @default the region of the stack's `aws` provider */
  readonly region?: string;
  /** @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
  /**
   * Where local services listen, read when a URL attribute is resolved (a queue's `url`, a
   * stage's `invoke_url`). A service left out gets AWS's URL; one whose function returns
   * undefined is not listening yet, and reading its URL throws.
   */
  readonly endpoints?: Partial<Record<LocalService, () => string | undefined>>;
  /** The value AWS would generate for an API key the stack gives none. @default LOCAL_DEFAULTS.apiKey */
  readonly apiKeyValue?: string;
}

export interface LoadedStack extends TwinStack {
  /** The folder of the file: relative paths in arguments (a function's `filename`) are relative to it. */
  readonly dir: string;
  readonly region: string;
  readonly accountId: string;
  /** Every resource and data source, resources first, in the order the JSON lists them. */
  all(): readonly StackResource[];
  /** Data sources of one type. */
  dataSources(type: string): readonly StackResource[];
  /** An attribute of a resource or data source, as `${<address>.<name>}` resolves. */
  attribute(address: string, name: string): unknown;
  outputNames(): readonly string[];
  /** The value of an output, resolved. */
  output(name: string): unknown;
}

/** Arguments that steer Terraform rather than describe the resource. */
const META_ARGUMENTS = new Set(['//', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection', 'count', 'for_each']);

const ALPHABETS = { hex: '0123456789abcdef', alnum: 'abcdefghijklmnopqrstuvwxyz0123456789', digits: '0123456789' } as const;

interface Entry {
  readonly resource: StackResource;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly attributes: Map<string, unknown>;
}

type Json = Record<string, Record<string, Record<string, unknown>> | undefined>;

export function loadStack(file: string, options: LoadStackOptions = {}): LoadedStack {
  const absolute = path.resolve(file);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(absolute, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new TwinResolutionError(`cannot read the synthesized stack ${absolute}: ${(error as Error).message}`);
  }
  const providers = (json.provider as { aws?: { region?: string }[] } | undefined)?.aws;
  const region = options.region ?? providers?.[0]?.region;
  if (typeof region !== 'string' || region.includes('${')) {
    throw new TwinResolutionError(`${absolute}: the aws provider names no region; the twin needs one`, 'provider.aws', 'region');
  }
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const entries = new Map<string, Entry>();
  const inProgress = new Set<string>();

  const entry = (address: string): Entry => {
    const found = entries.get(address);
    if (found === undefined) throw new TwinResolutionError(`the stack has no ${address.startsWith('data.') ? 'data source' : 'resource'} ${address}`, address);
    return found;
  };

  const endpoint = (service: LocalService): string | undefined => {
    const read = options.endpoints?.[service];
    if (read === undefined) return undefined;
    const url = read();
    if (url === undefined) throw new Error(`the local ${service} endpoint is not listening yet`);
    return url;
  };

  /** Follows `path` below a value: names into objects, indexes into lists (a block written as an object is its own [0]). */
  const walk = (value: unknown, steps: readonly (string | number)[], what: string): unknown => {
    let current = value;
    for (const step of steps) {
      if (typeof step === 'number' && !Array.isArray(current) && step === 0 && current !== null && typeof current === 'object') continue;
      const next = current === null || typeof current !== 'object' ? undefined : (current as Record<string | number, unknown>)[step];
      if (next === undefined) throw new Error(`${what} has no ${typeof step === 'number' ? `[${step}]` : `"${step}"`}`);
      current = next;
    }
    return current;
  };

  /** A template string, resolved; a lone interpolation keeps its value's type, as in Terraform. */
  const resolveString = (text: string): unknown => {
    const parts = parseTemplate(text);
    const values = parts.map((part) => {
      if (part.kind === 'literal') return part.text;
      const reference = part.kind === 'interpolation' ? parseReference(part.expression) : undefined;
      if (reference === undefined) throw new Error(`\${${part.expression}} is not a plain reference; the twin does not evaluate Terraform functions or directives`);
      const value = attribute(reference.address, reference.attribute);
      return walk(value, reference.path, `${reference.address}.${reference.attribute}`);
    });
    if (values.length === 1 && parts[0]?.kind === 'interpolation') return values[0];
    return values
      .map((value) => {
        if (value !== null && typeof value === 'object') throw new Error(`a list or object cannot be part of the text ${JSON.stringify(text)}`);
        return String(value);
      })
      .join('');
  };

  /** A lazy view of arguments: each string is resolved when first read, then kept. */
  const view = (raw: unknown, address: string, attributePath: string): unknown => {
    if (typeof raw === 'string') {
      if (!raw.includes('${') && !raw.includes('%{') && !raw.includes('$${') && !raw.includes('%%{')) return raw;
      try {
        return resolveString(raw);
      } catch (error) {
        throw new TwinResolutionError(`${address}: ${attributePath}: ${(error as Error).message}`, address, attributePath);
      }
    }
    if (Array.isArray(raw)) return Object.freeze(raw.map((item, index) => view(item, address, `${attributePath}[${index}]`)));
    if (raw === null || typeof raw !== 'object') return raw;
    const result: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (attributePath === '' && META_ARGUMENTS.has(key)) continue;
      let cached: { value: unknown } | undefined;
      Object.defineProperty(result, key, {
        enumerable: true,
        get: () => (cached ??= { value: view(value, address, attributePath === '' ? key : `${attributePath}.${key}`) }).value,
      });
    }
    return Object.freeze(result);
  };

  const context = (target: Entry): AttributeContext => ({
    resource: target.resource,
    region,
    accountId,
    attribute: (name) => attribute(target.resource.address, name),
    attributeOf: (address, name) => attribute(address, name),
    byId: (type, value) => [...entries.values()].find((candidate) => candidate.resource.mode === 'managed' && candidate.resource.type === type && candidate.resource.id === value)?.resource,
    token: (length, alphabet = 'hex', salt = '') => token(`${target.resource.address}\0${salt}`, length, ALPHABETS[alphabet]),
    uuid: () => {
      const hex = token(`${target.resource.address}\0uuid`, 32, ALPHABETS.hex);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
    endpoint,
    apiKeyValue: options.apiKeyValue ?? LOCAL_DEFAULTS.apiKey,
    remoteOutputs: () => remoteOutputs(target, absolute, options),
  });

  function attribute(address: string, name: string): unknown {
    const target = entry(address);
    if (target.attributes.has(name)) return target.attributes.get(name);
    const key = `${address}.${name}`;
    if (inProgress.has(key)) throw new TwinResolutionError(`${key} refers to itself`, address, name);
    inProgress.add(key);
    try {
      const computed = COMPUTED_ATTRIBUTES[target.resource.mode === 'data' ? `data.${target.resource.type}` : target.resource.type]?.[name];
      let value: unknown;
      if (computed !== undefined) value = computed(context(target));
      else if (name in target.raw && !META_ARGUMENTS.has(name)) value = target.resource.config[name];
      // Every resource has an id; where its shape does not matter to any emulator, any stable one will do.
      else if (name === 'id') value = token(address, 20, ALPHABETS.alnum);
      else throw new TwinResolutionError(`${address} has no attribute "${name}": it is not an argument, and the twin does not compute it (local/twin/attributes.ts)`, address, name);
      target.attributes.set(name, value);
      return value;
    } finally {
      inProgress.delete(key);
    }
  }

  const add = (mode: 'managed' | 'data', type: string, name: string, raw: Record<string, unknown>) => {
    const address = mode === 'data' ? `data.${type}.${name}` : `${type}.${name}`;
    let config: Readonly<Record<string, unknown>> | undefined;
    const resource: StackResource = {
      mode,
      type,
      name,
      address,
      get id() {
        return String(attribute(address, 'id'));
      },
      get config() {
        return (config ??= view(raw, address, '') as Readonly<Record<string, unknown>>);
      },
    };
    entries.set(address, { resource, raw, attributes: new Map() });
  };
  for (const [mode, block] of [['managed', json.resource], ['data', json.data]] as const) {
    for (const [type, named] of Object.entries((block ?? {}) as Json)) {
      for (const [name, raw] of Object.entries(named ?? {})) add(mode, type, name, raw);
    }
  }

  const outputs = (json.output ?? {}) as Record<string, { value?: unknown }>;
  const all = [...entries.values()].map((found) => found.resource);
  return {
    file: absolute,
    dir: path.dirname(absolute),
    region,
    accountId,
    all: () => all,
    resources: (type) => all.filter((resource) => resource.mode === 'managed' && resource.type === type),
    dataSources: (type) => all.filter((resource) => resource.mode === 'data' && resource.type === type),
    resource: (address) => entry(address).resource,
    attribute,
    outputNames: () => Object.keys(outputs),
    output(name) {
      const output = outputs[name];
      if (output === undefined) throw new TwinResolutionError(`the stack has no output ${name}`, `output.${name}`);
      return view(output.value, `output.${name}`, 'value');
    },
  };
}

/** A deterministic token of `length` characters of `alphabet`, from `seed`. */
function token(seed: string, length: number, alphabet: string): string {
  let text = '';
  for (let round = 0; text.length < length; round += 1) {
    for (const byte of createHash('sha256').update(`${seed}\0${round}`).digest()) {
      if (text.length < length) text += alphabet[byte % alphabet.length];
    }
  }
  return text;
}

/** The backend block a stack writes its state to: `{kind, config}`. */
function backendOf(json: Record<string, unknown>): { kind: string; config: Record<string, unknown> } | undefined {
  const backend = (json.terraform as { backend?: Record<string, Record<string, unknown>>; cloud?: Record<string, unknown> } | undefined) ?? {};
  if (backend.cloud !== undefined) return { kind: 'cloud', config: backend.cloud };
  const [kind, config] = Object.entries(backend.backend ?? {})[0] ?? [];
  return kind === undefined || config === undefined ? undefined : { kind, config };
}

/** Whether a remote-state data source reads the state `backend` writes. */
function readsStateOf(remote: { backend?: unknown; config?: Record<string, unknown> }, backend: { kind: string; config: Record<string, unknown> }): boolean {
  const config = remote.config ?? {};
  const workspace = (value: unknown) => (value as { name?: unknown } | undefined)?.name;
  switch (backend.kind) {
    case 'local':
      return remote.backend === 'local' && config.path === backend.config.path;
    case 's3':
      return remote.backend === 's3' && config.bucket === backend.config.bucket && config.key === backend.config.key;
    default:
      return (
        (remote.backend === 'remote' || remote.backend === 'cloud') &&
        config.organization === backend.config.organization &&
        workspace(config.workspaces) === workspace(backend.config.workspaces)
      );
  }
}

/** The outputs of the sibling stack (same `stacks/` folder) whose state `target` reads. */
function remoteOutputs(target: Entry, file: string, options: LoadStackOptions): Readonly<Record<string, unknown>> {
  const stacksDir = path.dirname(path.dirname(file));
  const remote = target.raw as { backend?: unknown; config?: Record<string, unknown> };
  for (const sibling of readdirSync(stacksDir).sort()) {
    const siblingFile = path.join(stacksDir, sibling, 'cdk.tf.json');
    if (siblingFile === file || !existsSync(siblingFile)) continue;
    const backend = backendOf(JSON.parse(readFileSync(siblingFile, 'utf8')) as Record<string, unknown>);
    if (backend === undefined || !readsStateOf(remote, backend)) continue;
    const stack = loadStack(siblingFile, { ...(options.accountId === undefined ? {} : { accountId: options.accountId }) });
    const outputs: Record<string, unknown> = {};
    for (const name of stack.outputNames()) Object.defineProperty(outputs, name, { enumerable: true, get: () => stack.output(name) });
    return Object.freeze(outputs);
  }
  throw new Error(`no stack in ${stacksDir} writes the state ${target.resource.address} reads (${JSON.stringify(target.raw.config ?? {})})`);
}
