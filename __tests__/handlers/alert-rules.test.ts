import {
  MAX_SUBJECT_LENGTH,
  OK_STATUS,
  boundCrossed,
  decideAlert,
  formatNotice,
  plainDuration,
  type AlertStatus,
  type Thresholds,
} from '../../handlers/alert-rules';
import { Decimal } from '../../handlers/decimal';
import { timestampMicros } from '../../handlers/reading';
import { readThresholds } from '../../handlers/stored-number';

/** An exact number, from a double or decimal text. */
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;
const COOLDOWN = 900;
const RANGE: Thresholds = { min: n(18), max: n(25) };
const T0 = '2016-09-09T13:33:07.381019Z';
const at = (timestamp: string, value: number | string) => ({ timestamp, value: n(value) });
const breachedAbove = (since: string, notifiedAt = since): AlertStatus => ({ condition: 'breached', bound: 'max', changedAt: since, notifiedAt });

describe('decideAlert', () => {
  it('notifies a breach when a value goes above the maximum', () => {
    expect(decideAlert(RANGE, OK_STATUS, at(T0, 25.01), COOLDOWN)).toEqual({
      action: 'notify',
      notice: 'breach',
      bound: 'max',
      next: { condition: 'breached', bound: 'max', changedAt: T0, notifiedAt: T0 },
    });
  });

  it('notifies a breach when a value goes below the minimum', () => {
    const decision = decideAlert(RANGE, OK_STATUS, at(T0, 17.99), COOLDOWN);
    expect(decision).toMatchObject({ action: 'notify', notice: 'breach', bound: 'min', next: { condition: 'breached', bound: 'min' } });
  });

  it('treats the bounds themselves as inside the range', () => {
    expect(decideAlert(RANGE, OK_STATUS, at(T0, 18), COOLDOWN)).toEqual({ action: 'none', reason: 'in-range' });
    expect(decideAlert(RANGE, OK_STATUS, at(T0, 25), COOLDOWN)).toEqual({ action: 'none', reason: 'in-range' });
  });

  it('applies only the bound that is present', () => {
    expect(decideAlert({ max: n(25) }, OK_STATUS, at(T0, -1e9), COOLDOWN)).toEqual({ action: 'none', reason: 'in-range' });
    expect(decideAlert({ max: n(25) }, OK_STATUS, at(T0, 26), COOLDOWN)).toMatchObject({ action: 'notify', bound: 'max' });
    expect(decideAlert({ min: n(18) }, OK_STATUS, at(T0, 1e9), COOLDOWN)).toEqual({ action: 'none', reason: 'in-range' });
    expect(decideAlert({ min: n(18) }, OK_STATUS, at(T0, 17), COOLDOWN)).toMatchObject({ action: 'notify', bound: 'min' });
  });

  it('does nothing without thresholds, whatever the state', () => {
    expect(decideAlert({}, OK_STATUS, at(T0, 1e9), COOLDOWN)).toEqual({ action: 'none', reason: 'no-thresholds' });
    expect(decideAlert({}, breachedAbove('2016-09-09T13:00:00.000000Z'), at(T0, 20), COOLDOWN)).toEqual({ action: 'none', reason: 'no-thresholds' });
  });

  it('stays quiet while still out within the cooldown, and reminds once it has passed (edge inclusive)', () => {
    const state = breachedAbove('2016-09-09T13:00:00.000000Z');
    expect(decideAlert(RANGE, state, at('2016-09-09T13:14:59.999999Z', 30), COOLDOWN)).toEqual({ action: 'none', reason: 'cooldown' });
    expect(decideAlert(RANGE, state, at('2016-09-09T13:15:00.000000Z', 30), COOLDOWN)).toEqual({
      action: 'notify',
      notice: 'reminder',
      bound: 'max',
      // The breach started at 13:00; only the notice time moves.
      next: { condition: 'breached', bound: 'max', changedAt: '2016-09-09T13:00:00.000000Z', notifiedAt: '2016-09-09T13:15:00.000000Z' },
    });
  });

  it('counts the cooldown from the last reminder, not from the start of the breach', () => {
    const state = breachedAbove('2016-09-09T13:00:00.000000Z', '2016-09-09T13:15:00.000000Z');
    expect(decideAlert(RANGE, state, at('2016-09-09T13:20:00.000000Z', 30), COOLDOWN)).toEqual({ action: 'none', reason: 'cooldown' });
  });

  it('reminds on every newer out-of-range reading when the cooldown is zero', () => {
    const state = breachedAbove(T0);
    expect(decideAlert(RANGE, state, at('2016-09-09T13:33:07.381020Z', 30), 0)).toMatchObject({ action: 'notify', notice: 'reminder' });
  });

  it('notifies a new breach at once when the value crosses to the other bound', () => {
    const state = breachedAbove(T0);
    const later = '2016-09-09T13:34:00.000000Z';
    expect(decideAlert(RANGE, state, at(later, 10), COOLDOWN)).toEqual({
      action: 'notify',
      notice: 'breach',
      bound: 'min',
      next: { condition: 'breached', bound: 'min', changedAt: later, notifiedAt: later },
    });
  });

  it('sends one recovery notice when the value is back inside', () => {
    const later = '2016-09-09T13:34:00.000000Z';
    expect(decideAlert(RANGE, breachedAbove(T0), at(later, 20), COOLDOWN)).toEqual({
      action: 'notify',
      notice: 'recovery',
      bound: 'max',
      next: { condition: 'ok', changedAt: later, notifiedAt: later },
    });
    // Recovered: the next in-range reading is quiet.
    expect(decideAlert(RANGE, { condition: 'ok', changedAt: later, notifiedAt: later }, at('2016-09-09T13:35:00.000000Z', 20), COOLDOWN)).toEqual({
      action: 'none',
      reason: 'in-range',
    });
  });

  it('ignores readings older than or equal to the last notice, whichever way they point', () => {
    const state = breachedAbove(T0);
    expect(decideAlert(RANGE, state, at(T0, 20), COOLDOWN)).toEqual({ action: 'none', reason: 'not-newer' });
    expect(decideAlert(RANGE, state, at('2016-09-09T13:33:07.381018Z', 20), COOLDOWN)).toEqual({ action: 'none', reason: 'not-newer' });
    const ok: AlertStatus = { condition: 'ok', changedAt: T0, notifiedAt: T0 };
    expect(decideAlert(RANGE, ok, at('2016-01-01T00:00:00.000000Z', 99), COOLDOWN)).toEqual({ action: 'none', reason: 'not-newer' });
  });
});

