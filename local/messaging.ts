/**
 * A minimal SNS and SQS for the local platform, on one HTTP port, speaking the wire
 * protocols of the AWS SDK v3 clients (SNS: query protocol with XML answers; SQS: JSON
 * 1.0), so the handlers' `Publish` and `SendMessage` calls take the same code path as on
 * AWS. Only what the platform uses is served; any other action gets AWS's own error.
 *
 * Why not an npm emulator: the ones that exist keep queues in memory only and ship as
 * ES modules that the CommonJS test runner cannot load; the failure queue here must
 * survive restarts so rejected records can be inspected later.
 *
 * Alerts published to a topic are handed to `onPublish` (the console in `npm start`) and
 * appended to `<dataDir>/published.jsonl` before the publish is answered, so the record of
 * what was sent survives a crash; queue messages are kept in `<dataDir>/queues.json`.
 * Both can be read at `GET /` of the endpoint, queues also with any SQS client.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { LOCAL_ACCOUNT_ID } from './defaults';
import { readJsonFile, writeJsonFile } from './json-file';

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  /** The text every protocol gets, or, published with MessageStructure json, the `default` entry. */
  readonly message: string;
  /** Published with MessageStructure json: the entry of each protocol given one (`sms`, `email`, `https`, ...). */
  readonly messages?: Readonly<Record<string, string>>;
  readonly publishedAt: string;
}

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly sentAt: string;
  receiveCount: number;
  /** Epoch ms before which a received message stays hidden from other receivers. */
  invisibleUntil: number;
  receiptHandle?: string;
}

export interface MessagingOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly region: string;
  readonly topicNames: readonly string[];
  readonly queueNames: readonly string[];
  /** Folder for `queues.json`; queues are in memory only when absent. */
  readonly dataDir?: string;
  readonly onPublish?: (message: PublishedMessage) => void;
}

export interface Messaging {
  readonly endpoint: string;
  topicArn(name: string): string;
  queueUrl(name: string): string;
  /** Messages published, oldest first: the last 1,000, earlier runs' included when kept on disk. */
  published(): readonly PublishedMessage[];
  /** Messages currently held by a queue (visible or not), oldest first. */
  queueMessages(name: string): readonly QueuedMessage[];
  stop(): Promise<void>;
}

/** AWS limits the emulator enforces, so code that works here does not fail on AWS. */
const LIMITS = {
  subjectLength: 100,
  snsMessageBytes: 256 * 1024,
  sqsMessageBytes: 1024 * 1024,
  batchEntries: 10,
  receiveMessages: 10,
  defaultVisibilitySeconds: 30,
};

/** Most published messages kept in memory for `published()` and `GET /`. */
const PUBLISHED_KEPT = 1_000;

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[char] as string);

/**
 * The published log: one JSON line per message. A line cut short by a crash is the last
 * one and is skipped; the file is rewritten with the kept messages when it grows past them.
 */
function openPublishedLog(file: string | undefined): { readonly kept: PublishedMessage[]; append(message: PublishedMessage): void } {
  if (file === undefined) return { kept: [], append: () => undefined };
  let lines: string[] = [];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const parsed = lines.flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as PublishedMessage];
    } catch (error) {
      if (index >= lines.length - 2) return [];
      throw new Error(`${file} line ${index + 1} is not valid JSON (${(error as Error).message}); move the file away or start with --clean`);
    }
  });
  const kept = parsed.slice(-PUBLISHED_KEPT);
  // Rewritten only to drop old messages or a line a crash cut short (no trailing newline).
  if (kept.length < parsed.length || (lines.length > 0 && lines.at(-1) !== '')) writeFileSync(file, kept.map((message) => `${JSON.stringify(message)}\n`).join(''));
  return { kept, append: (message) => appendFileSync(file, `${JSON.stringify(message)}\n`) };
}

