import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';

/** One grant: exact actions on exact resources (attributes of the resources, never hand-built ARNs). */
export interface Grant {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface ServiceRoleProps {
  readonly roleName: string;
  /** The AWS service that assumes the role, e.g. `lambda.amazonaws.com`. */
  readonly service: string;
  readonly grants: readonly Grant[];
  readonly description?: string;
}

/**
 * The role of one component (SR2): assumable only by its service, with one inline policy
 * built from a policy document. Anything that must wait for the permissions depends on
 * `policy`, not on the role alone.
 */
export class ServiceRole extends Construct {
  public readonly arn: string;
  public readonly name: string;
  public readonly policy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    if (props.grants.length === 0) throw new Error(`ServiceRole ${props.roleName}: a role needs at least one grant`);
    for (const grant of props.grants) {
      const wildcard = grant.actions.find((action) => action === '*' || action.endsWith(':*'));
      if (wildcard !== undefined) throw new Error(`ServiceRole ${props.roleName}: grant ${grant.sid} uses the wildcard action "${wildcard}"; list the exact actions`);
      if (grant.resources.length === 0 || grant.actions.length === 0) throw new Error(`ServiceRole ${props.roleName}: grant ${grant.sid} needs actions and resources`);
    }

    const trust = new DataAwsIamPolicyDocument(this, 'trust', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: [props.service] }] }],
    });
    const role = new IamRole(this, 'role', { name: props.roleName, description: props.description, assumeRolePolicy: trust.json });
    const statements: DataAwsIamPolicyDocumentStatement[] = props.grants.map((grant) => ({
      sid: grant.sid,
      effect: 'Allow',
      actions: [...grant.actions],
      resources: [...grant.resources],
    }));
    const document = new DataAwsIamPolicyDocument(this, 'permissions', { statement: statements });
    this.policy = new IamRolePolicy(this, 'policy', { role: role.name, name: 'permissions', policy: document.json });
    this.arn = role.arn;
    this.name = role.name;
  }
}
