/**
 * The pure part of the store handler: what a Kinesis batch turns into (items to put,
 * records to reject, catalogue updates) and which record Lambda must resume from.
 */
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { SQS_MAX_BATCH_BYTES, type QueueMessage, type RefusedEntry } from './batch-write';
import type { Decimal } from './decimal';
import { compareSequence, decodeUtf8, indexInRecord, positionSuffix, readingOfRecord, recordBytes, type RecordChecks } from './kinesis-record';
import { type ReadingError } from './reading-error';
import { readingItems, splitSeriesId, type ReadingItem } from './reading-item';
import { windowItems, windowStart, type SegmentItem } from './reading-segment';
import { hourReadings, type SeriesContributions } from './rollup-gather';

/** An item to put and the records (indexes in the batch) that produced it, earliest first. */
export interface PlannedItem {
  /** From the latest of `records`, as consecutive puts would leave it. */
  item: ReadingItem;
  /** Shared by the items of one reading; replaced, never mutated, when a repeat adds a record. */
  records: readonly number[];
}

/** A record that can never be stored. */
export interface Rejection {
  readonly index: number;
  readonly record: KinesisStreamRecord;
  readonly error: ReadingError;
}

export interface StorePlan {
  /** One entry per distinct table key, in the order of the first record producing it. */
  readonly items: PlannedItem[];
  readonly rejections: Rejection[];
  /** Records that parsed into a reading. */
  readonly readings: number;
}

/** Identifies an item by its table key (`ThingID`, `Timestamp`). */
export const itemKey = (item: { readonly ThingID?: unknown; readonly Timestamp?: unknown }): string => `${String(item.ThingID)}\u0000${String(item.Timestamp)}`;

export interface PlanOptions extends RecordChecks {
  /** Hot retention of the readings table, for `ExpiresAt`; none when absent. */
  readonly hotRetentionDays?: number;
}

/**
 * Parses every record and fans readings out to items. Items with the same key (a reading
 * sent twice, or replayed inside one batch) are merged, because one BatchWriteItem call
 * must not name a key twice and parallel calls would race on it. Two items share a key
 * only if their readings share id and time, so repeats are found per reading, not per item.
 */
export function planBatch(records: readonly KinesisStreamRecord[], options: PlanOptions = {}): StorePlan {
  const { hotRetentionDays } = options;
  const items: PlannedItem[] = [];
  const byReading = new Map<string, PlannedItem[]>();
  const rejections: Rejection[] = [];
  let readings = 0;
  records.forEach((record, index) => {
    const parsed = readingOfRecord(record, options);
    if (!parsed.ok) {
      rejections.push({ index, record, error: parsed.error });
      return;
    }
    readings++;
    const owners = [index];
    const planned = readingItems(parsed.value, hotRetentionDays).map((item): PlannedItem => ({ item, records: owners }));
    // The timestamp has a fixed width, so id + time always splits back the same way.
    const readingKey = `${parsed.value.id}\u0000${parsed.value.timestamp}`;
    const earlier = byReading.get(readingKey);
    if (earlier === undefined) {
      byReading.set(readingKey, planned);
      for (const entry of planned) items.push(entry);
    } else {
      mergeRepeat(earlier, planned, index, items);
    }
  });
  return { items, rejections, readings };
}

/** Folds a repeated reading into the items of its earlier copy: the later value wins, new metrics are added. */
function mergeRepeat(earlier: PlannedItem[], repeat: readonly PlannedItem[], index: number, items: PlannedItem[]): void {
  for (const { item } of repeat) {
    const known = earlier.find((planned) => planned.item.ThingID === item.ThingID);
    if (known === undefined) {
      const added: PlannedItem = { item, records: [index] };
      earlier.push(added);
      items.push(added);
    } else {
      known.item = item;
      known.records = [...known.records, index];
    }
  }
}

/** The readings of one series in one window that a batch writes together (segment items, reading-segment.ts). */
export interface PlannedSegment {
  readonly entries: readonly PlannedItem[];
  /** Every record among the entries', earliest first: the first is where a redelivery must start. */
  readonly records: readonly number[];
}

/** One item of a segment (a segment over the part budget has several) and the segment it belongs to. */
export interface PlannedPart {
  readonly item: SegmentItem;
  readonly segment: PlannedSegment;
}

/**
 * Packs the batch's reading items into segment items: one segment per series and window,
 * keyed by the sequence numbers of its own records, so the same records always give the
 * same keys. Parts come in the order of their segment's earliest record. A window is a
 * rollup hour: rollupContributions reads the stored segments' minutes off their entries.
 */
