import { Fn } from 'cdktf';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { ApiGatewayIntegration } from '@cdktf/provider-aws/lib/api-gateway-integration';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { DataAwsIamPolicy } from '@cdktf/provider-aws/lib/data-aws-iam-policy';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { KinesisFirehoseDeliveryStream } from '@cdktf/provider-aws/lib/kinesis-firehose-delivery-stream';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import type { TerraformStack } from 'cdktf';
import { check, expectClean, expectViolations } from '../harness';
import { document, lambdaFunction, serviceRole } from '../fixtures';

const table = (stack: TerraformStack) =>
  new DynamodbTable(stack, 'table', { name: 'iot-things', hashKey: 'ThingID', attribute: [{ name: 'ThingID', type: 'S' }] });

const rolePolicy = (stack: TerraformStack, id: string, policy: string) =>
  new IamRolePolicy(stack, id, { role: serviceRole(stack, `${id}-role`).name, policy });

describe('IAM-001 no wildcard actions', () => {
  it('fires on `*`, `service:*`, partial wildcards and NotAction in Allow statements, naming the document', () => {
    const report = check((stack) => {
      rolePolicy(stack, 'service-star', document(stack, 'service-star-doc', [{ actions: ['kinesis:*'], resources: ['*'] }]).json);
      rolePolicy(stack, 'star', document(stack, 'star-doc', [{ sid: 'All', actions: ['*'], resources: ['*'] }]).json);
      rolePolicy(stack, 'partial', document(stack, 'partial-doc', [{ actions: ['dynamodb:Get*'], resources: ['*'] }]).json);
      rolePolicy(stack, 'not-action', document(stack, 'not-action-doc', [{ notActions: ['iam:*'], resources: ['*'] }]).json);
    });
    const found = expectViolations(report, 'IAM-001', [
      'aws_iam_role_policy.service-star',
      'aws_iam_role_policy.star',
      'aws_iam_role_policy.partial',
      'aws_iam_role_policy.not-action',
    ]);
    expect(found.find((v) => v.address.endsWith('.star'))?.problem).toBe(
      'policy (data.aws_iam_policy_document.star-doc): data.aws_iam_policy_document.star-doc statement 1 ("All") allows "*"',
    );
  });

  it('reads inline JSON policies too, and flags actions it cannot read', () => {
    const report = check((stack) => {
      rolePolicy(stack, 'json', JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }));
      rolePolicy(stack, 'opaque', document(stack, 'opaque-doc', [{ actions: Fn.split(',', 'a,b'), resources: ['*'] }]).json);
    });
    expectViolations(report, 'IAM-001', ['aws_iam_role_policy.json', 'aws_iam_role_policy.opaque']);
  });

  it('stays silent on exact actions, and on wildcards in Deny statements', () => {
    const report = check((stack) => {
      const things = table(stack);
      rolePolicy(stack, 'exact', document(stack, 'exact-doc', [
        { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [things.arn] },
        { effect: 'Deny', actions: ['s3:*'], resources: ['*'], condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }] },
      ]).json);
    });
    expectClean(report, 'IAM-001');
  });

  it('follows documents merged through source_policy_documents', () => {
    const report = check((stack) => {
      const inner = document(stack, 'inner', [{ actions: ['sqs:*'], resources: ['*'] }]);
      const outer = new DataAwsIamPolicyDocument(stack, 'outer', {
        sourcePolicyDocuments: [inner.json],
        statement: [{ actions: ['sqs:SendMessage'], resources: ['*'] }],
      });
      rolePolicy(stack, 'merged', outer.json);
    });
    expectViolations(report, 'IAM-001', ['aws_iam_role_policy.merged'], /data\.aws_iam_policy_document\.inner statement 1 allows "sqs:\*"/);
  });
});