describe('exact values', () => {
  it('counts a value above the maximum by 1e-30 as a breach, and one equal to it (written otherwise) as in range', () => {
    const max = n('25.000000000000000000000000000000');
    expect(boundCrossed({ max }, n('25.000000000000000000000000000001'))).toBe('max');
    expect(boundCrossed({ max }, n('2.5e1'))).toBeUndefined();
    expect(boundCrossed({ min: n('-1e-130') }, n('-1.0000000000000000000000000000000000001e-130'))).toBe('min');
  });

  it('compares values doubles cannot tell apart', () => {
    const big = n('12345678901234567890123456789012345678');
    expect(boundCrossed({ max: big }, n('12345678901234567890123456789012345679'))).toBe('max');
    expect(boundCrossed({ max: big }, big)).toBeUndefined();
  });

  it('words a notice with every digit of the value', () => {
    const text = formatNotice({ series: 's/t', thresholds: { max: n(25) }, cooldownSeconds: COOLDOWN, notice: 'breach', bound: 'max', reading: at(T0, '25.000000000000000000000000000001') });
    expect(text.message).toContain('Value: 25.000000000000000000000000000001');
  });
});

describe('a last notice dated past the horizon (a reading no consumer accepts now)', () => {
  // Two readings of year 9999, a breach then a recovery, stored before future readings were refused.
  const pinned: AlertStatus = { condition: 'ok', changedAt: '9999-12-31T00:00:00.000000Z', notifiedAt: '9999-12-31T00:00:00.000000Z' };
  const horizon = Date.parse('2016-09-09T13:38:07.381Z');

  it('no longer silences a real breach: the state moves on from the real reading', () => {
    expect(decideAlert(RANGE, pinned, at(T0, 30), COOLDOWN, horizon)).toEqual({
      action: 'notify',
      notice: 'breach',
      bound: 'max',
      next: { condition: 'breached', bound: 'max', changedAt: T0, notifiedAt: T0 },
    });
  });

  it('keeps the not-newer rule for a last notice inside the horizon', () => {
    const recent: AlertStatus = { condition: 'ok', changedAt: '2016-09-09T13:35:00.000000Z', notifiedAt: '2016-09-09T13:35:00.000000Z' };
    expect(decideAlert(RANGE, recent, at(T0, 30), COOLDOWN, horizon)).toEqual({ action: 'none', reason: 'not-newer' });
  });

  it('is what pins a series for good without the horizon', () => {
    expect(decideAlert(RANGE, pinned, at(T0, 30), COOLDOWN)).toEqual({ action: 'none', reason: 'not-newer' });
  });
});