export function planSegments(items: readonly PlannedItem[], records: readonly KinesisStreamRecord[], hotRetentionDays?: number): PlannedPart[] {
  const groups = new Map<string, PlannedItem[]>();
  for (const planned of items) {
    const key = `${planned.item.ThingID}\u0000${windowStart(planned.item.Timestamp)}`;
    const known = groups.get(key);
    if (known === undefined) groups.set(key, [planned]);
    else known.push(planned);
  }
  const segments: PlannedSegment[] = [...groups.values()].map((entries) => ({ entries, records: [...new Set(entries.flatMap((entry) => entry.records))].sort((a, b) => a - b) }));
  segments.sort((a, b) => (a.records[0] ?? 0) - (b.records[0] ?? 0));
  return segments.flatMap((segment) => {
    const { entries, records: owners } = segment;
    let lowest = (records[owners[0] ?? 0] as KinesisStreamRecord).kinesis.sequenceNumber;
    let highest = lowest;
    for (const index of owners) {
      const sequence = (records[index] as KinesisStreamRecord).kinesis.sequenceNumber;
      if (compareSequence(sequence, lowest) < 0) lowest = sequence;
      if (compareSequence(sequence, highest) > 0) highest = sequence;
    }
    const position = { shardId: shardIdOf(records[owners[0] ?? 0] as KinesisStreamRecord), lowest, highest };
    const readings = entries.map(({ item }) => ({ timestamp: item.Timestamp, value: item.Value }));
    return windowItems(entries[0]?.item.ThingID ?? '', readings, position, hotRetentionDays).map((item) => ({ item, segment }));
  });
}

/** The reading items of segments DynamoDB refused, each once, with the reason given for its part. */
export function refusedReadings(refused: readonly RefusedEntry<PlannedPart>[]): RefusedEntry<PlannedItem>[] {
  const seen = new Set<PlannedItem>();
  const result: RefusedEntry<PlannedItem>[] = [];
  for (const { entry, reason } of refused) {
    for (const planned of entry.segment.entries) {
      if (seen.has(planned)) continue;
      seen.add(planned);
      result.push({ entry: planned, reason });
    }
  }
  return result;
}

/** The newest stored reading of one series, for the catalogue. */
export interface SeriesLatest {
  readonly series: string;
  readonly timestamp: string;
  readonly value: Decimal;
  /** Earliest record that produced it: replaying from there rewrites it. */
  readonly record: number;
}

/** The newest item of each series among `items` (fixed-width timestamps compare as strings). */
export function latestPerSeries(items: Iterable<PlannedItem>): SeriesLatest[] {
  const latest = new Map<string, SeriesLatest>();
  for (const { item, records } of items) {
    const known = latest.get(item.ThingID);
    if (known === undefined || known.timestamp < item.Timestamp) {
      latest.set(item.ThingID, { series: item.ThingID, timestamp: item.Timestamp, value: item.Value, record: records[0] ?? 0 });
    }
  }
  return [...latest.values()];
}

/** The segments all of whose parts were stored (none in `notStored`), each once, in the order of their earliest record. */
export function storedSegments(parts: readonly PlannedPart[], notStored: Iterable<PlannedPart>): PlannedSegment[] {
  const failed = new Set<PlannedSegment>();
  for (const part of notStored) failed.add(part.segment);
  const segments: PlannedSegment[] = [];
  // A segment's parts are consecutive.
  for (const { segment } of parts) if (segments[segments.length - 1] !== segment && !failed.has(segment)) segments.push(segment);
  return segments;
}

/** What the stored segments contribute to rollups, per series (segments planned with rollups). */
export function rollupContributions(segments: Iterable<PlannedSegment>): Map<string, SeriesContributions> {
  const bySeries = new Map<string, SeriesContributions>();
  for (const segment of segments) {
    // A segment is one series in one hour: one lookup for all its readings.
    const hour = hourReadings(segment.entries);
    if (hour === undefined) continue;
    const series = (segment.entries[0] as PlannedItem).item.ThingID;
    const firstRecord = segment.records[0] as number;
    const known = bySeries.get(series);
    if (known === undefined) bySeries.set(series, { hours: [hour], firstRecord });
    else {
      known.hours.push(hour);
      if (firstRecord < known.firstRecord) known.firstRecord = firstRecord;
    }
  }
  return bySeries;
}

/** The shard a batch came from (all its records share it). */
export const shardIdOf = (record: KinesisStreamRecord): string => record.eventID.split(':')[0] ?? '';

/** The earliest of the given record indexes, if any. */
export function firstFailedRecord(...indexes: Iterable<number>[]): number | undefined {
  let first: number | undefined;
  for (const list of indexes) {
    for (const index of list) if (first === undefined || index < first) first = index;
  }
  return first;
}

/**
 * The partial batch response: Lambda resumes the shard at the named record, so only the
 * first failed one is named; every record before it has been stored or queued.
 */
export function batchResponse(records: readonly KinesisStreamRecord[], firstFailed: number | undefined): KinesisStreamBatchResponse {
  const record = firstFailed === undefined ? undefined : records[firstFailed];
  return { batchItemFailures: record === undefined ? [] : [{ itemIdentifier: record.kinesis.sequenceNumber }] };
}

