/**
 * Firehose's S3 object keys: custom prefixes with `!{timestamp:...}` and `!{firehose:...}`
 * expressions, the defaults and rules AWS applies to them, and the object name after the
 * prefix.
 *
 * https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html
 * https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html
 */
import { randomInt, randomUUID } from 'node:crypto';

/** What a prefix without a timestamp expression gets appended, and the default prefix. */
export const DEFAULT_TIMESTAMP_PREFIX = '!{timestamp:yyyy/MM/dd/HH/}';
/** Longest evaluated prefix AWS accepts. */
export const MAX_EVALUATED_PREFIX = 512;

export class PrefixError extends Error {
  override readonly name = 'PrefixError';
}

interface Parts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
  /** 1 (Monday) to 7 (Sunday), as java.time counts. */
  readonly weekday: number;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function partsIn(instant: Date, timeZone: string): Parts {
  if (timeZone === 'UTC') {
    return {
      year: instant.getUTCFullYear(),
      month: instant.getUTCMonth() + 1,
      day: instant.getUTCDate(),
      hour: instant.getUTCHours(),
      minute: instant.getUTCMinutes(),
      second: instant.getUTCSeconds(),
      millisecond: instant.getUTCMilliseconds(),
      weekday: instant.getUTCDay() === 0 ? 7 : instant.getUTCDay(),
    };
  }
  const format = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'long' });
  const field = (type: string) => format.formatToParts(instant).find((part) => part.type === type)?.value ?? '';
  return {
    year: Number(field('year')),
    month: Number(field('month')),
    day: Number(field('day')),
    hour: Number(field('hour')),
    minute: Number(field('minute')),
    second: Number(field('second')),
    millisecond: instant.getUTCMilliseconds(),
    weekday: DAYS.indexOf(field('weekday')) + 1,
  };
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** One run of a pattern letter, as java.time.format.DateTimeFormatter reads it. */
function formatField(letter: string, count: number, parts: Parts, pattern: string): string {
  const numeric = (value: number, max = 2) => {
    if (count > max) throw new PrefixError(`too many "${letter}" in the timestamp pattern ${JSON.stringify(pattern)}`);
    return pad(value, count);
  };
  switch (letter) {
    case 'y':
    case 'u':
      return count === 2 ? pad(parts.year % 100, 2) : pad(parts.year, count);
    case 'M':
    case 'L':
      if (count === 3) return (MONTHS[parts.month - 1] ?? '').slice(0, 3);
      if (count === 4) return MONTHS[parts.month - 1] ?? '';
      return numeric(parts.month);
    case 'd':
      return numeric(parts.day);
    case 'H':
      return numeric(parts.hour);
    case 'h':
      return numeric(parts.hour % 12 === 0 ? 12 : parts.hour % 12);
    case 'm':
      return numeric(parts.minute);
    case 's':
      return numeric(parts.second);
    case 'S':
      return pad(parts.millisecond, 3).padEnd(count, '0').slice(0, count);
    case 'a':
      return parts.hour < 12 ? 'AM' : 'PM';
    case 'E':
      return count === 4 ? (DAYS[parts.weekday - 1] ?? '') : (DAYS[parts.weekday - 1] ?? '').slice(0, 3);
    case 'e':
      return numeric(parts.weekday);
    default:
      throw new PrefixError(`the timestamp pattern letter "${letter}" in ${JSON.stringify(pattern)} is not formatted locally (supported: y u M L d H h m s S a E e, and 'quoted text')`);
  }
}

/**
 * Formats `instant` with a Java DateTimeFormatter pattern: the letters above, text in
 * single quotes (`''` for a quote), every other character as it is.
 * https://docs.oracle.com/javase/8/docs/api/java/time/format/DateTimeFormatter.html
 */
export function formatTimestamp(pattern: string, instant: Date, timeZone = 'UTC'): string {
  const parts = partsIn(instant, timeZone);
  let text = '';
  for (let at = 0; at < pattern.length; ) {
    const char = pattern[at] as string;
    if (char === "'") {
      const close = pattern.indexOf("'", at + 1);
      if (close < 0) throw new PrefixError(`unterminated quote in the timestamp pattern ${JSON.stringify(pattern)}`);
      text += close === at + 1 ? "'" : pattern.slice(at + 1, close);
      at = close + 1;
    } else if (/[A-Za-z]/.test(char)) {
      let end = at;
      while (pattern[end] === char) end += 1;
      text += formatField(char, end - at, parts, pattern);
      at = end;
    } else if ('[]{}#'.includes(char)) {
      throw new PrefixError(`"${char}" in the timestamp pattern ${JSON.stringify(pattern)} is reserved`);
    } else {
      text += char;
      at += 1;
    }
  }
  return text;
}

