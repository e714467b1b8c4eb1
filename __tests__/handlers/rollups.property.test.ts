/**
 * Property: however Lambda delivers a shard (batches of any size, partial failures that
 * resume from a record, crashes mid-batch followed by bisection, redeliveries), and
 * whatever the producer sent (readings out of order, late, sent twice, corrected), once
 * every record has been delivered the rollups are exactly those recomputed from the
 * readings stored: count, min, max, first and last exact, the sum as doubles.
 * Lambda's retry behaviour: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-errors
 */
import fc from 'fast-check';
import type { KinesisStreamRecord } from 'aws-lambda';
import { ATTRIBUTES } from '../../handlers/contract';
import { bucketStart, decodePart, type Aggregate } from '../../handlers/rollup';
import { aggregateOfItem } from '../../handlers/rollup-item';
import { createStoreReadingsHandler } from '../../handlers/store-readings';
import { auditRollupItems } from '../../verify/rollup-audit';
import { FakeRollupDynamo, type Fault } from './fake-rollup-dynamo';
import { kinesisRecord } from './kinesis-event-fixture';

const THINGS = 'iot-things';
const ROLLUPS = 'iot-rollups';
/** Ten minutes before midnight: readings spread over minutes, hours and two days. */
const START = Date.UTC(2026, 10, 30, 23, 50);
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface SentReading {
  readonly thing: number;
  /** Seconds after START. */
  readonly second: number;
  readonly value: string;
}

/**
 * A stream of readings in time order; with `repeats`, some are sent again soon after (same
 * or another value); with `late`, some come late. With repeats, a repeat and its reading
 * can fall either side of the point a delivery stops at; with late readings, minutes
 * already written are written again.
 */
const streamArbitrary = ({ repeats, late: lateReadings }: { readonly repeats: boolean; readonly late: boolean }) =>
  fc
    .array(
      fc.record({
        thing: fc.integer({ min: 0, max: 2 }),
        // Seconds to the next reading: several readings of a thing share each minute, and the stream crosses hours and a day.
        step: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 120 })),
        late: lateReadings ? fc.option(fc.integer({ min: 1, max: 900 }), { freq: 5 }) : fc.constant(null),
        value: fc.constantFrom('1', '2.5', '-3', '10', '0.001', '7', '1e-20', '99999999999999999999999999'),
        again: repeats ? fc.option(fc.record({ after: fc.integer({ min: 0, max: 40 }), value: fc.option(fc.constantFrom('1', '8', '-40'), { freq: 2 }) }), { freq: 4 }) : fc.constant(null),
      }),
      { minLength: 1, maxLength: 80, size: 'max' },
    )
    .map((draws) => {
      const sent: SentReading[] = [];
      let clock = 0;
      for (const draw of draws) {
        clock += draw.step;
        sent.push({ thing: draw.thing, second: draw.late === null ? clock : Math.max(0, clock - draw.late), value: draw.value });
      }
      // Repeats go in later positions, as a producer retrying a PUT would send them.
      draws.forEach((draw, index) => {
        if (draw.again === null) return;
        const original = sent[index] as SentReading;
        sent.splice(Math.min(sent.length, index + 1 + draw.again.after), 0, { ...original, value: draw.again.value ?? original.value });
      });
      return sent;
    });

/** How the event source treats each invocation it makes, in turn. */
interface Invocation {
  readonly batchSize: number;
  /** Calls (counted within the invocation) that fail twice in a row, so the handler gives up on them. */
  readonly failingCalls: readonly number[];
  /** The call at which the process dies, if it does. */
  readonly crashAt: number | null;
  /** Which of two warm containers runs it: one may hold rollups the other has changed since. */
  readonly container?: number;
}

const invocationArbitrary = fc.record({
  // Above 25 items a batch takes several BatchWriteItem calls, so some of its readings can be stored and others not.
  batchSize: fc.integer({ min: 1, max: 40 }),
  // The first calls are the readings' BatchWriteItem calls, then the rollups' reads and writes.
  failingCalls: fc.array(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 30 })), { maxLength: 3 }),
  crashAt: fc.option(fc.integer({ min: 1, max: 40 }), { freq: 3 }),
  container: fc.integer({ min: 0, max: 1 }),
});

function recordsOf(sent: readonly SentReading[]): KinesisStreamRecord[] {
  return sent.map((reading, position) =>
    kinesisRecord(
      // Thing 1 sends two metrics: one record, two series.
      { id: `things/p/${reading.thing}`, timestamp: new Date(START + reading.second * 1000).toISOString(), t: reading.value, ...(reading.thing === 1 ? { h: reading.value } : {}) },
      position,
      `things/p/${reading.thing}`,
    ),
  );
}

