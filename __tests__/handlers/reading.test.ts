import Ajv from 'ajv-draft-04';
import {
  READING_LIMITS,
  batchIngestBodySchema,
  ingestBodySchema,
  ingestReadings,
  normaliseTimestamp,
  parseReading,
  parseReadingJson,
  readingItems,
  readingSchema,
  seriesId,
  singleIngestBodySchema,
  splitSeriesId,
} from '../../handlers/reading';

const SEED_READING = { id: 'things/harrow/001', temperature: '19.57', timestamp: '2016-09-09 13:33:07.381019' };

const ok = <T>(result: { ok: true; value: T } | { ok: false; error: unknown }): T => {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.value;
};

describe('parseReading', () => {
  it("accepts the seed's body unchanged and normalises it", () => {
    const reading = ok(parseReading(SEED_READING));
    expect(reading.id).toBe('things/harrow/001');
    expect(reading.timestamp).toBe('2016-09-09T13:33:07.381019Z');
    expect([...reading.metrics]).toEqual([['temperature', 19.57]]);
  });

  it.each([
    ['2016-09-09T13:33:07.381019Z', '2016-09-09T13:33:07.381019Z'],
    ['2016-09-09T13:33:07Z', '2016-09-09T13:33:07.000000Z'],
    ['2016-09-09T13:33:07', '2016-09-09T13:33:07.000000Z'],
    ['2016-09-09T13:33Z', '2016-09-09T13:33:00.000000Z'],
    ['2016-09-09T13:33:07.5+01:00', '2016-09-09T12:33:07.500000Z'],
    ['2016-09-09T00:10:00-0230', '2016-09-09T02:40:00.000000Z'],
    ['2016-09-09T23:59:59.999999999-01:00', '2016-09-10T00:59:59.999999Z'],
    ['2016-09-09 13:33:07', '2016-09-09T13:33:07.000000Z'],
    ['2016-02-29T00:00:00Z', '2016-02-29T00:00:00.000000Z'],
    [1473428000000, '2016-09-09T13:33:20.000000Z'],
    [1473428000123, '2016-09-09T13:33:20.123000Z'],
    [0, '1970-01-01T00:00:00.000000Z'],
  ])('normalises timestamp %p to %p', (input, expected) => {
    expect(ok(normaliseTimestamp(input))).toBe(expected);
  });

  it('keeps string order equal to time order across zones and forms', () => {
    const inputs = ['2016-09-09T13:33:07.5+01:00', '2016-09-09 12:33:07.4', 1473428000000, '2016-09-09T12:33:07.000001Z'];
    const normalised = inputs.map((input) => ok(normaliseTimestamp(input)));
    const byString = [...normalised].sort();
    const byTime = [...normalised].sort((a, b) => Date.parse(a) - Date.parse(b) || a.localeCompare(b));
    expect(byString).toEqual(byTime);
    expect(new Set(normalised.map((text) => text.length))).toEqual(new Set([27]));
  });

  it.each([
    ['2016-02-30T00:00:00Z', 'does not exist'],
    ['2015-02-29T00:00:00Z', 'does not exist'],
    ['2016-09-09', 'not a recognised time'],
    ['09/09/2016 13:33', 'not a recognised time'],
    ['2016-09-09T24:00:00Z', 'not a recognised time'],
    [1.5, 'whole number'],
    [-1, 'whole number'],
    [null, 'not a recognised time'],
  ])('rejects timestamp %p with a reason (%s)', (input, reason) => {
    const result = normaliseTimestamp(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('bad-timestamp');
      expect(result.error.message).toContain(reason);
    }
  });

  it('accepts several metrics, numbers and numeric strings', () => {
    const reading = ok(parseReading({ id: 'a', timestamp: 0, temperature: 19.5, humidity: '40', pressure: '-1.5e2' }));
    expect(Object.fromEntries(reading.metrics)).toEqual({ temperature: 19.5, humidity: 40, pressure: -150 });
  });

  it('stores magnitudes below what DynamoDB can hold as zero', () => {
    expect(ok(parseReading({ id: 'a', timestamp: 0, t: 1e-200 })).metrics.get('t')).toBe(0);
  });

  it.each([
    [{ timestamp: 0, t: 1 }, 'missing-field', 'id'],
    [{ id: '', timestamp: 0, t: 1 }, 'bad-id', 'id'],
    [{ id: '   ', timestamp: 0, t: 1 }, 'bad-id', 'id'],
    [{ id: 'things/\u0007bell', timestamp: 0, t: 1 }, 'bad-id', 'id'],
    [{ id: 'things/line\nbreak', timestamp: 0, t: 1 }, 'bad-id', 'id'],
    [{ id: 'things/\u009bcsi', timestamp: 0, t: 1 }, 'bad-id', 'id'],
    [{ id: 'x'.repeat(257), timestamp: 0, t: 1 }, 'bad-id', 'id'],
    [{ id: 7, timestamp: 0, t: 1 }, 'bad-id', 'id'],
    [{ id: 'a', t: 1 }, 'missing-field', 'timestamp'],
    [{ id: 'a', timestamp: 0 }, 'no-metrics', undefined],
    [{ id: 'a', timestamp: 0, t: 'warm' }, 'bad-metric-value', 't'],
    [{ id: 'a', timestamp: 0, t: true }, 'bad-metric-value', 't'],
    [{ id: 'a', timestamp: 0, t: 1e300 }, 'bad-metric-value', 't'],
    [{ id: 'a', timestamp: 0, 'a/b': 1 }, 'bad-metric-name', 'a/b'],
    [[SEED_READING], 'not-object', undefined],
  ])('rejects %j as %s', (input, code, field) => {
    const result = parseReading(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(code);
      expect(result.error.field).toBe(field);
      expect(result.error.message.length).toBeGreaterThan(20);
    }
  });

  it('counts the id length in characters, as JSON Schema does', () => {
    expect(parseReading({ id: '😀'.repeat(256), timestamp: 0, t: 1 }).ok).toBe(true);
    expect(parseReading({ id: '😀'.repeat(257), timestamp: 0, t: 1 }).ok).toBe(false);
  });

  it('rejects more metrics than the limit', () => {
    const metrics = Object.fromEntries(Array.from({ length: READING_LIMITS.maxMetrics + 1 }, (_, i) => [`m${i}`, i]));
    const result = parseReading({ id: 'a', timestamp: 0, ...metrics });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('too-many-metrics');
  });

  it('never throws, even on text that is not JSON', () => {
    const result = parseReadingJson('{"Data": ');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('not-json');
  });
});

