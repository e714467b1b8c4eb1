/**
 * IAM policy statements, read from policy JSON or from the `statement` blocks of an
 * `aws_iam_policy_document`: one reading of the policy grammar, shared by the policy pack
 * and the plan review. Free of cdktf.
 */
import { asObject, blocks, strings } from './values';

/** One IAM policy statement, from a policy document data source or from policy JSON. */
export interface Statement {
  /** Where it comes from, e.g. `data.aws_iam_policy_document.read statement 2 ("ReadTables")`. */
  readonly origin: string;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  /** Undefined when the list is an expression the policy pack cannot read. */
  readonly actions: readonly string[] | undefined;
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  readonly principals: readonly Principal[];
  readonly notPrincipals: readonly Principal[];
  readonly conditions: readonly Condition[];
}

export interface Principal {
  /** `AWS`, `Service`, `Federated`, `CanonicalUser` or `*`. */
  readonly type: string;
  readonly identifiers: readonly string[];
}

export interface Condition {
  readonly test: string;
  readonly variable: string;
  readonly values: readonly string[];
}

const sidOf = (value: unknown): { sid?: string; label: string } => (typeof value === 'string' && value !== '' ? { sid: value, label: ` ("${value}")` } : { label: '' });

/** Statements of the `statement` blocks of a policy document, `origin` naming the document. */
export function blockStatements(value: unknown, origin: string): Statement[] {
  return blocks(value).map((statement, index) => {
    const { label, ...sid } = sidOf(statement['sid']);
    const actions = statement['actions'];
    return {
      origin: `${origin} statement ${index + 1}${label}`,
      ...sid,
      effect: statement['effect'] === 'Deny' ? 'Deny' : 'Allow',
      actions: actions === undefined || Array.isArray(actions) ? strings(actions) : undefined,
      notActions: strings(statement['not_actions']),
      resources: strings(statement['resources']),
      notResources: strings(statement['not_resources']),
      principals: principalBlocks(statement['principals']),
      notPrincipals: principalBlocks(statement['not_principals']),
      conditions: blocks(statement['condition']).map((condition) => ({
        test: String(condition['test'] ?? ''),
        variable: String(condition['variable'] ?? ''),
        values: strings(condition['values']),
      })),
    };
  });
}

function principalBlocks(value: unknown): Principal[] {
  return blocks(value).map((principal) => ({
    type: String(principal['type'] ?? ''),
    identifiers: strings(principal['identifiers']),
  }));
}

/** Statements of a parsed IAM policy JSON document. */
export function jsonStatements(policy: unknown, origin: string): Statement[] {
  const raw = asObject(policy)['Statement'];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((item, index) => {
    const statement = asObject(item);
    const { label, ...sid } = sidOf(statement['Sid']);
    return {
      origin: `${origin} statement ${index + 1}${label}`,
      ...sid,
      effect: statement['Effect'] === 'Deny' ? 'Deny' : 'Allow',
      actions: strings(statement['Action']),
      notActions: strings(statement['NotAction']),
      resources: strings(statement['Resource']),
      notResources: strings(statement['NotResource']),
      principals: jsonPrincipals(statement['Principal']),
      notPrincipals: jsonPrincipals(statement['NotPrincipal']),
      conditions: Object.entries(asObject(statement['Condition'])).flatMap(([test, byVariable]) =>
        Object.entries(asObject(byVariable)).map(([variable, values]) => ({ test, variable, values: strings(values) })),
      ),
    };
  });
}

function jsonPrincipals(value: unknown): Principal[] {
  if (value === undefined) return [];
  if (value === '*') return [{ type: '*', identifiers: ['*'] }];
  return Object.entries(asObject(value)).map(([type, identifiers]) => ({ type, identifiers: strings(identifiers) }));
}

/** True when a principal designates everyone (`*`, or `AWS: *`). */
export function isAnyone(principal: Principal): boolean {
  return principal.type === '*' || (principal.type === 'AWS' && principal.identifiers.includes('*'));
}
