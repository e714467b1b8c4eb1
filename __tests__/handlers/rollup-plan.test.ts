/**
 * Which minutes a batch makes countable, and what the readers see of the open minute: the
 * pure parts of keeping rollups a minute at a time (the delivery properties are in
 * rollups.property.test.ts).
 */
import { Decimal } from '../../handlers/decimal';
import { addReadings, encodePart, type Aggregate } from '../../handlers/rollup';
import { hourReadings, type SeriesContributions } from '../../handlers/rollup-gather';
import { openMinuteView } from '../../handlers/rollup-open';
import { changesNothing, closingTargets, foldTargets, planFold, recountTargets, rollupCutoffs } from '../../handlers/rollup-plan';

const value = (text: string) => Decimal.parse(text) as Decimal;
const aggregateOf = (...readings: [string, string][]) => addReadings(undefined, readings.map(([timestamp, text]) => ({ timestamp, value: value(text) }))) as Aggregate;

/** A series' batch of readings (normalised timestamps), one record each. */
function contributions(...timestamps: string[]): SeriesContributions {
  const byHour = new Map<string, { item: { Timestamp: string; Value: Decimal }; records: number[] }[]>();
  timestamps.forEach((timestamp, index) => {
    const hour = timestamp.slice(0, 13);
    byHour.set(hour, [...(byHour.get(hour) ?? []), { item: { Timestamp: timestamp, Value: value(String(index)) }, records: [index] }]);
  });
  const hours = [...byHour.values()].map((entries) => hourReadings(entries)!);
  return { hours, firstRecord: 0 };
}

const keepAll = rollupCutoffs(Date.parse('2026-12-01T12:00:00Z'), {});
const openAt = (start: string, closed = false) => ({ start, closed });

describe('foldTargets', () => {
  it('changes nothing while a batch stays in the open minute', () => {
    const targets = foldTargets(contributions('2026-12-01T10:07:01.000000Z', '2026-12-01T10:07:05.000000Z'), openAt('2026-12-01T10:07:00Z'), keepAll);
    expect(targets.open).toBe('2026-12-01T10:07:00Z');
    expect(changesNothing(targets)).toBe(true);
  });

  it('counts the minutes from the open one up to the batch newest, which becomes open', () => {
    const targets = foldTargets(contributions('2026-12-01T10:07:58.000000Z', '2026-12-01T10:09:01.000000Z'), openAt('2026-12-01T10:06:00Z'), keepAll);
    expect(targets).toMatchObject({ open: '2026-12-01T10:09:00Z', span: { from: '2026-12-01T10:06:00Z', to: '2026-12-01T10:09:00Z' }, late: [] });
    expect(changesNothing(targets)).toBe(false);
  });

  it('counts again each earlier minute a late reading lands in, and leaves the open minute where it is', () => {
    const targets = foldTargets(contributions('2026-12-01T09:59:30.000000Z', '2026-12-01T10:07:10.000000Z'), openAt('2026-12-01T10:07:00Z'), keepAll);
    expect(targets).toMatchObject({ open: '2026-12-01T10:07:00Z', span: undefined, late: ['2026-12-01T09:59:00Z'] });
  });

  it('takes a reading in a closed open minute (written by the no-data check) for a late one, and opens the next minute', () => {
    const same = foldTargets(contributions('2026-12-01T10:07:30.000000Z'), openAt('2026-12-01T10:07:00Z', true), keepAll);
    expect(same).toMatchObject({ open: '2026-12-01T10:07:00Z', closed: true, span: undefined, late: ['2026-12-01T10:07:00Z'] });
    const next = foldTargets(contributions('2026-12-01T10:07:30.000000Z', '2026-12-01T10:10:00.000000Z'), openAt('2026-12-01T10:07:00Z', true), keepAll);
    expect(next).toMatchObject({ open: '2026-12-01T10:10:00Z', closed: false, span: { from: '2026-12-01T10:08:00Z', to: '2026-12-01T10:10:00Z' }, late: ['2026-12-01T10:07:00Z'] });
  });

  it('closes a silent series\' open minute by counting it, unless its readings may be gone', () => {
    expect(closingTargets(openAt('2026-12-01T10:07:00Z'), '2026-12-01T10:07:00Z', keepAll)).toMatchObject({ open: '2026-12-01T10:07:00Z', closed: true, span: undefined, late: ['2026-12-01T10:07:00Z'] });
    const rawKeptADay = rollupCutoffs(Date.parse('2026-12-03T12:00:00Z'), { raw: 1 });
    expect(closingTargets(openAt('2026-12-01T10:07:00Z'), '2026-12-01T10:07:00Z', rawKeptADay)).toMatchObject({ closed: true, late: [] });
  });

  it('closes the minute of the latest reading the catalogue saw, counting the minutes up to it, and leaves a series that moved on since', () => {
    // The catalogue's latest reading is later than the open minute (a batch stored it but its rollups were given up on).
    expect(closingTargets(openAt('2026-12-01T10:07:00Z', true), '2026-12-01T10:09:00Z', keepAll)).toMatchObject({
      open: '2026-12-01T10:09:00Z',
      closed: true,
      span: { from: '2026-12-01T10:08:00Z', to: '2026-12-01T10:09:00Z' },
      late: ['2026-12-01T10:09:00Z'],
    });
    // Already closed at that minute: nothing to do.
    expect(changesNothing(closingTargets(openAt('2026-12-01T10:09:00Z', true), '2026-12-01T10:09:00Z', keepAll)!)).toBe(true);
    // Readings came after the catalogue was read: the open minute is the consumer's.
    expect(closingTargets(openAt('2026-12-01T11:30:00Z'), '2026-12-01T10:09:00Z', keepAll)).toBeUndefined();
  });

  it('counts a minute just closed once more, alone and as closed, unless its readings may be gone', () => {
    const recount = recountTargets('2026-12-01T10:09:00Z', keepAll);
    expect(recount).toMatchObject({ open: '2026-12-01T10:09:00Z', closed: true, span: undefined, late: ['2026-12-01T10:09:00Z'] });
    expect(changesNothing(recount)).toBe(false);
    expect(recountTargets('2026-12-01T10:09:00Z', rollupCutoffs(Date.parse('2026-12-03T12:00:00Z'), { raw: 1 })).late).toEqual([]);
  });


  it('without an open minute stored, counts the batch minutes before its newest one by one', () => {
    const targets = foldTargets(contributions('2026-12-01T10:05:00.000000Z', '2026-12-01T10:06:00.000000Z', '2026-12-01T10:08:00.000000Z'), { start: undefined, closed: false }, keepAll);
    expect(targets).toMatchObject({ open: '2026-12-01T10:08:00Z', span: undefined, late: ['2026-12-01T10:05:00Z', '2026-12-01T10:06:00Z'] });
  });

  it('takes the readings of minutes whose raw readings may be gone as they are, and leaves out days past their retention', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const targets = foldTargets(contributions('2026-11-20T10:05:00.000000Z', '2026-10-01T10:05:00.000000Z', '2026-12-01T11:00:00.000000Z'), openAt('2026-12-01T11:00:00Z'), rollupCutoffs(now, { raw: 7, '1h': 30, '1d': 60 }));
    expect(targets.late).toEqual([]);
    expect([...targets.beyondRaw.keys()]).toEqual(['2026-11-20T10:05:00Z']);
    expect([...targets.beyondHour.keys()]).toEqual([]);
  });
});

