import Ajv from 'ajv-draft-04';
import { memberNumberTexts } from '../../handlers/json-text';
import { ingestReadings, parseReading, parseReadingJson, parseNumericString, seriesIdProblem } from '../../handlers/reading';
import { readingItems, seriesId, splitSeriesId } from '../../handlers/reading-item';
import { READING_LIMITS } from '../../handlers/reading-patterns';
import { batchIngestBodySchema, readingSchema, singleIngestBodySchema } from '../../handlers/reading-schema';
import { normaliseTimestamp, checkNotAhead } from '../../handlers/reading-timestamp';
import { Decimal } from '../../handlers/decimal';

const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

const SEED_READING = { id: 'things/harrow/001', temperature: '19.57', timestamp: '2016-09-09 13:33:07.381019' };

const ok = <T>(result: { ok: true; value: T } | { ok: false; error: unknown }): T => {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.value;
};

describe('parseReading', () => {
  it("accepts the 2016 report's body unchanged and normalises it", () => {
    const reading = ok(parseReading(SEED_READING));
    expect(reading.id).toBe('things/harrow/001');
    expect(reading.timestamp).toBe('2016-09-09T13:33:07.381019Z');
    expect([...reading.metrics]).toEqual([['temperature', n(19.57)]]);
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
    expect(Object.fromEntries(reading.metrics)).toEqual({ temperature: n(19.5), humidity: n(40), pressure: n(-150) });
  });

  it('refuses magnitudes DynamoDB cannot hold rather than storing them as zero or rounding them', () => {
    expect(parseReading({ id: 'a', timestamp: 0, t: 1e-200 })).toMatchObject({ ok: false, error: { code: 'bad-metric-value', message: expect.stringContaining('below 1e-130') } });
    expect(parseReading({ id: 'a', timestamp: 0, t: '1e126' })).toMatchObject({ ok: false, error: { message: expect.stringContaining('1e126 or more') } });
    expect(parseReading({ id: 'a', timestamp: 0, t: '1'.repeat(39) })).toMatchObject({ ok: false, error: { message: expect.stringContaining('more than 38 significant digits') } });
  });

  it('keeps every digit DynamoDB can hold: 38 significant digits, 1e-130 to below 1e126', () => {
    const values = { a: '12345678901234567890123456789012345678', b: '-1e-130', c: '9.9999999999999999999999999999999999999e125', d: '10000000000000000', e: '0.000' };
    const reading = ok(parseReading({ id: 'a', timestamp: 0, ...values }));
    expect(Object.fromEntries([...reading.metrics].map(([name, value]) => [name, value.text]))).toEqual({
      a: '1.2345678901234567890123456789012345678e+37',
      b: '-1e-130',
      c: '9.9999999999999999999999999999999999999e+125',
      d: '10000000000000000',
      e: '0',
    });
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

  it('takes ids of Basic Multilingual Plane characters only, so 256 characters are 256 UTF-16 units (the Kinesis partition key limit)', () => {
    expect(parseReading({ id: 'é'.repeat(256), timestamp: 0, t: 1 }).ok).toBe(true);
    expect(parseReading({ id: 'é'.repeat(257), timestamp: 0, t: 1 }).ok).toBe(false);
    // 128 emoji are 128 characters for JSON Schema but 256 UTF-16 units: refused whatever their count.
    expect(parseReading({ id: '😀', timestamp: 0, t: 1 })).toMatchObject({ ok: false, error: { code: 'bad-id', message: expect.stringContaining('beyond the Basic Multilingual Plane') } });
  });

  it('refuses ids that have no UTF-8 form (a lone surrogate) or hold line separators', () => {
    for (const id of ['things/\ud800', 'things/\udc00x', 'a\u2028b', 'a\u2029b']) {
      expect(parseReading(JSON.parse(`{"id": "${id}", "timestamp": 0, "t": 1}`))).toMatchObject({ ok: false, error: { code: 'bad-id' } });
    }
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
      { ThingID: 'things/harrow/001/temperature', Timestamp: '2016-09-09T13:33:07.000000Z', Value: n(19.57), ExpiresAt: expiresAt },
      { ThingID: 'things/harrow/001/humidity', Timestamp: '2016-09-09T13:33:07.000000Z', Value: n(41), ExpiresAt: expiresAt },
    ]);
  });

  it('omits ExpiresAt without hot retention and is the same on every call (idempotent writes)', () => {
    const reading = ok(parseReading(SEED_READING));
    expect(readingItems(reading)).toEqual([{ ThingID: 'things/harrow/001/temperature', Timestamp: '2016-09-09T13:33:07.381019Z', Value: n(19.57) }]);
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
 * must agree on every body, the range after a zone offset included. storable.test.ts
 * checks the same around every boundary with generated readings.
 */
describe('schema and parser agree', () => {
  const ajv = new Ajv({ allErrors: true });
  const validateSingle = ajv.compile(singleIngestBodySchema);
  const validateBatch = ajv.compile(batchIngestBodySchema);
  const validateReading = ajv.compile(readingSchema);

  const read = (extra: Record<string, unknown>): Record<string, unknown> => ({ id: 'things/a/1', timestamp: '2016-09-09T13:33:07Z', temperature: 20, ...extra });
  const withoutKey = (key: string) => Object.fromEntries(Object.entries(read({})).filter(([name]) => name !== key));
  const manyMetrics = (count: number) => ({ id: 'a', timestamp: 0, ...Object.fromEntries(Array.from({ length: count }, (_, i) => [`m${i}`, i])) });

  const corpus: Array<[string, unknown]> = [
    ['the 2016 report body', { Data: SEED_READING }],
    ['iso with Z', { Data: read({}) }],
    ['iso without zone', { Data: read({ timestamp: '2016-09-09T13:33:07' }) }],
    ['iso with offset', { Data: read({ timestamp: '2016-09-09T13:33:07+05:30' }) }],
    ['iso with compact offset', { Data: read({ timestamp: '2016-09-09T13:33:07-0800' }) }],
    ['iso with nanoseconds', { Data: read({ timestamp: '2016-09-09T13:33:07.123456789Z' }) }],
    ['iso minutes only', { Data: read({ timestamp: '2016-09-09T13:33' }) }],
    ['the 2016 report form without fraction', { Data: read({ timestamp: '2016-09-09 13:33:07' }) }],
    ['epoch ms', { Data: read({ timestamp: 1473428000123 }) }],
    ['epoch zero', { Data: read({ timestamp: 0 }) }],
    ['numeric string with exponent', { Data: read({ temperature: '1.5e3' }) }],
    ['numeric string with sign', { Data: read({ temperature: '-0.5' }) }],
    ['numeric string leading dot', { Data: read({ temperature: '.5' }) }],
    ['negative number', { Data: read({ temperature: -40 }) }],
    ['smallest number DynamoDB holds', { Data: read({ temperature: 1e-130 }) }],
    ['largest double below 1e126', { Data: read({ temperature: 9.999999999999998e125 }) }],
    ['38 significant digits as a string', { Data: read({ temperature: '-1234567890.1234567890123456789012345678' }) }],
    ['an integer beyond 2^53 as a string', { Data: read({ temperature: '10000000000000001' }) }],
    ['1970 once its zone is applied, just', { Data: read({ timestamp: '1970-01-01T05:30:00+05:30' }) }],
    ['9999 once its zone is applied, just', { Data: read({ timestamp: '9999-12-31T22:29:59.999999999-01:30' }) }],
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
    ['metric too small', { Data: read({ temperature: 1e-200 }) }],
    ['1e126', { Data: read({ temperature: 1e126 }) }],
    ['39 significant digits as a string', { Data: read({ temperature: '1.23456789012345678901234567890123456789' }) }],
    ['an exponent too large as a string', { Data: read({ temperature: '1e126' }) }],
    ['a scientific mantissa that is not normalised', { Data: read({ temperature: '15e2' }) }],
    ['an emoji id', { Data: read({ id: 'things/😀' }) }],
    ['an id with a line separator', { Data: read({ id: 'a\u2028b' }) }],
    ['9999 pushed into 10000 by its zone', { Data: read({ timestamp: '9999-12-31T23:00:00-01:00' }) }],
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
    ['before 1970 after its zone offset', { Data: read({ timestamp: '1970-01-01T00:30:00+01:00' }) }],
  ];

  it('has a corpus of at least 40 samples, valid and invalid', () => {
    const verdicts = corpus.map(([, body]) => ingestReadings(body).ok);
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(verdicts.filter(Boolean).length).toBeGreaterThanOrEqual(15);
    expect(verdicts.filter((verdict) => !verdict).length).toBeGreaterThanOrEqual(25);
  });

  it.each(corpus)('%s', (_name, body) => {
    // The API takes a single reading on one path and a batch on the other: a body is valid when either model accepts it.
    const schemaVerdict = validateSingle(body) || validateBatch(body);
    const parserVerdict = ingestReadings(body).ok;
    expect(parserVerdict).toBe(schemaVerdict);
    const data = (body as { Data?: unknown }).Data;
    if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
      expect(parseReading(data).ok).toBe(validateReading(data));
    }
  });

  it('is draft-04, as API Gateway models require', () => {
    for (const schema of [singleIngestBodySchema, batchIngestBodySchema]) {
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

describe('numbers written as JSON numbers in a stream record', () => {
  it('keep the digits of the text, not those of the double JSON.parse reads', () => {
    const reading = ok(parseReadingJson('{"id": "a", "timestamp": 0, "energy": 10000000000000001, "ratio": 0.1000000000000000000000000000001}'));
    expect(reading.metrics.get('energy')?.text).toBe('10000000000000001');
    expect(reading.metrics.get('ratio')?.text).toBe('0.1000000000000000000000000000001');
  });

  it('are refused past 38 significant digits, even when the double would fit', () => {
    const result = parseReadingJson(`{"id": "a", "timestamp": 0, "t": 1.${'1'.repeat(38)}}`);
    expect(result).toMatchObject({ ok: false, error: { code: 'bad-metric-value', message: expect.stringContaining('38 significant digits') } });
  });

  it('are found member by member, skipping strings and nested values, the last of repeated names winning as in JSON.parse', () => {
    const text = '{"a": 1.50, "b":"x\\"}, \\"c\\": 3", "c":{"d":[1,{"e":2}]}, "f" : -1e400 , "g": [3], "a": 2.50, "h": true}';
    expect(Object.fromEntries(memberNumberTexts(text))).toEqual({ a: '2.50', f: '-1e400' });
    expect(memberNumberTexts('[1, 2]').size).toBe(0);
  });
});

describe('parseNumericString (numeric strings in readings, bounds in the tools)', () => {
  it.each([['19.57'], ['-0.5'], ['.5'], ['7.'], ['+3'], ['1.5e3'], ['2E-7'], ['0e999'], ['1e+125'], ['1e-130']])('accepts %p', (text) => {
    expect(parseNumericString(text).ok).toBe(true);
  });

  it.each([
    ['0x10', 'syntax'],
    [' 12 ', 'syntax'],
    ['12 ', 'syntax'],
    ['1_000', 'syntax'],
    ['15e2', 'syntax'],
    ['Infinity', 'syntax'],
    ['', 'syntax'],
    ['1e-200', 'too-small'],
    ['1e126', 'too-large'],
    ['1.000000000000000000000000000000000000001', 'too-many-digits'],
  ])('refuses %p (%s)', (text, problem) => {
    expect(parseNumericString(text)).toEqual({ ok: false, problem });
  });
});

describe('checkNotAhead', () => {
  const reading = ok(parseReading({ id: 'a', timestamp: '2024-05-01T12:05:00Z', t: 1 }));
  const arrival = Date.parse('2024-05-01T12:00:00Z');

  it('accepts a reading dated up to the tolerance after its arrival', () => {
    expect(checkNotAhead(reading, arrival, 300_000).ok).toBe(true);
  });

  it('refuses one dated further ahead, with its own reason code and the figures', () => {
    expect(checkNotAhead(reading, arrival, 299_999)).toMatchObject({
      ok: false,
      error: { code: 'future-timestamp', field: 'timestamp', message: expect.stringContaining('is 5 min after the reading reached the stream (2024-05-01T12:00:00.000Z)') },
    });
    const year9999 = ok(parseReading({ id: 'a', timestamp: '9999-12-31T00:00:00Z', t: 1 }));
    expect(checkNotAhead(year9999, arrival, 300_000)).toMatchObject({ ok: false, error: { message: expect.stringContaining('days after') } });
  });
});

describe('seriesIdProblem', () => {
  it.each([['things/harrow/001/temperature'], ['a/b']])('accepts %p', (series) => {
    expect(seriesIdProblem(series)).toBeUndefined();
  });

  it.each([['things'], ['things/'], ['/temperature'], ['   /t'], ['a/1st'], ['a/id'], ['things/😀/t'], [`${'x'.repeat(257)}/t`], ['a\u0007/t']])('refuses %p', (series) => {
    expect(seriesIdProblem(series)).toMatch(/series|thing id/);
  });
});
