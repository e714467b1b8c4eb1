/**
 * The local stand-in for the API Gateway ingest API (SPEC §2-4, stacks/ingest-api.ts):
 * the same paths, the same draft-04 JSON Schemas (compiled from handlers/reading.ts, as
 * the API Gateway models are), an API key in `x-api-key`, the partition key from
 * `Data.id`, and the same answers as the stack's mapping templates and gateway
 * responses: `{"accepted", "failed", ...}` on success, `{"message", ...}` on errors,
 * 503 naming the readings to resend when Kinesis took only part of a batch.
 *
 * Checks run in API Gateway's order: route, API key, content type, body. Where API
 * Gateway's answer is famously unhelpful (403 "Missing Authentication Token" for an
 * unknown path) this endpoint says what is wrong instead.
 */
import { randomUUID } from 'node:crypto';
import { KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { batchIngestBodySchema, ID_FIELD, ingestReadings, singleIngestBodySchema } from '../handlers/reading';
import { INGEST_PATHS } from '../stacks/ingest-paths';

export { INGEST_PATHS };

/** API Gateway's largest request payload. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface IngestApiOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly apiKey: string;
  /** Where integration failures are reported (the caller only sees "Internal server error", as on AWS). */
  readonly logError?: (message: string) => void;
}

type Reading = Record<string, unknown>;

/** The stack's BAD_REQUEST_BODY message; `details` says what is wrong. */
const SCHEMA_MISMATCH = 'the body does not match the reading schema';

interface ValidBody {
  readonly readings: Reading[];
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validators: Record<keyof typeof INGEST_PATHS, ValidateFunction> = {
  single: ajv.compile(singleIngestBodySchema),
  batch: ajv.compile(batchIngestBodySchema),
};

/** One line per schema violation, in the spirit of API Gateway's `validationErrorString`. */
function schemaErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => `${error.instancePath === '' ? 'body' : error.instancePath} ${error.message ?? 'is invalid'}`);
}

/**
 * The parser rejects whatever the schema rejects and words it for a person. It is only
 * an explanation: if it cannot give one (it overflows the stack on absurdly deep
 * nesting), the schema's own message stands.
 */
function readableReason(body: unknown): string | undefined {
  try {
    const parsed = ingestReadings(body);
    return parsed.ok ? undefined : parsed.error.message;
  } catch {
    return undefined;
  }
}

