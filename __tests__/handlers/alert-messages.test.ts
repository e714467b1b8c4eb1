import { MAX_SUBJECT_LENGTH, formatNotice, plainDuration } from '../../handlers/alert-messages';
import type { Thresholds } from '../../handlers/alert-rules';
import { Decimal } from '../../handlers/decimal';

/** An exact number, from a double or decimal text. */
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;
const COOLDOWN = 900;
const RANGE: Thresholds = { min: n(18), max: n(25) };
const T0 = '2016-09-09T13:33:07.381019Z';
const at = (timestamp: string, value: number | string) => ({ timestamp, value: n(value) });

describe('plainDuration', () => {
  it('words common cooldowns', () => {
    expect(plainDuration(900)).toBe('15 minutes');
    expect(plainDuration(3600)).toBe('1 hour');
    expect(plainDuration(90)).toBe('90 seconds');
    expect(plainDuration(1)).toBe('1 second');
  });
});

describe('formatNotice', () => {
  it('words a notice with every digit of the value', () => {
    const text = formatNotice({ series: 's/t', thresholds: { max: n(25) }, cooldownSeconds: COOLDOWN, notice: 'breach', bound: 'max', reading: at(T0, '25.000000000000000000000000000001') });
    expect(text.message).toContain('Value: 25.000000000000000000000000000001');
  });

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
