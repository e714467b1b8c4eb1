import fc from 'fast-check';
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../../handlers/decimal';
import { timestampOfMillis } from '../../handlers/reading-timestamp';
import { decodeItem, minuteStart, rangeCondition, readingsOfItems, SEGMENT_LIMITS, SegmentMerger, segmentKey, windowStart, type TimedReading } from '../../handlers/reading-segment';
import { segmentItems } from './segment-fixture';

const value = (text: string) => Decimal.parse(text) as Decimal;
const position = (highest: string, lowest = highest) => ({ shardId: 'shardId-000000000000', highest, lowest });
const texts = (readings: readonly TimedReading[]) => readings.map((reading) => [reading.timestamp, reading.value.text]);

describe('segment items', () => {
  it('round-trip every reading with its exact digits and microseconds, in time order', () => {
    const timestamp = fc.integer({ min: 0, max: 253402300799999 }).chain((millis) => fc.integer({ min: 0, max: 999 }).map((extra) => `${timestampOfMillis(millis).slice(0, 23)}${String(extra).padStart(3, '0')}Z`));
    const decimal = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e120, max: 1e120 }).map((number) => Decimal.fromNumber(number) as Decimal), fc.constant(value('1234567890123456789012345678901234567.8')), fc.constant(value('-1e-130')));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(timestamp, decimal), { selector: ([time]) => time, maxLength: 40 }), (pairs) => {
        const readings = pairs.map(([timestamp, reading]) => ({ timestamp, value: reading }));
        const items = segmentItems('things/a/t', readings, position('49590338271490256608559692538361571095921575989136588898'));
        const decoded = readingsOfItems(items).get('things/a/t') ?? [];
        const expected = [...readings].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
        expect(texts(decoded)).toEqual(texts(expected));
        // An item holds one hour's readings and is keyed by the minute of its latest.
        for (const item of items) {
          const held = decodeItem(item)?.readings ?? [];
          for (const reading of held) expect(windowStart(reading.timestamp)).toBe(windowStart(item.Timestamp));
          expect(minuteStart(held.at(-1)?.timestamp ?? '')).toBe(item.Timestamp.slice(0, 27));
        }
      }),
    );
  });

  it("hold every reading of a series in one window in one item, keyed by its latest reading's minute, with ExpiresAt from that reading", () => {
    const readings = Array.from({ length: 200 }, (_, index) => ({ timestamp: timestampOfMillis(Date.parse('2024-05-01T12:00:00Z') + index * 1000), value: value(String(index)) }));
    const items = segmentItems('things/a/t', readings, position('42'), 2);
    expect(items).toHaveLength(1);
    expect(items[0]?.Timestamp).toBe(segmentKey('2024-05-01T12:03:00.000000Z', position('42'), 0));
    expect(items[0]?.ExpiresAt).toBe(Date.parse('2024-05-01T12:03:19Z') / 1000 + 2 * 86_400);
  });

  it('split a segment into parts below the part budget, none lost', () => {
    const readings = Array.from({ length: 9000 }, (_, index) => ({ timestamp: timestampOfMillis(Date.parse('2024-05-01T12:00:00Z') + index * 100), value: value(`1234567.${index}`) }));
    const items = segmentItems('s/t', readings, position('7'));
    expect(items.length).toBeGreaterThan(1);
    for (const item of items) expect(Buffer.byteLength(item.Readings)).toBeLessThanOrEqual(SEGMENT_LIMITS.partBytes);
    expect(new Set(items.map((item) => item.Timestamp)).size).toBe(items.length);
    expect(readingsOfItems(items).get('s/t')).toHaveLength(9000);
  });

  it('order keys by the highest sequence number as a number, whatever its length', () => {
    expect(segmentKey('2024-05-01T12:00:00.000000Z', position('99'), 0) < segmentKey('2024-05-01T12:00:00.000000Z', position('100'), 0)).toBe(true);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 128n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 128n - 1n }), (a, b) => {
        const keyOf = (sequence: bigint) => segmentKey('2024-05-01T12:00:00.000000Z', position(String(sequence)), 0);
        expect([keyOf(a) < keyOf(b), keyOf(a) === keyOf(b)]).toEqual([a < b, a === b]);
      }),
    );
  });

  // A write unit is 1 KB of the item: names and values of its attributes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
  it('fit five seconds of a 10 Hz series (50 readings of 5 digits, a real 56-digit sequence number) in one write unit', () => {
    const start = Date.parse('2026-11-30T12:30:00Z');
    const readings = Array.from({ length: 50 }, (_, index) => ({ timestamp: `${timestampOfMillis(start + index * 100).slice(0, 23)}${String(index * 7 % 1000).padStart(3, '0')}Z`, value: value(`19.${String(index).padStart(2, '0')}`) }));
    const sequence = '49590338271490256608559692538361571095921575989136588898';
    const [item] = segmentItems('things/boiler-room/sensor-0042/temperature', readings, position(sequence, sequence), 30);
    const size = Object.entries(item!).reduce((sum, [name, stored]) => sum + Buffer.byteLength(name) + (typeof stored === 'number' ? 21 : Buffer.byteLength(stored)), 0);
    expect(size).toBeLessThanOrEqual(1024);
    expect(texts(readingsOfItems([item!]).get('things/boiler-room/sensor-0042/temperature') ?? [])).toEqual(texts(readings));
  });
});

