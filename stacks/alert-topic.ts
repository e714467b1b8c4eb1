import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';

export interface AlertTopicProps {
  readonly name: string;
  /** KMS key the topic encrypts messages with; publishers need kms:GenerateDataKey and kms:Decrypt on it. */
  readonly kmsKeyArn: string;
  /** One email subscription per address; each recipient confirms it from the email AWS sends. @default none */
  readonly emails?: readonly string[];
}

/** The threshold alerts topic (FR4): KMS-encrypted, with one email subscription per configured address. */
export class AlertTopic extends Construct {
  public readonly arn: string;
  public readonly name: string;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const emails = props.emails ?? [];
    const duplicate = emails.find((email, index) => emails.findIndex((other) => other.toLowerCase() === email.toLowerCase()) !== index);
    if (duplicate !== undefined) throw new Error(`AlertTopic: ${duplicate} is listed twice; each address gets one subscription`);

    const topic = new SnsTopic(this, 'topic', { name: props.name, displayName: 'IoT alerts', kmsMasterKeyId: props.kmsKeyArn });
    for (const email of emails) {
      // Named after the address, so removing one address leaves the others' subscriptions alone.
      new SnsTopicSubscription(this, `email-${email.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, { topicArn: topic.arn, protocol: 'email', endpoint: email });
    }
    this.arn = topic.arn;
    this.name = topic.name;
  }
}
