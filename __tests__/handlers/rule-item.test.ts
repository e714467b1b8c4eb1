import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../../handlers/decimal';
import { applyUpdate } from '../../handlers/item-codec';
import { checkRule, readRule, ruleInputOfJson, ruleUpdate } from '../../handlers/rule-item';

const SERIES = 'things/harrow/001/temperature';
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

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
});
