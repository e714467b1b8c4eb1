/**
 * The stack's topic subscriptions, as the local platform shows them: email subscribers
 * are listed, and what they would receive is printed on the console. Any other protocol
 * stops start-up, since nothing local would deliver it.
 */
import type { LoadedStack } from './load-stack';
import { TwinResolutionError } from './stack';

export interface EmailSubscription {
  readonly topicArn: string;
  readonly endpoint: string;
}

export function emailSubscriptions(stack: Pick<LoadedStack, 'resources'>): EmailSubscription[] {
  return stack.resources('aws_sns_topic_subscription').map((subscription) => {
    const config = subscription.config as { topic_arn: string; protocol: string; endpoint: string };
    if (config.protocol !== 'email' && config.protocol !== 'email-json') {
      throw new TwinResolutionError(`${subscription.address} subscribes over ${config.protocol}; only email subscriptions are emulated (shown on the console)`, subscription.address, 'protocol');
    }
    return { topicArn: config.topic_arn, endpoint: config.endpoint };
  });
}