describe('readingItems', () => {
  it('fans out one item per metric with the series id and TTL from the reading time', () => {
    const reading = ok(parseReading({ id: 'things/harrow/001', timestamp: '2016-09-09T13:33:07Z', temperature: 19.57, humidity: '41' }));
    const items = readingItems(reading, 7);
    const expiresAt = Math.floor(Date.UTC(2016, 8, 9, 13, 33, 7) / 1000) + 7 * 86_400;
    expect(items).toEqual([
      { ThingID: 'things/harrow/001/temperature', Timestamp: '2016-09-09T13:33:07.000000Z', Value: 19.57, ExpiresAt: expiresAt },
      { ThingID: 'things/harrow/001/humidity', Timestamp: '2016-09-09T13:33:07.000000Z', Value: 41, ExpiresAt: expiresAt },
    ]);
  });

  it('omits ExpiresAt without hot retention and is the same on every call (idempotent writes)', () => {
    const reading = ok(parseReading(SEED_READING));
    expect(readingItems(reading)).toEqual([{ ThingID: 'things/harrow/001/temperature', Timestamp: '2016-09-09T13:33:07.381019Z', Value: 19.57 }]);
    expect(readingItems(reading)).toEqual(readingItems(reading));
  });

  it('splits a series id back into thing and metric', () => {
    expect(splitSeriesId(seriesId('things/harrow/001', 'temperature'))).toEqual({ thingId: 'things/harrow/001', metric: 'temperature' });
  });
});

