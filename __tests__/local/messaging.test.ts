import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startMessaging, type Messaging, type PublishedMessage } from '../../local/messaging';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('local SNS and SQS', () => {
  let dataDir: string;
  let messaging: Messaging;
  let sns: SNSClient;
  let sqs: SQSClient;
  const published: PublishedMessage[] = [];

  const start = async () => {
    messaging = await startMessaging({
      host: '127.0.0.1',
      port: 0,
      region: 'eu-west-2',
      topicNames: ['alerts'],
      queueNames: ['failures'],
      dataDir,
      onPublish: (message) => published.push(message),
    });
    sns = new SNSClient({ endpoint: messaging.endpoint, region: 'eu-west-2', credentials });
    sqs = new SQSClient({ endpoint: messaging.endpoint, region: 'eu-west-2', credentials });
  };
  const stop = async () => {
    sns.destroy();
    sqs.destroy();
    await messaging.stop();
  };

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'messaging-'));
    published.length = 0;
    await start();
  });

  afterEach(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes an SNS Publish from the SDK and hands the alert to the platform', async () => {
    const result = await sns.send(new PublishCommand({ TopicArn: messaging.topicArn('alerts'), Subject: 'Alert: x <y>', Message: 'value 29 & rising' }));
    expect(result.MessageId).toEqual(expect.any(String));
    expect(published).toEqual([expect.objectContaining({ messageId: result.MessageId, subject: 'Alert: x <y>', message: 'value 29 & rising', topicArn: messaging.topicArn('alerts') })]);
    expect(messaging.published()).toHaveLength(1);
  });

  // https://docs.aws.amazon.com/sns/latest/api/API_Publish.html: with MessageStructure json, a JSON object with a "default" string.
  it('takes a message per protocol (MessageStructure json), keeping the default as the message', async () => {
    const Message = JSON.stringify({ default: 'the whole text', sms: 'short', https: '{"v":1}' });
    await sns.send(new PublishCommand({ TopicArn: messaging.topicArn('alerts'), Subject: 's', Message, MessageStructure: 'json' }));
    expect(published[0]).toMatchObject({ message: 'the whole text', messages: { sms: 'short', https: '{"v":1}' } });
  });

  it.each([
    ['{"sms": "x"}', /No default entry in JSON message body/],
    ['not json', /JSON message body failed to parse/],
    ['{"default": 1}', /No default entry/],
  ])('refuses %s with MessageStructure json as SNS does', async (Message, message) => {
    await expect(sns.send(new PublishCommand({ TopicArn: messaging.topicArn('alerts'), Message, MessageStructure: 'json' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(message) });
  });

  it("answers an unknown topic with SNS's NotFound error", async () => {
    await expect(sns.send(new PublishCommand({ TopicArn: messaging.topicArn('nope'), Message: 'x' }))).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('refuses a subject SNS would refuse, so the handler fails here as it would on AWS', async () => {
    await expect(sns.send(new PublishCommand({ TopicArn: messaging.topicArn('alerts'), Subject: 'line\nbreak', Message: 'x' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(sns.send(new PublishCommand({ TopicArn: messaging.topicArn('alerts'), Subject: 'x'.repeat(101), Message: 'x' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect(published).toHaveLength(0);
  });

  it('sends, receives and deletes SQS messages with the checksums the SDK verifies', async () => {
    const QueueUrl = messaging.queueUrl('failures');
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"reason":"bad JSON","raw":"ü"}' }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: 'one' }, { Id: 'b', MessageBody: 'two' }] }));

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
    expect(received.Messages?.map((message) => message.Body)).toEqual(['{"reason":"bad JSON","raw":"ü"}', 'one', 'two']);
    // Received messages stay hidden until their visibility timeout ends.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages ?? []).toHaveLength(0);

    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages?.[0]?.ReceiptHandle }));
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(attributes.Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '2' });
  });

  it("answers an unknown queue with SQS's error", async () => {
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: `${messaging.endpoint}/000000000000/nope`, MessageBody: 'x' }))).rejects.toMatchObject({
      name: expect.stringMatching(/QueueDoesNotExist/),
    });
  });

  it('keeps the failure queue across restarts, so rejected records can be inspected later', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: messaging.queueUrl('failures'), MessageBody: 'kept' }));
    await stop();
    await start();
    expect(messaging.queueMessages('failures').map((message) => message.body)).toEqual(['kept']);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: messaging.queueUrl('failures') }));
    expect(received.Messages?.[0]?.Body).toBe('kept');
  });

  it('keeps what was published across restarts, even when a crash cut the last line short', async () => {
    const topicArn = 'arn:aws:sns:eu-west-2:000000000000:alerts';
    const first = await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'first', Message: 'one' }));
    await stop();
    // A crash in the middle of the next append leaves half a line behind.
    appendFileSync(path.join(dataDir, 'published.jsonl'), '{"messageId":"cut-sh');
    await start();
    const second = await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'second', Message: 'two' }));
    expect(messaging.published().map((message) => [message.messageId, message.subject])).toEqual([
      [first.MessageId, 'first'],
      [second.MessageId, 'second'],
    ]);
    await stop();
    await start();
    expect(messaging.published().map((message) => message.subject)).toEqual(['first', 'second']);
  });

  it('refuses a published log that is corrupt before its last line instead of dropping alerts silently', async () => {
    await stop();
    writeFileSync(path.join(dataDir, 'published.jsonl'), 'not json\n{"messageId":"a"}\n{"messageId":"b"}\n');
    await expect(start()).rejects.toThrow(/published\.jsonl line 1 is not valid JSON/);
    // Moved away, the platform starts again (afterEach stops it).
    writeFileSync(path.join(dataDir, 'published.jsonl'), '');
    await start();
  });

  it('lists topics and queue contents at GET / for a person inspecting the platform', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: messaging.queueUrl('failures'), MessageBody: 'visible' }));
    const listing = (await (await fetch(`${messaging.endpoint}/`)).json()) as { queues: { url: string; messages: { body: string }[] }[] };
    expect(listing.queues).toEqual([{ url: messaging.queueUrl('failures'), messages: [expect.objectContaining({ body: 'visible' })] }]);
  });
});
