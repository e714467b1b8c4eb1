/** Reading the readings out of stream records: one reading per record, or a packed JSON array of them. */
import fc from 'fast-check';
import { readingOfRecord, recordBytes, recordStart, unpackRecords } from '../../handlers/kinesis-record';
import { arrayElementTexts } from '../../handlers/json-text';
import { deliveredAsIs, kinesisRecord, reading, sequenceNumberOf } from './kinesis-event-fixture';

describe('arrayElementTexts', () => {
  it('gives the text of each element of any JSON array, whatever its spacing, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.constantFrom('', ' ', '\n\t '), (values, space) => {
        const text = `${space}[${space}${values.map((value) => JSON.stringify(value)).join(`${space},${space}`)}${space}]${space}`;
        const texts = arrayElementTexts(text);
        expect(texts?.map((element) => JSON.parse(element) as unknown)).toEqual(JSON.parse(text));
      }),
    );
  });

  it('keeps the digits a number was written with', () => {
    expect(arrayElementTexts('[0.10000000000000000001,{"t":1e-130}]')).toEqual(['0.10000000000000000001', '{"t":1e-130}']);
  });

  it('answers undefined for anything but an array', () => {
    expect(arrayElementTexts('{"a":[1]}')).toBeUndefined();
    expect(arrayElementTexts('"[1]"')).toBeUndefined();
  });
});

describe('unpackRecords', () => {
  const a = reading('things/a', '2024-05-01T11:00:00Z', { t: 1 });
  const b = reading('things/b', '2024-05-01T11:00:01Z', { t: '2.50' });

  it('makes each reading of a packed record a reading of its own, sharing the record\'s sequence number, and leaves a one-reading record as it is', () => {
    const single = kinesisRecord(a, 0);
    const packed = kinesisRecord([a, b], 1);
    const readings = unpackRecords([single, packed]);
    expect(readings).toHaveLength(3);
    expect(readings[0]).toBe(single);
    expect(readings.slice(1).map((entry) => [entry.kinesis.sequenceNumber, entry.packed?.index, entry.packed?.count])).toEqual([
      [sequenceNumberOf(1), 0, 2],
      [sequenceNumberOf(1), 1, 2],
    ]);
    expect(readings.map((entry) => readingOfRecord(entry)).map((parsed) => (parsed.ok ? parsed.value.id : parsed.error.code))).toEqual(['things/a', 'things/a', 'things/b']);
    expect(recordBytes(readings[2]!).toString('utf8')).toBe(JSON.stringify(b));
    expect([0, 1, 2].map((index) => recordStart(readings, index))).toEqual([0, 1, 1]);
  });

  it.each([
    ['an empty array', '[]', 'not-object'],
    ['an array that is not valid JSON', '[{"id": "x"}, ', 'not-json'],
    ['bytes that are not UTF-8', deliveredAsIs(Buffer.from([0x5b, 0xff, 0x5d]).toString('base64')), 'bad-encoding'],
  ])('leaves %s whole, for the parser to name what is wrong', (_name, payload, code) => {
    const record = kinesisRecord(payload, 0);
    const readings = unpackRecords([record]);
    expect(readings).toEqual([record]);
    const parsed = readingOfRecord(readings[0]!);
    expect(parsed.ok ? 'ok' : parsed.error.code).toBe(code);
  });

  it('checks each packed reading against its record\'s arrival, alone', () => {
    const arrival = Date.parse('2024-05-01T11:00:00Z') / 1000;
    const readings = unpackRecords([kinesisRecord([a, reading('things/a', '2024-05-01T12:00:00Z', { t: 2 })], 0, '0', arrival)]);
    expect(readings.map((entry) => readingOfRecord(entry, { maxAheadMs: 300_000 })).map((parsed) => (parsed.ok ? 'ok' : parsed.error.code))).toEqual(['ok', 'future-timestamp']);
  });
});