describe('readThresholds', () => {
  it('reads numbers and the numeric strings the 2016 project stored', () => {
    expect(readThresholds(18, '25')).toEqual({ thresholds: { min: n(18), max: n(25) }, problems: [] });
  });

  it('keeps a single bound and reports nothing when the other is absent', () => {
    expect(readThresholds(undefined, 25)).toEqual({ thresholds: { max: n(25) }, problems: [] });
    expect(readThresholds(18, undefined)).toEqual({ thresholds: { min: n(18) }, problems: [] });
    expect(readThresholds(undefined, undefined)).toEqual({ thresholds: {}, problems: [] });
  });

  it('ignores a malformed bound and says why', () => {
    const read = readThresholds('warm', 25);
    expect(read.thresholds).toEqual({ max: n(25) });
    expect(read.problems).toEqual(['MinThreshold "warm" is not a number, so it is ignored']);
    expect(readThresholds('', 25).thresholds).toEqual({ max: n(25) });
  });

  it('applies neither bound when they contradict each other', () => {
    const read = readThresholds(30, 20);
    expect(read.thresholds).toEqual({});
    expect(read.problems[0]).toMatch(/MinThreshold 30 is above MaxThreshold 20/);
  });
});

describe('helpers', () => {
  it('timestampMicros keeps the microseconds', () => {
    expect(timestampMicros('1970-01-01T00:00:01.000001Z')).toBe(1_000_001);
    expect(timestampMicros(T0) - timestampMicros('2016-09-09T13:33:07.381018Z')).toBe(1);
  });

  it('boundCrossed names the bound beyond which a value lies', () => {
    expect(boundCrossed(RANGE, n(17))).toBe('min');
    expect(boundCrossed(RANGE, n(26))).toBe('max');
    expect(boundCrossed(RANGE, n(20))).toBeUndefined();
  });

  it('plainDuration words common cooldowns', () => {
    expect(plainDuration(900)).toBe('15 minutes');
    expect(plainDuration(3600)).toBe('1 hour');
    expect(plainDuration(90)).toBe('90 seconds');
    expect(plainDuration(1)).toBe('1 second');
  });
});

describe('formatNotice', () => {
  const base = { series: 'things/harrow/001/temperature', thresholds: RANGE, cooldownSeconds: COOLDOWN };

  it('names thing, metric, value, bound and time in a breach', () => {
    const text = formatNotice({ ...base, notice: 'breach', bound: 'max', reading: at(T0, 26.5) });
    expect(text.subject).toBe('Alert: things/harrow/001 temperature 26.5 above max 25 at 2016-09-09 13:33:07 UTC');
    expect(text.message).toContain('The temperature of things/harrow/001 was 26.5 at 2016-09-09 13:33:07 UTC, above the maximum 25.');
    expect(text.message).toContain('Allowed range: between 18 and 25');
    expect(text.message).toContain(`Reading time: ${T0}`);
    expect(text.message).toContain('at most one reminder every 15 minutes');
  });

  it('words a reminder and a recovery differently', () => {
    const reminder = formatNotice({ ...base, notice: 'reminder', bound: 'min', reading: at(T0, 3) });
    expect(reminder.subject).toBe('Still out of range: things/harrow/001 temperature 3 below min 18 at 2016-09-09 13:33:07 UTC');
    expect(reminder.message).toContain('is still out of range: 3 at 2016-09-09 13:33:07 UTC, below the minimum 18.');
    const recovery = formatNotice({ ...base, notice: 'recovery', bound: 'min', reading: at(T0, 20) });
    expect(recovery.subject).toBe('Back to normal: things/harrow/001 temperature 20 at 2016-09-09 13:33:07 UTC');
    expect(recovery.message).toContain('is back within its range: 20 at 2016-09-09 13:33:07 UTC (allowed: between 18 and 25).');
  });

  it('describes a single-bound range', () => {
    const text = formatNotice({ ...base, thresholds: { max: n(25) }, notice: 'breach', bound: 'max', reading: at(T0, 30) });
    expect(text.message).toContain('Allowed range: at most 25');
  });

  it('keeps the subject within 100 printable ASCII characters, shortening the thing id in the middle', () => {
    const thing = `site/${'é'.repeat(10)}/${'x'.repeat(200)}/sensor-42`;
    const text = formatNotice({ ...base, series: `${thing}/temperature`, notice: 'breach', bound: 'max', reading: at(T0, 26.5) });
    expect(text.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(text.subject).toMatch(/^[\x20-\x7E]+$/);
    expect(text.subject).toMatch(/^Alert: site\/\?{10}\/x+\.\.\.x+\/sensor-42 temperature 26\.5 above max 25 at 2016-09-09 13:33:07 UTC$/);
    // The body keeps the full id.
    expect(text.message).toContain(thing);
  });

  it('still fits the subject when the metric name alone is long', () => {
    const series = `thing/${'m'.repeat(64)}`;
    const text = formatNotice({ ...base, series, notice: 'reminder', bound: 'max', reading: at(T0, -1.2345678901234567e120) });
    expect(text.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(text.subject.startsWith('Still out of range: ')).toBe(true);
  });
});
