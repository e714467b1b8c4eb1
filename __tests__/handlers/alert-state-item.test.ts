import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../../handlers/decimal';
import { confirmedUpdate, encodeClaim, seriesRecordOf, thresholdStateUpdate, type PendingClaim } from '../../handlers/alert-state-item';
import { applyUpdate } from '../../handlers/item-codec';

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
