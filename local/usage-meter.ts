/**
 * What the local platform does, counted in the units AWS bills, for `npm run cost`: API
 * requests, Kinesis records and PUT payload units, DynamoDB capacity units, Firehose billed
 * bytes, S3 objects, Lambda invocations and GB-seconds. Opt-in: a platform started with a
 * meter feeds it (platform.ts); without one nothing is tapped.
 *
 * DynamoDB units come from the emulator itself: the tap asks dynalite for
 * `ReturnConsumedCapacity: TOTAL` on every data call (and removes the figure from answers
 * whose caller did not ask for it). dynalite sizes items by the documented rules for the
 * ASCII data the pipeline stores (it counts string characters, not UTF-8 bytes), rounds per
 * item for writes and single reads and per call for Query and Scan, and halves eventually
 * consistent reads. A conditional write whose condition fails still consumes units, which
 * dynalite does not report: the meter counts the documented minimum of one.
 */
import { crc32 } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

const KIB = 1024;

/** Each rule with the AWS page it comes from. */
export const BILLING_RULES = {
  dynamoWriteUnitBytes: { value: KIB, source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#write-operation-consumption' },
  dynamoReadUnitBytes: { value: 4 * KIB, source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#read-operation-consumption' },
  /** An item is the UTF-8 bytes of its attribute names and values; a list or map adds 3 bytes, and 1 per element. */
  dynamoListOrMapOverhead: { value: 3, source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html' },
  dynamoConditionFailed: { value: 1, source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#write-operation-consumption' },
  kinesisPutPayloadUnitBytes: { value: 25 * KIB, source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  kinesisOnDemandRecordRounding: { value: KIB, source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  firehoseRecordRounding: { value: 5 * KIB, source: 'https://aws.amazon.com/firehose/pricing/' },
  lambdaDurationRoundingMs: { value: 1, source: 'https://aws.amazon.com/lambda/pricing/' },
} as const;

const roundUp = (bytes: number, unit: number): number => Math.max(1, Math.ceil(bytes / unit)) * unit;

/** Write units of one item write: 1 KB units, doubled inside a transaction. */
export function dynamoWriteUnits(itemBytes: number, options: { readonly transactional?: boolean } = {}): number {
  return (roundUp(itemBytes, BILLING_RULES.dynamoWriteUnitBytes.value) / KIB) * (options.transactional === true ? 2 : 1);
}

export type ReadConsistency = 'eventual' | 'strong' | 'transactional';

/** Read units of `bytes` read in one item (GetItem) or one call (Query, Scan): 4 KB units, half for eventually consistent reads, double in a transaction. */
export function dynamoReadUnits(bytes: number, consistency: ReadConsistency): number {
  const units = roundUp(bytes, BILLING_RULES.dynamoReadUnitBytes.value) / (4 * KIB);
  return consistency === 'eventual' ? units / 2 : consistency === 'transactional' ? units * 2 : units;
}

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');
/** 1 byte per two significant digits, plus 1; leading and trailing zeroes do not count. */
const numberBytes = (text: string): number => {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
};

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, text) => sum + utf8(text), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, text) => sum + numberBytes(text), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, bytes) => sum + bytes.length, 0);
  const overhead = BILLING_RULES.dynamoListOrMapOverhead.value;
  if (value.L !== undefined) return overhead + value.L.reduce((sum, element) => sum + 1 + valueBytes(element), 0);
  return overhead + Object.entries(value.M ?? {}).reduce((sum, [name, element]) => sum + 1 + utf8(name) + valueBytes(element), 0);
}

/** An item's size as DynamoDB bills it: attribute names and values, by the documented rules. */
export function dynamoItemBytes(item: Readonly<Record<string, AttributeValue>>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);
}

