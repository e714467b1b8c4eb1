import fc from 'fast-check';
import {
  OK_STATUS,
  REPORTING,
  alertStatus,
  boundCrossed,
  decideAlert,
  decideNoData,
  expectedNotices,
  insideRecoveryBand,
  type AlertRule,
  type AlertStatus,
  type Observation,
  type Thresholds,
} from '../../handlers/alert-rules';
import { Decimal } from '../../handlers/decimal';
import { timestampMicros } from '../../handlers/reading-timestamp';
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
      // The breach notice's time identifies the alert it opens.
      next: { condition: 'breached', bound: 'max', changedAt: T0, notifiedAt: T0, openedAt: T0 },
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
      next: { condition: 'breached', bound: 'max', changedAt: T0, notifiedAt: T0, openedAt: T0 },
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
});

describe('a waiting period (`for`), judged on reading times', () => {
  const rule = { ...RANGE, forSeconds: 60 };
  const t = (seconds: number) => new Date(Date.parse('2024-05-01T10:00:00Z') + seconds * 1000).toISOString().replace('Z', '000Z');

  it('starts waiting without a notice, and notifies once the breach has lasted the period (edge inclusive)', () => {
    const start = decideAlert(rule, OK_STATUS, at(t(0), 26), COOLDOWN);
    expect(start).toEqual({ action: 'change', next: { condition: 'pending', bound: 'max', changedAt: t(0), notifiedAt: t(0) } });
    const pending = (start as { next: AlertStatus }).next;
    expect(decideAlert(rule, pending, at(t(59.999), 27), COOLDOWN)).toEqual({ action: 'none', reason: 'waiting' });
    expect(decideAlert(rule, pending, at(t(60), 27), COOLDOWN)).toEqual({
      action: 'notify',
      notice: 'breach',
      bound: 'max',
      // Breached since the wait began; the notice (and the alert) at the reading that completed it.
      next: { condition: 'breached', bound: 'max', changedAt: t(0), notifiedAt: t(60), openedAt: t(60) },
    });
  });

  it('ends the wait without a notice when the value comes back in range first', () => {
    const pending = alertStatus('pending', 'max', t(0), t(0));
    expect(decideAlert(rule, pending, at(t(30), 25), COOLDOWN)).toEqual({ action: 'change', next: { condition: 'ok', changedAt: t(30), notifiedAt: t(30) } });
  });

  it('waits again from the start when the value crosses to the other bound', () => {
    const pending = alertStatus('pending', 'max', t(0), t(0));
    expect(decideAlert(rule, pending, at(t(90), 10), COOLDOWN)).toEqual({ action: 'change', next: { condition: 'pending', bound: 'min', changedAt: t(90), notifiedAt: t(90) } });
  });

  it('ignores a late or replayed reading from before the wait began', () => {
    const pending = alertStatus('pending', 'max', t(10), t(10));
    expect(decideAlert(rule, pending, at(t(5), 20), COOLDOWN)).toEqual({ action: 'none', reason: 'not-newer' });
  });
});

describe('hysteresis', () => {
  const rule = { ...RANGE, hysteresis: n(1) };
  const breached = breachedAbove(T0);
  const later = '2016-09-09T13:40:00.000000Z';

  it('recovers only once the value is back inside the range by the margin (edge inclusive), and reminds of nothing in between', () => {
    expect(decideAlert(rule, breached, at(later, '24.000001'), COOLDOWN)).toEqual({ action: 'none', reason: 'hysteresis' });
    expect(decideAlert(rule, breached, at(later, 25), COOLDOWN)).toEqual({ action: 'none', reason: 'hysteresis' });
    expect(decideAlert(rule, breached, at(later, 24), COOLDOWN)).toMatchObject({ action: 'notify', notice: 'recovery', bound: 'max' });
  });

  it('applies the margin on both sides, exactly', () => {
    const below: AlertStatus = { condition: 'breached', bound: 'min', changedAt: T0, notifiedAt: T0 };
    const tiny = { ...RANGE, hysteresis: n('1e-30') };
    expect(decideAlert(tiny, below, at(later, '18.0000000000000000000000000000009'), COOLDOWN)).toEqual({ action: 'none', reason: 'hysteresis' });
    expect(decideAlert(tiny, below, at(later, '18.000000000000000000000000000001'), COOLDOWN)).toMatchObject({ action: 'notify', notice: 'recovery' });
  });
});

