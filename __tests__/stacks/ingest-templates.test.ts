/**
 * The batch endpoint's packing, rendered by the local Velocity engine as API Gateway renders
 * it: which bucket (hash key, so shard) each reading's record goes to, how many readings a
 * record holds, and that no record can pass Kinesis's record limit
 * (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html: data and
 * partition key at most 1 MiB; PutRecords at most 500 records). Expected hash codes were
 * computed with Java's String.hashCode and Math.floorMod.
 */
import fc from 'fast-check';
import { MappingTemplate } from '../../local/api-gateway/vtl';
import { JAVA_METHODS, javaStringHash } from '../../local/api-gateway/vtl-util';
import { sampleReadings } from '../../tools/cost-sample';
import { BATCH_BUCKET_LIMITS, batchBuckets, READING_STREAM_LIMITS } from '../../stacks/construct-defaults';
import { bucketHashKey, KINESIS_MAX_RECORD_BYTES, putRecordTemplate, putRecordsResponse, putRecordsTemplate } from '../../stacks/ingest-templates';
import { READING_LIMITS } from '../../handlers/reading-patterns';

/** Readings dated from a fixed instant, so a template's output is the same on every run. */
const FIXED_SCHEDULE = { startMicros: 1_700_000_000_000_000, intervalMicros: 1000 };

interface RenderedRecord {
  readonly PartitionKey: string;
  readonly ExplicitHashKey: string;
  readonly Data: string;
}

const NO_PARAMS = { path: {}, querystring: {}, header: {} };

function putRecords(readings: readonly object[], buckets: number, javaMethods = JAVA_METHODS): RenderedRecord[] {
  const template = new MappingTemplate(putRecordsTemplate('readings', buckets), 'batch request template', javaMethods);
  const rendered = JSON.parse(template.render({ payload: { body: JSON.stringify({ Data: readings }), params: NO_PARAMS }, context: {}, stageVariables: {} })) as { StreamName: string; Records: RenderedRecord[] };
  expect(rendered.StreamName).toBe('readings');
  return rendered.Records;
}

const readingsOf = (record: RenderedRecord): Record<string, unknown>[] => JSON.parse(Buffer.from(record.Data, 'base64').toString('utf8')) as Record<string, unknown>[];
const floorMod = (value: number, modulus: number): number => ((value % modulus) + modulus) % modulus;

/** The shard CreateStream gives a hash key on a stream of `shards` shards (even split, the last taking the rest). */
function shardOf(hashKey: string, shards: number): number {
  const width = 2n ** 128n / BigInt(shards);
  return Math.min(shards - 1, Number(BigInt(hashKey) / width));
}

