import { ThresholdCache } from '../../handlers/threshold-cache';
import { seriesRecordOf, type SeriesAlertRecord } from '../../handlers/alert-state-item';

const SERIES = 'things/harrow/001/temperature';

describe('ThresholdCache', () => {
  const record = (max: number): SeriesAlertRecord => seriesRecordOf({ ThingID: SERIES, MaxThreshold: max });

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
