import { isAnyone, policySites, type PolicySite, type Statement } from '../iam-policies';
import { isExpression, isSet, type Element, type StackModel } from '../model';
import { finding, NO_EQUIVALENT, rule, type Finding } from './rule';

/** Services whose actions must name their resources: least privilege, one table or stream per grant. */
const SCOPED_SERVICES = ['kinesis', 'dynamodb', 'sns', 'sqs', 's3', 'firehose', 'ecr'];

/**
 * Actions of those services that AWS only authorises on `*` (no resource-level permissions),
 * so `*` is the exact resource for them.
 */
export const ACCOUNT_LEVEL_ACTIONS = new Set([
  'ecr:getauthorizationtoken',
  'kinesis:liststreams',
  'kinesis:describelimits',
  'dynamodb:listtables',
  'dynamodb:describelimits',
  'dynamodb:describeendpoints',
  'sns:listtopics',
  'sqs:listqueues',
  's3:listallmybuckets',
  'firehose:listdeliverystreams',
]);

/**
 * AWS-managed policies (by name, without their path) that may be attached, each reviewed:
 * exact actions, and no `*` resource for the services above.
 */
export const REVIEWED_MANAGED_POLICIES: Readonly<Record<string, string>> = {
  AmazonSSMManagedInstanceCore: 'Session Manager access to the instances instead of SSH; exact ssm, ssmmessages and ec2messages actions',
  AmazonAPIGatewayPushToCloudWatchLogs: "API Gateway's account-level role for the stage's access and execution logs; logs actions only",
};

const allowStatements = (site: PolicySite): Statement[] => (site.statements ?? []).filter((s) => s.effect === 'Allow');

const describeSite = (site: PolicySite): string =>
  site.document === undefined ? `${site.attribute}` : `${site.attribute} (${site.document.address})`;

