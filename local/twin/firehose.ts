/**
 * A Firehose delivery stream with a Kinesis stream source and an S3 destination, as the
 * local twin runs it: objects go into a folder standing in for the bucket.
 *
 * - It reads every shard from LATEST when first started, one GetRecords call per shard
 *   per second, and from where it stopped after a restart.
 *   https://docs.aws.amazon.com/firehose/latest/dev/writing-with-kinesis-streams.html
 * - With a Lambda processor, records are first buffered by the processor's own hints and
 *   transformed (firehose-processor.ts); what it returns `Ok` goes on, `Dropped` ends
 *   there, and what fails is written under the error prefix as error documents.
 *   https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
 * - Records are buffered until the size hint (measured before compression) or the
 *   interval since the first buffered record is reached, whichever comes first, then
 *   written as one object; a record's position in the stream is recorded only once it and
 *   every record read before it are written (or dropped), so a crash loses nothing
 *   (records are read again) and stop flushes every buffer.
 *   https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html
 * - Records are concatenated as they are; the AppendDelimiterToRecord processor adds a
 *   newline to each. https://docs.aws.amazon.com/firehose/latest/APIReference/API_Processor.html
 * - Keys follow s3-prefixes / s3-object-name (firehose-prefix.ts); the timestamp is the
 *   Kinesis arrival time of the oldest record in the object.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { gzipSync } from 'fflate';
import type { CheckpointStore } from '../checkpoints';
import { HintBuffer } from './hint-buffer';
import { evaluatePrefix, objectName, type CheckedPrefixes } from './firehose-prefix';
import { errorDocument, transformRecords, type SourceRecord, type TransformContext } from './firehose-processor';
import { StreamPositions } from './stream-positions';
import type { UsageMeter } from '../usage-meter';

export interface DeliveryStreamOptions {
  readonly name: string;
  /** The delivery stream version in object names: 1, plus one per configuration change. */
  readonly version: number;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly shardIds: readonly string[];
  /** The folder standing in for the bucket. */
  readonly bucketDir: string;
  readonly prefixes: CheckedPrefixes;
  /** @default 'UTC' */
  readonly timeZone?: string;
  readonly bufferBytes: number;
  readonly bufferSeconds: number;
  readonly appendDelimiter: boolean;
  readonly compression: 'GZIP' | 'UNCOMPRESSED';
  /** Appended to every object name. */
  readonly extension: string;
  /** The Lambda data transformation, when the destination has one. */
  readonly processor?: Omit<TransformContext, 'log'>;
  readonly checkpoints: CheckpointStore;
  readonly log: (line: string) => void;
  /** Pause between GetRecords calls of a shard. @default 1000 (Firehose's one call per second) */
  readonly pollIntervalMs?: number;
  /** Counts the records taken from the source and the objects written. @default none */
  readonly meter?: Pick<UsageMeter, 'firehoseRecord' | 's3Put'>;
}

export interface DeliveryStats {
  /** Records written to objects. */
  readonly records: number;
  readonly objects: number;
  /** Records the processor dropped. */
  readonly dropped: number;
  /** Records written under the error prefix (`processing-failed`). */
  readonly failed: number;
  /** Records read and not yet written or dropped. */
  readonly buffered: number;
}

export interface DeliveryStream {
  /** Resolves once every shard has its first iterator: a record put after it is read, even from LATEST. */
  readonly reading: Promise<void>;
  stats(): DeliveryStats;
  /** Transforms and writes what is buffered now. */
  flush(): Promise<void>;
  /** Stops reading, transforms and writes what is buffered, and returns once every poller has stopped. */
  stop(): Promise<void>;
}

/** A record on its way to an object: the data to write, or the error document of a record that failed processing. */
interface Output {
  readonly record: SourceRecord;
  readonly bytes: Uint8Array;
  readonly failed: boolean;
}

/** GetRecords returns at most this many records per call. */
const GET_RECORDS_LIMIT = 10_000;
const NEWLINE = new Uint8Array([0x0a]);

