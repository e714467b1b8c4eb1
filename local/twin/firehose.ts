/**
 * A Firehose delivery stream with a Kinesis stream source and an S3 destination, as the
 * local twin runs it: objects go into a folder standing in for the bucket.
 *
 * - It reads every shard from LATEST when first started, one GetRecords call per shard
 *   per second, and from where it stopped after a restart.
 *   https://docs.aws.amazon.com/firehose/latest/dev/writing-with-kinesis-streams.html
 * - Records are buffered until the size hint (measured before compression) or the
 *   interval since the first buffered record is reached, whichever comes first, then
 *   written as one object; the position in the stream is recorded only once the object is
 *   written, so a crash loses nothing (records are read again) and stop flushes the buffer.
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
import { evaluatePrefix, objectName, type CheckedPrefixes } from './firehose-prefix';

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
  readonly checkpoints: CheckpointStore;
  readonly log: (line: string) => void;
  /** Pause between GetRecords calls of a shard. @default 1000 (Firehose's one call per second) */
  readonly pollIntervalMs?: number;
}

export interface DeliveryStats {
  /** Records written to objects. */
  readonly records: number;
  readonly objects: number;
  /** Records read and not yet written. */
  readonly buffered: number;
}

export interface DeliveryStream {
  stats(): DeliveryStats;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  /** Stops reading, writes what is buffered, and returns once every poller has stopped. */
  stop(): Promise<void>;
}

interface Buffered {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly arrival: Date;
  readonly data: Uint8Array;
}

/** GetRecords returns at most this many records per call. */
const GET_RECORDS_LIMIT = 10_000;
const NEWLINE = new Uint8Array([0x0a]);

export function startDeliveryStream(options: DeliveryStreamOptions): DeliveryStream {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const buffer: Buffered[] = [];
  let bufferedBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let writing: Promise<void> = Promise.resolve();
  const counts = { records: 0, objects: 0 };
  const checkpointKey = (shardId: string) => `firehose:${options.name}/${shardId}`;
  const wakers = new Set<() => void>();

  const write = (records: Buffered[]): void => {
    const oldest = records.reduce((first, record) => (record.arrival < first ? record.arrival : first), records[0]?.arrival ?? new Date());
    const prefix = evaluatePrefix(options.prefixes.prefix, { instant: oldest, ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }) });
    const key = `${prefix}${objectName(options.name, options.version, oldest, options.extension, options.timeZone)}`;
    const file = path.resolve(options.bucketDir, key);
    if (!file.startsWith(`${path.resolve(options.bucketDir)}${path.sep}`)) throw new Error(`the object key ${JSON.stringify(key)} would leave the bucket folder`);
    const parts = records.flatMap((record) => (options.appendDelimiter ? [record.data, NEWLINE] : [record.data]));
    const body = Buffer.concat(parts);
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, options.compression === 'GZIP' ? gzipSync(body) : body);
    renameSync(temporary, file);
    // Only now is the position safe to move past these records.
    const last = new Map<string, string>();
    for (const record of records) last.set(record.shardId, record.sequenceNumber);
    for (const [shardId, sequenceNumber] of last) options.checkpoints.set(checkpointKey(shardId), sequenceNumber);
    counts.records += records.length;
    counts.objects += 1;
  };

  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    writing = writing.then(() => {
      if (buffer.length === 0) return;
      const records = buffer.slice();
      try {
        write(records);
        buffer.splice(0, records.length);
        bufferedBytes -= records.reduce((sum, record) => sum + size(record), 0);
      } catch (error) {
        // S3 would be retried for up to a day: keep the records and try again at the next flush.
        options.log(`[firehose ${options.name}] writing ${records.length} record(s) failed (${(error as Error).message}); kept for the next attempt`);
        if (!stopping) timer = setTimeout(() => void flush(), Math.max(1000, options.bufferSeconds * 1000));
      }
    });
    return writing;
  };

  const size = (record: Buffered) => record.data.length + (options.appendDelimiter ? 1 : 0);

  const take = (shardId: string, records: readonly KinesisRecord[]): void => {
    for (const record of records) {
      const entry: Buffered = { shardId, sequenceNumber: record.SequenceNumber ?? '', arrival: record.ApproximateArrivalTimestamp ?? new Date(), data: record.Data ?? new Uint8Array() };
      buffer.push(entry);
      bufferedBytes += size(entry);
    }
    if (bufferedBytes >= options.bufferBytes || options.bufferSeconds === 0) void flush();
    else timer ??= setTimeout(() => void flush(), options.bufferSeconds * 1000);
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

  const poll = async (shardId: string): Promise<void> => {
    let iterator: string | undefined;
    let lastRead = options.checkpoints.get(checkpointKey(shardId));
    while (!stopping) {
      try {
        if (iterator === undefined) {
          const position = lastRead === undefined ? { ShardIteratorType: 'LATEST' as const } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: lastRead };
          ({ ShardIterator: iterator } = await options.kinesis.send(new GetShardIteratorCommand({ StreamName: options.streamName, ShardId: shardId, ...position })));
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

  const pollers = options.shardIds.map((shardId) => poll(shardId));
  return {
    stats: () => ({ ...counts, buffered: buffer.length }),
    flush,
    async stop() {
      stopping = true;
      for (const wake of [...wakers]) wake();
      await Promise.all(pollers);
      await flush();
    },
  };
}
