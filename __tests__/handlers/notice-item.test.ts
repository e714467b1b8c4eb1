import { Decimal } from '../../handlers/decimal';
import { decodeNotice, encodeNotice, nextMicrosecond } from '../../handlers/notice-item';

const SERIES = 'things/harrow/001/temperature';
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

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
