import fc from 'fast-check';
import { Decimal, DYNAMODB_NUMBER_LIMITS } from '../../handlers/decimal';

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** Decimal text of every shape: signs, leading and trailing zeros, points anywhere, exponents. */
const decimalText = fc
  .tuple(fc.constantFrom('', '-', '+'), digits(0, 25), fc.option(digits(0, 25)), fc.option(fc.integer({ min: -150, max: 150 })))
  .filter(([, whole, fraction]) => whole !== '' || (fraction ?? '') !== '')
  .map(([sign, whole, fraction, exponent]) => `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : `e${exponent}`}`);

/** The exact value of decimal text as a fraction of BigInts (numerator, power of ten of the denominator). */
function exact(text: string): { numerator: bigint; scale: number } {
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/.exec(text) as RegExpExecArray;
  const numerator = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  return { numerator, scale: fraction.length - Number(exponent) };
}

function compareExactly(a: string, b: string): number {
  const x = exact(a);
  const y = exact(b);
  const scale = Math.max(x.scale, y.scale);
  const left = x.numerator * 10n ** BigInt(scale - x.scale);
  const right = y.numerator * 10n ** BigInt(scale - y.scale);
  return left < right ? -1 : left > right ? 1 : 0;
}

describe('Decimal', () => {
  it('prints a double exactly as JavaScript does (the shortest text that reads back as it)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        expect(Decimal.fromNumber(value)?.text).toBe(String(value));
        expect(Decimal.fromNumber(value)?.approx).toBe(value === 0 ? 0 : value);
      }),
      { numRuns: 5_000 },
    );
  });

  it('keeps the value of any decimal text in its canonical text, and reads that text back unchanged', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const value = Decimal.parse(text) as Decimal;
        expect(compareExactly(value.text.replace('e+', 'e'), text.replace('e+', 'e'))).toBe(0);
        expect(Decimal.parse(value.text)?.text).toBe(value.text);
      }),
      { numRuns: 5_000 },
    );
  });

  it('orders any two values exactly, however close (where doubles cannot tell them apart)', () => {
    fc.assert(
      fc.property(decimalText, decimalText, fc.boolean(), (a, b, nudge) => {
        // Half the time, b is a with one more digit: values a double cannot tell apart.
        const second = nudge ? `${a.replace(/e.*$/, '')}${a.includes('.') ? '' : '.'}1${a.includes('e') ? a.slice(a.indexOf('e')) : ''}` : b;
        const left = Decimal.parse(a) as Decimal;
        const right = Decimal.parse(second) as Decimal;
        expect(Math.sign(left.compare(right))).toBe(compareExactly(a, second));
        expect(left.equals(right)).toBe(compareExactly(a, second) === 0);
      }),
      { numRuns: 5_000 },
    );
  });

  it('takes the fast path for plain text with the same result as the general one', () => {
    fc.assert(
      fc.property(fc.constantFrom('', '-'), digits(1, 23), fc.option(digits(0, 20)), (sign, whole, fraction) => {
        const text = `${sign}${whole}${fraction === null ? '' : `.${fraction}`}`;
        const general = Decimal.parse(`${text}e0`) as Decimal;
        const plain = Decimal.plain(text);
        if (plain !== undefined) {
          expect(plain.text).toBe(general.text);
          expect(plain.storageProblem).toBeUndefined();
        }
        expect(Decimal.parse(text)?.text).toBe(general.text);
        expect(Decimal.parse(text)?.storageProblem).toBe(general.storageProblem);
      }),
      { numRuns: 5_000 },
    );
  });

  it("names what DynamoDB cannot hold: more than 38 digits, 1e126 or more, below 1e-130", () => {
    const { maxSignificantDigits } = DYNAMODB_NUMBER_LIMITS;
    expect(Decimal.parse('1'.repeat(maxSignificantDigits))?.storageProblem).toBeUndefined();
    expect(Decimal.parse(`${'1'.repeat(maxSignificantDigits + 1)}`)?.storageProblem).toBe('too-many-digits');
    expect(Decimal.parse(`1${'0'.repeat(60)}`)?.storageProblem).toBeUndefined();
    expect(Decimal.parse('9.9999999999999999999999999999999999999e125')?.storageProblem).toBeUndefined();
    expect(Decimal.parse('1e126')?.storageProblem).toBe('too-large');
    expect(Decimal.parse('-1e-130')?.storageProblem).toBeUndefined();
    expect(Decimal.parse('0.1e-130')?.storageProblem).toBe('too-small');
    expect(Decimal.parse('0e99999')?.storageProblem).toBeUndefined();
  });

  it('refuses what is not decimal text', () => {
    for (const text of ['', '.', '-', '1e', 'e5', '0x10', ' 1', '1 ', 'NaN', 'Infinity', '1,5', '1..2']) expect(Decimal.parse(text)).toBeUndefined();
    expect(Decimal.fromNumber(Number.NaN)).toBeUndefined();
    expect(Decimal.fromNumber(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('is one object per value: equal values compare equal as objects, and plain JSON gets the double', () => {
    expect(Decimal.parse('20.10')).toEqual(Decimal.parse('2.01e1'));
    expect(Decimal.parse('20.10')).not.toEqual(Decimal.parse('20.11'));
    expect(JSON.stringify({ v: Decimal.parse('12345678901234567890.5') })).toBe('{"v":12345678901234567000}');
  });
});
