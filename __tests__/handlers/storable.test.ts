/**
 * One definition of a storable reading, proven three ways on generated readings that sit
 * on every boundary of the contract (handlers/reading-patterns.ts, reading-schema.ts, reading.ts):
 *
 *   accepted by the schema (ajv-draft-04, as the ingest door applies the API Gateway model)
 *   ⇔ accepted by the parser (what the consumers run)
 *   ⇔ stored, exactly, by the store handler on DynamoDB (dynalite), and otherwise queued as a failure.
 *
 * Boundaries: 38/39 significant digits, magnitudes 1e-130 and 1e126 (in digits, exponents and
 * doubles), ids of 255-257 characters and characters outside the allowed set, times on
 * 1970-01-01 and 9999-12-31 with zone offsets around the edge, impossible calendar days,
 * epoch milliseconds around 0 and the end of 9999, metric names and counts.
 * DynamoDB numbers: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
 */
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import Ajv from 'ajv-draft-04';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { Decimal } from '../../handlers/decimal';
import { ingestReadings, parseReading, type Reading } from '../../handlers/reading';
import { readingItems } from '../../handlers/reading-item';
import { READING_LIMITS } from '../../handlers/reading-patterns';
import { batchIngestBodySchema, singleIngestBodySchema } from '../../handlers/reading-schema';
import { seriesReadings } from '../../handlers/reading-segment';
import type { FailureMessageBody } from '../../handlers/store-plan';
import { createStoreReadingsHandler } from '../../handlers/store-readings';
import { startDynalite, type DynaliteHarness } from './dynalite-harness';
import { kinesisRecord } from './kinesis-event-fixture';

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

const pad2 = (value: number) => String(value).padStart(2, '0');
const digitString = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const nonZeroDigit = fc.constantFrom(...'123456789');

/** Significant digits: a non-zero first and last digit, lengths around 38. */
const significant = fc
  .oneof(fc.constantFrom(1, 2, 37, 38, 39, 40), fc.integer({ min: 1, max: 45 }))
  .chain((length) =>
    length === 1 ? nonZeroDigit : fc.tuple(nonZeroDigit, digitString(length - 2, length - 2), nonZeroDigit).map(([first, middle, last]) => first + middle + last),
  );

/** Numeric strings in every form, with magnitudes around 1e-130 and 1e126. */
const numericString: fc.Arbitrary<string> = fc.oneof(
  // Positional, whole part: 125-127 digits before the point sit on the 1e126 edge.
  fc
    .tuple(fc.constantFrom('', '-', '+'), significant, fc.oneof(fc.constantFrom(0, 1, 86, 87, 88, 89, 125), fc.integer({ min: 0, max: 130 })), fc.boolean(), digitString(0, 2))
    .map(([sign, digits, zeros, point, leading]) => `${sign}${leading.replace(/./g, '0')}${digits}${'0'.repeat(zeros)}${point ? '.' : ''}`),
  // Positional, a point inside the digits.
  fc.tuple(fc.constantFrom('', '-'), significant, fc.nat(), fc.constantFrom('', '0', '000')).map(([sign, digits, at, trailing]) => {
    const cut = 1 + (at % digits.length);
    return `${sign}${digits.slice(0, cut)}.${digits.slice(cut)}${trailing}`;
  }),
  // Below one: 128-131 zeros after the point sit on the 1e-130 edge.
  fc
    .tuple(fc.constantFrom('', '-'), fc.constantFrom('0', '', '00'), fc.oneof(fc.constantFrom(0, 128, 129, 130), fc.integer({ min: 0, max: 135 })), significant)
    .map(([sign, whole, zeros, digits]) => `${sign}${whole}.${'0'.repeat(zeros)}${digits}`),
  // Scientific, normalised (the only scientific form accepted) and not.
  fc
    .tuple(
      fc.constantFrom('', '-'),
      significant,
      fc.oneof(fc.constantFrom(-131, -130, -129, 124, 125, 126, 0), fc.integer({ min: -140, max: 140 })),
      fc.constantFrom('e', 'E', 'e+', 'e0', 'E-0'),
      fc.constantFrom('normalised', 'whole', 'zero'),
    )
    .map(([sign, digits, exponent, marker, form]) => {
      const mantissa = form === 'normalised' ? `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}` : form === 'whole' ? digits : '0.0';
      const written = marker.endsWith('-0') || marker.endsWith('+') || marker.endsWith('0') ? `${marker}${Math.abs(exponent)}` : `${marker}${exponent}`;
      return `${sign}${mantissa}${exponent < 0 && !written.includes('-') ? written.replace(/(\d+)$/, '-$1') : written}`;
    }),
  // Zero in several spellings, and text that only looks numeric.
  fc.constantFrom('0', '-0', '000.000', '.0', '0e999', '0x10', ' 12 ', '12 ', '1e', '.', '', '+', 'NaN', 'Infinity', '1,5', '١٢', '1_000', '--1', '1..2'),
);