export const wildcardActions = rule({
  id: 'IAM-001',
  category: 'iam',
  title: 'No wildcard actions: every Allow statement lists exact actions (no `*`, `service:*` or `NotAction`)',
  fix: 'List the exact actions the component calls, e.g. `kinesis:PutRecord` instead of `kinesis:*`.',
  equivalents: {
    checkov: [
      { id: 'CKV_AWS_49', scope: 'policy documents' },
      { id: 'CKV_AWS_63', scope: 'role, user and group policies' },
      { id: 'CKV_AWS_1', scope: '`*` on `*` only' },
      { id: 'CKV_AWS_62', scope: '`*` on `*` only' },
    ],
    trivy: [
      { id: 'AVD-AWS-0057', scope: 'deprecated upstream' },
      { id: 'AVD-AWS-0097', scope: 'SQS policies' },
    ],
    note: 'Stricter: also `service:*`, partial wildcards such as `Get*`, and `NotAction`.',
  },
  check(model) {
    const findings: Finding[] = [];
    for (const site of policySites(model)) {
      for (const statement of allowStatements(site)) {
        if (statement.actions === undefined) {
          findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} takes its actions from an expression the policy cannot read`, 'Write the actions as a literal list in the policy document.'));
          continue;
        }
        const wildcards = statement.actions.filter((action) => action.includes('*'));
        if (wildcards.length > 0) {
          findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} allows ${wildcards.map((a) => `"${a}"`).join(', ')}`));
        }
        if (statement.notActions.length > 0) {
          findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} allows everything except ${statement.notActions.join(', ')} (NotAction)`));
        }
      }
    }
    return findings;
  },
});

/** A resource that does not name one resource: `*`, or a literal ARN pattern with a wildcard. */
function unboundedResource(resource: string): boolean {
  return resource === '*' || (!isExpression(resource) && resource.includes('*'));
}

export const scopedResources = rule({
  id: 'IAM-002',
  category: 'iam',
  title:
    'Identity policies grant kinesis, dynamodb, sns, sqs, s3, firehose and ecr actions on exact resources (references to resource attributes, never `*`, never a hand-built ARN)',
  fix: 'Point `resources` at the resource attribute, e.g. `table.arn` or `` `${bucket.arn}/*` ``; for a resource in another stack, use its remote-state output.',
  equivalents: {
    checkov: [
      { id: 'CKV_AWS_355', scope: 'policies' },
      { id: 'CKV_AWS_356', scope: 'policy documents' },
    ],
    trivy: [{ id: 'AVD-AWS-0057' }],
    note: 'Stricter: wildcard and hand-built ARNs fail too, not only `*`.',
  },
  check(model) {
    const findings: Finding[] = [];
    for (const site of policySites(model).filter((s) => s.use === 'identity')) {
      for (const statement of allowStatements(site)) {
        const scoped = (statement.actions ?? []).filter((action) => {
          const service = action.split(':')[0]?.toLowerCase() ?? '';
          return SCOPED_SERVICES.includes(service) && !ACCOUNT_LEVEL_ACTIONS.has(action.toLowerCase());
        });
        if (scoped.length === 0) continue;
        const actions = scoped.map((a) => `"${a}"`).join(', ');
        if (statement.notResources.length > 0) {
          findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} grants ${actions} on everything except ${statement.notResources.join(', ')} (NotResource)`));
        }
        for (const resource of statement.resources) {
          if (unboundedResource(resource)) {
            findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} grants ${actions} on "${resource}"`));
          } else if (!isExpression(resource)) {
            findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} grants ${actions} on the hand-built ARN "${resource}"`));
          }
        }
      }
    }
    return findings;
  },
});

export const noAnonymousPrincipal = rule({
  id: 'IAM-003',
  category: 'iam',
  title: 'No resource or trust policy allows Principal `*` (or `NotPrincipal`) without a condition; no Lambda permission for principal `*` without a source',
  fix: 'Name the principal (a service or role ARN), or add a condition that limits it (e.g. `aws:SourceArn`, `aws:PrincipalOrgID`).',
  equivalents: {
    checkov: [
      { id: 'CKV_AWS_283' },
      { id: 'CKV_AWS_70', scope: 'S3' },
      { id: 'CKV_AWS_168', scope: 'SQS' },
      { id: 'CKV_AWS_169', scope: 'SNS' },
      { id: 'CKV_AWS_32', scope: 'ECR' },
      { id: 'CKV_AWS_33', scope: 'KMS' },
      { id: 'CKV_AWS_301', scope: 'Lambda permission' },
    ],
    trivy: [
      { id: 'AVD-AWS-0032', scope: 'ECR' },
      { id: 'AVD-AWS-0067', scope: 'Lambda source ARN' },
    ],
  },
  check(model) {
    const findings: Finding[] = [];
    for (const site of policySites(model).filter((s) => s.use !== 'identity')) {
      for (const statement of allowStatements(site)) {
        if (statement.conditions.length > 0) continue;
        if (statement.principals.some(isAnyone)) {
          findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} allows Principal "*" with no condition`));
        }
        if (statement.notPrincipals.length > 0) {
          findings.push(finding(site.element, `${describeSite(site)}: ${statement.origin} allows everyone but the NotPrincipal, with no condition`));
        }
      }
    }
    for (const permission of model.resources('aws_lambda_permission')) {
      const limited = ['source_arn', 'source_account', 'principal_org_id'].some((key) => isSet(permission.config[key]));
      if (permission.config['principal'] === '*' && !limited) {
        findings.push(finding(permission, 'principal is "*" with no source_arn, source_account or principal_org_id'));
      }
    }
    return findings;
  },
});

/** Attribute names through which a resource assumes (or hands out) a role. */
const ROLE_SLOT = /(^|_)role(_arn)?$|^credentials$/;
/** IAM plumbing that references roles without assuming them. */
const IAM_PLUMBING = /^aws_iam_(?!instance_profile$)/;

interface RoleUse {
  readonly component: string;
  readonly user: Element;
}

/**
 * The component a role slot belongs to: the resource and slot name, except that all the
 * integrations of one REST API are one component (the API calling AWS on its callers' behalf).
 */
function componentOf(user: Element, key: string): string {
  if (user.type === 'aws_api_gateway_integration') return `${String(user.config['rest_api_id'])}#${key}`;
  return `${user.address}#${key}`;
}

function roleUses(model: StackModel): Map<string, RoleUse[]> {
  const uses = new Map<string, RoleUse[]>();
  const visit = (user: Element, value: unknown, key: string): void => {
    if (Array.isArray(value)) value.forEach((item) => visit(user, item, key));
    else if (value !== null && typeof value === 'object') {
      for (const [inner, innerValue] of Object.entries(value)) visit(user, innerValue, inner);
    } else if (typeof value === 'string' && ROLE_SLOT.test(key)) {
      for (const role of model.referencedElements(value, 'aws_iam_role')) {
        const list = uses.get(role.address) ?? [];
        // One component per resource and slot name: a task definition's task and execution
        // roles are two components, a Firehose stream's several `role_arn` slots are one.
        const component = componentOf(user, key);
        if (!list.some((use) => use.component === component)) list.push({ component, user });
        uses.set(role.address, list);
      }
    }
  };
  for (const element of model.elements) {
    if (element.kind === 'resource' && !IAM_PLUMBING.test(element.type)) visit(element, element.config, '');
  }
  return uses;
}

export const oneRolePerComponent = rule({
  id: 'IAM-004',
  category: 'iam',
  title: 'One role per component: no role is used by two components, and no role trusts more than one service',
  fix: 'Give each component (function, task, task execution, instance profile, delivery stream, ...) its own role with only the permissions it needs.',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const findings: Finding[] = [];
    const uses = roleUses(model);
    const trustPolicies = policySites(model).filter((site) => site.use === 'trust');
    for (const role of model.resources('aws_iam_role')) {
      const users = uses.get(role.address) ?? [];
      if (users.length > 1) {
        const list = users.map((use) => `${use.user.address} (${use.component.split('#')[1]})`).join(', ');
        findings.push(finding(role, `the role is used by ${users.length} components: ${list}`));
      }
      const trust = trustPolicies.find((site) => site.element === role);
      const services = new Set(
        (trust?.statements ?? [])
          .filter((s) => s.effect === 'Allow')
          .flatMap((s) => s.principals.filter((p) => p.type === 'Service').flatMap((p) => p.identifiers)),
      );
      if (services.size > 1) {
        findings.push(finding(role, `the trust policy lets ${services.size} services assume the role: ${[...services].join(', ')}`));
      }
    }
    return findings;
  },
});

export const policiesFromDocuments = rule({
  id: 'IAM-005',
  category: 'iam',
  title: 'Every IAM policy is an `aws_iam_policy_document` data source (structured, reviewable in plan), never inline JSON or `jsonencode`',
  fix: 'Build the policy with `new DataAwsIamPolicyDocument(...)` and pass its `.json`.',
  equivalents: NO_EQUIVALENT,
  check(model) {
    return policySites(model)
      .filter((site) => site.document === undefined)
      .map((site) => {
        const how = site.statements === undefined ? 'an expression the policy cannot read' : 'inline JSON';
        return finding(site.element, `${site.attribute} is ${how}, not a policy document`);
      });
  },
});

const MANAGED_POLICY_ARN = /^arn:(?:aws|\$\{[^}]+\}):iam::aws:policy\/(?:.+\/)?([^/]+)$/;

