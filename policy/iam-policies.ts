import { blocks, strings, type Element, type StackModel } from './model';
import { blockStatements, jsonStatements, type Statement } from './statements';

export { isAnyone, type Condition, type Principal, type Statement } from './statements';

/** How a policy attribute relates to the resource carrying it. */
export type PolicyUse = 'identity' | 'resource' | 'trust';

/** A policy attached somewhere in the stack. */
export interface PolicySite {
  /** The element that carries the policy (role, role policy, bucket policy, ...). */
  readonly element: Element;
  /** The attribute holding it, e.g. `policy` or `inline_policy[0].policy`. */
  readonly attribute: string;
  readonly use: PolicyUse;
  /** The policy document data source it points at, if any. */
  readonly document?: Element;
  /** Undefined when the policy is an expression (e.g. `jsonencode(...)`) the pack cannot read. */
  readonly statements: readonly Statement[] | undefined;
  readonly raw: unknown;
}

/** Resource types whose `policy`-like attribute is a resource-based policy. */
const RESOURCE_POLICIES: Readonly<Record<string, string>> = {
  aws_s3_bucket_policy: 'policy',
  aws_sqs_queue_policy: 'policy',
  aws_sqs_queue: 'policy',
  aws_sns_topic_policy: 'policy',
  aws_sns_topic: 'policy',
  aws_ecr_repository_policy: 'policy',
  aws_ecr_registry_policy: 'policy',
  aws_kms_key: 'policy',
  aws_kinesis_resource_policy: 'policy',
  aws_api_gateway_rest_api: 'policy',
  aws_api_gateway_rest_api_policy: 'policy',
  aws_dynamodb_resource_policy: 'policy',
  aws_cloudwatch_log_resource_policy: 'policy_document',
  aws_secretsmanager_secret_policy: 'policy',
};

/** Resource types whose `policy` attribute is an identity-based policy. */
const IDENTITY_POLICIES = ['aws_iam_role_policy', 'aws_iam_policy', 'aws_iam_user_policy', 'aws_iam_group_policy'];

/** Every IAM policy attached in the stack, with its statements. */
export function policySites(model: StackModel): PolicySite[] {
  const sites: PolicySite[] = [];
  const add = (element: Element, attribute: string, use: PolicyUse, raw: unknown): void => {
    if (raw === undefined || raw === null || raw === '') return;
    sites.push({ element, attribute, use, raw, ...readPolicy(model, raw) });
  };
  for (const element of model.elements) {
    if (element.kind !== 'resource') continue;
    if (element.type === 'aws_iam_role') {
      add(element, 'assume_role_policy', 'trust', element.config['assume_role_policy']);
      blocks(element.config['inline_policy']).forEach((inline, index) =>
        add(element, `inline_policy[${index}].policy`, 'identity', inline['policy']),
      );
    } else if (IDENTITY_POLICIES.includes(element.type)) {
      add(element, 'policy', 'identity', element.config['policy']);
    } else if (element.type in RESOURCE_POLICIES) {
      const attribute = RESOURCE_POLICIES[element.type] as string;
      add(element, attribute, 'resource', element.config[attribute]);
    }
  }
  return sites;
}

const DOCUMENT_OUTPUT = /^\$\{(data\.aws_iam_policy_document\.[\w-]+)\.(json|minified_json)\}$/;

/** The statements of a policy attribute: a policy document reference or literal JSON. */
export function readPolicy(model: StackModel, raw: unknown): { document?: Element; statements: Statement[] | undefined } {
  if (typeof raw !== 'string') return { statements: undefined };
  const address = DOCUMENT_OUTPUT.exec(raw)?.[1];
  const document = address === undefined ? undefined : model.get(address);
  if (document !== undefined) return { document, statements: documentStatements(model, document, new Set()) };
  try {
    return { statements: jsonStatements(JSON.parse(raw), 'inline JSON') };
  } catch {
    return { statements: undefined };
  }
}

/** Statements of a policy document data source, including the documents it merges. */
export function documentStatements(model: StackModel, document: Element, seen: Set<string>): Statement[] | undefined {
  if (seen.has(document.address)) return [];
  seen.add(document.address);
  const merged: Statement[] = [];
  for (const key of ['source_policy_documents', 'override_policy_documents']) {
    for (const source of strings(document.config[key])) {
      const { document: inner, statements } = readPolicy(model, source);
      const innerStatements = inner === undefined ? statements : documentStatements(model, inner, seen);
      if (innerStatements === undefined) return undefined;
      merged.push(...innerStatements);
    }
  }
  merged.push(...blockStatements(document.config['statement'], document.address));
  return merged;
}

