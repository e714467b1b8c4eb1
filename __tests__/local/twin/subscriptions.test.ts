/**
 * What each subscriber of a topic would receive, as the twin shows it, in the forms SNS
 * delivers: email the subject and text, SMS the text alone in parts of at most 140 bytes
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html), HTTPS a POST with the
 * x-amz-sns-* headers and the JSON notification
 * (https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html).
 */
import type { PublishedMessage } from '../../../local/messaging';
import { formatDeliveries, httpsNotification, smsParts, topicSubscriptions, type TopicSubscription } from '../../../local/twin/subscriptions';
import type { StackResource } from '../../../local/twin/stack';

const TOPIC = 'arn:aws:sns:eu-west-2:000000000000:iot-alerts-plant-7';
const message: PublishedMessage = {
  messageId: 'm-1',
  topicArn: TOPIC,
  subject: 'Alert: boiler temperature 96 above max 90',
  message: 'The temperature of boiler was 96.\n\nThing: boiler',
  messages: { sms: 'Alert: boiler temperature 96 above max 90', https: '{"notice":"breach","value":96}' },
  publishedAt: '2024-05-01T10:00:00.000Z',
};
const subscription = (protocol: TopicSubscription['protocol'], endpoint: string): TopicSubscription => ({ topicArn: TOPIC, protocol, endpoint, arn: `${TOPIC}:sub-${protocol}` });

describe('what each subscriber receives', () => {
  it('email: the subject and the whole text; SMS: the one line; HTTPS: the JSON notification with its headers', () => {
    const shown = formatDeliveries(message, [subscription('email', 'ops@example.com'), subscription('sms', '+441632960000'), subscription('https', 'https://hooks.example.com/p7')]);
    expect(shown).toContain('Email to ops@example.com: Alert: boiler temperature 96 above max 90\n  The temperature of boiler was 96.');
    expect(shown).toContain('SMS to +441632960000 (1 message)\n  Alert: boiler temperature 96 above max 90');
    expect(shown).toContain('POST https://hooks.example.com/p7\n  x-amz-sns-message-type: Notification');
    expect(httpsNotification(message, subscription('https', 'x'))).toEqual({
      headers: { 'x-amz-sns-message-type': 'Notification', 'x-amz-sns-message-id': 'm-1', 'x-amz-sns-topic-arn': TOPIC, 'x-amz-sns-subscription-arn': `${TOPIC}:sub-https`, 'content-type': 'text/plain; charset=UTF-8' },
      body: expect.objectContaining({ Type: 'Notification', MessageId: 'm-1', TopicArn: TOPIC, Subject: message.subject, Message: '{"notice":"breach","value":96}', Timestamp: message.publishedAt, SignatureVersion: '1' }),
    });
  });

  it('a message without one per protocol goes to every subscriber as it is; a topic without subscribers says so', () => {
    const plain = { ...message, messages: undefined };
    expect(formatDeliveries(plain, [subscription('sms', '+441632960000')])).toContain('  The temperature of boiler was 96.');
    expect(formatDeliveries(plain, [])).toContain('(the topic has no subscriber)');
  });

  it('splits a long SMS on whole words into parts of at most 140 bytes, 1,600 bytes in all', () => {
    const parts = smsParts('word '.repeat(400));
    expect(parts.every((part) => Buffer.byteLength(part) <= 140)).toBe(true);
    expect(parts.join(' ').length).toBeLessThanOrEqual(1_600);
    expect(parts.every((part) => /^(word ?)+$/.test(part))).toBe(true);
  });

  it('refuses a protocol nothing local would deliver', () => {
    const resource: StackResource = { mode: 'managed', type: 'aws_sns_topic_subscription', name: 's', address: 'aws_sns_topic_subscription.s', id: 's', config: { topic_arn: TOPIC, protocol: 'sqs', endpoint: 'arn:aws:sqs:...' } };
    expect(() => topicSubscriptions({ resources: () => [resource], attribute: () => 'arn' })).toThrow(/subscribes over sqs; only email, email-json, sms, https subscriptions are emulated/);
  });
});
