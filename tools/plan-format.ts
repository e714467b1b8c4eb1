/**
 * Terraform's JSON plan, as `terraform show -json <planfile>` prints it
 * (https://developer.hashicorp.com/terraform/internals/json-format): the parts the plan
 * review reads, and a reader that refuses anything else with a sentence saying what to run.
 *
 * The checks are written out rather than given to a schema validator: the review must start
 * fast (tools load no ajv), and only a handful of fields matter.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './cli';

/** The plan format's major version this reader understands; minor versions only add fields. */
export const SUPPORTED_FORMAT_MAJOR = 1;

export type Action = 'no-op' | 'create' | 'read' | 'update' | 'delete' | 'forget';
/** A step into a value: an attribute name or map key, or a list index. */
export type PathStep = string | number;

export interface Change {
  readonly actions: readonly Action[];
  readonly before?: unknown;
  readonly after?: unknown;
  /** Same shape as `after`; `true` where a value is known only after apply. */
  readonly after_unknown?: unknown;
  /** Same shape as `before`/`after`; `true` where a value is sensitive (never shown). */
  readonly before_sensitive?: unknown;
  readonly after_sensitive?: unknown;
  /** The attributes whose change forces a replacement. */
  readonly replace_paths?: readonly (readonly PathStep[])[];
  readonly importing?: { readonly id?: string };
}

export interface ResourceChange {
  readonly address: string;
  readonly previous_address?: string;
  readonly mode: 'managed' | 'data';
  readonly type: string;
  readonly name: string;
  /** Set when the change is to a deposed object (left by an interrupted create-before-destroy). */
  readonly deposed?: string;
  readonly change: Change;
  readonly action_reason?: string;
}

interface Values {
  readonly outputs?: Readonly<Record<string, unknown>>;
  readonly root_module?: { readonly resources?: readonly { readonly address?: string; readonly type?: string; readonly values?: unknown }[] };
}

export interface Plan {
  readonly format_version: string;
  readonly terraform_version?: string;
  readonly planned_values?: Values;
  readonly prior_state?: { readonly values?: Values };
  readonly configuration?: { readonly root_module?: { readonly outputs?: Readonly<Record<string, unknown>> } };
  readonly resource_changes?: readonly ResourceChange[];
  readonly output_changes?: Readonly<Record<string, unknown>>;
  /** True when Terraform stopped with an error (e.g. prevent_destroy): the plan cannot be applied. */
  readonly errored?: boolean;
  readonly applyable?: boolean;
}

const ACTIONS: readonly string[] = ['no-op', 'create', 'read', 'update', 'delete', 'forget'];
const HOW_TO_MAKE_ONE = 'make one with `terraform plan -out=plan.tfplan` then `terraform show -json plan.tfplan > plan.json`';

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks that `data` is a plan in the documented form; returns it typed, or throws saying what is wrong. */
export function parsePlan(data: unknown, source: string): Plan {
  const refuse = (problem: string): never => {
    throw new UsageError(`${source}: ${problem}`);
  };
  if (!isObject(data)) return refuse(`not a Terraform JSON plan (expected a JSON object); ${HOW_TO_MAKE_ONE}`);
  const version = data['format_version'];
  if (typeof version !== 'string') return refuse(`not a Terraform JSON plan (no format_version); ${HOW_TO_MAKE_ONE}`);
  const major = Number(version.split('.')[0]);
  if (major !== SUPPORTED_FORMAT_MAJOR) return refuse(`plan format ${version} is not supported (this review reads ${SUPPORTED_FORMAT_MAJOR}.x)`);
  if (!('planned_values' in data) && !('resource_changes' in data) && 'values' in data) {
    return refuse(`this is a state, not a plan: run \`terraform show -json\` on a saved plan file; ${HOW_TO_MAKE_ONE}`);
  }
  const changes = data['resource_changes'] ?? [];
  if (!Array.isArray(changes)) return refuse('resource_changes is not a list');
  changes.forEach((entry: unknown, index) => {
    const where = `resource_changes[${index}]`;
    if (!isObject(entry) || typeof entry['address'] !== 'string' || typeof entry['type'] !== 'string') return refuse(`${where} has no address or type`);
    const change = entry['change'];
    if (!isObject(change) || !Array.isArray(change['actions']) || change['actions'].length === 0) return refuse(`${where} (${entry['address']}) has no change.actions`);
    const unknownAction = (change['actions'] as unknown[]).find((action) => typeof action !== 'string' || !ACTIONS.includes(action));
    if (unknownAction !== undefined) return refuse(`${where} (${entry['address']}) has an action this review does not know: ${JSON.stringify(unknownAction)}`);
    const paths = change['replace_paths'];
    if (paths !== undefined && !(Array.isArray(paths) && paths.every((path) => Array.isArray(path)))) return refuse(`${where} (${entry['address']}) has replace_paths that are not lists of steps`);
    return undefined;
  });
  return data as unknown as Plan;
}

