'use strict';
/**
 * Request-body validation against API Gateway models (JSON Schema draft 4), with the
 * failure worded as API Gateway's validator words it. Plain CommonJS so the same code runs
 * on the main thread (small bodies) and in worker threads (large ones) under node, tsx and
 * jest alike; types in body-validator.d.cts.
 *
 * The wording follows the messages API Gateway reports in `$context.error.validationErrorString`
 * (those of the Java json-schema-validator), e.g.
 * `object has missing required properties (["body","subject","to"])`.
 */
const { isMainThread, parentPort, workerData } = require('node:worker_threads');
const Ajv = require('ajv-draft-04');

/** Longest rendering of a value quoted in a message; longer ones are cut (the message goes to logs). */
const MAX_QUOTED = 200;

function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function quoted(value) {
  const text = JSON.stringify(value);
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}...` : text;
}

function list(values) {
  return `[${values.map((value) => JSON.stringify(value)).join(',')}]`;
}

/** One ajv error (verbose: with `schema`, `parentSchema` and `data`) as API Gateway's validator words it. */
function describe(error) {
  const { keyword, params, schema, parentSchema, data } = error;
  switch (keyword) {
    case 'type':
      return `instance type (${typeOf(data)}) does not match any allowed primitive type (allowed: ${list([].concat(schema))})`;
    case 'required': {
      const missing = [].concat(schema).filter((name) => typeof data !== 'object' || data === null || !Object.prototype.hasOwnProperty.call(data, name));
      return `object has missing required properties (${list(missing)})`;
    }
    case 'additionalProperties': {
      const declared = Object.keys(parentSchema.properties || {});
      const patterns = Object.keys(parentSchema.patternProperties || {}).map((source) => new RegExp(source, 'u'));
      const unwanted = Object.keys(data).filter((name) => !declared.includes(name) && !patterns.some((pattern) => pattern.test(name)));
      return `object instance has properties which are not allowed by the schema: ${list(unwanted)}`;
    }
    case 'minLength':
      return `string ${quoted(data)} is too short (length: ${[...data].length}, required minimum: ${schema})`;
    case 'maxLength':
      return `string ${quoted(data)} is too long (length: ${[...data].length}, maximum allowed: ${schema})`;
    case 'pattern':
      return `ECMA 262 regex "${schema}" does not match input string ${quoted(data)}`;
    case 'minimum':
      return `numeric instance is lower than the required minimum (minimum: ${schema}, found: ${data})`;
    case 'maximum':
      return `numeric instance is greater than the required maximum (maximum: ${schema}, found: ${data})`;
    case 'minItems':
      return `array is too short: must have at least ${schema} elements but instance has ${data.length} elements`;
    case 'maxItems':
      return `array is too long: must have at most ${schema} elements but instance has ${data.length} elements`;
    case 'minProperties':
      return `object has too few properties (found ${Object.keys(data).length} but schema requires at least ${schema})`;
    case 'maxProperties':
      return `object has too many properties (found ${Object.keys(data).length} but schema requires at most ${schema})`;
    case 'oneOf':
      return `instance failed to match exactly one schema (matched ${params.passingSchemas === null ? 0 : params.passingSchemas.length} out of ${schema.length})`;
    case 'anyOf':
      return `instance failed to match at least one required schema among ${schema.length}`;
    case 'enum':
      return `instance value (${quoted(data)}) not found in enum (possible values: ${list(schema)})`;
    case 'not':
      return 'instance matched a schema which it should not have';
    case 'uniqueItems':
      return 'array must not contain duplicate elements';
    default:
      return `instance does not satisfy "${keyword}"`;
  }
}

/**
 * Compiles each model's schema once. The returned function parses a body and checks it
 * against a model: `{ ok: true, value }` (the parsed body), `{ ok: false, message }`.
 */
function createBodyValidator(schemas) {
  // One error, the one that decided the failure: ajv reports sub-schema errors of a failed
  // oneOf first and the oneOf itself last, as API Gateway's validator reports the oneOf.
  const ajv = new Ajv({ allErrors: false, verbose: true, strict: false });
  const compiled = new Map(Object.entries(schemas).map(([model, schema]) => [model, ajv.compile(schema)]));
  return function validate(model, text) {
    const check = compiled.get(model);
    if (check === undefined) throw new Error(`no model named ${JSON.stringify(model)}`);
    let value;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { ok: false, message: `Invalid JSON in request body: ${error.message}` };
    }
    if (check(value)) return { ok: true, value };
    const errors = check.errors || [];
    return { ok: false, message: errors.length === 0 ? 'instance is invalid' : describe(errors[errors.length - 1]) };
  };
}

module.exports = { createBodyValidator };

// As a worker: compile the models given in workerData, then answer { id, model, body } messages.
if (!isMainThread && workerData && workerData.bodyValidatorSchemas) {
  const validate = createBodyValidator(workerData.bodyValidatorSchemas);
  parentPort.on('message', ({ id, model, body }) => {
    let outcome;
    try {
      const result = validate(model, Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      // The parsed body stays here: the caller parses a valid body itself, which the
      // schema keeps small, instead of receiving a copy of an arbitrary one.
      outcome = result.ok ? { id, ok: true } : { id, ok: false, message: result.message };
    } catch (error) {
      outcome = { id, error: String(error && error.message) };
    }
    parentPort.postMessage(outcome);
  });
}