/** Where a body that fits the other path should go: one reading is PUT, a batch is POSTed. */
function wrongPathHint(route: keyof typeof INGEST_PATHS, body: unknown): string {
  const data = typeof body === 'object' && body !== null ? (body as { Data?: unknown }).Data : undefined;
  if (route === 'single' && Array.isArray(data)) return ` (a batch {"Data": [...]} goes to POST ${INGEST_PATHS.batch})`;
  if (route === 'batch' && typeof data === 'object' && data !== null && !Array.isArray(data)) return ` (one reading {"Data": {...}} goes to PUT ${INGEST_PATHS.single}; a batch is {"Data": [...]})`;
  return '';
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function buildIngestApi(options: IngestApiOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: MAX_PAYLOAD_BYTES });

  // Parse JSON ourselves: the message for a syntax error is ours, and `__proto__` keys
  // stay plain data exactly as API Gateway would pass them on.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  // Like API Gateway, a request without a content type is taken as JSON.
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) =>
    request.headers['content-type'] === undefined
      ? done(null, body)
      : done(new HttpError(415, `Unsupported Media Type: send the body as application/json, not ${request.headers['content-type']}`), undefined),
  );

  const checkKey = async (request: FastifyRequest): Promise<void> => {
    if (request.headers['x-api-key'] !== options.apiKey) {
      throw new HttpError(403, 'Forbidden: send a valid API key in the x-api-key header');
    }
  };

  const validate = (route: keyof typeof INGEST_PATHS, raw: unknown): ValidBody => {
    if (typeof raw !== 'string' || raw.trim() === '') throw new HttpError(400, SCHEMA_MISMATCH, { details: 'the body is empty: send {"Data": {...}}' });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (error) {
      throw new HttpError(400, SCHEMA_MISMATCH, { details: `the body is not valid JSON (${(error as Error).message})` });
    }
    const validator = validators[route];
    if (!validator(body)) {
      const errors = schemaErrors(validator.errors);
      const reason = readableReason(body) ?? errors[0] ?? 'invalid';
      throw new HttpError(400, SCHEMA_MISMATCH, { details: `${reason}${wrongPathHint(route, body)}`, errors });
    }
    const data = (body as { Data: Reading | Reading[] }).Data;
    return { readings: Array.isArray(data) ? data : [data] };
  };

  const record = (reading: Reading) => ({ Data: Buffer.from(JSON.stringify(reading)), PartitionKey: reading[ID_FIELD] as string });

  app.put(INGEST_PATHS.single, { onRequest: checkKey }, async (request, reply) => {
    const [reading] = validate('single', request.body).readings as [Reading];
    const result = await options.kinesis.send(new PutRecordCommand({ StreamName: options.streamName, ...record(reading) }));
    return send(reply, 200, { accepted: 1, failed: 0, shardId: result.ShardId, sequenceNumber: result.SequenceNumber });
  });

  app.post(INGEST_PATHS.batch, { onRequest: checkKey }, async (request, reply) => {
    const { readings } = validate('batch', request.body);
    const result = await options.kinesis.send(new PutRecordsCommand({ StreamName: options.streamName, Records: readings.map(record) }));
    const failedIndexes = (result.Records ?? []).flatMap((entry, index) => (entry.ErrorCode === undefined ? [] : [index]));
    const outcome = { accepted: readings.length - failedIndexes.length, failed: failedIndexes.length, failedIndexes };
    if (failedIndexes.length === 0) return send(reply, 200, outcome);
    return send(reply, 503, { ...outcome, message: 'some readings were not accepted: send the readings at failedIndexes again' });
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const known = Object.entries(INGEST_PATHS).find(([, route]) => route === path.replace(/\/$/, ''));
    if (known !== undefined) {
      const allowed = known[0] === 'single' ? 'PUT' : 'POST';
      reply.header('allow', allowed);
      return send(reply, 405, { message: `Method Not Allowed: use ${allowed} ${known[1]}` });
    }
    return send(reply, 404, {
      message: `Not Found: no resource ${request.method} ${path}; send readings with PUT ${INGEST_PATHS.single} or POST ${INGEST_PATHS.batch}`,
    });
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string; name: string }, request, reply) => {
    if (error instanceof HttpError) return send(reply, error.status, { message: error.message, ...error.extra });
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, 413, { message: `Request Too Long: the body is over ${MAX_PAYLOAD_BYTES / 1024 / 1024} MB` });
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 && error.code?.startsWith('FST_')) {
      return send(reply, error.statusCode, { message: error.message });
    }
    // Errors from Kinesis, told apart as the stack's integration responses do; never a 200.
    if (/ProvisionedThroughputExceeded|LimitExceeded|Throttling/.test(error.name)) return send(reply, 429, { message: 'the stream is over its write capacity: retry with backoff' });
    if (error.name === 'ValidationException' || error.name === 'InvalidArgumentException') return send(reply, 400, { message: `the stream rejected the reading: ${error.message}` });
    options.logError?.(`ingest ${request.method} ${request.url} failed: ${error.name}: ${error.message}`);
    if (error.name === 'ResourceNotFoundException') return send(reply, 500, { message: 'the stream is not available: the platform is misconfigured, contact its operators' });
    return send(reply, 500, { message: 'the stream is temporarily unavailable: retry with backoff' });
  });

  return app;
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.status(status).header('content-type', 'application/json').header('x-amzn-requestid', randomUUID()).send(JSON.stringify(body));
}