export function startDeliveryStream(options: DeliveryStreamOptions): DeliveryStream {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const { processor } = options;
  const positions = new StreamPositions<SourceRecord>();
  const counts = { read: 0, records: 0, objects: 0, dropped: 0, failed: 0 };
  let stopping = false;
  /** Transformations and writes, one at a time, in order. */
  let chain: Promise<void> = Promise.resolve();
  const checkpointKey = (shardId: string) => `firehose:${options.name}/${shardId}`;
  const wakers = new Set<() => void>();

  const finish = (records: readonly SourceRecord[]): void => {
    for (const [shardId, sequenceNumber] of positions.finish(records)) options.checkpoints.set(checkpointKey(shardId), sequenceNumber);
  };
  const schedule = (step: () => Promise<void>): Promise<void> =>
    (chain = chain.then(step).catch((error: unknown) => options.log(`[firehose ${options.name}] ${(error as Error).message}`)));

  const outputSize = (output: Output) => output.bytes.length + (options.appendDelimiter || output.failed ? 1 : 0);
  const destination = new HintBuffer<Output>({ bytes: options.bufferBytes, seconds: options.bufferSeconds }, outputSize, () => void schedule(writeBuffered));
  const processing =
    processor === undefined
      ? undefined
      : new HintBuffer<SourceRecord>({ bytes: processor.settings.bufferBytes, seconds: processor.settings.bufferSeconds }, (record) => record.data.length, () => void schedule(transformBuffered));

  /** Writes one object of `outputs` under the prefix, or the error prefix for failed records. */
  const writeObject = (outputs: readonly Output[], failed: boolean): void => {
    const oldest = outputs.reduce((first, { record }) => (record.arrival < first ? record.arrival : first), (outputs[0] as Output).record.arrival);
    const zone = options.timeZone === undefined ? {} : { timeZone: options.timeZone };
    const prefix = failed ? evaluatePrefix(options.prefixes.errorPrefix, { instant: oldest, errorOutputType: 'processing-failed', ...zone }) : evaluatePrefix(options.prefixes.prefix, { instant: oldest, ...zone });
    const key = `${prefix}${objectName(options.name, options.version, oldest, options.extension, options.timeZone)}`;
    const file = path.resolve(options.bucketDir, key);
    if (!file.startsWith(`${path.resolve(options.bucketDir)}${path.sep}`)) throw new Error(`the object key ${JSON.stringify(key)} would leave the bucket folder`);
    // Error documents are JSON, one per line, whatever the destination's processors.
    const delimited = options.appendDelimiter || failed;
    const body = Buffer.concat(outputs.flatMap((output) => (delimited ? [output.bytes, NEWLINE] : [output.bytes])));
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, options.compression === 'GZIP' ? gzipSync(body) : body);
    renameSync(temporary, file);
    options.meter?.s3Put(body.length);
  };

  async function writeBuffered(): Promise<void> {
    const outputs = destination.take();
    for (const failed of [true, false]) {
      const group = outputs.filter((output) => output.failed === failed);
      if (group.length === 0) continue;
      try {
        writeObject(group, failed);
      } catch (error) {
        // S3 would be retried for up to a day: keep the records and try again later.
        options.log(`[firehose ${options.name}] writing ${group.length} record(s) failed (${(error as Error).message}); kept for the next attempt`);
        destination.putBack(group);
        if (!stopping) setTimeout(() => void schedule(writeBuffered), Math.max(1000, options.bufferSeconds * 1000)).unref();
        continue;
      }
      if (failed) counts.failed += group.length;
      else {
        counts.records += group.length;
        counts.objects += 1;
      }
      finish(group.map((output) => output.record));
    }
  }

  async function transformBuffered(): Promise<void> {
    if (processing === undefined || processor === undefined) return;
    const records = processing.take();
    if (records.length === 0) return;
    let results: Awaited<ReturnType<typeof transformRecords<SourceRecord>>>;
    try {
      results = await transformRecords(records, { ...processor, log: (line) => options.log(`[firehose ${options.name}] ${line}`) });
    } catch (error) {
      options.log(`[firehose ${options.name}] transforming ${records.length} record(s) failed (${(error as Error).message}); kept for the next attempt`);
      processing.putBack(records);
      if (!stopping) setTimeout(() => void schedule(transformBuffered), 1000).unref();
      return;
    }
    const dropped: SourceRecord[] = [];
    for (const result of results) {
      if (result.result === 'Ok') destination.add({ record: result.record, bytes: result.data, failed: false });
      else if (result.result === 'Dropped') dropped.push(result.record);
      else destination.add({ record: result.record, bytes: Buffer.from(errorDocument(result.record, result.failure, processor.settings.functionArn)), failed: true });
    }
    counts.dropped += dropped.length;
    finish(dropped);
  }

  const take = (shardId: string, records: readonly KinesisRecord[]): void => {
    for (const record of records) {
      const source: SourceRecord = {
        shardId,
        sequenceNumber: record.SequenceNumber ?? '',
        partitionKey: record.PartitionKey ?? '',
        arrival: record.ApproximateArrivalTimestamp ?? new Date(),
        data: record.Data ?? new Uint8Array(),
      };
      positions.read(source);
      counts.read += 1;
      options.meter?.firehoseRecord(source.data.length);
      if (processing !== undefined) processing.add(source);
      else destination.add({ record: source, bytes: source.data, failed: false });
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const done = () => {
        clearTimeout(handle);
        wakers.delete(done);
        resolve();
      };
      const handle = setTimeout(done, ms);
      wakers.add(done);
    });

  const poll = async (shardId: string, positioned: () => void): Promise<void> => {
    let iterator: string | undefined;
    let lastRead = options.checkpoints.get(checkpointKey(shardId));
    while (!stopping) {
      try {
        if (iterator === undefined) {
          const position = lastRead === undefined ? { ShardIteratorType: 'LATEST' as const } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: lastRead };
          ({ ShardIterator: iterator } = await options.kinesis.send(new GetShardIteratorCommand({ StreamName: options.streamName, ShardId: shardId, ...position })));
          positioned();
        }
        const page = await options.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }));
        iterator = page.NextShardIterator;
        const records = page.Records ?? [];
        if (records.length > 0) {
          lastRead = records[records.length - 1]?.SequenceNumber;
          take(shardId, records);
        }
        if (iterator === undefined) return;
      } catch (error) {
        iterator = undefined;
        if (!(error instanceof ExpiredIteratorException)) options.log(`[firehose ${options.name}] reading ${shardId} failed (${(error as Error).message}); retrying`);
      }
      await sleep(pollIntervalMs);
    }
  };

  const flush = (): Promise<void> => {
    void schedule(transformBuffered);
    return schedule(writeBuffered);
  };
  const positionedShards: Promise<void>[] = [];
  const pollers = options.shardIds.map((shardId) => {
    let positioned = () => undefined as void;
    positionedShards.push(new Promise<void>((resolve) => (positioned = resolve)));
    return poll(shardId, positioned);
  });
  return {
    reading: Promise.all(positionedShards).then(() => undefined),
    stats: () => ({ records: counts.records, objects: counts.objects, dropped: counts.dropped, failed: counts.failed, buffered: counts.read - counts.records - counts.dropped - counts.failed }),
    flush,
    async stop() {
      stopping = true;
      for (const wake of [...wakers]) wake();
      await Promise.all(pollers);
      await flush();
    },
  };
}
