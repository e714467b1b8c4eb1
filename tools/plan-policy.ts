/**
 * IAM policies in a plan, compared statement by statement: what a reviewer must see is
 * "statement ReadTables gains dynamodb:Scan on *", not two walls of escaped JSON.
 *
 * A policy reaches the plan in two shapes: the JSON text of a `policy` attribute (role
 * policies, bucket and key policies), or the `statement` blocks of an
 * `aws_iam_policy_document` data source that Terraform reads during apply. Both become the
 * same `Statement` before they are compared.
 */
import { blockStatements, isAnyone, jsonStatements, type Principal, type Statement as PolicyStatement } from '../policy/statements';

/** A statement as the review compares and shows it: each part a sorted list of strings. */
export interface Statement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  /** `AWS:arn:...`, `Service:ecs-tasks.amazonaws.com`, or `*`. */
  readonly principals: readonly string[];
  readonly notPrincipals: readonly string[];
  /** `StringEquals aws:SourceArn = arn:...`. */
  readonly conditions: readonly string[];
}

export interface StatementChange {
  readonly change: 'added' | 'removed' | 'changed';
  /** `statement "ReadTables"`, or `statement 2` for one without a Sid. */
  readonly statement: string;
  /** The whole statement (added or removed), or what changed in it, one item per field. */
  readonly details: readonly string[];
  /** What makes it grant more: wildcards, any principal, a dropped condition. */
  readonly widens: readonly string[];
}

const sorted = (items: readonly string[] | undefined): string[] => [...(items ?? [])].sort();
const principalNames = (principals: readonly Principal[]): string[] =>
  principals.flatMap((principal) => principal.identifiers.map((id) => (id === '*' && isAnyone(principal) ? '*' : `${principal.type}:${id}`))).sort();

function flat(statement: PolicyStatement): Statement {
  return {
    ...(statement.sid === undefined ? {} : { sid: statement.sid }),
    effect: statement.effect,
    actions: sorted(statement.actions),
    notActions: sorted(statement.notActions),
    resources: sorted(statement.resources),
    notResources: sorted(statement.notResources),
    principals: principalNames(statement.principals),
    notPrincipals: principalNames(statement.notPrincipals),
    conditions: statement.conditions.map(({ test, variable, values }) => `${test} ${variable} = ${sorted(values).join(', ')}`).sort(),
  };
}

/** The statements of a policy's JSON text, or undefined when it is not a policy document. */
export function statementsOfPolicyJson(text: unknown): Statement[] | undefined {
  if (typeof text !== 'string') return undefined;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof document === 'object' && document !== null && !Array.isArray(document) ? jsonStatements(document, 'policy').map(flat) : undefined;
}

/** The statements of an `aws_iam_policy_document`'s `statement` blocks (unknown parts already masked). */
export function statementsOfDocumentBlocks(blocks: unknown): Statement[] {
  return blockStatements(blocks, 'document').map(flat);
}

const FIELDS = [
  ['actions', 'actions'],
  ['notActions', 'NotAction'],
  ['resources', 'resources'],
  ['notResources', 'NotResource'],
  ['principals', 'principals'],
  ['notPrincipals', 'NotPrincipal'],
  ['conditions', 'conditions'],
] as const;

/** One line for a whole statement: `Allow s3:GetObject on arn:...; principals Service:x; if ...`. */
export function describeStatement(statement: Statement): string {
  const parts = [`${statement.effect} ${[...statement.actions, ...statement.notActions.map((a) => `NOT ${a}`)].join(', ') || '(no actions)'}`];
  const on = [...statement.resources, ...statement.notResources.map((r) => `NOT ${r}`)];
  if (on.length > 0) parts[0] += ` on ${on.join(', ')}`;
  if (statement.principals.length + statement.notPrincipals.length > 0) {
    parts.push(`principals ${[...statement.principals, ...statement.notPrincipals.map((p) => `NOT ${p}`)].join(', ')}`);
  }
  if (statement.conditions.length > 0) parts.push(`if ${statement.conditions.join(' and ')}`);
  return parts.join('; ');
}

