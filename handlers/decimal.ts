/**
 * Exact decimal numbers, as DynamoDB holds them: up to 38 significant digits, magnitudes
 * from 1e-130 to 9.99...e125. A metric value keeps the digits its sender wrote from the
 * stream record to the table and back out of the web API, so a value is never rounded
 * through a JavaScript double on the way (a double holds 15-17 digits; DynamoDB, 38).
 *
 * Only what the platform needs: parsing, a canonical text, comparison, and the nearest
 * double for drawing. No arithmetic. Free of AWS and Node imports: the dashboard uses it too.
 */

/** DynamoDB's number type. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html */
export const DYNAMODB_NUMBER_LIMITS = {
  maxSignificantDigits: 38,
  /** Largest power of ten of the first digit: 9.99...e125. */
  maxExponent: 125,
  /** Smallest power of ten of the first digit: 1e-130. */
  minExponent: -130,
} as const;

/** Any decimal written with digits, an optional point and an optional exponent (JSON numbers included). */
const DECIMAL_SYNTAX = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export type DecimalProblem = 'too-many-digits' | 'too-large' | 'too-small';

export class Decimal {
  /** Zero, the one value with no significant digit. */
  static readonly ZERO = new Decimal(0, '', 0);

  /**
   * The canonical text: the form JavaScript prints numbers in (positional from 1e-6 to
   * below 1e21, `1.5e+30` beyond), with every significant digit. Valid as JSON and as
   * a DynamoDB number; equal values have equal text.
   */
  readonly text: string;
  /** The nearest double, for charts and quick comparisons. */
  readonly approx: number;

  private constructor(
    /** -1, 0 or 1. */
    readonly sign: -1 | 0 | 1,
    /** The significant digits, without leading or trailing zeros ('' for zero). */
    readonly digits: string,
    /** The power of ten of the first significant digit: 1234 has 3, 0.05 has -2. */
    readonly exponent: number,
  ) {
    this.text = canonicalText(sign, digits, exponent);
    this.approx = Number(this.text);
  }

  /** Reads decimal text (`-12.50`, `1.5e3`, `.5`, `7.`); undefined when it is not a decimal number. */
  static parse(text: string): Decimal | undefined {
    const match = DECIMAL_SYNTAX.exec(text);
    if (match === null) return undefined;
    const [, sign = '', whole = '', fraction = '', exponentText] = match;
    if (whole === '' && fraction === '') return undefined;
    const all = whole + fraction;
    let first = 0;
    while (first < all.length && all.charCodeAt(first) === 48) first++;
    if (first === all.length) return Decimal.ZERO;
    let last = all.length - 1;
    while (all.charCodeAt(last) === 48) last--;
    // Exponents too long to be exact are far outside DynamoDB's range either way.
    const written = exponentText === undefined ? 0 : exponentText.length > 12 ? Math.sign(Number(exponentText)) * 1e12 : Number(exponentText);
    return new Decimal(sign === '-' ? -1 : 1, all.slice(first, last + 1), whole.length - 1 - first + written);
  }

  /** The decimal a double prints as (its shortest round-trip form); undefined for NaN and infinities. */
  static fromNumber(value: number): Decimal | undefined {
    return Number.isFinite(value) ? Decimal.parse(String(value)) : undefined;
  }

  /** A number as stored or sent: a Decimal, a double, or decimal text. */
  static of(value: Decimal | number | string): Decimal | undefined {
    if (value instanceof Decimal) return value;
    return typeof value === 'number' ? Decimal.fromNumber(value) : Decimal.parse(value.trim());
  }

  /** Why DynamoDB could not hold this number exactly, if it could not. */
  get storageProblem(): DecimalProblem | undefined {
    if (this.sign === 0) return undefined;
    if (this.digits.length > DYNAMODB_NUMBER_LIMITS.maxSignificantDigits) return 'too-many-digits';
    if (this.exponent > DYNAMODB_NUMBER_LIMITS.maxExponent) return 'too-large';
    if (this.exponent < DYNAMODB_NUMBER_LIMITS.minExponent) return 'too-small';
    return undefined;
  }

  /** Exact order: negative when this is smaller than `other`. */
  compare(other: Decimal): number {
    // Rounding to doubles keeps order, so different doubles decide; equal ones need the digits.
    if (this.approx !== other.approx) return this.approx < other.approx ? -1 : 1;
    if (this.sign !== other.sign) return this.sign - other.sign;
    if (this.sign === 0) return 0;
    const magnitude = this.exponent !== other.exponent ? this.exponent - other.exponent : compareDigits(this.digits, other.digits);
    return magnitude === 0 ? 0 : (magnitude < 0 ? -1 : 1) * this.sign;
  }

  equals(other: Decimal): boolean {
    return this.compare(other) === 0;
  }

  toString(): string {
    return this.text;
  }

  /** Plain JSON gets the nearest double; the web API writes `text` instead (web/json.ts). */
  toJSON(): number {
    return this.approx;
  }
}

/** The JavaScript-like text of a decimal (see Decimal.text). */
function canonicalText(sign: -1 | 0 | 1, digits: string, exponent: number): string {
  let body: string;
  if (sign === 0) body = '0';
  else if (exponent >= 21 || exponent < -6) body = `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
  else if (exponent < 0) body = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  else if (digits.length <= exponent + 1) body = digits + '0'.repeat(exponent + 1 - digits.length);
  else body = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  return sign < 0 ? `-${body}` : body;
}

/** Compares digit strings of numbers with the same exponent (no trailing zeros). */
function compareDigits(a: string, b: string): number {
  const length = Math.max(a.length, b.length);
  const left = a.padEnd(length, '0');
  const right = b.padEnd(length, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Words for a number DynamoDB cannot hold, for error messages. */
export function describeDecimalProblem(problem: DecimalProblem): string {
  const { maxSignificantDigits, maxExponent, minExponent } = DYNAMODB_NUMBER_LIMITS;
  return {
    'too-many-digits': `it has more than ${maxSignificantDigits} significant digits, which DynamoDB cannot store exactly`,
    'too-large': `its magnitude is 1e${maxExponent + 1} or more, beyond DynamoDB's largest numbers`,
    'too-small': `its magnitude is below 1e${minExponent}, DynamoDB's smallest non-zero numbers`,
  }[problem];
}
