import { Construct } from 'constructs';
import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
  type DataAwsIamPolicyDocumentStatementCondition,
} from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { PropsCheck } from './input-error';

/** A condition of a policy statement, e.g. `{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [accountId] }`. */
export type PolicyCondition = DataAwsIamPolicyDocumentStatementCondition;

/** One grant: exact actions on exact resources (attributes of the resources, never hand-built ARNs). */
export interface Grant {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** @default none */
  readonly conditions?: readonly PolicyCondition[];
}

export interface ServiceRoleProps {
  readonly roleName: string;
  /** The AWS service that assumes the role, e.g. `lambda.amazonaws.com`. */
  readonly service: string;
  readonly grants: readonly Grant[];
  readonly description?: string;
  /** Conditions on who may assume the role, e.g. the account the service acts for. @default none */
  readonly trustConditions?: readonly PolicyCondition[];
  /** AWS-managed policies to attach (the policy pack lists which are allowed). @default none */
  readonly managedPolicyArns?: readonly string[];
}

/**
 * The role of one component: assumable only by its service, with one inline policy built
 * from a policy document. Anything that must wait for the permissions depends on `policy`,
 * not on the role alone.
 */
export class ServiceRole extends Construct {
  public readonly arn: string;
  public readonly name: string;
  public readonly policy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    const check = new PropsCheck(`ServiceRole ${props.roleName}`);
    if (props.grants.length === 0) check.fail('grants', 'a role needs at least one grant');
    for (const grant of props.grants) {
      const wildcard = grant.actions.find((action) => action === '*' || action.endsWith(':*'));
      if (wildcard !== undefined) check.fail('grants', `grant ${grant.sid} uses the wildcard action "${wildcard}"; list the exact actions`);
      if (grant.resources.length === 0 || grant.actions.length === 0) check.fail('grants', `grant ${grant.sid} needs actions and resources`);
    }
    check.done();

    const trust = new DataAwsIamPolicyDocument(this, 'trust', {
      statement: [
        {
          effect: 'Allow',
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: [props.service] }],
          condition: props.trustConditions === undefined ? undefined : [...props.trustConditions],
        },
      ],
    });
    const role = new IamRole(this, 'role', { name: props.roleName, description: props.description, assumeRolePolicy: trust.json });
    const statements: DataAwsIamPolicyDocumentStatement[] = props.grants.map((grant) => ({
      sid: grant.sid,
      effect: 'Allow',
      actions: [...grant.actions],
      resources: [...grant.resources],
      condition: grant.conditions === undefined ? undefined : [...grant.conditions],
    }));
    const document = new DataAwsIamPolicyDocument(this, 'permissions', { statement: statements });
    this.policy = new IamRolePolicy(this, 'policy', { role: role.name, name: 'permissions', policy: document.json });
    (props.managedPolicyArns ?? []).forEach((policyArn, index) => {
      new IamRolePolicyAttachment(this, `managed-policy-${index + 1}`, { role: role.name, policyArn });
    });
    this.arn = role.arn;
    this.name = role.name;
  }
}
