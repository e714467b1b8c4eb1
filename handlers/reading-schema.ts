/**
 * The ingest JSON Schema (draft-04, as API Gateway models require): one reading, and the
 * single and batch bodies, built from the field patterns (reading-patterns.ts) the parser
 * uses too.
 */
import { ID_FIELD, ID_SOURCE, LARGEST_STORABLE_DOUBLE, METRIC_NAME_SOURCE, NUMERIC_STRING_SOURCE, READING_LIMITS, SCHEMA_TIMESTAMP_SOURCE, SMALLEST_STORABLE_DOUBLE, TIMESTAMP_FIELD } from './reading-patterns';

export type JsonSchema = { [keyword: string]: unknown };

/**
 * A JSON number is validated as the double a JSON parser reads, which prints back (its
 * shortest form, at most 17 digits) as the exact value stored: between 1e-130 and the
 * largest double below 1e126 in magnitude, or zero. A numeric string keeps every digit.
 */
const metricValueSchema: JsonSchema = {
  description: 'A metric value: a number, or a decimal number written as a string (every digit kept, up to 38 significant digits).',
  anyOf: [
    { type: 'number', enum: [0] },
    { type: 'number', minimum: SMALLEST_STORABLE_DOUBLE, maximum: LARGEST_STORABLE_DOUBLE },
    { type: 'number', minimum: -LARGEST_STORABLE_DOUBLE, maximum: -SMALLEST_STORABLE_DOUBLE },
    { type: 'string', pattern: NUMERIC_STRING_SOURCE },
  ],
};

/** Schema of one reading: the object under `Data`, and one Kinesis record. */
export const readingSchema: JsonSchema = {
  type: 'object',
  description: 'One reading: a thing id, a timestamp and at least one numeric metric.',
  required: [ID_FIELD, TIMESTAMP_FIELD],
  properties: {
    [ID_FIELD]: { type: 'string', minLength: 1, maxLength: READING_LIMITS.maxIdLength, pattern: ID_SOURCE },
    [TIMESTAMP_FIELD]: {
      description: 'ISO 8601 (no zone means UTC), "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC), or epoch milliseconds; 1970 to 9999 in UTC.',
      oneOf: [
        { type: 'string', pattern: SCHEMA_TIMESTAMP_SOURCE },
        { type: 'integer', minimum: 0, maximum: READING_LIMITS.maxEpochMillis },
      ],
    },
  },
  patternProperties: { [METRIC_NAME_SOURCE]: metricValueSchema },
  additionalProperties: false,
  minProperties: 3,
  maxProperties: 2 + READING_LIMITS.maxMetrics,
};

function bodySchema(title: string, data: JsonSchema): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title,
    type: 'object',
    required: ['Data'],
    properties: { Data: data },
    additionalProperties: false,
  };
}

const batchDataSchema: JsonSchema = {
  type: 'array',
  minItems: 1,
  maxItems: READING_LIMITS.maxBatchReadings,
  items: readingSchema,
};

/** `{"Data": reading}`: the 2016 system's body, sent with PUT (Kinesis PutRecord). */
export const singleIngestBodySchema = bodySchema('SingleReading', readingSchema);
/** `{"Data": [reading, ...]}`: up to 500 readings (Kinesis PutRecords). */
export const batchIngestBodySchema = bodySchema('ReadingBatch', batchDataSchema);
