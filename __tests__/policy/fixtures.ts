import type { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';

/** Compliant building blocks for the policy fixtures. */

export function document(scope: Construct, id: string, statement: DataAwsIamPolicyDocumentStatement[]): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, { statement });
}

export function trustDocument(scope: Construct, id: string, service: string): DataAwsIamPolicyDocument {
  return document(scope, id, [{ actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: [service] }] }]);
}

export function serviceRole(scope: Construct, id: string, service = 'lambda.amazonaws.com'): IamRole {
  return new IamRole(scope, id, { name: id, assumeRolePolicy: trustDocument(scope, `${id}-trust`, service).json });
}

export function logGroup(scope: Construct, id: string, name: string): CloudwatchLogGroup {
  return new CloudwatchLogGroup(scope, id, { name, retentionInDays: 30 });
}

/** A function with its own role and its own log group, created before it. */
export function lambdaFunction(scope: Construct, id: string, role: IamRole = serviceRole(scope, `${id}-role`)): LambdaFunction {
  const group = logGroup(scope, `${id}-logs`, `/aws/lambda/${id}`);
  return new LambdaFunction(scope, id, {
    functionName: id,
    role: role.arn,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    filename: 'bundle.zip',
    dependsOn: [group],
  });
}

export function encryptedTopic(scope: Construct, id: string): SnsTopic {
  return new SnsTopic(scope, id, { name: id, kmsMasterKeyId: 'alias/aws/sns' });
}

export function alarm(
  scope: Construct,
  id: string,
  namespace: string,
  metricName: string,
  dimensions: Record<string, string>,
  actions: string[],
): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName: id,
    namespace,
    metricName,
    dimensions,
    statistic: 'Sum',
    period: 60,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    alarmActions: actions,
  });
}
