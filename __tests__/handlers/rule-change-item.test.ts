import { decodeRuleChange, encodeRuleChange, ruleChangesPrefix } from '../../handlers/rule-change-item';
import { checkRule, ruleUpdate } from '../../handlers/rule-item';

const SERIES = 'things/harrow/001/temperature';

describe('rule changes', () => {
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
