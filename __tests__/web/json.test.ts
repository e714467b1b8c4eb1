import fc from 'fast-check';
import { Decimal } from '../../handlers/decimal';
import { exactJson, parseExactJson } from '../../web/json';

describe('exactJson', () => {
  it('writes what JSON.stringify writes for anything without a Decimal', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: false, withBoxedValues: false, withMap: false, withSet: false, withTypedArray: false, withSparseArray: false, withBigInt: false }), (value) => {
        expect(exactJson(value)).toBe(JSON.stringify(value) ?? 'null');
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes each Decimal with every digit, as a JSON number a strict parser reads', () => {
    const page = { items: [{ timestamp: 't', value: Decimal.parse('12345678901234567890.123456789012345678') }, { timestamp: 'u', value: Decimal.parse('-1e-130') }] };
    const text = exactJson(page);
    expect(text).toBe('{"items":[{"timestamp":"t","value":12345678901234567890.123456789012345678},{"timestamp":"u","value":-1e-130}]}');
    expect(JSON.parse(text)).toEqual({ items: [{ timestamp: 't', value: 12345678901234567000 }, { timestamp: 'u', value: -1e-130 }] });
  });
});

describe('parseExactJson', () => {
  it('reads every number as a Decimal, with its digits where the runtime gives the reviver the source text, else the double', () => {
    const parsed = parseExactJson('{"a":12345678901234567890.5,"b":[1.5,"x"],"c":null}') as { a: Decimal; b: [Decimal, string]; c: null };
    expect(parsed.b[0].text).toBe('1.5');
    expect(parsed.b[1]).toBe('x');
    expect(parsed.c).toBeNull();
    // Node 20 has no source text access (browsers and Node 21+ do: the dashboard test checks the digits there).
    expect(['12345678901234567890.5', '12345678901234567000']).toContain(parsed.a.text);
  });
});
