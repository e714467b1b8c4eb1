/**
 * A local Kinesis event source mapping: for one function, one poller per shard that
 * reads the stream and invokes the function the way Lambda's mapping does, with the
 * settings of the stack's `aws_lambda_event_source_mapping` (twin/mappings.ts):
 *
 * - batches of up to `batchSize` records, gathered for at most the batching window;
 * - with `ReportBatchItemFailures`: records before the lowest reported sequence number
 *   are done, the rest is retried; an unusable report fails the whole batch; without it,
 *   the function's answer is ignored and only an error fails the batch;
 * - a function error retries the batch, split in two first when bisecting is on;
 * - every retry counts towards `maximumRetryAttempts`; records older than
 *   `maximumRecordAgeSeconds` are not sent; either way the records given up on are
 *   described to the on-failure destination (the failure queue) in Lambda's format
 *   (mapping-payloads.ts, with the event it invokes the function with);
 * - one batch at a time per shard (parallelization factor 1), in stream order;
 * - the position is checkpointed after every batch, so a restart resumes after it.
 */
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { MAX_PAYLOAD_BYTES, recordPayloadBytes } from '../handlers/contract';
import { CheckpointStore } from './checkpoints';
import type { LocalFunction } from './lambda-runtime';
import { failureRecord, firstFailure, kinesisEvent, type FailureCondition, type FailureRecord, type RecordSource } from './mapping-payloads';

export interface EventSourceSettings {
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  /** -1: retry until the records expire. */
  readonly maximumRetryAttempts: number;
  /** -1: records never expire. */
  readonly maximumRecordAgeSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** `FunctionResponseTypes` holds `ReportBatchItemFailures`. */
  readonly reportBatchItemFailures: boolean;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  /** For `AT_TIMESTAMP`. */
  readonly startingPositionTimestamp?: Date;
}

export interface MappingStats {
  invocations: number;
  /** Records the function finished (success, or past a reported failure). */
  recordsDone: number;
  retries: number;
  /** Records given up on and described to the failure destination. */
  recordsDiscarded: number;
  /** Records fetched from the stream and not yet done. */
  recordsPending: number;
}

export interface EventSourceMappingOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly shardIds: readonly string[];
  readonly region: string;
  readonly fn: LocalFunction;
  /** The function's execution role, which Lambda names as the event's `invokeIdentityArn`. */
  readonly roleArn: string;
  readonly settings: EventSourceSettings;
  readonly checkpoints: CheckpointStore;
  /** The on-failure destination. */
  readonly sendFailure: (record: FailureRecord) => Promise<void>;
  readonly log: (line: string) => void;
  /** Pause between polls of an empty shard. @default 200 */
  readonly pollIntervalMs?: number;
  /** First retry delay, doubled per attempt up to 10 s. @default 200 */
  readonly retryBaseDelayMs?: number;
}

export interface EventSourceMapping {
  stats(): MappingStats;
  /**
   * Ends the batching windows now: each poller delivers what its shard holds without waiting
   * out the window. Not a Lambda feature: for tools that send in rounds and wait for each
   * (the cost sample), so a round is still one batch but takes no window to arrive.
   */
  endBatchingWindows(): void;
  /** Stops fetching, lets the batch in flight finish (no new retries), and returns when every poller has stopped. */
  stop(): Promise<void>;
}

interface Attempt {
  readonly records: KinesisRecord[];
  /** Failed invocations so far for these records. */
  readonly failures: number;
}

const MAX_RETRY_DELAY_MS = 10_000;
export function startEventSourceMapping(options: EventSourceMappingOptions): EventSourceMapping {
  const pollers = options.shardIds.map((shardId) => new ShardPoller(options, shardId));
  const running = pollers.map((poller) => poller.run());
  return {
    stats() {
      const total: MappingStats = { invocations: 0, recordsDone: 0, retries: 0, recordsDiscarded: 0, recordsPending: 0 };
      for (const poller of pollers) {
        const counts = poller.stats();
        for (const key of Object.keys(total) as (keyof MappingStats)[]) total[key] += counts[key];
      }
      return total;
    },
    endBatchingWindows() {
      for (const poller of pollers) poller.endBatchingWindow();
    },
    async stop() {
      for (const poller of pollers) poller.stop();
      await Promise.all(running);
    },
  };
}