const EXPRESSION = /!\{([^:}]+):([^}]*)\}/g;

export interface PrefixContext {
  /** The approximate arrival time of the oldest record in the object. */
  readonly instant: Date;
  /** @default 'UTC' */
  readonly timeZone?: string;
  /** Only in an error prefix: `processing-failed`, ... */
  readonly errorOutputType?: string;
}

/** 11 random letters and digits, new for every occurrence. */
function randomString(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 11 }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** Evaluates a (checked) prefix; every timestamp expression sees the same instant. */
export function evaluatePrefix(prefix: string, context: PrefixContext): string {
  const evaluated = prefix.replace(EXPRESSION, (_match, namespace: string, value: string) => {
    if (namespace === 'timestamp') return formatTimestamp(value, context.instant, context.timeZone);
    if (namespace === 'firehose' && value === 'random-string') return randomString();
    if (namespace === 'firehose' && value === 'error-output-type' && context.errorOutputType !== undefined) return context.errorOutputType;
    throw new PrefixError(`cannot evaluate !{${namespace}:${value}} here`);
  });
  if (evaluated.length > MAX_EVALUATED_PREFIX) throw new PrefixError(`the evaluated prefix is ${evaluated.length} characters long; at most ${MAX_EVALUATED_PREFIX} are allowed`);
  return evaluated;
}

export interface CheckedPrefixes {
  /** The prefix records are delivered under, defaults and appended timestamp applied. */
  readonly prefix: string;
  /** The prefix failed records go under. */
  readonly errorPrefix: string;
}

/**
 * Applies AWS's rules to a destination's prefixes, throwing `PrefixError` for a
 * configuration AWS refuses:
 * - no prefix: `yyyy/MM/dd/HH/`; a prefix without a timestamp expression gets one appended
 *   (with no `/` inserted before it);
 * - only `timestamp` and `firehose` namespaces (dynamic partitioning is not emulated);
 * - `!{firehose:error-output-type}` only in the error prefix, which must contain it when it
 *   uses any expression, and must be given when the prefix uses expressions.
 */
export function checkPrefixes(prefix: string | undefined, errorPrefix: string | undefined): CheckedPrefixes {
  const expressions = (text: string) => [...text.matchAll(EXPRESSION)].map(([, namespace, value]) => ({ namespace: namespace ?? '', value: value ?? '' }));
  for (const [name, text] of [['prefix', prefix], ['error_output_prefix', errorPrefix]] as const) {
    for (const { namespace, value } of expressions(text ?? '')) {
      if (namespace === 'timestamp') formatTimestamp(value, new Date(0));
      else if (namespace !== 'firehose' || !['random-string', 'error-output-type'].includes(value)) {
        throw new PrefixError(`${name}: !{${namespace}:${value}} is not supported locally (only !{timestamp:...}, !{firehose:random-string} and !{firehose:error-output-type})`);
      }
    }
  }
  const given = prefix ?? '';
  const prefixExpressions = expressions(given);
  if (prefixExpressions.some((expression) => expression.value === 'error-output-type')) throw new PrefixError('prefix: !{firehose:error-output-type} may only be used in error_output_prefix');
  if (prefixExpressions.length > 0 && (errorPrefix === undefined || errorPrefix === '')) throw new PrefixError('error_output_prefix must be given when prefix uses expressions');
  const errorExpressions = expressions(errorPrefix ?? '');
  if (errorExpressions.length > 0 && !errorExpressions.some((expression) => expression.namespace === 'firehose' && expression.value === 'error-output-type')) {
    throw new PrefixError('error_output_prefix must contain !{firehose:error-output-type} when it uses expressions');
  }
  const withTimestamp = (text: string) => (expressions(text).some((expression) => expression.namespace === 'timestamp') ? text : `${text}${DEFAULT_TIMESTAMP_PREFIX}`);
  return {
    prefix: withTimestamp(given),
    errorPrefix: errorPrefix === undefined || errorPrefix === '' ? `${given}!{firehose:error-output-type}/${DEFAULT_TIMESTAMP_PREFIX}` : withTimestamp(errorPrefix),
  };
}

/** `<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><extension>`, the time in the destination's zone. */
export function objectName(streamName: string, version: number, instant: Date, extension: string, timeZone = 'UTC'): string {
  return `${streamName}-${version}-${formatTimestamp('yyyy-MM-dd-HH-mm-ss', instant, timeZone)}-${randomUUID()}${extension}`;
}
