/**
 * How exact numbers (metric values, thresholds) go in and out of DynamoDB, for the
 * handlers, the web app and the tools alike. The document client's defaults round through doubles: it refuses to write
 * an integer above 2^53 and reads a 38-digit number back as a double (or throws). Here a
 * number is written as `NumberValue` with its decimal digits, and read back wrapped
 * (`wrapNumbers`), so every digit DynamoDB holds survives the trip.
 * https://github.com/aws/aws-sdk-js-v3/blob/main/packages/util-dynamodb/README.md (Number handling)
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, NumberValue } from '@aws-sdk/lib-dynamodb';
import type { Thresholds } from './alert-rules';
import { ATTRIBUTES } from './contract';
import { Decimal } from './decimal';

/**
 * A document client that reads every number as a `NumberValue` (its exact digits) and
 * drops nothing silently on write. Every reader of metric values and thresholds uses one.
 */
export function exactDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { unmarshallOptions: { wrapNumbers: true } });
}

/** A decimal as DynamoDB's number type, with the same digits. */
export const storedNumber = (value: Decimal): NumberValue => NumberValue.from(value.text);

/**
 * A number as read from DynamoDB: a `NumberValue` from an exact client, a double from a
 * default one, or numeric text (thresholds items written by hand may hold strings).
 * Undefined when it is none of these.
 */
export function decimalOf(stored: unknown): Decimal | undefined {
  if (stored instanceof Decimal) return stored;
  if (stored instanceof NumberValue) return Decimal.parse(stored.value);
  if (typeof stored === 'number') return Decimal.fromNumber(stored);
  if (typeof stored === 'string' && stored.trim() !== '') return Decimal.parse(stored.trim());
  return undefined;
}

/** A number read from DynamoDB as a double, for counters and times (epoch seconds, milliseconds). */
export function numberOf(stored: unknown): number | undefined {
  const value = stored instanceof NumberValue ? Number(stored.value) : stored;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Thresholds as stored, plus what is wrong with them, so a bad item is reported rather than guessed at. */
export interface ThresholdsReading {
  readonly thresholds: Thresholds;
  readonly problems: readonly string[];
}

/**
 * Reads the stored bounds: numbers, or numeric strings (the 2016 system's table held strings).
 * A malformed bound is ignored; bounds that contradict each other (min > max) disable both.
 */
export function readThresholds(storedMin: unknown, storedMax: unknown): ThresholdsReading {
  const problems: string[] = [];
  const bound = (name: string, stored: unknown): Decimal | undefined => {
    if (stored === undefined || stored === null) return undefined;
    const value = decimalOf(stored);
    if (value !== undefined) return value;
    problems.push(`${name} ${JSON.stringify(stored)} is not a number, so it is ignored`);
    return undefined;
  };
  const min = bound(ATTRIBUTES.minThreshold, storedMin);
  const max = bound(ATTRIBUTES.maxThreshold, storedMax);
  if (min !== undefined && max !== undefined && min.compare(max) > 0) {
    problems.push(`${ATTRIBUTES.minThreshold} ${min.text} is above ${ATTRIBUTES.maxThreshold} ${max.text}, so neither is applied`);
    return { thresholds: { min: undefined, max: undefined }, problems };
  }
  // Always both keys (possibly undefined): one shape for every thresholds object, as for statuses.
  return { thresholds: { min, max }, problems };
}
