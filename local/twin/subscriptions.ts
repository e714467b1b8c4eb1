/**
 * The stack's topic subscriptions, as the local platform shows them: subscribers are
 * listed at start, and for each message published the console shows what each subscriber
 * of its topic would receive, in the form SNS delivers it (nothing is emailed, texted or
 * posted):
 *
 * - email: the subject and the text (the message's `email` entry, else its `default`);
 * - sms: the text only, no subject (`sms` entry, else `default`), sent as messages of at
 *   most 140 bytes, 1,600 bytes in all
 *   (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html);
 * - https: the POST SNS makes, its `x-amz-sns-*` headers and JSON notification body
 *   (https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html), once the
 *   endpoint has confirmed the subscription; the signature is not computed locally.
 *
 * Any other protocol stops start-up, since nothing local would deliver it.
 */
import type { PublishedMessage } from '../messaging';
import type { LoadedStack } from './load-stack';
import { TwinResolutionError } from './stack';

export type SubscriptionProtocol = 'email' | 'email-json' | 'sms' | 'https';

export interface TopicSubscription {
  readonly topicArn: string;
  readonly protocol: SubscriptionProtocol;
  readonly endpoint: string;
  /** The subscription's ARN, as SNS names it in the HTTPS headers. */
  readonly arn: string;
}

const PROTOCOLS: readonly string[] = ['email', 'email-json', 'sms', 'https'];

/** SMS: at most 140 bytes per message, 1,600 bytes per publish. */
const SMS_LIMITS = { partBytes: 140, totalBytes: 1_600 } as const;

export function topicSubscriptions(stack: Pick<LoadedStack, 'resources' | 'attribute'>): TopicSubscription[] {
  return stack.resources('aws_sns_topic_subscription').map((subscription) => {
    const config = subscription.config as { topic_arn: string; protocol: string; endpoint: string };
    if (!PROTOCOLS.includes(config.protocol)) {
      throw new TwinResolutionError(`${subscription.address} subscribes over ${config.protocol}; only ${PROTOCOLS.join(', ')} subscriptions are emulated (shown on the console)`, subscription.address, 'protocol');
    }
    return { topicArn: config.topic_arn, protocol: config.protocol as SubscriptionProtocol, endpoint: config.endpoint, arn: String(stack.attribute(subscription.address, 'arn')) };
  });
}

/** The text a protocol gets: its own entry of a message published with MessageStructure json, else the default. */
const textFor = (message: PublishedMessage, protocol: string): string => message.messages?.[protocol] ?? message.message;

/** What SNS sends an HTTPS subscriber for `message`: the headers and the JSON body of its POST. */
export function httpsNotification(message: PublishedMessage, subscription: Pick<TopicSubscription, 'arn'>): { headers: Record<string, string>; body: Record<string, unknown> } {
  const region = message.topicArn.split(':')[3] ?? '';
  return {
    headers: {
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': message.messageId,
      'x-amz-sns-topic-arn': message.topicArn,
      'x-amz-sns-subscription-arn': subscription.arn,
      'content-type': 'text/plain; charset=UTF-8',
    },
    body: {
      Type: 'Notification',
      MessageId: message.messageId,
      TopicArn: message.topicArn,
      ...(message.subject === undefined ? {} : { Subject: message.subject }),
      Message: textFor(message, 'https'),
      Timestamp: message.publishedAt,
      SignatureVersion: '1',
      Signature: '(not signed locally)',
      SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-local.pem`,
      UnsubscribeURL: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscription.arn}`,
    },
  };
}

/** The SMS messages a text is sent as: whole words per part of at most 140 bytes, the whole cut at 1,600 bytes. */
export function smsParts(text: string): string[] {
  let whole = text;
  while (Buffer.byteLength(whole) > SMS_LIMITS.totalBytes) whole = whole.slice(0, -1);
  const parts: string[] = [];
  let current = '';
  for (const word of whole.split(/(\s+)/)) {
    if (current !== '' && Buffer.byteLength(current + word) > SMS_LIMITS.partBytes) {
      parts.push(current.trimEnd());
      current = word.trimStart();
    } else current += word;
  }
  if (current.trim() !== '') parts.push(current.trimEnd());
  return parts;
}

/** What each subscriber of the message's topic would receive, as the console shows it. */
export function formatDeliveries(message: PublishedMessage, subscriptions: readonly TopicSubscription[]): string {
  const rule = '-'.repeat(72);
  const topic = message.topicArn.split(':').pop() ?? message.topicArn;
  const indent = (text: string) => text.split('\n').map((line) => `  ${line}`);
  const subscribers = subscriptions.filter((subscription) => subscription.topicArn === message.topicArn);
  const blocks = subscribers.map((subscription) => {
    if (subscription.protocol === 'sms') {
      const parts = smsParts(textFor(message, 'sms'));
      return [`SMS to ${subscription.endpoint} (${parts.length} message${parts.length === 1 ? '' : 's'})`, ...parts.flatMap(indent)];
    }
    if (subscription.protocol === 'https') {
      const { headers, body } = httpsNotification(message, subscription);
      return [`POST ${subscription.endpoint}`, ...Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`), ...indent(JSON.stringify(body, null, 2))];
    }
    if (subscription.protocol === 'email-json') return [`Email (JSON) to ${subscription.endpoint}`, ...indent(JSON.stringify(httpsNotification(message, subscription).body, null, 2))];
    return [`Email to ${subscription.endpoint}: ${message.subject ?? '(no subject)'}`, ...indent(textFor(message, 'email'))];
  });
  const head = `ALERT ${message.publishedAt} on ${topic}  ${message.subject ?? '(no subject)'}`;
  if (blocks.length === 0) return [rule, head, ...indent(message.message), '  (the topic has no subscriber)', rule].join('\n');
  return [rule, head, ...blocks.flat(), rule].join('\n');
}