/** PUT payload units of one Kinesis record (provisioned streams): 25 KB chunks. */
export const kinesisPutPayloadUnits = (recordBytes: number): number => roundUp(recordBytes, BILLING_RULES.kinesisPutPayloadUnitBytes.value) / BILLING_RULES.kinesisPutPayloadUnitBytes.value;
/** Bytes an on-demand stream bills as written for one record: rounded up to 1 KB. */
export const kinesisOnDemandBytes = (recordBytes: number): number => roundUp(recordBytes, BILLING_RULES.kinesisOnDemandRecordRounding.value);
/** Bytes Firehose bills for one ingested record: rounded up to 5 KB. */
export const firehoseBilledBytes = (recordBytes: number): number => roundUp(recordBytes, BILLING_RULES.firehoseRecordRounding.value);
/** GB-seconds of one invocation: configured memory × duration rounded up to the millisecond. */
export const lambdaGbSeconds = (memoryMiB: number, durationMs: number): number => (memoryMiB / 1024) * (Math.ceil(durationMs) / 1000);

export interface FunctionUsage {
  readonly memoryMiB: number;
  invocations: number;
  durationMs: number;
  gbSeconds: number;
}

export interface TableUsage {
  writeUnits: number;
  readUnits: number;
  requests: number;
  /** Items put (PutItem, and the put requests of BatchWriteItem DynamoDB processed): how many readings an item holds is readings / this. */
  itemsPut: number;
}

/** Everything counted since the meter started (or was reset). */
export interface Usage {
  readonly api: { requests: number };
  readonly kinesis: { records: number; bytes: number; putPayloadUnits: number; onDemandBytes: number; bytesRead: number };
  readonly dynamodb: Record<string, TableUsage>;
  readonly firehose: { records: number; bytes: number; billedBytes: number };
  readonly s3: { objects: number; bytes: number };
  readonly lambda: Record<string, FunctionUsage>;
}

const emptyUsage = (): Usage => ({
  api: { requests: 0 },
  kinesis: { records: 0, bytes: 0, putPayloadUnits: 0, onDemandBytes: 0, bytesRead: 0 },
  dynamodb: {},
  firehose: { records: 0, bytes: 0, billedBytes: 0 },
  s3: { objects: 0, bytes: 0 },
  lambda: {},
});

/** What an emulator tap sees of one call and may change: see `EmulatorTap` in emulators.ts. */
export interface TappedCall {
  /** The request body to hand the emulator. */
  readonly body: string;
  /** The answer the emulator gave; returns the answer to send on. */
  answered(status: number, body: string): string;
}

const DYNAMO_DATA_CALLS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

/** Items a successful write call put into `table`: one for PutItem, the put requests BatchWriteItem did not hand back unprocessed. */
function itemsPut(action: string, table: string, request: Record<string, unknown>, reply: Record<string, unknown>): number {
  if (action === 'PutItem') return 1;
  if (action !== 'BatchWriteItem') return 0;
  const puts = (requests: unknown): number => (Array.isArray(requests) ? requests.filter((entry) => (entry as { PutRequest?: unknown }).PutRequest !== undefined).length : 0);
  return puts((request.RequestItems as Record<string, unknown> | undefined)?.[table]) - puts((reply.UnprocessedItems as Record<string, unknown> | undefined)?.[table]);
}

interface ConsumedCapacity {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
}

export class UsageMeter {
  private counted = emptyUsage();

  usage(): Usage {
    return structuredClone(this.counted);
  }

  reset(): void {
    this.counted = emptyUsage();
  }

  apiRequest(): void {
    this.counted.api.requests += 1;
  }

  /** Records a stream accepted, each as its data plus partition key bytes. */
  kinesisRecordsPut(recordBytes: readonly number[]): void {
    const kinesis = this.counted.kinesis;
    for (const bytes of recordBytes) {
      kinesis.records += 1;
      kinesis.bytes += bytes;
      kinesis.putPayloadUnits += kinesisPutPayloadUnits(bytes);
      kinesis.onDemandBytes += kinesisOnDemandBytes(bytes);
    }
  }

  kinesisBytesRead(bytes: number): void {
    this.counted.kinesis.bytesRead += bytes;
  }

  dynamoUnits(table: string, units: { readonly read?: number; readonly write?: number; readonly itemsPut?: number }): void {
    const usage = (this.counted.dynamodb[table] ??= { writeUnits: 0, readUnits: 0, requests: 0, itemsPut: 0 });
    usage.requests += 1;
    usage.readUnits += units.read ?? 0;
    usage.writeUnits += units.write ?? 0;
    usage.itemsPut += units.itemsPut ?? 0;
  }