describe('IAM-002 exact resources for data-plane services', () => {
  it('fires on `*`, literal wildcard ARNs, hand-built ARNs and NotResource for kinesis, dynamodb, sns, sqs, s3, firehose, ecr', () => {
    const report = check((stack) => {
      rolePolicy(stack, 'star', document(stack, 'star-doc', [{ actions: ['dynamodb:GetItem'], resources: ['*'] }]).json);
      rolePolicy(stack, 'pattern', document(stack, 'pattern-doc', [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::archive/*'] }]).json);
      rolePolicy(stack, 'hand-built', document(stack, 'hand-built-doc', [{ actions: ['kinesis:PutRecord'], resources: ['arn:aws:kinesis:eu-west-2:123456789012:stream/iot-readings'] }]).json);
      rolePolicy(stack, 'not-resource', document(stack, 'not-resource-doc', [{ actions: ['ecr:BatchGetImage'], notResources: ['arn:aws:ecr:eu-west-2:123456789012:repository/x'] }]).json);
      rolePolicy(stack, 'mixed', document(stack, 'mixed-doc', [{ actions: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage'], resources: ['*'] }]).json);
    });
    const found = expectViolations(report, 'IAM-002', [
      'aws_iam_role_policy.star',
      'aws_iam_role_policy.pattern',
      'aws_iam_role_policy.hand-built',
      'aws_iam_role_policy.not-resource',
      'aws_iam_role_policy.mixed',
    ]);
    expect(found.find((v) => v.address.endsWith('.hand-built'))?.problem).toMatch(/hand-built ARN/);
    expect(found.find((v) => v.address.endsWith('.mixed'))?.problem).toMatch(/grants "ecr:BatchGetImage" on "\*"/);
  });

  it('stays silent on attribute references (with sub-paths), account-level actions on `*`, and other services', () => {
    const report = check((stack) => {
      const things = table(stack);
      rolePolicy(stack, 'scoped', document(stack, 'scoped-doc', [
        { actions: ['dynamodb:Query'], resources: [things.arn, `${things.arn}/index/*`] },
        { actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
        { actions: ['cloudwatch:PutMetricData'], resources: ['*'] },
      ]).json);
    });
    expectClean(report, 'IAM-002');
  });

  it('does not apply to resource policies, where `*` means the resource itself', () => {
    const report = check((stack) => {
      const queue = new SqsQueue(stack, 'queue', { name: 'q', sqsManagedSseEnabled: true });
      const topicRole = serviceRole(stack, 'sender');
      new SqsQueuePolicy(stack, 'queue-policy', {
        queueUrl: queue.url,
        policy: document(stack, 'queue-doc', [{ actions: ['sqs:SendMessage'], resources: ['*'], principals: [{ type: 'AWS', identifiers: [topicRole.arn] }] }]).json,
      });
    });
    expectClean(report, 'IAM-002');
  });
});

describe('IAM-003 no anonymous principal without a condition', () => {
  it('fires on Principal * in resource and trust policies, NotPrincipal, and public Lambda permissions', () => {
    const report = check((stack) => {
      const queue = new SqsQueue(stack, 'queue', { name: 'q', sqsManagedSseEnabled: true });
      new SqsQueuePolicy(stack, 'public-queue', {
        queueUrl: queue.url,
        policy: document(stack, 'public-doc', [{ actions: ['sqs:SendMessage'], resources: [queue.arn], principals: [{ type: '*', identifiers: ['*'] }] }]).json,
      });
      new IamRole(stack, 'open-trust', {
        assumeRolePolicy: document(stack, 'open-trust-doc', [{ actions: ['sts:AssumeRole'], principals: [{ type: 'AWS', identifiers: ['*'] }] }]).json,
      });
      new SqsQueuePolicy(stack, 'not-principal', {
        queueUrl: queue.url,
        policy: JSON.stringify({ Statement: [{ Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sqs:SendMessage', Resource: '*' }] }),
      });
      const fn = lambdaFunction(stack, 'fn');
      new LambdaPermission(stack, 'public-invoke', { action: 'lambda:InvokeFunction', functionName: fn.functionName, principal: '*' });
    });
    expectViolations(report, 'IAM-003', [
      'aws_sqs_queue_policy.public-queue',
      'aws_iam_role.open-trust',
      'aws_sqs_queue_policy.not-principal',
      'aws_lambda_permission.public-invoke',
    ]);
  });

  it('stays silent on named principals, Principal * limited by a condition, and scoped permissions', () => {
    const report = check((stack) => {
      const queue = new SqsQueue(stack, 'queue', { name: 'q', sqsManagedSseEnabled: true });
      new SqsQueuePolicy(stack, 'conditional', {
        queueUrl: queue.url,
        policy: document(stack, 'conditional-doc', [{
          actions: ['sqs:SendMessage'],
          resources: [queue.arn],
          principals: [{ type: '*', identifiers: ['*'] }],
          condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: ['${aws_sns_topic.t.arn}'] }],
        }]).json,
      });
      const fn = lambdaFunction(stack, 'fn');
      new LambdaPermission(stack, 'api-invoke', { action: 'lambda:InvokeFunction', functionName: fn.functionName, principal: 'apigateway.amazonaws.com', sourceArn: 'arn:aws:execute-api:eu-west-2:123456789012:abc/*' });
    });
    expectClean(report, 'IAM-003');
  });
});

describe('IAM-004 one role per component', () => {
  it('fires on a role shared by two functions, by a task and its execution, and on a role trusting two services', () => {
    const report = check((stack) => {
      const shared = serviceRole(stack, 'shared');
      lambdaFunction(stack, 'store', shared);
      lambdaFunction(stack, 'alerts', shared);
      const taskRole = serviceRole(stack, 'task', 'ecs-tasks.amazonaws.com');
      new EcsTaskDefinition(stack, 'task-def', { family: 'web', containerDefinitions: '[]', taskRoleArn: taskRole.arn, executionRoleArn: taskRole.arn });
      new IamRole(stack, 'two-services', {
        assumeRolePolicy: document(stack, 'two-services-trust', [
          { actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'] }] },
        ]).json,
      });
    });
    const found = expectViolations(report, 'IAM-004', ['aws_iam_role.shared', 'aws_iam_role.task', 'aws_iam_role.two-services']);
    expect(found.find((v) => v.address === 'aws_iam_role.shared')?.problem).toBe(
      'the role is used by 2 components: aws_lambda_function.store (role), aws_lambda_function.alerts (role)',
    );
    expect(found.find((v) => v.address === 'aws_iam_role.task')?.problem).toMatch(/task-def \(execution_role_arn\).*task-def \(task_role_arn\)/);
  });

  it('counts one component once even when it names its role in several places', () => {
    const report = check((stack) => {
      const role = serviceRole(stack, 'firehose', 'firehose.amazonaws.com');
      new KinesisFirehoseDeliveryStream(stack, 'archive', {
        name: 'archive',
        destination: 'extended_s3',
        kinesisSourceConfiguration: { kinesisStreamArn: 'arn:aws:kinesis:eu-west-2:123456789012:stream/s', roleArn: role.arn },
        extendedS3Configuration: { bucketArn: 'arn:aws:s3:::b', roleArn: role.arn },
      });
      lambdaFunction(stack, 'store');
      lambdaFunction(stack, 'alerts');
    });
    expectClean(report, 'IAM-004');
  });

  it('treats the integrations of one REST API as one component, but not those of two APIs', () => {
    const integrations = (stack: TerraformStack, apiNames: string[]) => {
      const role = serviceRole(stack, 'integration', 'apigateway.amazonaws.com');
      for (const name of apiNames) {
        const api = new ApiGatewayRestApi(stack, name, { name });
        for (const httpMethod of ['PUT', 'POST']) {
          new ApiGatewayIntegration(stack, `${name}-${httpMethod}`, {
            restApiId: api.id, resourceId: api.rootResourceId, httpMethod, type: 'AWS', integrationHttpMethod: 'POST',
            uri: 'arn:aws:apigateway:eu-west-2:kinesis:action/PutRecord', credentials: role.arn,
          });
        }
      }
    };
    expectClean(check((stack) => integrations(stack, ['ingest'])), 'IAM-004');
    expectViolations(check((stack) => integrations(stack, ['ingest', 'admin'])), 'IAM-004', ['aws_iam_role.integration'], /used by 2 components/);
  });
});

describe('IAM-005 policies come from policy documents', () => {
  it('fires on inline JSON and on jsonencode expressions', () => {
    const report = check((stack) => {
      rolePolicy(stack, 'json', JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] }));
      rolePolicy(stack, 'encoded', Fn.jsonencode({ Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] }));
    });
    const found = expectViolations(report, 'IAM-005', ['aws_iam_role_policy.json', 'aws_iam_role_policy.encoded']);
    expect(found.find((v) => v.address.endsWith('.encoded'))?.problem).toBe('policy is an expression the policy cannot read, not a policy document');
  });

  it('stays silent on policy document references', () => {
    const report = check((stack) => {
      rolePolicy(stack, 'doc', document(stack, 'doc-doc', [{ actions: ['sqs:SendMessage'], resources: ['${aws_sqs_queue.q.arn}'] }]).json);
    });
    expectClean(report, 'IAM-005');
  });
});

describe('IAM-006 reviewed managed policies only', () => {
  it('fires on AWS-managed policies that are not on the reviewed list', () => {
    const report = check((stack) => {
      const role = serviceRole(stack, 'fn');
      new IamRolePolicyAttachment(stack, 'basic', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole' });
      new IamRolePolicyAttachment(stack, 'partition', { role: role.name, policyArn: 'arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess' });
      const ecsAgent = new DataAwsIamPolicy(stack, 'ecs-agent', { name: 'AmazonEC2ContainerServiceforEC2Role' });
      new IamRolePolicyAttachment(stack, 'looked-up', { role: role.name, policyArn: ecsAgent.arn });
    });
    const found = expectViolations(report, 'IAM-006', ['aws_iam_role_policy_attachment.basic', 'aws_iam_role_policy_attachment.partition', 'aws_iam_role_policy_attachment.looked-up']);
    expect(found.map((v) => v.problem).sort()).toEqual([
      'attaches the AWS-managed policy "AWSLambdaKinesisExecutionRole", which is not on the reviewed list',
      'attaches the AWS-managed policy "AdministratorAccess", which is not on the reviewed list',
      'attaches the AWS-managed policy "AmazonEC2ContainerServiceforEC2Role", which is not on the reviewed list',
    ]);
  });

  it('stays silent on reviewed managed policies and on the stack\'s own policies', () => {
    const report = check((stack) => {
      const role = serviceRole(stack, 'instance', 'ec2.amazonaws.com');
      new IamRolePolicyAttachment(stack, 'ssm', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' });
      new IamRolePolicyAttachment(stack, 'own', { role: role.name, policyArn: '${aws_iam_policy.own.arn}' });
      const logging = new DataAwsIamPolicy(stack, 'logging', { arn: 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs' });
      new IamRolePolicyAttachment(stack, 'api-logging', { role: serviceRole(stack, 'api-logs', 'apigateway.amazonaws.com').name, policyArn: logging.arn });
    });
    expectClean(report, 'IAM-006');
  });
});