describe('reading items back', () => {
  const window = '2024-05-01T12:00:00.000000Z';
  const at = (second: number) => `2024-05-01T12:00:${String(second).padStart(2, '0')}.000000Z`;
  const older = segmentItems('s/t', [{ timestamp: at(1), value: value('1') }, { timestamp: at(2), value: value('2') }], position('10', '5'))[0]!;
  const newer = segmentItems('s/t', [{ timestamp: at(2), value: value('20') }, { timestamp: at(3), value: value('3') }], position('11', '6'))[0]!;
  const legacy = { ThingID: 's/t', Timestamp: at(3), Value: NumberValue.from('30') };
  const legacyOnly = { ThingID: 's/t', Timestamp: at(4), Value: NumberValue.from('4') };

  it('keep one reading per timestamp: the segment written later wins, and any segment wins over a one-reading item', () => {
    expect(texts(readingsOfItems([newer, legacy, older, legacyOnly]).get('s/t') ?? [])).toEqual([
      [at(1), '1'],
      [at(2), '20'],
      [at(3), '3'],
      [at(4), '4'],
    ]);
  });

  it('give each window once complete, in key order either way', () => {
    const next = segmentItems('s/t', [{ timestamp: '2024-05-01T13:00:00.000000Z', value: value('9') }], position('12'))[0]!;
    const merger = new SegmentMerger('desc');
    expect(merger.add(next)).toEqual([]);
    expect(texts(merger.add(newer))).toEqual([['2024-05-01T13:00:00.000000Z', '9']]);
    merger.add(older);
    expect(texts(merger.flush())).toEqual([
      [at(3), '3'],
      [at(2), '20'],
      [at(1), '1'],
    ]);
    expect(older.Timestamp.startsWith(window)).toBe(true);
  });

  it("query from the start of the first timestamp's hour to past every key of the last's (an item keyed by a later minute can hold it)", () => {
    const { ':to': to } = rangeCondition(at(30), '2024-05-01T12:00:00.000000Z').values;
    expect(rangeCondition(at(30), '2024-05-01T12:00:00.000000Z').values[':from']).toBe(window);
    const lastOfHour = segmentItems('s/t', [{ timestamp: '2024-05-01T12:00:00.000000Z', value: value('1') }, { timestamp: '2024-05-01T12:59:59.999999Z', value: value('2') }], position('99'))[0]!;
    expect([older.Timestamp, lastOfHour.Timestamp, '2024-05-01T12:59:59.999999Z'].every((key) => key <= (to ?? ''))).toBe(true);
    expect('2024-05-01T13:00:00.000000Z' > (to ?? '')).toBe(true);
  });

  it('read segments written with offsets from the window start and decimal sequence numbers; a segment written since outranks them', () => {
    const decimalKey = `${window}#05649590338271490256608559692538361571095921575989136588898#05649590338271490256608559692538361571095921575989136588890#shardId-000000000000#000`;
    const earlier = { ThingID: 's/t', Timestamp: decimalKey, Readings: '1000000=1;2000000=2' };
    expect(texts(decodeItem(earlier)?.readings ?? [])).toEqual([
      [at(1), '1'],
      [at(2), '2'],
    ]);
    const since = segmentItems('s/t', [{ timestamp: at(2), value: value('20') }], position('7'))[0]!;
    expect(texts(readingsOfItems([since, earlier]).get('s/t') ?? [])).toEqual([
      [at(1), '1'],
      [at(2), '20'],
    ]);
  });

  it('drop the readings after an entry that cannot be read in a part of offsets from the reading before, rather than misplace them', () => {
    expect(texts(decodeItem({ ThingID: 's/t', Timestamp: `${window}#x`, Readings: '+1000000=1;x=2;1000000=3' })?.readings ?? [])).toEqual([[at(1), '1']]);
  });

  it('ignore an item that holds no reading', () => {
    expect(decodeItem({ ThingID: 's/t', Timestamp: at(1) })).toBeUndefined();
    expect(decodeItem({ ThingID: 's/t', Timestamp: `${window}#x`, Readings: 'x=1;5=oops' })?.readings).toEqual([]);
  });
});