describe('ingestReadings', () => {
  it('returns the readings of a single and a batch body', () => {
    expect(ok(ingestReadings({ Data: SEED_READING }))).toEqual([SEED_READING]);
    expect(ok(ingestReadings({ Data: [SEED_READING, SEED_READING] }))).toHaveLength(2);
  });

  it('names the position of the bad reading in a batch', () => {
    const result = ingestReadings({ Data: [SEED_READING, { id: 'x', timestamp: 0 }] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/^Data\[1\]: /);
  });
});

/**
 * The parser and the JSON Schema (as API Gateway and the local ingest endpoint apply it)
 * must agree on every body. The one documented difference: the range after a zone offset,
 * which a regular expression cannot express.
 */
describe('schema and parser agree', () => {
  const ajv = new Ajv({ allErrors: true });
  const validateAny = ajv.compile(ingestBodySchema);
  const validateSingle = ajv.compile(singleIngestBodySchema);
  const validateBatch = ajv.compile(batchIngestBodySchema);
  const validateReading = ajv.compile(readingSchema);

  const read = (extra: Record<string, unknown>): Record<string, unknown> => ({ id: 'things/a/1', timestamp: '2016-09-09T13:33:07Z', temperature: 20, ...extra });
  const withoutKey = (key: string) => Object.fromEntries(Object.entries(read({})).filter(([name]) => name !== key));
  const manyMetrics = (count: number) => ({ id: 'a', timestamp: 0, ...Object.fromEntries(Array.from({ length: count }, (_, i) => [`m${i}`, i])) });

  const corpus: Array<[string, unknown]> = [
    ['seed body', { Data: SEED_READING }],
    ['iso with Z', { Data: read({}) }],
    ['iso without zone', { Data: read({ timestamp: '2016-09-09T13:33:07' }) }],
    ['iso with offset', { Data: read({ timestamp: '2016-09-09T13:33:07+05:30' }) }],
    ['iso with compact offset', { Data: read({ timestamp: '2016-09-09T13:33:07-0800' }) }],
    ['iso with nanoseconds', { Data: read({ timestamp: '2016-09-09T13:33:07.123456789Z' }) }],
    ['iso minutes only', { Data: read({ timestamp: '2016-09-09T13:33' }) }],
    ['seed form without fraction', { Data: read({ timestamp: '2016-09-09 13:33:07' }) }],
    ['epoch ms', { Data: read({ timestamp: 1473428000123 }) }],
    ['epoch zero', { Data: read({ timestamp: 0 }) }],
    ['numeric string with exponent', { Data: read({ temperature: '1.5e3' }) }],
    ['numeric string with sign', { Data: read({ temperature: '-0.5' }) }],
    ['numeric string leading dot', { Data: read({ temperature: '.5' }) }],
    ['negative number', { Data: read({ temperature: -40 }) }],
    ['tiny number', { Data: read({ temperature: 1e-200 }) }],
    ['several metrics', { Data: read({ humidity: '55', pressure: 1013.2 }) }],
    ['metric with dots and dashes', { Data: read({ 'temp.inside-c': 1 }) }],
    ['fifty metrics', { Data: manyMetrics(50) }],
    ['id of 256 characters', { Data: read({ id: 'x'.repeat(256) }) }],
    ['id with a control character', { Data: read({ id: 'things/\u0007' }) }],
    ['id with a tab inside', { Data: read({ id: 'things\tharrow' }) }],
    ['id with non-Latin letters', { Data: read({ id: 'things/Zürich/温度' }) }],
    ['batch of one', { Data: [read({})] }],
    ['batch of 500', { Data: Array.from({ length: 500 }, () => read({})) }],
    // Rejected by both:
    ['not an object', 'hello'],
    ['array body', [read({})]],
    ['no Data', { data: read({}) }],
    ['extra top-level property', { Data: read({}), Extra: 1 }],
    ['Data is a string', { Data: 'x' }],
    ['Data is null', { Data: null }],
    ['missing id', { Data: withoutKey('id') }],
    ['empty id', { Data: read({ id: '' }) }],
    ['blank id', { Data: read({ id: '  ' }) }],
    ['id too long', { Data: read({ id: 'x'.repeat(257) }) }],
    ['numeric id', { Data: read({ id: 42 }) }],
    ['missing timestamp', { Data: withoutKey('timestamp') }],
    ['date only', { Data: read({ timestamp: '2016-09-09' }) }],
    ['hour 24', { Data: read({ timestamp: '2016-09-09T24:00:00Z' }) }],
    ['month 13', { Data: read({ timestamp: '2016-13-09T10:00:00Z' }) }],
    ['year before 1970', { Data: read({ timestamp: '1969-12-31T23:59:59Z' }) }],
    ['fractional epoch', { Data: read({ timestamp: 1473428000.5 }) }],
    ['negative epoch', { Data: read({ timestamp: -1 }) }],
    ['epoch beyond 9999', { Data: read({ timestamp: 253402300800000 }) }],
    ['timestamp boolean', { Data: read({ timestamp: true }) }],
    ['no metric', { Data: withoutKey('temperature') }],
    ['metric text', { Data: read({ temperature: 'warm' }) }],
    ['metric numeric string with spaces', { Data: read({ temperature: ' 19.5' }) }],
    ['metric string hex', { Data: read({ temperature: '0x10' }) }],
    ['metric boolean', { Data: read({ temperature: true }) }],
    ['metric null', { Data: read({ temperature: null }) }],
    ['metric object', { Data: read({ temperature: { c: 1 } }) }],
    ['metric too large', { Data: read({ temperature: 1e200 }) }],
    ['metric name with slash', { Data: read({ 'a/b': 1 }) }],
    ['metric name starting with digit', { Data: read({ '1st': 1 }) }],
    ['metric name too long', { Data: read({ ['m'.repeat(65)]: 1 }) }],
    ['fifty-one metrics', { Data: manyMetrics(51) }],
    ['empty batch', { Data: [] }],
    ['batch of 501', { Data: Array.from({ length: 501 }, () => read({})) }],
    ['batch with one bad reading', { Data: [read({}), read({ temperature: 'x' })] }],
    ['nested batch', { Data: [[read({})]] }],
    ['30 February', { Data: read({ timestamp: '2016-02-30T00:00:00Z' }) }],
    ['29 February of a common year', { Data: read({ timestamp: '2015-02-29T00:00:00Z' }) }],
    ['29 February of a century that is no leap year', { Data: read({ timestamp: '2100-02-29 10:00:00' }) }],
    ['29 February of a leap year', { Data: read({ timestamp: '2016-02-29T00:00:00Z' }) }],
    ['29 February of 2000', { Data: read({ timestamp: '2000-02-29 00:00:00.5' }) }],
    ['31 April', { Data: read({ timestamp: '2016-04-31T12:00:00' }) }],
    ['31 December', { Data: read({ timestamp: '2016-12-31T23:59:59Z' }) }],
    // The documented difference: before 1970 once the zone is applied.
    ['before 1970 after its zone offset', { Data: read({ timestamp: '1970-01-01T00:30:00+01:00' }) }],
  ];

  const zoneRange = new Set(['before 1970 after its zone offset']);

  it('has a corpus of at least 40 samples, valid and invalid', () => {
    const verdicts = corpus.map(([, body]) => ingestReadings(body).ok);
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(verdicts.filter(Boolean).length).toBeGreaterThanOrEqual(15);
    expect(verdicts.filter((verdict) => !verdict).length).toBeGreaterThanOrEqual(25);
  });

  it.each(corpus)('%s', (name, body) => {
    const schemaVerdict = validateAny(body);
    const parserVerdict = ingestReadings(body).ok;
    if (zoneRange.has(name)) {
      expect([schemaVerdict, parserVerdict]).toEqual([true, false]);
    } else {
      expect(parserVerdict).toBe(schemaVerdict);
    }
    // The single and batch schemas together accept exactly what the combined one does.
    expect(validateSingle(body) || validateBatch(body)).toBe(schemaVerdict);
    const data = (body as { Data?: unknown }).Data;
    if (data !== null && typeof data === 'object' && !Array.isArray(data) && !zoneRange.has(name)) {
      expect(parseReading(data).ok).toBe(validateReading(data));
    }
  });

  it('is draft-04, as API Gateway models require', () => {
    for (const schema of [singleIngestBodySchema, batchIngestBodySchema, ingestBodySchema]) {
      expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(JSON.stringify(schema)).not.toMatch(/"\$ref"|"const"|"exclusiveMinimum":\d/);
    }
  });
});

describe('hostile input', () => {
  it('rejects a deeply nested metric with a reason instead of overflowing the stack', () => {
    let nested: unknown = 1;
    for (let depth = 0; depth < 20_000; depth++) nested = [nested];
    const result = parseReading({ id: 'a', timestamp: 0, t: nested });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain('got an array');
  });
});
