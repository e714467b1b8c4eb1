import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../../handlers/decimal';
import {
  applyUpdate,
  checkRule,
  confirmedUpdate,
  decodeNotice,
  decodeRuleChange,
  decodeSilence,
  encodeClaim,
  encodeNotice,
  encodeRuleChange,
  encodeSilence,
  nextMicrosecond,
  readRule,
  ruleChangesPrefix,
  ruleInputOfJson,
  ruleUpdate,
  seriesRecordOf,
  silenceCovers,
  silenceTargetProblem,
  thresholdStateUpdate,
  type PendingClaim,
  type SeriesAlertRecord,
} from '../../handlers/alert-items';
import { ThresholdCache } from '../../handlers/alert-notifier';

const SERIES = 'things/harrow/001/temperature';
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

describe('seriesRecordOf', () => {
  it('reads a rule and a series never alerted as ok', () => {
    const record = seriesRecordOf({ ThingID: SERIES, MinThreshold: 18, MaxThreshold: '25' });
    expect(record.rule).toEqual({ min: n(18), max: n(25), forSeconds: 0 });
    expect(record.status).toEqual({ condition: 'ok' });
    expect(record.noData).toEqual({});
    expect(record.problems).toEqual([]);
  });

  it('reads every rule field, exactly', () => {
    const record = seriesRecordOf({
      ThingID: SERIES,
      MaxThreshold: NumberValue.from('25.000000000000000000000000000001'),
      MinThreshold: 18,
      ForSeconds: NumberValue.from('300'),
      Hysteresis: NumberValue.from('0.5'),
      NoDataAfterSeconds: 600,
      Recipients: 'plant-7',
    });
    expect(record.rule.max?.text).toBe('25.000000000000000000000000000001');
    expect(record.rule).toMatchObject({ forSeconds: 300, hysteresis: n('0.5'), noDataAfterSeconds: 600, recipients: 'plant-7' });
  });

  it('ignores malformed rule fields and says why, rather than guessing', () => {
    const { rule, problems } = readRule({ MinThreshold: 18, MaxThreshold: 20, ForSeconds: -5, Hysteresis: 1.5, NoDataAfterSeconds: 'soon', Recipients: 'Plant 7!' });
    expect(rule).toMatchObject({ min: n(18), max: n(20), forSeconds: 0, hysteresis: undefined, noDataAfterSeconds: undefined, recipients: undefined });
    expect(problems).toEqual([
      'ForSeconds -5 is not a whole number of seconds from 0 to 86400, so it is ignored',
      'NoDataAfterSeconds "soon" is not a whole number of seconds from 1 to 2592000, so it is ignored',
      'Hysteresis 1.5 is negative or leaves no room inside the range, so it is ignored',
      'Recipients "Plant 7!" is not a recipient group name, so the default group gets its alerts',
    ]);
  });

  it('reads the threshold and no-data state, the acknowledgement of the open alert only, and a pending claim', () => {
    const record = seriesRecordOf({
      ThingID: SERIES,
      MaxThreshold: 25,
      AlertState: 'breached',
      AlertBound: 'max',
      AlertChangedAt: '2024-05-01T10:00:00.000000Z',
      AlertNotifiedAt: '2024-05-01T10:15:00.000000Z',
      AlertOpenedAt: '2024-05-01T10:00:00.000000Z',
      AlertAcknowledged: '2024-05-01T10:00:00.000000Z',
      NoDataSince: '2024-05-01T09:00:00.000000Z',
      NoDataOpenedAt: '2024-05-01T09:10:00.000000Z',
      NoDataNotifiedAt: '2024-05-01T09:10:00.000000Z',
      NoDataAcknowledged: '2024-04-01T00:00:00.000000Z',
      AlertClaim: { Token: 't-1', ReadingAt: '2024-05-01T10:20:00.000000Z', ExpiresAt: 1_000, Notice: 'recovery', State: 'ok', ChangedAt: '2024-05-01T10:20:00.000000Z' },
    });
    expect(record.status).toEqual({
      condition: 'breached',
      bound: 'max',
      changedAt: '2024-05-01T10:00:00.000000Z',
      notifiedAt: '2024-05-01T10:15:00.000000Z',
      openedAt: '2024-05-01T10:00:00.000000Z',
      acknowledged: true,
    });
    // Acknowledged an earlier alert, not this one.
    expect(record.noData).toEqual({ silentSince: '2024-05-01T09:00:00.000000Z', openedAt: '2024-05-01T09:10:00.000000Z', notifiedAt: '2024-05-01T09:10:00.000000Z' });
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

  it('round-trips a claim of each rule through the item', () => {
    const claims: PendingClaim[] = [
      { token: 'a', readingAt: '2024-05-01T10:00:00.000000Z', expiresAt: 5, notice: 'breach', next: { condition: 'breached', bound: 'min', changedAt: '2024-05-01T09:55:00.000000Z', notifiedAt: '2024-05-01T10:00:00.000000Z', openedAt: '2024-05-01T10:00:00.000000Z' } },
      { token: 'b', readingAt: '2024-05-01T10:10:00.000000Z', expiresAt: 5, notice: 'no-data', next: { silentSince: '2024-05-01T10:00:00.000000Z', openedAt: '2024-05-01T10:10:00.000000Z', notifiedAt: '2024-05-01T10:10:00.000000Z' } },
      { token: 'c', readingAt: '2024-05-01T10:20:00.000000Z', expiresAt: 5, notice: 'data-resumed', next: { notifiedAt: '2024-05-01T10:20:00.000000Z' } },
    ];
    for (const claim of claims) expect(seriesRecordOf({ ThingID: SERIES, AlertClaim: encodeClaim(claim) }).claim).toEqual(claim);
  });

  it('confirming a claim applies its state and removes the claim; a recovery forgets the acknowledgement', () => {
    const item = { ThingID: SERIES, MaxThreshold: 25, AlertState: 'breached', AlertBound: 'max', AlertOpenedAt: 'k', AlertAcknowledged: 'k', AlertClaim: {} };
    const claim: PendingClaim = { token: 't', readingAt: '2024-05-01T11:00:00.000000Z', expiresAt: 1, notice: 'recovery', next: { condition: 'ok', changedAt: '2024-05-01T11:00:00.000000Z', notifiedAt: '2024-05-01T11:00:00.000000Z' } };
    const after = applyUpdate(item, confirmedUpdate(claim, { messageId: 'm-1' }));
    expect(after).toEqual({ ThingID: SERIES, MaxThreshold: 25, AlertState: 'ok', AlertChangedAt: claim.readingAt, AlertNotifiedAt: claim.readingAt, AlertMessageId: 'm-1' });
  });

  it('an opening notice recorded under a shifted key is the key the state keeps', () => {
    const next = { condition: 'breached' as const, bound: 'max' as const, changedAt: 't0', notifiedAt: 't1', openedAt: 't1' };
    expect(thresholdStateUpdate(next, { openedKey: 't1+1' }).set).toMatchObject({ AlertOpenedAt: 't1+1' });
  });
});

describe('checkRule and ruleUpdate', () => {
  it('builds a rule and the update that stores it, removing fields not given', () => {
    const { rule, problems } = checkRule(SERIES, { min: 18, max: n('25.5'), forSeconds: 120, hysteresis: 0.5, noDataAfterSeconds: 600, recipients: 'plant-7' });
    expect(problems).toEqual([]);
    const update = ruleUpdate(rule);
    expect(update.set).toEqual({
      MinThreshold: NumberValue.from('18'),
      MaxThreshold: NumberValue.from('25.5'),
      ForSeconds: 120,
      Hysteresis: NumberValue.from('0.5'),
      NoDataAfterSeconds: 600,
      Recipients: 'plant-7',
    });
    expect(ruleUpdate(checkRule(SERIES, { max: 25 }).rule).remove).toEqual(['MinThreshold', 'ForSeconds', 'Hysteresis', 'NoDataAfterSeconds', 'Recipients']);
  });

  it('reads back what it stores', () => {
    const { rule } = checkRule(SERIES, { min: -1, max: 1, forSeconds: 5, hysteresis: '0.25' as never, noDataAfterSeconds: 60 });
    const stored = applyUpdate({ ThingID: SERIES }, ruleUpdate(rule));
    expect(readRule(stored)).toEqual({ rule: { ...rule, recipients: undefined }, problems: [] });
  });

  it('names every problem by the field the user typed', () => {
    const problems = checkRule('things', { min: 30, max: 20, forSeconds: 1.5, hysteresis: -1, noDataAfterSeconds: 0, recipients: 'Plant 7' }).problems;
    expect(problems.join('\n')).toMatch(/series "things" must be/);
    expect(problems).toContain('--min 30 is above --max 20');
    expect(problems).toContain('--hysteresis must be 0 or more, got -1');
    expect(problems).toContain('--for must be a whole number of seconds from 0 to 86400, got 1.5');
    expect(problems).toContain('--no-data-after must be a whole number of seconds from 1 to 2592000, got 0');
    expect(problems.some((problem) => problem.startsWith('--recipients must name a recipient group'))).toBe(true);
    expect(checkRule(SERIES, {}).problems).toEqual(['give --min, --max or both, or --no-data-after']);
    expect(checkRule(SERIES, { min: 0, max: 1, hysteresis: 0.5 }).problems).toEqual(['--hysteresis 0.5 leaves no room to recover: twice it must be less than --max - --min (1)']);
    expect(checkRule(SERIES, { noDataAfterSeconds: 60, forSeconds: 30 }).problems).toEqual(['--for needs --min or --max: it is how long a breach must last']);
    expect(checkRule(SERIES, { noDataAfterSeconds: 60 }).problems).toEqual([]);
  });
});

describe('history items', () => {
  it('encode and decode a notice, an opening notice listed across the fleet, and a reminder', () => {
    const base = { series: SERIES, at: '2024-05-01T10:00:00.000000Z', claimToken: 't', messageId: 'm', subject: 's', sentAt: '2024-05-01T10:00:01.000Z', recipients: 'default' };
    const breach = encodeNotice({ ...base, notice: 'breach', bound: 'max', value: n('26.5'), rule: { min: n(18), max: n(25) }, opens: 'breach' }, base.at);
    expect(breach).toMatchObject({ ThingID: SERIES, Timestamp: base.at, Kind: 'breach', Reminder: false, FleetKey: 'firing#breach', FleetSort: `${base.at}#${SERIES}`, ClaimToken: 't' });
    expect(decodeNotice(breach)).toMatchObject({ kind: 'breach', timestamp: base.at, value: n('26.5'), bound: 'max', alert: { kind: 'breach', state: 'firing', resolvedAt: null, acknowledged: null } });
    const reminder = encodeNotice({ ...base, notice: 'reminder' }, nextMicrosecond(base.at));
    expect(reminder).toMatchObject({ Kind: 'breach', Reminder: true, Timestamp: '2024-05-01T10:00:00.000001Z', At: base.at });
    expect(reminder.FleetKey).toBeUndefined();
    expect(decodeNotice(reminder)).toMatchObject({ kind: 'reminder', timestamp: base.at, key: '2024-05-01T10:00:00.000001Z', alert: null });
    expect(decodeNotice({ ThingID: SERIES, Timestamp: base.at, Kind: 'strange' }).kind).toBe('unknown');
  });

  it('nextMicrosecond carries into the next second', () => {
    expect(nextMicrosecond('2024-05-01T10:00:00.999999Z')).toBe('2024-05-01T10:00:01.000000Z');
    expect(nextMicrosecond('2024-12-31T23:59:59.999999Z')).toBe('2025-01-01T00:00:00.000000Z');
  });
});

describe('silences', () => {
  const silence = { id: 's-1', target: 'things/plant-7/', startsAt: '2024-05-01T10:00:00.000000Z', endsAt: '2024-05-01T12:00:00.000000Z', createdBy: 'ops@example.com', createdAt: '2024-05-01T09:59:00.000Z', reason: 'boiler service' };

  it('round-trip and cover the series under a prefix, inside the window only', () => {
    expect(decodeSilence(encodeSilence(silence))).toEqual(silence);
    expect(silenceCovers(silence, 'things/plant-7/boiler/temperature', '2024-05-01T10:00:00.000000Z')).toBe(true);
    expect(silenceCovers(silence, 'things/plant-70/boiler/temperature', '2024-05-01T11:00:00.000000Z')).toBe(false);
    expect(silenceCovers(silence, 'things/plant-7/boiler/temperature', '2024-05-01T12:00:00.000000Z')).toBe(false);
    expect(silenceCovers({ ...silence, target: SERIES }, SERIES, '2024-05-01T11:00:00.000000Z')).toBe(true);
    expect(silenceCovers({ ...silence, target: SERIES }, `${SERIES}x`, '2024-05-01T11:00:00.000000Z')).toBe(false);
  });

  it('accept a series id or a prefix ending in "/" as target', () => {
    expect(silenceTargetProblem('things/plant-7/')).toBeUndefined();
    expect(silenceTargetProblem(SERIES)).toBeUndefined();
    expect(silenceTargetProblem('/')).toMatch(/at least one character/);
    expect(silenceTargetProblem('things')).toMatch(/or give a prefix ending in "\/"/);
  });
});

describe('rules in JSON and rule changes', () => {
  it('read a JSON rule: numbers or decimal strings, null as not set, and name every wrong field', () => {
    expect(ruleInputOfJson({ min: '12345678901234567890.5', max: 80, for: 120, hysteresis: null, recipients: 'plant-7' })).toEqual({
      input: { min: n('12345678901234567890.5'), max: 80, forSeconds: 120, recipients: 'plant-7' },
      problems: [],
    });
    expect(ruleInputOfJson({ max: true, for: '60', recipients: 7, colour: 'red' }).problems).toEqual([
      'unknown rule field "colour": a rule takes "min", "max", "for", "hysteresis", "noDataAfterSeconds", "recipients"',
      '"max" must be a number, got true',
      '"for" must be a number of seconds, got "60"',
      '"recipients" must be the name of a recipient group, got 7',
    ]);
    expect(ruleInputOfJson([1]).problems).toEqual([expect.stringMatching(/^"rule" must be an object/)]);
  });

  it('round-trip a change, keyed under its series\' prefix so no other series shares it', () => {
    const after = checkRule(SERIES, { min: 55, max: 80.5, forSeconds: 120 }).rule;
    const change = { id: 'c-1', series: SERIES, changedBy: 'ops@example.com', changedAt: '2026-11-30T10:00:00.000Z', reason: 'summer load', before: null, after };
    const item = encodeRuleChange(change);
    expect(String(item.Timestamp).startsWith(ruleChangesPrefix(SERIES))).toBe(true);
    expect(String(item.Timestamp).startsWith(ruleChangesPrefix(`${SERIES.slice(0, -1)}`))).toBe(false);
    const decoded = decodeRuleChange(item);
    expect(decoded).toMatchObject({ id: 'c-1', series: SERIES, changedBy: 'ops@example.com', reason: 'summer load', before: null });
    expect(ruleUpdate(decoded!.after)).toEqual(ruleUpdate(after));
    expect(decodeRuleChange({ ...item, After: undefined })).toBeUndefined();
  });
});

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
