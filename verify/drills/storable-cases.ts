/**
 * Bad inputs at the edges of what the platform can store, part of the bad-input matrix
 * (bad-input-cases.ts): readings the store could not keep exactly or that the stream
 * could not carry, refused at the door instead of answered 200 and lost
 * later; methods the web API does not take; bounds and series ids the thresholds tool
 * must refuse. Each was once accepted and then lost, rounded, or answered wrongly.
 */
import { INGEST_PATHS } from '../../stacks/ingest-paths';
import type { BadInputCase, CliCase, HttpCase, HttpRefusal } from './bad-input-cases';

const VALID = { id: 'things/bad-input/002', temperature: '21.5', timestamp: '2024-05-01T10:00:00Z' } as const;
const SERIES = 'things/bad-input/002/temperature';
const USAGE = 2;

/**
 * The ingest rows: readings the model refuses. API Gateway answers every refused body with
 * the stack's BAD_REQUEST_BODY response (`bodyRefused`), whatever is wrong with it; which
 * reason the parser gives each is pinned by the property test (__tests__/handlers/storable.test.ts).
 */
function ingestCases(bodyRefused: HttpRefusal): HttpCase[] {
  const reading = (name: string, fields: Record<string, unknown>): HttpCase => ({
    surface: 'ingest',
    name,
    request: { method: 'PUT', path: INGEST_PATHS.single, body: JSON.stringify({ Data: { ...VALID, ...fields } }) },
    expect: bodyRefused,
  });
  return [
    reading('a numeric string past DynamoDB\'s largest numbers', { temperature: '1e126' }),
    reading('a number below DynamoDB\'s smallest (once stored as 0)', { temperature: 1e-200 }),
    reading('a scientific string whose mantissa is not normalised', { temperature: '15e2' }),
    reading('an id with an emoji (two UTF-16 units of the partition key)', { id: 'things/sensor-😀' }),
    reading('an id of 128 emoji: 128 characters, 256 UTF-16 units', { id: '😀'.repeat(128) }),
    reading('an id with a line separator', { id: 'things/a\u2028b' }),
    reading('an id with U+FFFD, what bytes that are not UTF-8 decode to', { id: 'things/a\ufffdb' }),
    {
      surface: 'ingest',
      name: 'an id holding a lone surrogate (no UTF-8 form)',
      request: { method: 'PUT', path: INGEST_PATHS.single, body: `{"Data":{"id":"things/\\ud800","temperature":"21.5","timestamp":"2024-05-01T10:00:00Z"}}` },
      expect: bodyRefused,
    },
    reading('a time before 1970 once its zone offset is applied', { timestamp: '1970-01-01T00:30:00+01:00' }),
    reading('a time past 9999 once its zone offset is applied', { timestamp: '9999-12-31T23:30:00-0100' }),
    {
      surface: 'ingest',
      name: 'a batch whose second reading falls before 1970 after its offset (refused whole, not half accepted)',
      request: { method: 'POST', path: INGEST_PATHS.batch, body: JSON.stringify({ Data: [VALID, { ...VALID, timestamp: '1970-01-01T05:29:59+05:30' }] }) },
      expect: bodyRefused,
    },
  ];
}

const methodNotAllowed = (method: string, path: string): HttpCase => ({
  surface: 'web',
  name: `${method} on ${path}`,
  request: { method, path, ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }) },
  expect: { status: 405, message: new RegExp(`${method} ${path.replace(/\//g, '\\/')} is not allowed: use GET, HEAD`) },
});

const WEB: readonly HttpCase[] = [
  methodNotAllowed('PUT', '/api/series'),
  methodNotAllowed('DELETE', '/livez'),
  methodNotAllowed('POST', '/healthz'),
  {
    surface: 'web',
    name: 'a thing whose percent-escapes are not UTF-8 (once read as other text)',
    request: { method: 'GET', path: '/api/readings?thing=things%2Fbad%FF%2Ftemperature' },
    expect: { status: 400, message: /"thing" is not UTF-8 text: its percent-escapes must encode UTF-8 bytes/ },
  },
];

const thresholds = (name: string, args: readonly string[], message: RegExp): CliCase => ({ surface: 'cli', name, tool: 'thresholds', args, expect: { exitCode: USAGE, message } });

const CLI: readonly CliCase[] = [
  thresholds('a hexadecimal bound (once read as 16)', ['set', SERIES, '--max', '0x10'], /argument '0x10' is invalid\. write a decimal number .*no hexadecimal/),
  thresholds('a bound padded with spaces (once read as 12)', ['set', SERIES, '--max', ' 12 '], /argument ' 12 ' is invalid\. write a decimal number .*no spaces/),
  thresholds('a bound below DynamoDB\'s smallest numbers (once the SDK\'s error, exit 1)', ['set', SERIES, '--max', '1e-200'], /argument '1e-200' is invalid\. its magnitude is below 1e-130/),
  thresholds('a bound of 39 significant digits', ['set', SERIES, '--min', '1.00000000000000000000000000000000000001'], /more than 38 significant digits/),
  thresholds('a series whose thing id readings cannot have', ['set', 'things/bell\u0007/temperature', '--max', '1'], /is not one readings can have/),
  thresholds('a series whose metric readings cannot have', ['set', 'things/bad-input/002/1st', '--max', '1'], /must be "<thing id>\/<metric>".*with a metric name/),
];

/** The matrix rows for what the platform can store; `bodyRefused` is the ingest API's answer to a body its model refuses. */
export function storableCases(bodyRefused: HttpRefusal): BadInputCase[] {
  return [...ingestCases(bodyRefused), ...WEB, ...CLI];
}