  /** A record Firehose took from its source. */
  firehoseRecord(bytes: number): void {
    const firehose = this.counted.firehose;
    firehose.records += 1;
    firehose.bytes += bytes;
    firehose.billedBytes += firehoseBilledBytes(bytes);
  }

  /** An object PUT to S3; `bytes` before compression (what Firehose's size hint counts). */
  s3Put(bytes: number): void {
    this.counted.s3.objects += 1;
    this.counted.s3.bytes += bytes;
  }

  lambdaInvocation(functionName: string, memoryMiB: number, durationMs: number): void {
    const usage = (this.counted.lambda[functionName] ??= { memoryMiB, invocations: 0, durationMs: 0, gbSeconds: 0 });
    usage.invocations += 1;
    usage.durationMs += durationMs;
    usage.gbSeconds += lambdaGbSeconds(memoryMiB, durationMs);
  }

  /** The DynamoDB emulator's tap: asks for consumed capacity on data calls and counts it. */
  readonly dynamoTap = (action: string, body: string): TappedCall | undefined => {
    if (!DYNAMO_DATA_CALLS.has(action)) return undefined;
    const request = parseObject(body);
    if (request === undefined) return undefined;
    const asked = request.ReturnConsumedCapacity !== undefined && request.ReturnConsumedCapacity !== 'NONE';
    const write = DYNAMO_WRITES.has(action);
    return {
      body: asked ? body : JSON.stringify({ ...request, ReturnConsumedCapacity: 'TOTAL' }),
      answered: (status, answer) => {
        const reply = parseObject(answer);
        if (reply === undefined) return answer;
        if (status !== 200) {
          if (write && String(reply.__type).endsWith('ConditionalCheckFailedException')) this.dynamoUnits(String(request.TableName), { write: BILLING_RULES.dynamoConditionFailed.value });
          return answer;
        }
        const consumed = reply.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined;
        for (const entry of consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]) {
          const table = String(entry.TableName);
          this.dynamoUnits(table, write ? { write: entry.CapacityUnits ?? 0, itemsPut: itemsPut(action, table, request, reply) } : { read: entry.CapacityUnits ?? 0 });
        }
        if (asked) return answer;
        delete reply.ConsumedCapacity;
        return JSON.stringify(reply);
      },
    };
  };

  /** The Kinesis emulator's tap: counts the records a put call got accepted and the bytes reads return. */
  readonly kinesisTap = (action: string, body: string): TappedCall | undefined => {
    if (action !== 'PutRecord' && action !== 'PutRecords' && action !== 'GetRecords') return undefined;
    const request = parseObject(body);
    if (request === undefined) return undefined;
    return {
      body,
      answered: (status, answer) => {
        if (status !== 200) return answer;
        const reply = parseObject(answer) ?? {};
        if (action === 'GetRecords') this.kinesisBytesRead(((reply.Records ?? []) as KinesisRecord[]).reduce((sum, record) => sum + recordBytes(record), 0));
        else if (action === 'PutRecord') this.kinesisRecordsPut([recordBytes(request as KinesisRecord)]);
        else {
          const results = (reply.Records ?? []) as { ErrorCode?: string }[];
          this.kinesisRecordsPut(((request.Records ?? []) as KinesisRecord[]).filter((_, at) => results[at]?.ErrorCode === undefined).map(recordBytes));
        }
        return answer;
      },
    };
  };
}

interface KinesisRecord {
  readonly Data?: string;
  readonly PartitionKey?: string;
}

/** A record's size as Kinesis limits it: the data blob (sent base64) plus the partition key. */
const recordBytes = (record: KinesisRecord): number => Buffer.from(record.Data ?? '', 'base64').length + utf8(record.PartitionKey ?? '');

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `x-amz-crc32` header DynamoDB answers carry (the SDK may check it against the body). */
export const dynamoChecksum = (body: string): string => String(crc32(Buffer.from(body, 'utf8')));