/** Doubles on the edges of what DynamoDB holds, and anywhere else. */
const nextDouble = (value: number, step: 1 | -1): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(step * Math.sign(value || 1)));
  return view.getFloat64(0);
};
const edgeDouble = fc.constantFrom(1e-130, nextDouble(1e-130, -1), nextDouble(1e-130, 1), 1e126, nextDouble(1e126, -1), 2 ** 53 + 2, 1e16, 0, 5e-324, Number.MAX_VALUE);
const metricNumber = fc.oneof(
  fc.tuple(edgeDouble, fc.boolean()).map(([value, negative]) => (negative ? -value : value)),
  fc.double(),
  fc.integer(),
);

/** What sensors mostly send: a few decimals. */
const ordinaryNumber = fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 6 })).map(([value, places]) => value.toFixed(places));

const metricValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: ordinaryNumber },
  { weight: 4, arbitrary: numericString },
  { weight: 3, arbitrary: metricNumber },
  { weight: 1, arbitrary: fc.constantFrom(true, null, [1], { c: 1 }) },
);

const metricName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('t', 'temperature', 'a.b-c_d', '_x', `m${'x'.repeat(63)}`) }, { weight: 1, arbitrary: fc.constantFrom('1st', 'a/b', `m${'x'.repeat(64)}`, 'Ω', 'a b') });

/** Characters ids may hold, and some they may not (controls, separators, lone surrogates, U+FFFD and noncharacters, beyond the BMP). */
const idCharacter = fc.constantFrom('a', 'Z', '/', '-', 'é', '温', ' ', '\u00a0', '\u2027', '\u202a', '\ue000', '\ufffc', '\u3000');
const badIdCharacter = fc.constantFrom('\u0000', '\u001f', '\u007f', '\u0085', '\u009f', '\u2028', '\u2029', '\ud800', '\udfff', '\ufffd', '\uffff', '😀');
const idOfLength = (length: number) => fc.array(idCharacter, { minLength: length, maxLength: length }).map((characters) => characters.join(''));
const thingId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 20 }).chain(idOfLength) },
  { weight: 3, arbitrary: fc.constantFrom(255, 256, 257).chain(idOfLength) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 10 }).chain(idOfLength), badIdCharacter, fc.integer({ min: 0, max: 10 }).chain(idOfLength)).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\u00a0\u3000', '😀'.repeat(128), 42, null, ['a']) },
);

/** Times on the two edge days, their zone offset near the local time (where offsets push them out of range). */
const edgeTime = fc.oneof(
  fc.record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }), dh: fc.integer({ min: -1, max: 1 }), dm: fc.integer({ min: -1, max: 1 }), colon: fc.boolean() }).map(
    ({ hour, minute, dh, dm, colon }) => `1970-01-01T${pad2(hour)}:${pad2(minute)}:00.5+${pad2(Math.min(23, Math.max(0, hour + dh)))}${colon ? ':' : ''}${pad2(Math.min(59, Math.max(0, minute + dm)))}`,
  ),
  fc.record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }), dh: fc.integer({ min: -1, max: 1 }), dm: fc.integer({ min: -1, max: 1 }), colon: fc.boolean() }).map(
    ({ hour, minute, dh, dm, colon }) =>
      `9999-12-31 ${pad2(hour)}:${pad2(minute)}:59.999999999-${pad2(Math.min(23, Math.max(0, 23 - hour + dh)))}${colon ? ':' : ''}${pad2(Math.min(59, Math.max(0, 59 - minute + dm + 1) % 60))}`,
  ),
);

