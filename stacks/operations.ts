import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { dashboardBody, type DashboardContents } from './dashboard';
import { emailSubscriptionId } from './alert-topic';

export interface OperationsProps {
  /** Prefix of the topic, key and dashboard names. */
  readonly namePrefix: string;
  /** Each address gets an email subscription to the operations topic (it must confirm it). @default none */
  readonly notificationEmails?: readonly string[];
  /** The account the key policy gives to IAM and lets CloudWatch publish from. */
  readonly accountId: string;
  /**
   * KMS key (ARN) encrypting the topic; its policy must let cloudwatch.amazonaws.com use it
   * (kms:Decrypt, kms:GenerateDataKey). @default a new key with that policy
   */
  readonly kmsKeyArn?: string;
}

/**
 * The operations topic (KMS-encrypted, email subscriptions named by address) that every
 * alarm of the pipeline notifies, and the dashboard. The alarms themselves live beside what
 * they watch; each construct takes `alarmActions`.
 */
export class Operations extends Construct {
  public readonly topicArn: string;
  /** What every alarm notifies, on alarm and on recovery. */
  public readonly alarmActions: readonly string[];
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;
    const topic = new SnsTopic(this, 'topic', {
      name: `${props.namePrefix}-operations`,
      displayName: `${props.namePrefix} operations`,
      kmsMasterKeyId: props.kmsKeyArn ?? this.createTopicKey(props.namePrefix, props.accountId).arn,
    });
    for (const email of props.notificationEmails ?? []) {
      // Named after the address, so removing one address leaves the others' subscriptions alone.
      new SnsTopicSubscription(this, emailSubscriptionId(email), { topicArn: topic.arn, protocol: 'email', endpoint: email });
    }
    this.topicArn = topic.arn;
    this.alarmActions = [topic.arn];
  }

  /** The pipeline's dashboard; returns its name. */
  addDashboard(contents: DashboardContents): string {
    const dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: `${this.namePrefix}-pipeline`,
      dashboardBody: JSON.stringify(dashboardBody(contents)),
    });
    return dashboard.dashboardName;
  }

  /** A customer-managed key, because CloudWatch cannot publish to a topic under the AWS-managed SNS key. */
  private createTopicKey(namePrefix: string, accountId: string): KmsKey {
    const keyPolicy = new DataAwsIamPolicyDocument(this, 'topic-key-policy', {
      statement: [
        {
          sid: 'AccountAdministersKeyAndDelegatesUseToIam',
          principals: [{ type: 'AWS', identifiers: [accountId] }],
          actions: [
            'kms:CancelKeyDeletion', 'kms:CreateAlias', 'kms:Decrypt', 'kms:DeleteAlias', 'kms:DescribeKey', 'kms:DisableKey',
            'kms:DisableKeyRotation', 'kms:EnableKey', 'kms:EnableKeyRotation', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GetKeyPolicy',
            'kms:GetKeyRotationStatus', 'kms:ListResourceTags', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:TagResource',
            'kms:UntagResource', 'kms:UpdateKeyDescription',
          ],
          // In a key policy "*" means this key.
          resources: ['*'],
        },
        {
          sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [accountId] }],
        },
      ],
    });
    return new KmsKey(this, 'topic-key', { description: `${namePrefix} operations topic`, enableKeyRotation: true, policy: keyPolicy.json });
  }
}