/** Reads and checks one plan file. */
export function readPlanFile(file: string): Plan {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UsageError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  // A saved plan file is a zip archive; its JSON form comes from `terraform show -json`.
  if (bytes.subarray(0, 2).toString('latin1') === 'PK') throw new UsageError(`${file}: this is a binary plan file; convert it with \`terraform show -json ${file} > plan.json\``);
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message}); ${HOW_TO_MAKE_ONE}`);
  }
  return parsePlan(data, file);
}

export type ChangeKind = 'create' | 'update' | 'replace' | 'destroy' | 'read' | 'forget' | 'no-op';

/** The kind of change a list of actions makes, as Terraform's own summary counts it. */
export function kindOf(actions: readonly Action[]): ChangeKind {
  if (actions.includes('delete')) return actions.includes('create') ? 'replace' : 'destroy';
  if (actions.includes('create')) return 'create';
  if (actions.includes('update')) return 'update';
  if (actions.includes('read')) return 'read';
  if (actions.includes('forget')) return 'forget';
  return 'no-op';
}

// ---------------------------------------------------------------------------
// Values, and the masks that say which parts are unknown or sensitive
// ---------------------------------------------------------------------------

/** `hash_key`, `default_action[0].type`, `tags["Team"]`. */
export function formatPath(path: readonly PathStep[]): string {
  return path
    .map((step, index) => (typeof step === 'number' ? `[${step}]` : /^[A-Za-z_][\w-]*$/.test(step) ? `${index === 0 ? '' : '.'}${step}` : `[${JSON.stringify(step)}]`))
    .join('');
}

/** The value at `path`, or undefined where there is none. */
export function valueAt(value: unknown, path: readonly PathStep[]): unknown {
  let node = value;
  for (const step of path) {
    if (typeof step === 'number' ? !Array.isArray(node) : !isObject(node)) return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

/** What stands in a value for a part known only after apply, and for a sensitive part. */
export const UNKNOWN_VALUE = '(known after apply)';
export const SENSITIVE_VALUE = '(sensitive)';
export const isMask = (value: unknown): boolean => value === UNKNOWN_VALUE || value === SENSITIVE_VALUE;

const child = (mask: unknown, step: PathStep): unknown => (mask === true ? true : (mask as Record<string | number, unknown> | null | undefined)?.[step]);

/**
 * A copy of `value` with sensitive parts replaced by `"(sensitive)"` and unknown ones by
 * `"(known after apply)"`; attributes known only after apply appear even where `value`
 * (an `after`, which omits them) has none. The masks are the matching parts of
 * `*_sensitive` and `after_unknown`.
 */
export function masked(value: unknown, sensitive: unknown, unknown: unknown): unknown {
  if (sensitive === true) return SENSITIVE_VALUE;
  if (unknown === true) return UNKNOWN_VALUE;
  if (Array.isArray(value)) return value.map((item, index) => masked(item, child(sensitive, index), child(unknown, index)));
  const later = Object.entries(isObject(unknown) ? unknown : {}).filter(([, flag]) => flag === true).map(([key]) => key);
  if (isObject(value) || later.length > 0) {
    const present = isObject(value) ? value : {};
    const keys = [...new Set([...Object.keys(present), ...later])];
    return Object.fromEntries(keys.map((key) => [key, masked(present[key], child(sensitive, key), child(unknown, key))]));
  }
  return value;
}

/** Both sides of a change, with sensitive parts hidden and unknown ones marked (see `masked`). */
export function maskedSides(change: Change): { readonly before: unknown; readonly after: unknown } {
  return {
    before: masked(change.before ?? null, change.before_sensitive, undefined),
    after: masked(change.after ?? null, change.after_sensitive, change.after_unknown),
  };
}