/** Any time form, valid or not: calendar edges, hour 24, minute 60, fractions of 1-10 digits, offsets up to 24:60. */
const anyTime = fc
  .record({
    year: fc.oneof(fc.constantFrom(1969, 1970, 2000, 2016, 2100, 9999, 10000), fc.integer({ min: 1970, max: 9999 })),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.oneof(fc.constantFrom(28, 29, 30, 31), fc.integer({ min: 0, max: 32 })),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.option(fc.integer({ min: 0, max: 60 })),
    fraction: fc.option(digitString(1, 10)),
    zone: fc.oneof(fc.constantFrom('', 'Z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.boolean()).map(([sign, h, m, colon]) => `${sign}${pad2(h)}${colon ? ':' : ''}${pad2(m)}`)),
    separator: fc.constantFrom('T', ' '),
  })
  .map(({ year, month, day, hour, minute, second, fraction, zone, separator }) => {
    const seconds = second === null ? '' : `:${pad2(second)}${fraction === null ? '' : `.${fraction}`}`;
    return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}${separator}${pad2(hour)}:${pad2(minute)}${seconds}${zone}`;
  });

const epochMillis = fc.oneof(fc.constantFrom(-1, 0, 1, READING_LIMITS.maxEpochMillis, READING_LIMITS.maxEpochMillis + 1, 1_714_557_600_000.5), fc.integer({ min: 0, max: READING_LIMITS.maxEpochMillis }));
const ordinaryTime = fc.date({ min: new Date(0), max: new Date(READING_LIMITS.maxEpochMillis), noInvalidDate: true }).map((date) => date.toISOString());
const timestamp: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: ordinaryTime },
  { weight: 3, arbitrary: edgeTime },
  { weight: 3, arbitrary: anyTime },
  { weight: 2, arbitrary: epochMillis },
  { weight: 1, arbitrary: fc.constantFrom(null, true, '2016-09-09') },
);

/** A reading as a sensor might send it: metrics 0 to 3, or 51; now and then without id or timestamp. */
const readingArbitrary: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      id: thingId,
      timestamp,
      metrics: fc.oneof(
        { weight: 12, arbitrary: fc.dictionary(metricName, metricValue, { minKeys: 1, maxKeys: 3 }) },
        { weight: 1, arbitrary: fc.constant({}) },
        { weight: 1, arbitrary: fc.constant(Object.fromEntries(Array.from({ length: READING_LIMITS.maxMetrics + 1 }, (_, index) => [`m${index}`, index]))) },
      ),
    },
    { requiredKeys: ['metrics', 'id', 'timestamp'] },
  )
  .chain((reading) => fc.oneof({ weight: 8, arbitrary: fc.constant('both') }, { weight: 1, arbitrary: fc.constantFrom('no id', 'no timestamp') }).map((present) => ({ reading, present })))
  .map(({ reading: { metrics, ...fields }, present }) => ({
    ...(present === 'no id' ? {} : { id: fields.id }),
    ...(present === 'no timestamp' ? {} : { timestamp: fields.timestamp }),
    ...metrics,
  }));

// ---------------------------------------------------------------------------
// The three verdicts
// ---------------------------------------------------------------------------

const ajv = new Ajv({ strict: false });
const schemaAccepts = { single: ajv.compile(singleIngestBodySchema), batch: ajv.compile(batchIngestBodySchema) };

/** A body as the door receives it: JSON text, parsed once, handed to the schema and the parser alike. */
const asReceived = (body: unknown): unknown => JSON.parse(JSON.stringify(body) ?? 'null');

const PROPERTY_RUNS = 4_000;
const STORE_RUNS = 40;
const READINGS_PER_STORE_RUN = 25;

describe('schema ⇔ parser', () => {
  it(`agree on ${PROPERTY_RUNS.toLocaleString('en-GB')} generated single bodies`, () => {
    fc.assert(
      fc.property(readingArbitrary, (reading) => {
        const body = asReceived({ Data: reading });
        expect(ingestReadings(body).ok).toBe(schemaAccepts.single(body));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it('agree on generated batches', () => {
    fc.assert(
      fc.property(fc.array(readingArbitrary, { minLength: 0, maxLength: 4 }), (readings) => {
        const body = asReceived({ Data: readings });
        expect(ingestReadings(body).ok).toBe(schemaAccepts.batch(body));
      }),
      { numRuns: PROPERTY_RUNS / 4 },
    );
  });

  it('reach both sides of every boundary (the generators are not vacuous)', () => {
    const seen = new Set<string>();
    for (const reading of fc.sample(readingArbitrary, { numRuns: 6_000, seed: 42 })) {
      const received = asReceived(reading) as Record<string, unknown>;
      const result = parseReading(received);
      if (!result.ok) {
        seen.add(`refused ${result.error.code} ${/38 significant|1e126|1e-130|outside 1970|does not exist/.exec(result.error.message)?.[0] ?? ''}`.trim());
        continue;
      }
      const { id, timestamp: raw, metrics } = { ...result.value, timestamp: received.timestamp };
      seen.add('accepted');
      if (id.length === READING_LIMITS.maxIdLength) seen.add('accepted id of 256');
      if (typeof raw === 'string' && /^1970-01-01.*\+(?!00:?00)/.test(raw)) seen.add('accepted 1970-01-01 with a positive offset');
      if (typeof raw === 'string' && /^9999-12-31.*-(?!00:?00)\d/.test(raw)) seen.add('accepted 9999-12-31 with a negative offset');
      for (const value of metrics.values()) {
        if (value.digits.length === 38) seen.add('accepted 38 digits');
        if (value.exponent === 125) seen.add('accepted magnitude 1e125');
        if (value.exponent === -130) seen.add('accepted magnitude 1e-130');
      }
    }
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        'accepted',
        'accepted 1970-01-01 with a positive offset',
        'accepted 38 digits',
        'accepted 9999-12-31 with a negative offset',
        'accepted id of 256',
        'accepted magnitude 1e-130',
        'accepted magnitude 1e125',
        'refused bad-id',
        'refused bad-metric-name',
        'refused bad-metric-value',
        'refused bad-metric-value 1e-130',
        'refused bad-metric-value 1e126',
        'refused bad-metric-value 38 significant',
        'refused bad-timestamp',
        'refused bad-timestamp does not exist',
        'refused bad-timestamp outside 1970',
        'refused missing-field',
        'refused no-metrics',
        'refused too-many-metrics',
      ]),
    );
  });
});

describe('parser ⇔ stored on DynamoDB (dynalite)', () => {
  let db: DynaliteHarness;
  const sqs = new SQSClient({ region: 'us-east-1' });
  const queued: FailureMessageBody[] = [];
  const sqsMock = mockClient(sqs);

  beforeAll(async () => {
    db = await startDynalite();
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      for (const entry of input.Entries ?? []) queued.push(JSON.parse(entry.MessageBody ?? '') as FailureMessageBody);
      return { Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' })), Failed: [] };
    });
  });
  afterAll(async () => {
    sqsMock.restore();
    await db.stop();
  });

  it(`store exactly what the parser accepts, and queue the rest with the parser's reason (${STORE_RUNS} batches of ${READINGS_PER_STORE_RUN})`, async () => {
    // Every reading arrives at the end of 9999: dated-ahead refusals are a separate rule, tested elsewhere.
    const arrivalSeconds = READING_LIMITS.maxEpochMillis / 1000;
    const store = createStoreReadingsHandler({
      dynamo: db.exact,
      sqs,
      settings: { thingsTable: db.tables.things, seriesTable: db.tables.series, failureQueueUrl: 'http://queue.local/failures', alertCooldownSeconds: 900, futureToleranceSeconds: 300 },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });

    // Each run's records are new records of the stream (the handler remembers the ones it queued).
    let position = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(readingArbitrary, { minLength: READINGS_PER_STORE_RUN, maxLength: READINGS_PER_STORE_RUN }), async (readings) => {
        queued.length = 0;
        // The door puts on the stream the reading it validated, serialised again (as the local API and API Gateway's $input.json do).
        const received = readings.map((reading) => asReceived(reading));
        const records = received.map((reading) => kinesisRecord(JSON.stringify(reading) ?? 'null', position++, 'p', arrivalSeconds));
        const parsed = received.map((reading) => parseReading(reading));

        expect(await store({ Records: records })).toEqual({ batchItemFailures: [] });

        // Refused: queued once, with the parser's reason; accepted: nothing queued.
        const refused = parsed.flatMap((result, index) => (result.ok ? [] : [[records[index]?.kinesis.sequenceNumber, result.error.code]]));
        expect(queued.map((message) => [message.sequenceNumber, message.reason.code])).toEqual(refused);

        // Accepted: every metric stored with every digit (the last of readings sharing a key wins, as in the stream).
        const expected = new Map<string, { series: string; timestamp: string; value: Decimal }>();
        for (const result of parsed) {
          if (!result.ok) continue;
          for (const item of readingItems(result.value as Reading)) expected.set(`${item.ThingID}\u0000${item.Timestamp}`, { series: item.ThingID, timestamp: item.Timestamp, value: item.Value });
        }
        for (const { series, timestamp: time, value } of expected.values()) {
          const found: string[] = [];
          for await (const reading of seriesReadings(db.exact, db.tables.things, { series, from: time, to: time, consistentRead: true })) found.push(reading.value.text);
          expect([series, time, found]).toEqual([series, time, [value.text]]);
        }
      }),
      { numRuns: STORE_RUNS },
    );
  });
});
