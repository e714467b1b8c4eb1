/**
 * The changes in a plan that decide who may reach what: IAM policies and attachments,
 * security-group rules, load balancer listeners, and resource policies (buckets, keys,
 * queues, topics, the image repository). Each is shown field by field, before → after;
 * policies statement by statement.
 */
import { isMask, isObject, kindOf, masked, maskedSides, UNKNOWN_VALUE, type ChangeKind, type ResourceChange } from './plan-format';
import { describeStatement, diffStatements, statementsOfDocumentBlocks, statementsOfPolicyJson, type Statement, type StatementChange } from './plan-policy';

export type SecurityCategory = 'IAM policy' | 'IAM attachment' | 'IAM role' | 'security group' | 'listener' | 'resource policy' | 'public access';

interface SecurityType {
  readonly category: SecurityCategory;
  /** Attributes holding policy JSON, compared by statement. */
  readonly policies?: readonly string[];
  /** The other attributes to show; all of them when absent. */
  readonly fields?: readonly string[];
}

const POLICY: SecurityType = { category: 'resource policy', policies: ['policy'], fields: [] };
const RULE: SecurityType = { category: 'security group' };

/** The resource types the review shows, and which of their attributes matter. */
export const SECURITY_TYPES: Readonly<Record<string, SecurityType>> = {
  aws_iam_policy: { category: 'IAM policy', policies: ['policy'], fields: ['name'] },
  aws_iam_role_policy: { category: 'IAM policy', policies: ['policy'], fields: ['role'] },
  aws_iam_user_policy: { category: 'IAM policy', policies: ['policy'], fields: ['user'] },
  aws_iam_group_policy: { category: 'IAM policy', policies: ['policy'], fields: ['group'] },
  aws_iam_role: { category: 'IAM role', policies: ['assume_role_policy'], fields: ['managed_policy_arns', 'inline_policy', 'permissions_boundary'] },
  aws_iam_role_policy_attachment: { category: 'IAM attachment', fields: ['role', 'policy_arn'] },
  aws_iam_user_policy_attachment: { category: 'IAM attachment', fields: ['user', 'policy_arn'] },
  aws_iam_group_policy_attachment: { category: 'IAM attachment', fields: ['group', 'policy_arn'] },
  aws_iam_policy_attachment: { category: 'IAM attachment', fields: ['roles', 'users', 'groups', 'policy_arn'] },
  aws_security_group: { category: 'security group', fields: ['ingress', 'egress'] },
  aws_default_security_group: { category: 'security group', fields: ['ingress', 'egress'] },
  aws_security_group_rule: RULE,
  aws_vpc_security_group_ingress_rule: RULE,
  aws_vpc_security_group_egress_rule: RULE,
  aws_lb_listener: { category: 'listener' },
  aws_alb_listener: { category: 'listener' },
  aws_lb_listener_rule: { category: 'listener' },
  aws_s3_bucket_policy: POLICY,
  aws_s3_bucket_public_access_block: { category: 'public access' },
  aws_kms_key: POLICY,
  aws_kms_key_policy: POLICY,
  aws_sqs_queue_policy: POLICY,
  aws_sns_topic_policy: POLICY,
  aws_ecr_repository_policy: POLICY,
  aws_api_gateway_rest_api_policy: POLICY,
  aws_lambda_permission: { category: 'resource policy' },
};

/** The data source whose statements Terraform reads during apply when they depend on new values. */
const POLICY_DOCUMENT = 'aws_iam_policy_document';

/** Attributes that say nothing about access (and `id`/`arn`, which only change with the object). */
const IGNORED = new Set(['id', 'arn', 'tags', 'tags_all', 'timeouts', 'region']);

const WORLD = ['0.0.0.0/0', '::/0'];

export type FieldChange =
  /** One attribute, before → after (null where absent; "(known after apply)", "(sensitive)"). */
  | { readonly path: string; readonly before: unknown; readonly after: unknown }
  /** A list of blocks (rules, actions), compared as a set: whole blocks added and removed. */
  | { readonly path: string; readonly added: readonly unknown[]; readonly removed: readonly unknown[] }
  /** A policy, statement by statement. */
  | { readonly path: string; readonly statements: readonly StatementChange[] };

export interface SecurityChange {
  readonly address: string;
  readonly type: string;
  readonly action: ChangeKind;
  readonly category: SecurityCategory | 'IAM policy document';
  readonly fields: readonly FieldChange[];
  /** What opens access wider: wildcards, any principal, ingress from the internet, a block turned off. */
  readonly widens: readonly string[];
}

const isBlockList = (value: unknown): value is unknown[] => Array.isArray(value) && value.some(isObject);
const canonical = (value: unknown): string => JSON.stringify(value, (_key, item: unknown) => (isObject(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))) : item)) ?? 'null';
const present = (value: unknown): boolean => value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0) && !(isObject(value) && Object.keys(value).length === 0);

/** A block without its empty attributes, for showing. */
function pruned(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruned);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, item]) => present(item)).map(([key, item]) => [key, pruned(item)]));
}

/** The changes of one attribute, recursing into nested objects and skipping what did not change. */
function valueChanges(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  if (isBlockList(before) || isBlockList(after)) {
    const old = Array.isArray(before) ? before : [];
    const now = Array.isArray(after) ? after : [];
    const oldKeys = old.map(canonical);
    const nowKeys = now.map(canonical);
    const added = now.filter((_, index) => !oldKeys.includes(nowKeys[index] as string)).map(pruned);
    const removed = old.filter((_, index) => !nowKeys.includes(oldKeys[index] as string)).map(pruned);
    if (added.length + removed.length > 0) out.push({ path, added, removed });
    return;
  }
  const objectOrNothing = (value: unknown) => isObject(value) || value === null || value === undefined;
  if ((isObject(before) || isObject(after)) && objectOrNothing(before) && objectOrNothing(after)) {
    const keys = new Set([...Object.keys(isObject(before) ? before : {}), ...Object.keys(isObject(after) ? after : {})]);
    for (const key of keys) valueChanges(isObject(before) ? before[key] : null, isObject(after) ? after[key] : null, `${path}.${key}`, out);
    return;
  }
  // A create shows what is set, a destroy what was set; empty on both sides is no change,
  // and a new attribute known only after apply says nothing yet.
  if (canonical(before) === canonical(after) || (!present(before) && (!present(after) || after === UNKNOWN_VALUE))) return;
  out.push({ path, before: before ?? null, after: after ?? null });
}