/**
 * What identifies a reading across redeliveries, retries and bisection: its stream, shard
 * and sequence number, and its index in a packed record. Failure messages carry it, so a
 * reader can tell a repeat (SQS standard queues may deliver one message twice) from a
 * second bad reading.
 */
export const failureRecordId = (record: KinesisStreamRecord): string => `${record.eventSourceARN}/${shardIdOf(record)}/${record.kinesis.sequenceNumber}${positionSuffix(record)}`;

/** The message a rejected record becomes on the failure queue. */
export interface FailureMessageBody {
  /** Stream ARN, shard and sequence number: the same for every delivery of the record (failureRecordId). */
  readonly recordId: string;
  readonly reason: ReadingError;
  /** The record's bytes: as text when they are UTF-8, else base64. */
  readonly payload: string;
  readonly payloadEncoding: 'utf8' | 'base64';
  /** Set when the payload was cut to fit SQS; the stream still holds the whole record until it expires. */
  readonly payloadTruncatedFromBytes?: number;
  readonly sequenceNumber: string;
  /** The reading's index in its record, when the record packs several (the payload is that reading alone). */
  readonly indexInRecord?: number;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly eventSourceARN: string;
  /** Epoch seconds at which Kinesis received the record. */
  readonly approximateArrivalTimestamp: number;
}

// Characters SQS refuses that JSON.stringify leaves as they are.
const SQS_UNSAFE = /[\uFFFE\uFFFF]/;

/** The failure-queue message id of the record at `index` (unique within a batch). */
export const failureMessageId = (index: number): string => `record-${index}`;

/** Builds the failure-queue message for a rejected record, within SQS's size limit. */
export function failureMessage(rejection: Rejection, maxBytes = SQS_MAX_BATCH_BYTES): QueueMessage {
  const { record } = rejection;
  const { kinesis } = record;
  const bytes = recordBytes(record);
  const text = decodeUtf8(bytes);
  const isText = text !== undefined && !SQS_UNSAFE.test(text);
  const base: Omit<FailureMessageBody, 'payload' | 'payloadEncoding'> = {
    recordId: failureRecordId(record),
    reason: rejection.error,
    sequenceNumber: kinesis.sequenceNumber,
    ...indexInRecord(record),
    partitionKey: kinesis.partitionKey,
    shardId: shardIdOf(record),
    eventSourceARN: record.eventSourceARN,
    approximateArrivalTimestamp: kinesis.approximateArrivalTimestamp,
  };
  const whole: FailureMessageBody = isText ? { ...base, payload: text, payloadEncoding: 'utf8' } : { ...base, payload: bytes.toString('base64'), payloadEncoding: 'base64' };
  let body = JSON.stringify(whole);
  if (Buffer.byteLength(body) > maxBytes) {
    const room = maxBytes - Buffer.byteLength(JSON.stringify({ ...base, payload: '', payloadEncoding: 'base64', payloadTruncatedFromBytes: bytes.length }));
    const keptBytes = Math.max(0, Math.floor(room / 4) * 3);
    const cut: FailureMessageBody = { ...base, payload: bytes.subarray(0, keptBytes).toString('base64'), payloadEncoding: 'base64', payloadTruncatedFromBytes: bytes.length };
    body = JSON.stringify(cut);
  }
  return { id: failureMessageId(rejection.index), body };
}

/**
 * The records of items DynamoDB refused, one rejection per record, naming the metrics
 * refused and DynamoDB's reason.
 */
export function refusalsOf(refused: readonly RefusedEntry<PlannedItem>[], records: readonly KinesisStreamRecord[]): Rejection[] {
  const byRecord = new Map<number, { metrics: string[]; reason: string }>();
  for (const { entry, reason } of refused) {
    const metric = splitSeriesId(entry.item.ThingID).metric;
    for (const index of entry.records) {
      const known = byRecord.get(index);
      if (known === undefined) byRecord.set(index, { metrics: [metric], reason });
      else known.metrics.push(metric);
    }
  }
  return [...byRecord].map(([index, { metrics, reason }]) => ({
    index,
    record: records[index] as KinesisStreamRecord,
    error: {
      code: 'store-refused',
      field: metrics[0] as string,
      message: `DynamoDB refused to store metric${metrics.length > 1 ? 's' : ''} ${metrics.map((metric) => `"${metric}"`).join(', ')} of this reading (${reason}); its other metrics, if any, are stored`,
    },
  }));
}

/** Rejections of both kinds in record order, one per record (a record the parser refused has no items to refuse). */
export function mergeRejections(...lists: readonly (readonly Rejection[])[]): Rejection[] {
  return lists.flat().sort((a, b) => a.index - b.index);
}
