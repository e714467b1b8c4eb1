import { gaussian, ReadingClock, seedBody, seededRandom, seedTimestamp, SEED_READINGS, temperatureText } from '../../tools/synthetic';
import { parseReadingJson } from '../../handlers/reading';
import { normaliseTimestamp } from '../../handlers/reading-timestamp';

describe('synthetic readings', () => {
  it("draws from N(20, 3²) like the 2016 report's sensors", () => {
    const random = seededRandom(42);
    const draws = Array.from({ length: 20_000 }, () => gaussian(random, SEED_READINGS.mean, SEED_READINGS.stddev));
    const mean = draws.reduce((sum, value) => sum + value, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((sum, value) => sum + (value - mean) ** 2, 0) / draws.length);
    expect(mean).toBeCloseTo(20, 1);
    expect(sd).toBeCloseTo(3, 1);
    // About 68 % within one standard deviation.
    const within = draws.filter((value) => Math.abs(value - 20) <= 3).length / draws.length;
    expect(within).toBeGreaterThan(0.66);
    expect(within).toBeLessThan(0.7);
  });

  it('repeats a run exactly from the same seed', () => {
    const first = seededRandom(7);
    const second = seededRandom(7);
    expect(Array.from({ length: 5 }, first)).toEqual(Array.from({ length: 5 }, second));
    expect(Array.from({ length: 5 }, seededRandom(8))).not.toEqual(Array.from({ length: 5 }, seededRandom(7)));
  });

  it.each([
    [19.567, '19.57'],
    [11.394, '11.39'],
    [21, '21.0'],
    [-0.5, '-0.5'],
  ])('writes %p as the 2016 script wrote it: %p', (value, text) => {
    expect(temperatureText(value)).toBe(text);
  });

  it("formats the time as Python's str(datetime.utcnow())", () => {
    expect(seedTimestamp(Date.UTC(2016, 8, 9, 13, 33, 7) * 1000 + 381_019)).toBe('2016-09-09 13:33:07.381019');
    expect(seedTimestamp(Date.UTC(2016, 8, 9, 13, 33, 8) * 1000)).toBe('2016-09-09 13:33:08');
    expect(normaliseTimestamp('2016-09-09 13:33:07.381019')).toEqual({ ok: true, value: '2016-09-09T13:33:07.381019Z' });
  });

  it("builds the 2016 report's body byte for byte", () => {
    expect(seedBody('things/harrow/001', '19.57', '2016-09-09 13:33:07.381019')).toBe(
      '{"Data":{"id":"things/harrow/001","temperature":"19.57","timestamp":"2016-09-09 13:33:07.381019"}}',
    );
    const body = JSON.parse(seedBody('things/harrow/001', '19.57', '2016-09-09 13:33:07.381019')) as { Data: unknown };
    expect(parseReadingJson(JSON.stringify(body.Data)).ok).toBe(true);
  });

  it('never gives one thing the same microsecond twice, even within one millisecond', () => {
    const clock = new ReadingClock(() => 1_000);
    const times = Array.from({ length: 3 }, () => clock.next('a'));
    expect(times).toEqual([1_000_000, 1_000_001, 1_000_002]);
    // Other things have their own sequence.
    expect(clock.next('b')).toBe(1_000_000);
  });
});