export async function startMessaging(options: MessagingOptions): Promise<Messaging> {
  const stateFile = options.dataDir === undefined ? undefined : path.join(options.dataDir, 'queues.json');
  const publishedLog = openPublishedLog(options.dataDir === undefined ? undefined : path.join(options.dataDir, 'published.jsonl'));
  const stored = stateFile === undefined ? {} : readJsonFile<Record<string, QueuedMessage[]>>(stateFile, {});
  const queues = new Map<string, QueuedMessage[]>(options.queueNames.map((name) => [name, stored[name] ?? []]));
  const topics = new Set(options.topicNames);
  const published: PublishedMessage[] = publishedLog.kept;
  let endpoint = '';

  const save = (): void => {
    if (stateFile !== undefined) writeJsonFile(stateFile, Object.fromEntries(queues));
  };
  const topicArn = (name: string): string => `arn:aws:sns:${options.region}:${LOCAL_ACCOUNT_ID}:${name}`;
  const queueUrl = (name: string): string => `${endpoint}/${LOCAL_ACCOUNT_ID}/${name}`;

  const queueOf = (url: unknown): QueuedMessage[] => {
    const name = typeof url === 'string' ? url.split('/').pop() : undefined;
    const queue = name === undefined ? undefined : queues.get(name);
    if (queue === undefined) {
      throw new AwsError(400, 'QueueDoesNotExist', `The specified queue ${JSON.stringify(url)} does not exist. Local queues: ${[...queues.keys()].join(', ')}`);
    }
    return queue;
  };

  const enqueue = (queue: QueuedMessage[], body: unknown): QueuedMessage => {
    if (typeof body !== 'string' || body.length === 0) throw new AwsError(400, 'MissingParameter', 'The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(body) > LIMITS.sqsMessageBytes) {
      throw new AwsError(400, 'InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${LIMITS.sqsMessageBytes} bytes.`);
    }
    const message: QueuedMessage = { messageId: randomUUID(), body, md5OfBody: md5(body), sentAt: new Date().toISOString(), receiveCount: 0, invisibleUntil: 0 };
    queue.push(message);
    return message;
  };

  const sqsActions: Record<string, (input: Record<string, unknown>) => unknown> = {
    SendMessage(input) {
      const message = enqueue(queueOf(input.QueueUrl), input.MessageBody);
      save();
      return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody };
    },
    SendMessageBatch(input) {
      const queue = queueOf(input.QueueUrl);
      const entries = Array.isArray(input.Entries) ? (input.Entries as Record<string, unknown>[]) : [];
      if (entries.length === 0) throw new AwsError(400, 'EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
      if (entries.length > LIMITS.batchEntries) throw new AwsError(400, 'TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${LIMITS.batchEntries}.`);
      const successful = entries.map((entry) => {
        const message = enqueue(queue, entry.MessageBody);
        return { Id: entry.Id, MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody };
      });
      save();
      return { Successful: successful, Failed: [] };
    },
    ReceiveMessage(input) {
      const queue = queueOf(input.QueueUrl);
      const max = Math.min(Number(input.MaxNumberOfMessages ?? 1), LIMITS.receiveMessages);
      const visibility = Number(input.VisibilityTimeout ?? LIMITS.defaultVisibilitySeconds);
      const now = Date.now();
      const received = queue.filter((message) => message.invisibleUntil <= now).slice(0, max);
      for (const message of received) {
        message.receiveCount += 1;
        message.invisibleUntil = now + visibility * 1000;
        message.receiptHandle = randomUUID();
      }
      if (received.length > 0) save();
      return {
        Messages: received.map((message) => ({
          MessageId: message.messageId,
          ReceiptHandle: message.receiptHandle,
          MD5OfBody: message.md5OfBody,
          Body: message.body,
          Attributes: { ApproximateReceiveCount: String(message.receiveCount), SentTimestamp: String(Date.parse(message.sentAt)) },
        })),
      };
    },
    DeleteMessage(input) {
      const queue = queueOf(input.QueueUrl);
      const at = queue.findIndex((message) => message.receiptHandle !== undefined && message.receiptHandle === input.ReceiptHandle);
      if (at < 0) throw new AwsError(400, 'ReceiptHandleIsInvalid', `The input receipt handle ${JSON.stringify(input.ReceiptHandle)} is not a valid receipt handle.`);
      queue.splice(at, 1);
      save();
      return {};
    },
    PurgeQueue(input) {
      queueOf(input.QueueUrl).length = 0;
      save();
      return {};
    },
    GetQueueUrl(input) {
      const name = String(input.QueueName);
      if (!queues.has(name)) throw new AwsError(400, 'QueueDoesNotExist', `The specified queue ${JSON.stringify(name)} does not exist.`);
      return { QueueUrl: queueUrl(name) };
    },
    GetQueueAttributes(input) {
      const queue = queueOf(input.QueueUrl);
      const now = Date.now();
      const visible = queue.filter((message) => message.invisibleUntil <= now).length;
      return { Attributes: { ApproximateNumberOfMessages: String(visible), ApproximateNumberOfMessagesNotVisible: String(queue.length - visible) } };
    },
    ListQueues() {
      return { QueueUrls: [...queues.keys()].map(queueUrl) };
    },
  };

  const snsPublish = (params: URLSearchParams): string => {
    const arn = params.get('TopicArn') ?? params.get('TargetArn') ?? '';
    const name = arn.split(':').pop() ?? '';
    if (arn !== topicArn(name) || !topics.has(name)) throw new AwsError(404, 'NotFound', `Topic does not exist: ${arn}`);
    const message = params.get('Message') ?? '';
    if (message === '') throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Message');
    if (Buffer.byteLength(message) > LIMITS.snsMessageBytes) throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
    let text = message;
    let messages: Record<string, string> | undefined;
    const structure = params.get('MessageStructure');
    if (structure !== null) {
      // https://docs.aws.amazon.com/sns/latest/api/API_Publish.html: a JSON object with a "default" string entry.
      if (structure !== 'json') throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: MessageStructure (the only valid value is json)');
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as Record<string, unknown>).default !== 'string') {
        throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
      }
      messages = Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'default'));
      text = (parsed as { default: string }).default;
    }
    const subject = params.get('Subject') ?? undefined;
    if (subject !== undefined && (subject.length === 0 || subject.length > LIMITS.subjectLength || !/^[\x20-\x7E]+$/.test(subject))) {
      throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Subject (1-100 printable ASCII characters, no line breaks)');
    }
    const entry: PublishedMessage = {
      messageId: randomUUID(),
      topicArn: arn,
      message: text,
      ...(messages === undefined ? {} : { messages }),
      publishedAt: new Date().toISOString(),
      ...(subject === undefined ? {} : { subject }),
    };
    publishedLog.append(entry);
    published.push(entry);
    if (published.length > PUBLISHED_KEPT) published.shift();
    options.onPublish?.(entry);
    return entry.messageId;
  };

  const app: FastifyInstance = Fastify({ bodyLimit: 2 * LIMITS.sqsMessageBytes });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, new URLSearchParams(body as string)));
  app.addContentTypeParser(/^application\/x-amz-json-1\.[01]$/, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new AwsError(400, 'SerializationException', 'The request body is not valid JSON'), undefined);
    }
  });

  const sendSqsError = (reply: FastifyReply, error: AwsError): FastifyReply =>
    reply
      .status(error.status)
      .header('content-type', 'application/x-amz-json-1.0')
      .header('x-amzn-query-error', `AWS.SimpleQueueService.${error.code};Sender`)
      .send({ __type: `com.amazonaws.sqs#${error.code}`, message: error.message });

  const sendSnsError = (reply: FastifyReply, error: AwsError): FastifyReply =>
    reply
      .status(error.status)
      .type('text/xml')
      .send(
        `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${error.code}</Code>` +
          `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const aws = error instanceof AwsError ? error : new AwsError(error.statusCode ?? 500, 'InternalError', error.message);
    return String(request.headers['x-amz-target'] ?? '').startsWith('AmazonSQS.') ? sendSqsError(reply, aws) : sendSnsError(reply, aws);
  });

  app.post('/*', async (request, reply) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target.startsWith('AmazonSQS.')) {
      const action = sqsActions[target.slice('AmazonSQS.'.length)];
      if (action === undefined) throw new AwsError(400, 'InvalidAction', `The action ${target} is not valid for this local endpoint.`);
      const input = (request.body ?? {}) as Record<string, unknown>;
      return reply.header('content-type', 'application/x-amz-json-1.0').send(JSON.stringify(action(input)));
    }
    const params = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const action = params.get('Action');
    if (action !== 'Publish') throw new AwsError(400, 'InvalidAction', `The action ${JSON.stringify(action)} is not valid for this local endpoint (only Publish is served).`);
    const messageId = snsPublish(params);
    return reply
      .type('text/xml')
      .send(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
          `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
  });

  // What a person inspecting the local platform wants to see.
  app.get('/', async () => ({
    topics: [...topics].map((name) => ({ arn: topicArn(name), published: published.filter((entry) => entry.topicArn === topicArn(name)) })),
    queues: [...queues].map(([name, messages]) => ({ url: queueUrl(name), messages })),
  }));

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the messaging endpoint has no TCP address');
  endpoint = `http://${options.host}:${address.port}`;

  return {
    endpoint,
    topicArn,
    queueUrl,
    published: () => [...published],
    queueMessages: (name) => [...(queues.get(name) ?? [])],
    async stop() {
      await app.close();
      save();
    },
  };
}