/** The AWS-managed policy a `policy_arn` designates: a literal ARN, or a `data.aws_iam_policy` looked up by name or ARN. */
function managedPolicyName(model: StackModel, arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const literal = MANAGED_POLICY_ARN.exec(arn)?.[1];
  if (literal !== undefined) return literal;
  const [lookup] = model.referencedElements(arn, 'aws_iam_policy').filter((element) => element.kind === 'data');
  if (lookup === undefined) return undefined;
  const byArn = lookup.config['arn'];
  if (typeof byArn === 'string') return MANAGED_POLICY_ARN.exec(byArn)?.[1];
  const byName = lookup.config['name'];
  return typeof byName === 'string' ? byName : undefined;
}

export const reviewedManagedPolicies = rule({
  id: 'IAM-006',
  category: 'iam',
  title: `AWS-managed policies are attached only from the reviewed list (${Object.keys(REVIEWED_MANAGED_POLICIES).join(', ')})`,
  fix: 'Replace the managed policy with a policy document of the exact actions on the exact resources the component uses.',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const findings: Finding[] = [];
    const check = (element: Element, arn: unknown): void => {
      const name = managedPolicyName(model, arn);
      if (name !== undefined && !(name in REVIEWED_MANAGED_POLICIES)) {
        findings.push(finding(element, `attaches the AWS-managed policy "${name}", which is not on the reviewed list`));
      }
    };
    for (const type of ['aws_iam_role_policy_attachment', 'aws_iam_policy_attachment', 'aws_iam_user_policy_attachment', 'aws_iam_group_policy_attachment']) {
      for (const attachment of model.resources(type)) check(attachment, attachment.config['policy_arn']);
    }
    for (const role of model.resources('aws_iam_role')) {
      const arns = role.config['managed_policy_arns'];
      if (Array.isArray(arns)) arns.forEach((arn) => check(role, arn));
    }
    for (const exclusive of model.resources('aws_iam_role_policy_attachments_exclusive')) {
      const arns = exclusive.config['policy_arns'];
      if (Array.isArray(arns)) arns.forEach((arn) => check(exclusive, arn));
    }
    return findings;
  },
});

export const IAM_RULES = [
  wildcardActions,
  scopedResources,
  noAnonymousPrincipal,
  oneRolePerComponent,
  policiesFromDocuments,
  reviewedManagedPolicies,
] as const;
