import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { emailSubscriptionId } from './construct-defaults';
export { emailSubscriptionId } from './construct-defaults';

export interface AlertTopicProps {
  readonly name: string;
  /** KMS key the topic encrypts messages with; publishers need kms:GenerateDataKey and kms:Decrypt on it. */
  readonly kmsKeyArn: string;
  /** One email subscription per address; each recipient confirms it from the email AWS sends. @default none */
  readonly emails?: readonly string[];
  /** One SMS subscription per number (E.164); the account must be set up to send SMS in the region. @default none */
  readonly sms?: readonly string[];
  /** One HTTPS subscription per URL; each endpoint confirms it by visiting the SubscribeURL SNS posts first. @default none */
  readonly webhooks?: readonly string[];
  /** @default 'IoT alerts' */
  readonly displayName?: string;
}

/** Construct ids named after the endpoint, so removing one subscriber leaves the others alone. */
const subscriptionId = (protocol: string, endpoint: string): string => `${protocol}-${endpoint.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

/**
 * An alert topic: KMS-encrypted, with a subscription per email address, phone number and
 * webhook. Alerts are published with a message per protocol (handlers/alert-notifier.ts):
 * email gets the whole text, SMS the one-line subject, webhooks a JSON document.
 */
export class AlertTopic extends Construct {
  public readonly arn: string;
  public readonly name: string;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const topic = new SnsTopic(this, 'topic', { name: props.name, displayName: props.displayName ?? 'IoT alerts', kmsMasterKeyId: props.kmsKeyArn });
    for (const email of props.emails ?? []) {
      new SnsTopicSubscription(this, emailSubscriptionId(email), { topicArn: topic.arn, protocol: 'email', endpoint: email });
    }
    for (const number of props.sms ?? []) {
      new SnsTopicSubscription(this, subscriptionId('sms', number), { topicArn: topic.arn, protocol: 'sms', endpoint: number });
    }
    for (const url of props.webhooks ?? []) {
      new SnsTopicSubscription(this, subscriptionId('webhook', url), { topicArn: topic.arn, protocol: 'https', endpoint: url });
    }
    this.arn = topic.arn;
    this.name = topic.name;
  }
}