describe('batch request template: packing', () => {
  it('puts each reading in the record of bucket floorMod(id.hashCode(), B), with that bucket\'s hash key', () => {
    // things/cost/00007.hashCode() is -1853667713 in Java; floorMod(-1853667713, 7) = 5.
    expect(javaStringHash('things/cost/00007')).toBe(-1853667713);
    const records = putRecords([{ id: 'things/cost/00007', t: 1, timestamp: 0 }], 7);
    expect(records).toEqual([{ PartitionKey: '5', ExplicitHashKey: bucketHashKey(5, 7), Data: expect.any(String) }]);
    expect(readingsOf(records[0]!)).toEqual([{ id: 'things/cost/00007', t: 1, timestamp: 0 }]);
  });

  it('gives bucket b a hash key on shard b of a stream with B shards, for every B up to the limit', () => {
    for (const buckets of [1, 2, 3, 7, 10, 64, 100, BATCH_BUCKET_LIMITS.max]) {
      for (let bucket = 0; bucket < buckets; bucket += 1) expect(shardOf(bucketHashKey(bucket, buckets), buckets)).toBe(bucket);
    }
  });

  it('keeps every series on one hash key across batches, and every reading exactly once in order within its bucket', () => {
    const things = Array.from({ length: 40 }, (_, index) => `things/prop/${index}`);
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...things), { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 12 }), (batches, buckets) => {
        const keyOfThing = new Map<string, string>();
        for (const ids of batches) {
          const sent = ids.map((id, at) => ({ id, v: at, timestamp: at }));
          const records = putRecords(sent, buckets);
          const received: Record<string, unknown>[] = [];
          for (const record of records) {
            const order = readingsOf(record).map((reading) => Number(reading.v));
            expect(order).toEqual([...order].sort((a, b) => a - b));
            for (const reading of readingsOf(record)) {
              const id = String(reading.id);
              expect(record.PartitionKey).toBe(String(floorMod(javaStringHash(id), buckets)));
              expect(keyOfThing.get(id) ?? record.ExplicitHashKey).toBe(record.ExplicitHashKey);
              keyOfThing.set(id, record.ExplicitHashKey);
              received.push(reading);
            }
          }
          expect([...received].sort((a, b) => Number(a.v) - Number(b.v))).toEqual(sent);
          // One record per bucket holding readings: they are small.
          expect(records).toHaveLength(new Set(ids.map((id) => floorMod(javaStringHash(id), buckets))).size);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('splits a bucket so no record passes 1 MiB (data and partition key) for a worst-case batch of multibyte ids and long numbers', () => {
    // One id for every reading, so one bucket: 256 three-byte characters; 50 metrics each a numeric string padded with zeros.
    const id = '\u4e00'.repeat(READING_LIMITS.maxIdLength);
    const metrics = Object.fromEntries(Array.from({ length: READING_LIMITS.maxMetrics }, (_, index) => [`metric_${index}`, `${'0'.repeat(200)}1.5`]));
    const sent = Array.from({ length: READING_LIMITS.maxBatchReadings }, (_, index) => ({ id, timestamp: index, ...metrics }));
    const records = putRecords(sent, 4);
    expect(records.length).toBeGreaterThan(1);
    expect(records.length).toBeLessThanOrEqual(READING_LIMITS.maxBatchReadings);
    for (const record of records) expect(Buffer.from(record.Data, 'base64').length + Buffer.byteLength(record.PartitionKey)).toBeLessThanOrEqual(KINESIS_MAX_RECORD_BYTES);
    expect(records.flatMap(readingsOf)).toEqual(sent);
  });

  it(`packs the cost sample (100 sensors round-robin, batches of 500) into at least 50 readings per record with the default ${READING_STREAM_LIMITS.shardCount.default} shards`, () => {
    const buckets = batchBuckets({ mode: 'provisioned', shardCount: READING_STREAM_LIMITS.shardCount.default });
    const readings = sampleReadings(100, 200, 100, FIXED_SCHEDULE);
    let records = 0;
    for (let start = 0; start < readings.length; start += READING_LIMITS.maxBatchReadings) records += putRecords(readings.slice(start, start + READING_LIMITS.maxBatchReadings), buckets).length;
    expect(readings.length / records).toBeGreaterThanOrEqual(50);
  });

  it('defaults the buckets to the shard count when provisioned and to a fixed number on demand; a set value wins', () => {
    expect(batchBuckets({ mode: 'provisioned', shardCount: 12 })).toBe(12);
    expect(batchBuckets({ mode: 'on-demand', shardCount: 12 })).toBe(BATCH_BUCKET_LIMITS.onDemandDefault);
    expect(batchBuckets({ mode: 'provisioned', shardCount: 12, batchBuckets: 3 })).toBe(3);
  });
});

describe('batch request template where hashCode() is not available', () => {
  // Undocumented either way for API Gateway: without it, a call renders nothing, and the template falls back.
  const withoutHashCode = JAVA_METHODS.filter((method) => method.uid !== 'java String.hashCode');

  it('puts one record per reading keyed by its thing id, every reading once, as before packing', () => {
    const readings = sampleReadings(7, 3, 100, FIXED_SCHEDULE);
    const records = putRecords(readings, 4, withoutHashCode);
    expect(records).toHaveLength(readings.length);
    records.forEach((record, index) => {
      expect(record).toEqual({ PartitionKey: readings[index]!.id, Data: expect.any(String) });
      expect(JSON.parse(Buffer.from(record.Data, 'base64').toString('utf8'))).toEqual(readings[index]);
    });
  });

  it('packs when the method is there (the probe sees 97 for "a")', () => {
    expect(javaStringHash('a')).toBe(97);
    expect(putRecords(sampleReadings(7, 3, 100, FIXED_SCHEDULE), 4).length).toBeLessThanOrEqual(4);
  });
});

describe('single PUT request template', () => {
  function putRecord(reading: object, buckets: number, javaMethods = JAVA_METHODS): Record<string, string> {
    const template = new MappingTemplate(putRecordTemplate('readings', buckets), 'single request template', javaMethods);
    return JSON.parse(template.render({ payload: { body: JSON.stringify({ Data: reading }), params: NO_PARAMS }, context: {}, stageVariables: {} })) as Record<string, string>;
  }

  it("puts a thing's single reading on the hash key its batches use, so both reach one shard in order", () => {
    const readings = sampleReadings(40, 1, 100, FIXED_SCHEDULE);
    for (const buckets of [1, 2, 7, 16]) {
      for (const reading of readings) {
        const [batchRecord] = putRecords([reading], buckets);
        const single = putRecord(reading, buckets);
        expect(single).toEqual({ StreamName: 'readings', PartitionKey: reading.id, ExplicitHashKey: batchRecord!.ExplicitHashKey, Data: expect.any(String) });
        expect(JSON.parse(Buffer.from(single.Data!, 'base64').toString('utf8'))).toEqual(reading);
      }
    }
  });

  it('leaves the shard to the thing id (partition key) where hashCode() is not available', () => {
    const reading = sampleReadings(1, 1, 100, FIXED_SCHEDULE)[0]!;
    const withoutHashCode = JAVA_METHODS.filter((method) => method.uid !== 'java String.hashCode');
    expect(putRecord(reading, 4, withoutHashCode)).toEqual({ StreamName: 'readings', PartitionKey: reading.id, Data: expect.any(String) });
  });
});

describe('batch response template', () => {
  const respond = (reply: object) => {
    const context: Record<string, unknown> = { responseOverride: { header: {} } };
    const body = new MappingTemplate(putRecordsResponse, 'batch response template').render({ payload: { body: JSON.stringify(reply), params: NO_PARAMS }, context, stageVariables: {} });
    return { status: (context.responseOverride as { status?: number }).status, body: JSON.parse(body) as Record<string, unknown> };
  };

  it('answers 200 with the records put when every record succeeded', () => {
    expect(respond({ FailedRecordCount: 0, Records: [{ ShardId: 'shardId-000000000000', SequenceNumber: '1' }, { ShardId: 'shardId-000000000001', SequenceNumber: '2' }] })).toEqual({ status: undefined, body: { records: 2, failedRecords: 0 } });
  });

  // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html: a failed record does not fail the call.
  it('answers 503 asking for the whole batch again when any record failed', () => {
    const { status, body } = respond({ FailedRecordCount: 1, Records: [{ ShardId: 'shardId-000000000000', SequenceNumber: '1' }, { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000001' }] });
    expect(status).toBe(503);
    expect(body).toMatchObject({ records: 2, failedRecords: 1, message: expect.stringMatching(/send the whole batch again/) });
  });
});