describe('an acknowledged alert', () => {
  const acknowledged: AlertStatus = { ...breachedAbove('2016-09-09T13:00:00.000000Z'), openedAt: '2016-09-09T13:00:00.000000Z', acknowledged: true };

  it('gets no reminders, but its recovery, which forgets the acknowledgement', () => {
    expect(decideAlert(RANGE, acknowledged, at('2016-09-09T15:00:00.000000Z', 30), COOLDOWN)).toEqual({ action: 'none', reason: 'acknowledged' });
    const recovery = decideAlert(RANGE, acknowledged, at('2016-09-09T15:00:00.000000Z', 20), COOLDOWN);
    expect(recovery).toMatchObject({ action: 'notify', notice: 'recovery' });
    expect((recovery as { next: AlertStatus }).next.acknowledged).toBeUndefined();
  });
});

describe('decideNoData', () => {
  const rule = { noDataAfterSeconds: 300 };
  const last = '2024-05-01T10:00:00.250000Z';
  const now = (iso: string) => Date.parse(iso);

  it('raises no-data once the period has passed since the latest reading (edge inclusive), timed at its end', () => {
    expect(decideNoData(rule, REPORTING, last, now('2024-05-01T10:05:00.249Z'))).toEqual({ action: 'none', reason: 'reporting' });
    expect(decideNoData(rule, REPORTING, last, now('2024-05-01T10:05:00.250Z'))).toEqual({
      action: 'notify',
      notice: 'no-data',
      at: '2024-05-01T10:05:00.250000Z',
      next: { silentSince: last, openedAt: '2024-05-01T10:05:00.250000Z', notifiedAt: '2024-05-01T10:05:00.250000Z' },
    });
  });

  it('stays quiet while still silent, and sends one data-resumed at the first newer reading', () => {
    const silent = { silentSince: last, openedAt: '2024-05-01T10:05:00.250000Z', notifiedAt: '2024-05-01T10:05:00.250000Z' };
    expect(decideNoData(rule, silent, last, now('2024-05-02T00:00:00Z'))).toEqual({ action: 'none', reason: 'still-silent' });
    expect(decideNoData(rule, silent, '2024-05-01T11:00:00.000000Z', now('2024-05-01T11:00:30Z'))).toEqual({
      action: 'notify',
      notice: 'data-resumed',
      at: '2024-05-01T11:00:00.000000Z',
      next: { notifiedAt: '2024-05-01T11:00:00.000000Z' },
    });
  });

  it('judges nothing without a rule or before the first reading, and closes an alert whose rule was removed', () => {
    expect(decideNoData({}, REPORTING, last, now('2030-01-01T00:00:00Z'))).toEqual({ action: 'none', reason: 'no-rule' });
    expect(decideNoData(rule, REPORTING, undefined, now('2030-01-01T00:00:00Z'))).toEqual({ action: 'none', reason: 'never-reported' });
    expect(decideNoData({}, { silentSince: last, notifiedAt: 'x' }, last, 0)).toEqual({ action: 'change', next: { notifiedAt: 'x' } });
  });
});