/** Delivers the whole shard as Lambda would under the given invocations (then cleanly); returns the fake. */
async function deliver(records: readonly KinesisStreamRecord[], invocations: readonly Invocation[], retention: { hot?: number; hour?: number }, now: number): Promise<FakeRollupDynamo> {
  const db = new FakeRollupDynamo({ [THINGS]: [ATTRIBUTES.series, ATTRIBUTES.timestamp], [ROLLUPS]: [ATTRIBUTES.series, ATTRIBUTES.bucket] });
  let checkpoint = 0;
  let bisected: number | undefined;
  // A container is a handler (with what it remembers) whose calls go through the invocation's client.
  const container = () => {
    const calls = { current: db.client() };
    const handler = createStoreReadingsHandler({
      dynamo: { send: (command: never) => calls.current.dynamo.send(command) } as never,
      sqs: { send: async () => ({ Failed: [], Successful: [] }) } as never,
      settings: storeSettings(retention),
      logger: silent,
      clock: { now: () => now, sleep: async () => undefined },
      random: () => 0,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    return { calls, handler };
  };
  const containers = [container(), container()];
  for (let turn = 0; checkpoint < records.length; turn++) {
    if (turn > 10_000) throw new Error('the shard never drained');
    const plan: Invocation = invocations[turn] ?? { batchSize: 10, failingCalls: [], crashAt: null };
    const size = Math.max(1, bisected ?? plan.batchSize);
    const batch = records.slice(checkpoint, checkpoint + size);
    let call = 0;
    const failures = new Map<number, number>();
    db.fault = (): Fault => {
      call++;
      if (plan.crashAt !== null && call === plan.crashAt) return 'hang';
      const times = failures.get(call) ?? 0;
      return plan.failingCalls.includes(call) && times < 2 ? (failures.set(call, times + 1), 'server-error') : undefined;
    };
    const which = plan.container ?? 0;
    const { calls, handler } = containers[which] as ReturnType<typeof container>;
    calls.current = db.client();
    // The fake answers on microtasks only, so an invocation not done when a timer fires never will be: the
    // process died. Lambda times it out, then retries the batch in halves, in a new container.
    const answer = await Promise.race([handler({ Records: batch }), new Promise<'crashed'>((resolve) => setTimeout(() => resolve('crashed'), 0))]);
    calls.current.kill();
    if (answer === 'crashed') {
      containers[which] = container();
      bisected = Math.max(1, Math.floor(batch.length / 2));
      continue;
    }
    bisected = undefined;
    const failed = answer.batchItemFailures[0]?.itemIdentifier;
    checkpoint = failed === undefined ? checkpoint + batch.length : records.findIndex((record) => record.kinesis.sequenceNumber === failed);
  }
  return db;
}

const describeAggregate = (aggregate: Aggregate | undefined) =>
  aggregate === undefined ? undefined : { count: aggregate.count, min: aggregate.min.text, max: aggregate.max.text, first: aggregate.first, last: aggregate.last };

/** The rollups are what the stored readings make, at every step and in every part (verify/rollup-audit.ts). */
function expectSameRollups(db: FakeRollupDynamo): void {
  const audit = auditRollupItems(db.items(THINGS), db.items(ROLLUPS));
  expect(audit.buckets).toBeGreaterThan(0);
  expect(audit.differences).toEqual([]);
}

describe('rollups under any delivery', () => {
  it.each([
    ['readings in time order, each sent once', { repeats: false, late: false }],
    ['readings in time order, some sent twice or corrected', { repeats: true, late: false }],
    ['readings late, out of order, sent twice and corrected', { repeats: true, late: true }],
  ])('equal the rollups recomputed from the stored readings under any retries, failures and crashes: %s', async (_name, stream) => {
    await fc.assert(
      fc.asyncProperty(streamArbitrary(stream), fc.array(invocationArbitrary, { maxLength: 25, size: 'max' }), async (sent, invocations) => {
        const db = await deliver(recordsOf(sent), invocations, {}, START + 86_400_000);
        expectSameRollups(db);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('count each distinct reading once, with the value stored last, when the producer sends it again', async () => {
    const sent: SentReading[] = [
      { thing: 0, second: 10, value: '5' },
      { thing: 0, second: 20, value: '6' },
      { thing: 0, second: 10, value: '5' },
      { thing: 0, second: 20, value: '-1' },
      // The next minute: 23:50 is written to its hour.
      { thing: 0, second: 60, value: '0' },
    ];
    // One record per batch: each repeat arrives after its reading was stored.
    const db = await deliver(recordsOf(sent), sent.map(() => ({ batchSize: 1, failingCalls: [], crashAt: null })), {}, START);
    // Minutes are parts of their hour's item, no item of their own; the series' open minute has one.
    expect(db.items(ROLLUPS).map((item) => String(item[ATTRIBUTES.bucket]).slice(0, 3)).sort()).toEqual(['1d#', '1h#', 'ope']);
    const hour = db.items(ROLLUPS).find((item) => item[ATTRIBUTES.bucket] === `1h#${bucketStart(new Date(START).toISOString(), '1h')}`);
    const minute = decodePart((hour?.Parts as Record<string, string>)['50'] as string, '2026-11-30T23:50:00Z', '1h');
    expect(describeAggregate(minute)).toEqual({ count: 2, min: '-1', max: '5', first: '2026-11-30T23:50:10.000000Z', last: '2026-11-30T23:50:20.000000Z' });
    expect(describeAggregate(aggregateOfItem(hour ?? {}))).toEqual(describeAggregate(minute));
    expectSameRollups(db);
  });
});

/** The same readings packed into records of `sizes` readings in turn (a JSON array each), as the batch endpoint puts them. */
function packedRecordsOf(sent: readonly SentReading[], sizes: readonly number[]): KinesisStreamRecord[] {
  const single = recordsOf(sent).map((record) => JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as object);
  const records: KinesisStreamRecord[] = [];
  for (let start = 0, turn = 0; start < single.length; turn++) {
    const size = sizes.length === 0 ? 1 : (sizes[turn % sizes.length] as number);
    records.push(kinesisRecord(single.slice(start, start + size), records.length, String(records.length % 2)));
    start += size;
  }
  return records;
}

describe('rollups of packed records', () => {
  // Readings of one record share its sequence number, and a delivery can stop inside a record.
  it('equal the rollups recomputed from the stored readings when several readings share a record, under any retries, failures and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArbitrary({ repeats: true, late: true }),
        // Records of up to 30 readings: one record's items can need two BatchWriteItem calls, so one can fail inside it.
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }),
        fc.array(invocationArbitrary, { maxLength: 25, size: 'max' }),
        async (sent, sizes, invocations) => {
          const db = await deliver(packedRecordsOf(sent, sizes), invocations, {}, START + 86_400_000);
          expectSameRollups(db);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('leave every reading of a record for its redelivery when a write fails inside it', async () => {
    // One record of 30 readings of one series in one minute: its items take two BatchWriteItem calls, and the second fails.
    const sent: SentReading[] = Array.from({ length: 30 }, (_, index) => ({ thing: 0, second: index + 1, value: String(index) }));
    const db = await deliver(packedRecordsOf(sent, [30]), [{ batchSize: 1, failingCalls: [2], crashAt: null }], {}, START + 86_400_000);
    expectSameRollups(db);
  });
});

describe('rollups of data older than what is kept', () => {
  const day = 86_400_000;

  it('add late readings to the minute\'s part when its raw readings are gone, and take a repeat for a repeat', async () => {
    // Raw readings kept 1 day, hours 400: three days on, a minute's raw readings are gone and it cannot be counted again.
    const sent: SentReading[] = [
      { thing: 0, second: 10, value: '5' },
      { thing: 0, second: 40, value: '6' },
      // The next minute: 23:50 is written to its hour.
      { thing: 0, second: 61, value: '7' },
    ];
    const later: SentReading[] = [
      { thing: 0, second: 10, value: '5' },
      { thing: 0, second: 50, value: '9' },
      { thing: 0, second: 20, value: '1' },
    ];
    const records = recordsOf([...sent, ...later]);
    const first = await deliver(records.slice(0, 3), [], { hot: 30, hour: 400 }, START + day);
    expectSameRollups(first);
    const old = await deliverOnto(first, records.slice(3), { hot: 1, hour: 400 }, START + 3 * day);
    const hour = old.items(ROLLUPS).find((item) => String(item[ATTRIBUTES.bucket]).startsWith('1h#'));
    // 10 s was a repeat; 50 s is later than the part's last and is added; 20 s, earlier than it, is taken for a repeat.
    expect(describeAggregate(decodePart((hour?.Parts as Record<string, string>)['50'] as string, '2026-11-30T23:50:00Z', '1h'))).toEqual({
      count: 3,
      min: '5',
      max: '9',
      first: '2026-11-30T23:50:10.000000Z',
      last: '2026-11-30T23:50:50.000000Z',
    });
  });
});

/** The store consumer's settings in these tests: the two tables, and the retentions given. */
function storeSettings(retention: { hot?: number; hour?: number }) {
  return {
    thingsTable: THINGS,
    failureQueueUrl: 'https://sqs.example/q',
    rollupsTable: ROLLUPS,
    alertCooldownSeconds: 900,
    futureToleranceSeconds: 300,
    ...(retention.hot === undefined ? {} : { hotRetentionDays: retention.hot }),
    ...(retention.hour === undefined ? {} : { hourRollupRetentionDays: retention.hour }),
  };
}

/** Delivers more records onto an existing fake, one clean batch at a time. */
async function deliverOnto(db: FakeRollupDynamo, records: readonly KinesisStreamRecord[], retention: { hot?: number; hour?: number }, now: number): Promise<FakeRollupDynamo> {
  for (const record of records) {
    const client = db.client();
    db.fault = () => undefined;
    const handler = createStoreReadingsHandler({
      dynamo: client.dynamo,
      sqs: { send: async () => ({}) } as never,
      settings: storeSettings(retention),
      logger: silent,
      clock: { now: () => now, sleep: async () => undefined },
    });
    const answer = await handler({ Records: [record] });
    expect(answer.batchItemFailures).toEqual([]);
  }
  return db;
}