function policyChange(before: unknown, after: unknown, path: string): FieldChange | undefined {
  if (canonical(before) === canonical(after)) return undefined;
  const statementsOf = (value: unknown) => (value === null || value === undefined ? [] : isMask(value) ? undefined : statementsOfPolicyJson(value));
  const old = statementsOf(before);
  const now = statementsOf(after);
  // One side unknown until apply (or not a policy): show the other side's statements, not its JSON.
  const readable = (statements: Statement[] | undefined, value: unknown) => (statements === undefined || value === null || value === undefined ? (value ?? null) : statements.map(describeStatement));
  if (old === undefined || now === undefined) return { path, before: readable(old, before), after: readable(now, after) };
  const statements = diffStatements(old, now);
  return statements.length === 0 ? undefined : { path, statements };
}

/** The statements a policy document had in the prior state (its `json`), if it was read before. */
function priorStatements(prior: unknown): Statement[] {
  return isObject(prior) ? (statementsOfPolicyJson(prior['json']) ?? statementsOfDocumentBlocks(prior['statement'])) : [];
}

/** What about a rule or listener opens access wider than before. */
function networkWidenings(change: ResourceChange, fields: readonly FieldChange[]): string[] {
  const widens: string[] = [];
  const after = isObject(change.change.after) ? change.change.after : {};
  const worldIn = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string' && WORLD.includes(item));
  const isIngress = change.type === 'aws_vpc_security_group_ingress_rule' || (change.type === 'aws_security_group_rule' && after['type'] === 'ingress');
  if (isIngress) {
    const opened = fields.flatMap((field) => ('after' in field && /cidr/.test(field.path) ? worldIn(field.after) : []));
    for (const cidr of new Set(opened)) widens.push(`ingress from the whole internet (${cidr})${describePorts(after)}`);
  }
  for (const field of fields) {
    if (!('added' in field) || field.path !== 'ingress') continue;
    for (const rule of field.added.filter(isObject)) {
      for (const cidr of new Set([...worldIn(rule['cidr_blocks']), ...worldIn(rule['ipv6_cidr_blocks'])])) widens.push(`ingress from the whole internet (${cidr})${describePorts(rule)}`);
    }
  }
  for (const field of fields) {
    if (!('after' in field)) continue;
    if (field.path === 'protocol' && field.before === 'HTTPS' && field.after === 'HTTP') widens.push('the listener now serves plain HTTP');
    if (change.type === 'aws_s3_bucket_public_access_block' && field.before === true && field.after !== true) widens.push(`${field.path} turned off`);
  }
  return widens;
}

function describePorts(rule: Record<string, unknown>): string {
  const from = rule['from_port'];
  const to = rule['to_port'];
  const protocol = rule['ip_protocol'] ?? rule['protocol'];
  if (protocol === '-1' || protocol === 'all') return ' on every port';
  if (from === undefined || from === null) return '';
  return ` on ${String(protocol ?? 'tcp')} ${from === to ? String(from) : `${String(from)}-${String(to)}`}`;
}

/** The security-relevant change a resource change makes, or undefined when it touches no access. */
export function securityChangeOf(change: ResourceChange, prior: (address: string) => unknown): SecurityChange | undefined {
  const { actions } = change.change;
  if (actions.every((action) => action === 'no-op' || action === 'forget')) return undefined;
  if (change.mode === 'data') {
    if (change.type !== POLICY_DOCUMENT) return undefined;
    // Read during apply: compare the statements as planned with those of the last read.
    const { after, after_unknown, after_sensitive } = change.change;
    const now = statementsOfDocumentBlocks((masked(after, after_sensitive, after_unknown) as Record<string, unknown> | null)?.['statement']);
    const statements = diffStatements(priorStatements(prior(change.address)), now);
    if (statements.length === 0) return undefined;
    return { address: change.address, type: change.type, action: kindOf(actions), category: 'IAM policy document', fields: [{ path: 'document', statements }], widens: statements.flatMap((s) => s.widens) };
  }
  const security = SECURITY_TYPES[change.type];
  if (security === undefined) return undefined;
  const { before, after } = maskedSides(change.change);
  const side = (value: unknown, name: string) => (isObject(value) ? value[name] : null);
  const fields: FieldChange[] = [];
  for (const attribute of security.policies ?? []) {
    const field = policyChange(side(before, attribute), side(after, attribute), attribute);
    if (field !== undefined) fields.push(field);
  }
  const names =
    security.fields ??
    [...new Set([...Object.keys(isObject(before) ? before : {}), ...Object.keys(isObject(after) ? after : {})])].filter(
      (name) => !IGNORED.has(name) && !(security.policies ?? []).includes(name),
    );
  for (const name of names) valueChanges(side(before, name), side(after, name), name, fields);
  if (fields.length === 0) return undefined;
  const widens = [...fields.flatMap((field) => ('statements' in field ? field.statements.flatMap((s) => s.widens) : [])), ...networkWidenings(change, fields)];
  return { address: change.address, type: change.type, action: kindOf(actions), category: security.category, fields, widens };
}