describe('planFold', () => {
  it('sets the counted minutes in their hour, merges the hour again and sets it in its day', () => {
    const targets = foldTargets(contributions('2026-12-01T10:08:00.000000Z'), openAt('2026-12-01T10:07:00Z'), keepAll);
    const minute = aggregateOf(['2026-12-01T10:07:10.000000Z', '4'], ['2026-12-01T10:07:20.000000Z', '6']);
    const earlier = aggregateOf(['2026-12-01T10:06:30.000000Z', '-1']);
    const stored = new Map([['1h#2026-12-01T10:00:00Z', { series: 's', step: '1h' as const, start: '2026-12-01T10:00:00Z', aggregate: earlier, parts: { '06': encodePart(earlier, '1h') }, version: 3 }]]);
    const writes = planFold({ series: 's', targets, counted: new Map([['2026-12-01T10:07:00Z', minute]]), stored, cutoffs: keepAll });
    expect(writes.map((bucket) => [bucket.step, bucket.start, bucket.version, Object.keys(bucket.parts ?? {}).sort(), bucket.aggregate.count, bucket.aggregate.min.text, bucket.aggregate.max.text])).toEqual([
      ['1h', '2026-12-01T10:00:00Z', 3, ['06', '07'], 3, '-1', '6'],
      ['1d', '2026-12-01T00:00:00Z', 0, ['10'], 3, '-1', '6'],
    ]);
  });
});

describe('openMinuteView', () => {
  it('counts the open minute from its readings in place of its part, and merges its hour and day again with it', () => {
    const open = '2026-12-01T10:07:00Z';
    const stale = aggregateOf(['2026-12-01T10:07:01.000000Z', '100']);
    const before = aggregateOf(['2026-12-01T10:06:01.000000Z', '1']);
    const earlierHour = aggregateOf(['2026-12-01T09:30:00.000000Z', '-5']);
    const counted = aggregateOf(['2026-12-01T10:07:01.000000Z', '2'], ['2026-12-01T10:07:02.000000Z', '3']);
    const view = openMinuteView(open, counted, { '06': encodePart(before, '1h'), '07': encodePart(stale, '1h') }, { '09': encodePart(earlierHour, '1d'), '10': encodePart(stale, '1d') });
    expect(view['1m']).toBe(counted);
    expect([view['1h']?.count, view['1h']?.max.text]).toEqual([3, '3']);
    expect([view['1d']?.count, view['1d']?.min.text, view['1d']?.max.text, view['1d']?.first]).toEqual([4, '-5', '3', '2026-12-01T09:30:00.000000Z']);
  });
});