describe('expectedNotices: flapping values and the rule fields', () => {
  // A boiler hovering at its maximum of 25, one reading every 30 s.
  const values = [24, 25.2, 24.9, 25.3, 24.8, 25.1, 25.4, 25.2, 25.6, 25.3, 24.2, 25.1, 23.5, 23.9];
  const observations = values.map((value, index) => at(new Date(Date.UTC(2024, 4, 1, 10, 0, index * 30)).toISOString().replace('Z', '000Z'), value));
  const kinds = (rule: Parameters<typeof expectedNotices>[0]) => expectedNotices(rule, observations, COOLDOWN).map((notice) => `${notice.kind}@${notice.timestamp.slice(14, 19)}`);

  it('without a waiting period or hysteresis: every crossing is a notice (the flapping the rule fields are for)', () => {
    expect(kinds(RANGE)).toEqual(['breach@00:30', 'recovery@01:00', 'breach@01:30', 'recovery@02:00', 'breach@02:30', 'recovery@05:00', 'breach@05:30', 'recovery@06:00']);
  });

  it('with for 60 s and hysteresis 1: one breach once it lasted, one recovery once clearly back', () => {
    expect(kinds({ ...RANGE, forSeconds: 60, hysteresis: n(1) })).toEqual(['breach@03:30', 'recovery@06:00']);
  });

  it('holds notices of readings in a silence, and stops reminders once acknowledged', () => {
    const hot = Array.from({ length: 40 }, (_, index) => at(new Date(Date.UTC(2024, 4, 1, 10, index)).toISOString().replace('Z', '000Z'), 30));
    const minute = (value: number) => `2024-05-01T10:${String(value).padStart(2, '0')}:00.000000Z`;
    expect(expectedNotices(RANGE, hot, COOLDOWN).map((notice) => notice.kind)).toEqual(['breach', 'reminder', 'reminder']);
    expect(expectedNotices(RANGE, hot, COOLDOWN, { acknowledgedAt: minute(5) }).map((notice) => notice.kind)).toEqual(['breach']);
    // Silenced for the first 10 minutes: the breach is notified at the first reading after.
    expect(expectedNotices(RANGE, hot, COOLDOWN, { silenced: (time) => time < minute(10) })).toEqual([
      { kind: 'breach', timestamp: minute(10) },
      { kind: 'reminder', timestamp: minute(25) },
    ]);
  });
});

describe('the rule, over any sequence of readings (property)', () => {
  type Step = { gap: number; value: number };
  const steps = fc.array(fc.record({ gap: fc.integer({ min: 1, max: 400 }), value: fc.integer({ min: 0, max: 40 }) }), { maxLength: 60 });
  const rules = fc.record({ forSeconds: fc.constantFrom(0, 30, 300), hysteresis: fc.constantFrom(0, 1, 3) });

  function run(rule: AlertRule, sequence: readonly Step[]) {
    let seconds = 0;
    const observations = sequence.map((step) => {
      seconds += step.gap;
      return at(new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString().replace('Z', '000Z'), step.value);
    });
    let status = OK_STATUS;
    const notices: { notice: string; observation: Observation; index: number }[] = [];
    observations.forEach((observation, index) => {
      const decision = decideAlert(rule, status, observation, COOLDOWN);
      if (decision.action === 'none') return;
      if (decision.action === 'notify') notices.push({ notice: decision.notice, observation, index });
      status = decision.next;
    });
    return { observations, notices, status };
  }

  it('alternates breaches and recoveries, each breach after `for` seconds beyond its bound, each recovery inside the band, reminders a cooldown apart; a replay changes nothing', () => {
    fc.assert(
      fc.property(steps, rules, (sequence, fields) => {
        const rule: AlertRule = { min: n(10), max: n(30), forSeconds: fields.forSeconds, hysteresis: n(fields.hysteresis) };
        const { observations, notices, status } = run(rule, sequence);
        let open = false;
        let lastNotice: Observation | undefined;
        for (const { notice, observation, index } of notices) {
          if (notice === 'recovery') {
            expect(open).toBe(true);
            expect(insideRecoveryBand(rule, observation.value)).toBe(true);
            open = false;
          } else if (notice === 'reminder') {
            expect(open).toBe(true);
            expect(timestampMicros(observation.timestamp) - timestampMicros(lastNotice!.timestamp)).toBeGreaterThanOrEqual(COOLDOWN * 1_000_000);
          } else if (!open) {
            // Every reading of the last `for` seconds, and the one before them, was beyond this bound.
            const bound = boundCrossed(rule, observation.value);
            let first = index;
            while (first > 0 && boundCrossed(rule, observations[first - 1]!.value) === bound) first -= 1;
            expect(timestampMicros(observation.timestamp) - timestampMicros(observations[first]!.timestamp)).toBeGreaterThanOrEqual(rule.forSeconds! * 1_000_000);
            open = true;
          }
          lastNotice = observation;
        }
        // Delivered again, the same readings change nothing.
        for (const observation of observations) expect(decideAlert(rule, status, observation, COOLDOWN).action).toBe('none');
      }),
      { numRuns: 300 },
    );
  });
});
