import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../../handlers/decimal';
import { ThresholdCache, seriesRecordOf, type SeriesAlertRecord } from '../../handlers/alert-state';

const SERIES = 'things/harrow/001/temperature';

describe('seriesRecordOf', () => {
  it('reads thresholds and a series never alerted as ok', () => {
    expect(seriesRecordOf({ ThingID: SERIES, MinThreshold: 18, MaxThreshold: '25' })).toEqual({
      thresholds: { min: Decimal.fromNumber(18), max: Decimal.fromNumber(25) },
      status: { condition: 'ok' },
      problems: [],
    });
  });

  it('reads bounds and claim times as an exact client returns them (NumberValue), every digit kept', () => {
    const record = seriesRecordOf({
      ThingID: SERIES,
      MaxThreshold: NumberValue.from('25.000000000000000000000000000001'),
      AlertClaim: { Token: 't-1', ReadingAt: '2024-05-01T10:20:00.000000Z', ExpiresAt: NumberValue.from('1714558800000'), Notice: 'breach', State: 'breached', Bound: 'max' },
    });
    expect(record.thresholds.max?.text).toBe('25.000000000000000000000000000001');
    expect(record.claim?.expiresAt).toBe(1_714_558_800_000);
  });

  it('reads the alert state and a pending claim', () => {
    const record = seriesRecordOf({
      ThingID: SERIES,
      MaxThreshold: 25,
      AlertState: 'breached',
      AlertBound: 'max',
      AlertChangedAt: '2024-05-01T10:00:00.000000Z',
      AlertNotifiedAt: '2024-05-01T10:15:00.000000Z',
      AlertClaim: { Token: 't-1', ReadingAt: '2024-05-01T10:20:00.000000Z', ExpiresAt: 1_000, Notice: 'recovery', State: 'ok', ChangedAt: '2024-05-01T10:20:00.000000Z' },
    });
    expect(record.status).toEqual({ condition: 'breached', bound: 'max', changedAt: '2024-05-01T10:00:00.000000Z', notifiedAt: '2024-05-01T10:15:00.000000Z' });
    expect(record.claim).toEqual({
      token: 't-1',
      readingAt: '2024-05-01T10:20:00.000000Z',
      expiresAt: 1_000,
      notice: 'recovery',
      next: { condition: 'ok', changedAt: '2024-05-01T10:20:00.000000Z', notifiedAt: '2024-05-01T10:20:00.000000Z' },
    });
  });

  it('ignores a malformed claim and unknown state values rather than guessing', () => {
    const record = seriesRecordOf({ ThingID: SERIES, MaxThreshold: 25, AlertState: 'panicking', AlertBound: 'max', AlertClaim: { Token: 't-1', Notice: 'breach' } });
    expect(record.status).toEqual({ condition: 'ok' });
    expect(record.claim).toBeUndefined();
  });
});

describe('ThresholdCache', () => {
  const record = (max: number): SeriesAlertRecord => ({ thresholds: { max: Decimal.fromNumber(max) }, status: { condition: 'ok' }, problems: [] });

  it('keeps entries, including known absences, for the TTL only', () => {
    let now = 0;
    const cache = new ThresholdCache({ ttlMs: 60_000, now: () => now });
    cache.set('a', record(1));
    cache.set('b', null);
    now = 59_999;
    expect(cache.get('a')).toEqual(record(1));
    expect(cache.get('b')).toBeNull();
    expect(cache.get('c')).toBeUndefined();
    now = 60_000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
  });

  it('updates an entry in place without extending its life', () => {
    let now = 0;
    const cache = new ThresholdCache({ ttlMs: 1_000, now: () => now });
    cache.set('a', record(1));
    now = 900;
    cache.update('a', record(2));
    expect(cache.get('a')).toEqual(record(2));
    now = 1_000;
    expect(cache.get('a')).toBeUndefined();
    // Nothing to update once expired: the next batch reads the item again.
    cache.update('a', record(3));
    expect(cache.get('a')).toBeUndefined();
  });

  it('drops the oldest entry beyond its size limit, and forgets on request', () => {
    const cache = new ThresholdCache({ maxEntries: 2, now: () => 0 });
    cache.set('a', record(1));
    cache.set('b', record(2));
    cache.set('a', record(1)); // refreshed: now the newest
    cache.set('c', record(3));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual(record(1));
    cache.forget('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toEqual(record(3));
  });

  it('rejects settings that cannot work', () => {
    expect(() => new ThresholdCache({ ttlMs: -1 })).toThrow(/ttlMs >= 0/);
    expect(() => new ThresholdCache({ maxEntries: 0 })).toThrow(/maxEntries >= 1/);
  });
});