class ShardPoller {
  private iterator: string | undefined;
  /** Sequence number of the last record fetched, to renew an expired iterator. */
  private lastFetched: string | undefined;
  private readonly buffer: KinesisRecord[] = [];
  /** The batch being delivered. */
  private inFlight: readonly KinesisRecord[] = [];
  private readonly counts = { invocations: 0, recordsDone: 0, retries: 0, recordsDiscarded: 0 };
  private stopping = false;
  /** Set by `endBatchingWindow`: the batch being gathered is delivered once the shard has no more records. */
  private windowEnding = false;
  private gathering = false;
  private wake: (() => void) | undefined;
  private readonly checkpointKey: string;
  /** What the payloads Lambda sends say of where the records come from. */
  private readonly source: RecordSource;
  private readonly pollIntervalMs: number;
  private readonly retryBaseDelayMs: number;

  constructor(
    private readonly options: EventSourceMappingOptions,
    private readonly shardId: string,
  ) {
    this.checkpointKey = CheckpointStore.key(options.fn.name, shardId);
    this.source = { shardId, streamArn: options.streamArn, region: options.region, functionArn: options.fn.arn, roleArn: options.roleArn };
    this.lastFetched = options.checkpoints.get(this.checkpointKey);
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 200;
  }

  stats(): MappingStats {
    return { ...this.counts, recordsPending: this.buffer.length + this.inFlight.length };
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  endBatchingWindow(): void {
    this.windowEnding = true;
    // Only a wait between polls is cut short, never a retry's delay.
    if (this.gathering) this.wake?.();
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const batch = await this.collectBatch();
        if (batch.length > 0) {
          this.inFlight = batch;
          await this.deliver(batch);
        }
      } catch (error) {
        // The emulator restarting or a network hiccup: keep the position and try again.
        this.options.log(`${this.options.fn.name} ${this.shardId}: reading the stream failed (${(error as Error).message}); retrying`);
        this.iterator = undefined;
        await this.sleep(1000);
      } finally {
        this.inFlight = [];
      }
    }
  }

  /**
   * Fills a batch up to the batch size, waiting at most the batching window once a record is
   * in hand, or, once the window is ended early, until a fetch finds the shard has no more.
   */
  private async collectBatch(): Promise<KinesisRecord[]> {
    const { batchSize, maximumBatchingWindowSeconds } = this.options.settings;
    let windowEnds = this.buffer.length > 0 ? Date.now() + maximumBatchingWindowSeconds * 1000 : undefined;
    this.gathering = true;
    try {
      while (this.buffer.length < batchSize && !this.stopping) {
        if (windowEnds !== undefined && Date.now() >= windowEnds) break;
        // Read before the fetch: a fetch started earlier may have missed records put before the window was ended.
        const ending = this.windowEnding;
        const fetched = await this.fetch(batchSize - this.buffer.length);
        if (ending && fetched === 0) {
          this.windowEnding = false;
          if (this.buffer.length > 0) break;
        }
        if (this.buffer.length > 0 && windowEnds === undefined) windowEnds = Date.now() + maximumBatchingWindowSeconds * 1000;
        if (fetched === 0) await this.sleep(Math.min(this.pollIntervalMs, windowEnds === undefined ? Infinity : Math.max(0, windowEnds - Date.now())));
      }
    } finally {
      this.gathering = false;
    }
    // While stopping, what is in hand is still delivered once; what is not stays in the stream.
    const batch: KinesisRecord[] = [];
    let bytes = 0;
    while (batch.length < batchSize && this.buffer.length > 0) {
      const size = recordPayloadBytes(this.buffer[0]?.Data?.length ?? 0);
      if (batch.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) break;
      bytes += size;
      batch.push(this.buffer.shift() as KinesisRecord);
    }
    return batch;
  }

  private async fetch(limit: number): Promise<number> {
    const kinesis = this.options.kinesis;
    if (this.iterator === undefined) {
      const position =
        this.lastFetched !== undefined
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: this.lastFetched }
          : { ShardIteratorType: this.options.settings.startingPosition, ...(this.options.settings.startingPositionTimestamp === undefined ? {} : { Timestamp: this.options.settings.startingPositionTimestamp }) };
      const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: this.options.streamName, ShardId: this.shardId, ...position }));
      this.iterator = ShardIterator;
    }
    let page;
    try {
      page = await kinesis.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: limit }));
    } catch (error) {
      if (error instanceof ExpiredIteratorException) {
        this.iterator = undefined;
        return 0;
      }
      throw error;
    }
    const records = page.Records ?? [];
    this.iterator = page.NextShardIterator;
    if (this.iterator === undefined) {
      this.options.log(`${this.options.fn.name} ${this.shardId}: the shard is closed; its poller stops`);
      this.stopping = true;
    }
    if (records.length > 0) {
      this.buffer.push(...records);
      this.lastFetched = records[records.length - 1]?.SequenceNumber;
    }
    return records.length;
  }

  /** Runs one batch to the end: done, or given up on and described to the failure destination. */
  private async deliver(batch: KinesisRecord[]): Promise<void> {
    const { maximumRetryAttempts, bisectBatchOnFunctionError } = this.options.settings;
    const queue: Attempt[] = [{ records: batch, failures: 0 }];
    while (queue.length > 0) {
      const attempt = queue.shift() as Attempt;
      const records = await this.dropExpired(attempt);
      if (records === undefined) return;
      if (records.length === 0) continue;

      const outcome = await this.options.fn.invoke(kinesisEvent(records, this.source));
      this.counts.invocations += 1;
      const failedAt = !outcome.ok ? 'error' : this.options.settings.reportBatchItemFailures ? firstFailure(outcome.response, records) : undefined;
      if (failedAt === undefined) {
        this.finish(records, 'done');
        continue;
      }

      const reason = outcome.ok ? (failedAt === 'error' ? 'an unusable batchItemFailures report' : 'a reported item failure') : `${outcome.errorType}: ${outcome.errorMessage}`;
      let remaining = records;
      if (typeof failedAt === 'number') {
        if (failedAt > 0) this.finish(records.slice(0, failedAt), 'done');
        remaining = records.slice(failedAt);
      }
      const failures = attempt.failures + 1;
      if (maximumRetryAttempts >= 0 && failures > maximumRetryAttempts) {
        this.options.log(`${this.options.fn.name} ${this.shardId}: giving up on ${remaining.length} record(s) after ${failures} attempts (${reason})`);
        const sent = await this.sendFailure(remaining, 'RetryAttemptsExhausted', failures, outcome.ok ? undefined : 'Unhandled');
        if (!sent) return;
        this.finish(remaining, 'discarded');
        continue;
      }
      this.counts.retries += 1;
      this.options.log(`${this.options.fn.name} ${this.shardId}: retry ${failures} of ${maximumRetryAttempts} for ${remaining.length} record(s) (${reason})`);
      await this.sleep(Math.min(MAX_RETRY_DELAY_MS, this.retryBaseDelayMs * 2 ** (failures - 1)));
      // Stopping: leave the rest in the stream, unacknowledged, for the next start.
      if (this.stopping) return this.abandon();
      if (failedAt === 'error' && bisectBatchOnFunctionError && remaining.length > 1) {
        const half = Math.ceil(remaining.length / 2);
        queue.unshift({ records: remaining.slice(0, half), failures }, { records: remaining.slice(half), failures });
      } else {
        queue.unshift({ records: remaining, failures });
      }
    }
  }

  /**
   * Records past the maximum age are not sent; they form a prefix, since the shard is in
   * arrival order. `undefined` when the failure destination could not take them (stopping).
   */
  private async dropExpired(attempt: Attempt): Promise<KinesisRecord[] | undefined> {
    const maxAge = this.options.settings.maximumRecordAgeSeconds;
    if (maxAge < 0) return attempt.records;
    const oldest = Date.now() - maxAge * 1000;
    const expired = attempt.records.findIndex((record) => (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) >= oldest);
    const cut = expired < 0 ? attempt.records.length : expired;
    if (cut === 0) return attempt.records;
    const old = attempt.records.slice(0, cut);
    this.options.log(`${this.options.fn.name} ${this.shardId}: ${old.length} record(s) older than ${maxAge} s are not processed`);
    if (!(await this.sendFailure(old, 'RecordAgeExceeded', attempt.failures))) return undefined;
    this.finish(old, 'discarded');
    return attempt.records.slice(cut);
  }

  private finish(records: KinesisRecord[], how: 'done' | 'discarded'): void {
    const last = records[records.length - 1]?.SequenceNumber;
    if (last === undefined) return;
    this.options.checkpoints.set(this.checkpointKey, last);
    if (how === 'done') this.counts.recordsDone += records.length;
    else this.counts.recordsDiscarded += records.length;
  }

  /** Forgets records in hand so the next start reads them again from the checkpoint. */
  private abandon(): void {
    this.buffer.length = 0;
  }

  /** Sends the description of `records` to the failure destination, retrying until it is taken or the poller stops. */
  private async sendFailure(records: KinesisRecord[], condition: FailureCondition, invokeCount: number, functionError?: string): Promise<boolean> {
    const failure = failureRecord(records, this.source, { condition, invokeCount, ...(functionError === undefined ? {} : { functionError }) });
    for (let attempt = 0; !this.stopping || attempt === 0; attempt += 1) {
      try {
        await this.options.sendFailure(failure);
        return true;
      } catch (error) {
        this.options.log(`${this.options.fn.name} ${this.shardId}: the failure destination refused a record (${(error as Error).message}); retrying`);
        await this.sleep(Math.min(MAX_RETRY_DELAY_MS, this.retryBaseDelayMs * 2 ** attempt));
      }
    }
    this.abandon();
    return false;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
