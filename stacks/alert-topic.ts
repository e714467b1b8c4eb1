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
}


/** The threshold alerts topic: KMS-encrypted, with one email subscription per configured address. */
export class AlertTopic extends Construct {
  public readonly arn: string;
  public readonly name: string;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const topic = new SnsTopic(this, 'topic', { name: props.name, displayName: 'IoT alerts', kmsMasterKeyId: props.kmsKeyArn });
    for (const email of props.emails ?? []) {
      new SnsTopicSubscription(this, emailSubscriptionId(email), { topicArn: topic.arn, protocol: 'email', endpoint: email });
    }
    this.arn = topic.arn;
    this.name = topic.name;
  }
}
