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

/** Sign, significant digits and the power of ten of the first one: 1234 is (1, '1234', 3), -0.05 is (-1, '5', -2). */
interface Parts {
  readonly sign: -1 | 0 | 1;
  /** Without leading or trailing zeros ('' for zero). */
  readonly digits: string;
  readonly exponent: number;
}

/**
 * The canonical form of positional text well inside DynamoDB's range, as sensors mostly
 * send it (`21.53` stays, `20.10` becomes `20.1`, `-3` stays): at most 21 digits before the
 * point (below 1e21), a first digit within 6 places after it when the whole part is 0 (at
 * least 1e-6), at most 17 significant fraction digits. Undefined for anything else, which
 * takes the general path. A single pass over the characters: this runs for every metric.
 */
function plainCanonical(text: string): string | undefined {
  const length = text.length;
  let at = text.charCodeAt(0) === 45 ? 1 : 0;
  const wholeStart = at;
  while (at < length && isDigit(text.charCodeAt(at))) at++;
  const wholeDigits = at - wholeStart;
  const zeroWhole = text.charCodeAt(wholeStart) === 48;
  if (wholeDigits === 0 || wholeDigits > 21 || (zeroWhole && wholeDigits > 1)) return undefined;
  if (at === length) return zeroWhole ? undefined : text;
  if (text.charCodeAt(at) !== 46) return undefined;
  const fractionStart = ++at;
  let firstNonZero = -1;
  let lastNonZero = -1;
  for (; at < length; at++) {
    const code = text.charCodeAt(at);
    if (!isDigit(code)) return undefined;
    if (code !== 48) {
      if (firstNonZero < 0) firstNonZero = at;
      lastNonZero = at;
    }
  }
  if (zeroWhole && (firstNonZero < 0 || firstNonZero - fractionStart > 5)) return undefined;
  if (lastNonZero < 0) return text.slice(0, fractionStart - 1);
  if (lastNonZero - fractionStart >= 17) return undefined;
  return lastNonZero === length - 1 ? text : text.slice(0, lastNonZero + 1);
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

export class Decimal {
  /** Zero, the one value with no significant digit. */
  static readonly ZERO = new Decimal('0', { sign: 0, digits: '', exponent: 0 });

  /**
   * The canonical text: the form JavaScript prints numbers in (positional from 1e-6 to
   * below 1e21, `1.5e+30` beyond), with every significant digit. Valid as JSON and as
   * a DynamoDB number; equal values have equal text.
   */
  readonly text: string;
  /** The nearest double, for charts and quick comparisons. */
  readonly approx: number;
  // Private, so that a Decimal is its text and its double: two Decimals of one value are equal objects.
  /** Worked out when first needed: most values are only stored, never compared closely. */
  #parts: Parts | undefined;
  /** Known to be within DynamoDB's limits without counting (plain text of ordinary magnitude). */
  readonly #plain: boolean;

  private constructor(text: string, parts?: Parts) {
    this.text = text;
    this.approx = Number(text);
    this.#parts = parts;
    this.#plain = parts === undefined;
  }

  /** Reads decimal text (`-12.50`, `1.5e3`, `.5`, `7.`); undefined when it is not a decimal number. */
  static parse(text: string): Decimal | undefined {
    const plain = Decimal.plain(text);
    if (plain !== undefined) return plain;
    const parts = partsOf(text);
    return parts === undefined ? undefined : parts.sign === 0 ? Decimal.ZERO : new Decimal(canonicalText(parts), parts);
  }

  /** Reads plain positional text of ordinary magnitude (`21.53`, `-3`, `20.10`); undefined for any other text. */
  static plain(text: string): Decimal | undefined {
    const canonical = plainCanonical(text);
    return canonical === undefined ? undefined : new Decimal(canonical);
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

  /** -1, 0 or 1. */
  get sign(): -1 | 0 | 1 {
    return this.parts.sign;
  }

  /** The significant digits, without leading or trailing zeros ('' for zero). */
  get digits(): string {
    return this.parts.digits;
  }

  /** The power of ten of the first significant digit: 1234 has 3, 0.05 has -2. */
  get exponent(): number {
    return this.parts.exponent;
  }

  private get parts(): Parts {
    return (this.#parts ??= partsOf(this.text) as Parts);
  }

  /** Why DynamoDB could not hold this number exactly, if it could not. */
  get storageProblem(): DecimalProblem | undefined {
    if (this.#plain) return undefined;
    const { sign, digits, exponent } = this.parts;
    if (sign === 0) return undefined;
    if (digits.length > DYNAMODB_NUMBER_LIMITS.maxSignificantDigits) return 'too-many-digits';
    if (exponent > DYNAMODB_NUMBER_LIMITS.maxExponent) return 'too-large';
    if (exponent < DYNAMODB_NUMBER_LIMITS.minExponent) return 'too-small';
    return undefined;
  }

  /** Exact order: negative when this is smaller than `other`. */
  compare(other: Decimal): number {
    // Rounding to doubles keeps order, so different doubles decide; equal ones need the digits.
    if (this.approx !== other.approx) return this.approx < other.approx ? -1 : 1;
    if (this.text === other.text) return 0;
    const mine = this.parts;
    const theirs = other.parts;
    if (mine.sign !== theirs.sign) return mine.sign - theirs.sign;
    const magnitude = mine.exponent !== theirs.exponent ? mine.exponent - theirs.exponent : compareDigits(mine.digits, theirs.digits);
    return magnitude === 0 ? 0 : (magnitude < 0 ? -1 : 1) * mine.sign;
  }

  equals(other: Decimal): boolean {
    return this.compare(other) === 0;
  }

  /** The exact sum, however far apart the magnitudes (a band edge such as `max - hysteresis`). */
  plus(other: Decimal): Decimal {
    const mine = this.parts;
    const theirs = other.parts;
    if (theirs.sign === 0) return this;
    if (mine.sign === 0) return other;
    // Each value is sign × digits × 10^scale, scale the power of ten of its last digit.
    const scaleOf = (parts: Parts) => parts.exponent - parts.digits.length + 1;
    const scale = Math.min(scaleOf(mine), scaleOf(theirs));
    const integer = (parts: Parts) => BigInt(parts.sign) * BigInt(parts.digits) * 10n ** BigInt(scaleOf(parts) - scale);
    return Decimal.parse(`${integer(mine) + integer(theirs)}e${scale}`) as Decimal;
  }

  /** The exact difference. */
  minus(other: Decimal): Decimal {
    return this.plus(other.negated());
  }

  negated(): Decimal {
    if (this.sign === 0) return this;
    return Decimal.parse(this.text.startsWith('-') ? this.text.slice(1) : `-${this.text}`) as Decimal;
  }

  toString(): string {
    return this.text;
  }

  /** Plain JSON gets the nearest double; the web API writes `text` instead (web/json.ts). */
  toJSON(): number {
    return this.approx;
  }
}

/** The parts of decimal text, or undefined when it is not a decimal number. */
function partsOf(text: string): Parts | undefined {
  const match = DECIMAL_SYNTAX.exec(text);
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction = '', exponentText] = match;
  if (whole === '' && fraction === '') return undefined;
  const all = whole + fraction;
  let first = 0;
  while (first < all.length && all.charCodeAt(first) === 48) first++;
  if (first === all.length) return { sign: 0, digits: '', exponent: 0 };
  let last = all.length - 1;
  while (all.charCodeAt(last) === 48) last--;
  // Exponents too long to be exact are far outside DynamoDB's range either way.
  const written = exponentText === undefined ? 0 : exponentText.length > 12 ? Math.sign(Number(exponentText)) * 1e12 : Number(exponentText);
  return { sign: sign === '-' ? -1 : 1, digits: all.slice(first, last + 1), exponent: whole.length - 1 - first + written };
}

/** The JavaScript-like text of a decimal (see Decimal.text). */
function canonicalText({ sign, digits, exponent }: Parts): string {
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