const hasWildcard = (value: string): boolean => value.includes('*');

/** What in `statement` grants more than `before` did (everything, for a new statement). */
function wideningsOf(statement: Statement, index: number, before?: Statement): string[] {
  return grants(statement, before).map((widen) => `${label(statement, index)}: ${widen}`);
}

function grants(statement: Statement, before?: Statement): string[] {
  if (statement.effect !== 'Allow') return [];
  const gained = (field: (typeof FIELDS)[number][0]) => statement[field].filter((item) => !(before?.[field] ?? []).includes(item));
  const widens: string[] = [];
  if (before !== undefined && before.effect !== 'Allow') widens.push(`a ${before.effect} became an Allow`);
  for (const action of gained('actions').filter(hasWildcard)) widens.push(`wildcard action ${action}`);
  for (const resource of gained('resources').filter(hasWildcard)) widens.push(resource === '*' ? 'every resource (*)' : `wildcard resource ${resource}`);
  for (const principal of gained('principals').filter((p) => p === '*' || p.endsWith(':*'))) widens.push(`any principal (${principal})`);
  if (gained('notActions').length > 0) widens.push(`NotAction ${gained('notActions').join(', ')} (allows everything else)`);
  if (gained('notResources').length > 0) widens.push(`NotResource ${gained('notResources').join(', ')} (allows every other resource)`);
  const dropped = (before?.conditions ?? []).filter((condition) => !statement.conditions.includes(condition));
  for (const condition of dropped) widens.push(`condition removed: ${condition}`);
  return widens;
}

const same = (a: Statement, b: Statement): boolean => JSON.stringify(a) === JSON.stringify(b);
const label = (statement: Statement, index: number): string => (statement.sid === undefined ? `statement ${index + 1}` : `statement "${statement.sid}"`);

function compare(before: Statement, after: Statement): string[] {
  const details: string[] = [];
  if (before.effect !== after.effect) details.push(`effect ${before.effect} → ${after.effect}`);
  for (const [field, name] of FIELDS) {
    const added = after[field].filter((item) => !before[field].includes(item)).map((item) => `+ ${item}`);
    const removed = before[field].filter((item) => !after[field].includes(item)).map((item) => `- ${item}`);
    if (added.length + removed.length > 0) details.push(`${name} ${[...added, ...removed].join(', ')}`);
  }
  return details;
}

/**
 * The statements added, removed and changed between two versions of a policy. Statements
 * are matched by Sid, then identical ones, then the rest in order; unmatched ones are added
 * or removed.
 */
export function diffStatements(before: readonly Statement[], after: readonly Statement[]): StatementChange[] {
  const pairs: [number, number][] = [];
  const freeBefore = new Set(before.keys());
  const freeAfter = new Set(after.keys());
  const pair = (matches: (b: Statement, a: Statement) => boolean) => {
    for (const a of [...freeAfter]) {
      const b = [...freeBefore].find((index) => matches(before[index] as Statement, after[a] as Statement));
      if (b === undefined) continue;
      pairs.push([b, a]);
      freeBefore.delete(b);
      freeAfter.delete(a);
    }
  };
  pair((b, a) => a.sid !== undefined && a.sid === b.sid);
  pair((b, a) => b.sid === undefined && a.sid === undefined && same(b, a));
  pair((b, a) => b.sid === undefined && a.sid === undefined);

  const changes: StatementChange[] = [];
  for (const [b, a] of pairs.sort((x, y) => x[1] - y[1])) {
    const [old, now] = [before[b] as Statement, after[a] as Statement];
    const details = compare(old, now);
    if (details.length > 0) changes.push({ change: 'changed', statement: label(now, a), details, widens: wideningsOf(now, a, old) });
  }
  for (const a of freeAfter) {
    const now = after[a] as Statement;
    changes.push({ change: 'added', statement: label(now, a), details: [describeStatement(now)], widens: wideningsOf(now, a) });
  }
  for (const b of freeBefore) {
    const old = before[b] as Statement;
    changes.push({ change: 'removed', statement: label(old, b), details: [describeStatement(old)], widens: [] });
  }
  return changes;
}
