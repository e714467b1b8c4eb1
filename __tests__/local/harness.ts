/**
 * Helpers for the local platform's tests: an in-memory Kinesis emulator with a stream,
 * and a bounded wait for something the pipeline does in the background.
 */
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startKinesisEmulator, type RunningEmulator } from '../../local/emulators';
import { CheckpointStore } from '../../local/checkpoints';
import { ensureStream, type StreamInfo } from '../../local/twin/data-stores';
import type { DeliveryStreamOptions } from '../../local/twin/firehose';
import type { CheckedPrefixes } from '../../local/twin/firehose-prefix';

export interface KinesisHarness {
  readonly emulator: RunningEmulator;
  readonly client: KinesisClient;
  readonly stream: StreamInfo;
  readonly streamName: string;
  /** Puts records with the given partition keys and payloads; resolves to their sequence numbers, in order. */
  put(records: readonly { key: string; data: string }[]): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startKinesis(streamName = 'test-stream', shardCount = 1): Promise<KinesisHarness> {
  const emulator = await startKinesisEmulator({ host: '127.0.0.1', port: 0 });
  const client = new KinesisClient({
    endpoint: emulator.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });
  const stream = await ensureStream(client, streamName, shardCount);
  return {
    emulator,
    client,
    stream,
    streamName,
    async put(records) {
      const result = await client.send(
        new PutRecordsCommand({ StreamName: streamName, Records: records.map((record) => ({ PartitionKey: record.key, Data: Buffer.from(record.data) })) }),
      );
      if ((result.FailedRecordCount ?? 0) > 0) throw new Error('kinesalite refused records');
      return (result.Records ?? []).map((record) => record.SequenceNumber as string);
    },
    async stop() {
      client.destroy();
      await emulator.stop();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
/** A delivery stream named `archive` reading the harness's stream into `bucketDir`: Firehose's default hints, GZIP lines, polling every 20 ms. */
export function deliveryStreamOptions(kinesis: KinesisHarness, bucketDir: string, prefixes: CheckedPrefixes, checkpoints = new CheckpointStore()): DeliveryStreamOptions {
  return {
    name: 'archive',
    version: 1,
    kinesis: kinesis.client,
    streamName: kinesis.streamName,
    shardIds: kinesis.stream.shardIds,
    bucketDir,
    prefixes,
    bufferBytes: 5 * 1024 * 1024,
    bufferSeconds: 300,
    appendDelimiter: true,
    compression: 'GZIP',
    extension: '.jsonl.gz',
    checkpoints,
    log: () => undefined,
    pollIntervalMs: 20,
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface HttpResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  json(): Record<string, unknown>;
}

/**
 * One real HTTP request (Fastify's `inject` cannot load under jest on Node 20). A string
 * body goes out with exactly the headers given: no content type is added.
 */
export async function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpResult> {
  const body = options.body === undefined ? undefined : new Uint8Array(typeof options.body === 'string' ? Buffer.from(options.body) : options.body);
  const response = await fetch(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  return { statusCode: response.status, headers, body: text, json: () => JSON.parse(text) as Record<string, unknown> };
}
