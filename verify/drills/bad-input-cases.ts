/**
 * The bad-input matrix: requests to the ingest API and the web API, and command lines of
 * the tools, that must each be refused with a clear 4xx answer or usage error. Each case
 * says what is sent and what a correct refusal looks like: the status or exit code, and a
 * pattern the message must match, so that it names what is wrong (the field, the flag).
 *
 * The data is static; the drill (bad-inputs.ts) fills in the platform's key, addresses and
 * fixture files when it runs a case.
 */
import { READING_LIMITS } from '../../handlers/reading-patterns';
import { API_GATEWAY_LIMITS } from '../../local/api-gateway/limits';
import { INGEST_PATHS } from '../../stacks/ingest-paths';
import { PAGE_LIMITS } from '../../web/query';
import { storableCases } from './storable-cases';

export type Surface = 'ingest' | 'web' | 'cli';

export interface HttpRequestSpec {
  readonly method: string;
  /** Path and query, sent byte for byte (no `..` resolved, nothing re-encoded). */
  readonly path: string;
  /** The `x-api-key` header: the platform's key, none, or a wrong one. @default 'valid' on the ingest API, 'none' on the web API */
  readonly apiKey?: 'valid' | 'none' | 'wrong' | 'empty';
  /** Other headers, sent as given. */
  readonly headers?: Readonly<Record<string, string>>;
  /** @default application/json when there is a body; `null` sends none */
  readonly contentType?: string | null;
  /** A function for bodies too large to build before they are needed. */
  readonly body?: string | (() => string);
}

export interface HttpRefusal {
  /** The status a correct answer has (any of them, when several are right). */
  readonly status: number | readonly number[];
  /** Must match the answer's text (every string of a JSON answer, or the status line when there is no body). */
  readonly message: RegExp;
  /** The answer is JSON (`content-type: application/json`). @default true */
  readonly json?: boolean;
}

export interface HttpCase {
  readonly surface: 'ingest' | 'web';
  readonly name: string;
  readonly request: HttpRequestSpec;
  readonly expect: HttpRefusal;
}

/** Files the command-line cases point at, written into the drill's folder. */
export const CLI_FIXTURES = {
  /** An outputs file cut off mid-way. */
  'truncated-outputs.json': '{"pipeline": {"ingest_url": ',
} as const;

export type CliFixture = keyof typeof CLI_FIXTURES;

/** A command-line argument: literal text, a fixture file's path, or a path that does not exist. */
export type CliArg = string | { readonly fixture: CliFixture } | { readonly missingFile: string };

export type Tool = 'thresholds' | 'simulate' | 'system-test';

export interface CliRefusal {
  readonly exitCode: number;
  /** Must match what the tool printed (stderr and stdout). */
  readonly message: RegExp;
}

export interface CliCase {
  readonly surface: 'cli';
  readonly name: string;
  /** The file in tools/, run as `node --import tsx tools/<tool>.ts <args>`. */
  readonly tool: Tool;
  readonly args: readonly CliArg[];
  /**
   * Append the flags that point the tool at the drill platform (`--api-url`, `--dynamodb-endpoint`,
   * table names, ...), except those the case gives itself. Off for cases about finding the target.
   * @default true
   */
  readonly target?: boolean;
  readonly expect: CliRefusal;
}

export type BadInputCase = HttpCase | CliCase;

/** Exit code of a tool that could not run as asked (tools/cli.ts EXIT_USAGE). */
const USAGE = 2;

// ---------------------------------------------------------------------------
// Ingest API
// ---------------------------------------------------------------------------

const VALID = { id: 'things/bad-input/001', temperature: '21.5', timestamp: '2024-05-01 10:00:00.000001' } as const;
const single = (data: unknown): string => JSON.stringify({ Data: data });

const put = (name: string, body: HttpRequestSpec['body'], expect: HttpRefusal, request: Partial<HttpRequestSpec> = {}): HttpCase => ({
  surface: 'ingest',
  name,
  request: { method: 'PUT', path: INGEST_PATHS.single, body, ...request },
  expect,
});
const post = (name: string, body: HttpRequestSpec['body'], expect: HttpRefusal): HttpCase => ({
  surface: 'ingest',
  name,
  request: { method: 'POST', path: INGEST_PATHS.batch, body },
  expect,
});
/**
 * A body the model refuses gets the stack's BAD_REQUEST_BODY response, whatever is wrong
 * with it: API Gateway cannot put the validator's finding into a JSON answer (it goes to
 * the access log), so the answer says what a body must be.
 */
const schema: HttpRefusal = { status: 400, message: /Invalid request body[\s\S]*the body does not match the reading schema: PUT \/prod\/thingsstream takes/ };
/** An unknown path or method: API Gateway's 403 MISSING_AUTHENTICATION_TOKEN, customised to point at the ingest paths. */
const noRoute = (method: string): HttpRefusal => ({
  status: 403,
  message: new RegExp(`Missing Authentication Token[\\s\\S]*no resource answers ${method} at this path: send readings with PUT /prod/thingsstream \\(one\\) or POST /prod/thingsstream/batch`),
});
const badKey: HttpRefusal = { status: 403, message: /Forbidden[\s\S]*send a valid API key in the x-api-key header/ };
const notJson: HttpRefusal = { status: 415, message: /Unsupported Media Type[\s\S]*send the body as application\/json/ };

const manyMetrics = Object.fromEntries(Array.from({ length: READING_LIMITS.maxMetrics + 1 }, (_, index) => [`m${index}`, index]));
const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const timestampCase = (name: string, timestamp: unknown): HttpCase => put(name, single({ ...VALID, timestamp }), schema);
const metricCase = (name: string, value: unknown): HttpCase => put(name, single({ ...VALID, temperature: value }), schema);
const idCase = (name: string, id: unknown): HttpCase => put(name, single({ ...VALID, id }), schema);

const INGEST_CASES: readonly HttpCase[] = [
  // The body as a whole.
  put('an empty body', '', schema),
  put('truncated JSON', '{"Data":', schema),
  put('JSON followed by more text', `${single(VALID)} trailing`, schema),
  put('NaN written as a JSON literal', `{"Data":{"id":"${VALID.id}","temperature":NaN,"timestamp":"2024-05-01T10:00:00Z"}}`, schema),
  put('JSON null', 'null', schema),
  put('a JSON array', '[]', schema),
  put('a JSON string', '"Data"', schema),
  put('no Data', '{}', schema),
  put('Data null', single(null), schema),
  put('a property beside Data', JSON.stringify({ Data: VALID, Admin: true }), schema),
  put('a __proto__ key beside Data', `{"__proto__":{"admin":true},"Data":${JSON.stringify(VALID)}}`, schema),
  put('a body over 10 MB', () => single({ ...VALID, id: 'x'.repeat(API_GATEWAY_LIMITS.maxPayloadBytes + 1024 * 1024) }), { status: 413, message: /Request Too Long[\s\S]*the body is over 10 MB/ }),
  // The reading's fields.
  put('an empty reading', single({}), schema),
  put('no id', single({ temperature: 20, timestamp: VALID.timestamp }), schema),
  put('no timestamp', single({ id: VALID.id, temperature: 20 }), schema),
  put('no metric', single({ id: VALID.id, timestamp: VALID.timestamp }), schema),
  idCase('an empty id', ''),
  idCase('a blank id', '   '),
  idCase('a numeric id', 42),
  idCase('an id that is an array', [VALID.id]),
  idCase('an id over 256 characters', 'x'.repeat(READING_LIMITS.maxIdLength + 1)),
  idCase('an id with control characters', 'things/bad\u0000input\n001'),
  timestampCase('a timestamp in words', 'yesterday'),
  timestampCase('month 13', '2024-13-01T00:00:00Z'),
  timestampCase('30 February', '2016-02-30T00:00:00Z'),
  timestampCase('a year past 9999', '10000-01-01T00:00:00Z'),
  timestampCase('negative epoch milliseconds', -1),
  timestampCase('epoch milliseconds past 9999', READING_LIMITS.maxEpochMillis + 1),
  timestampCase('fractional epoch milliseconds', 1714557600000.5),
  timestampCase('a timestamp with a control character', '2024-05-01T10:00:00Z\u0000'),
  // Metrics.
  metricCase('a non-numeric metric', 'hot'),
  metricCase('"NaN" as a string', 'NaN'),
  metricCase('"Infinity" as a string', 'Infinity'),
  metricCase('a numeric string of 39 significant digits', '123456789012345678901234567890123456789'),
  metricCase('a boolean metric', true),
  metricCase('an object as metric', { $gt: 0 }),
  metricCase('a metric beyond DynamoDB numbers', 1e200),
  put('1e999 (Infinity once parsed)', `{"Data":{"id":"${VALID.id}","temperature":1e999,"timestamp":"2024-05-01T10:00:00Z"}}`, schema),
  put('a metric name with a slash', single({ ...VALID, 'temp/../x': 1 }), schema),
  put('a metric name with a control character', single({ ...VALID, 'temp\u0007': 1 }), schema),
  put('a metric name over 64 characters', single({ ...VALID, [`m${'x'.repeat(64)}`]: 1 }), schema),
  put('too many metrics', single({ ...VALID, ...manyMetrics }), schema),
  put('5,000 levels of nesting', `{"Data":{"id":"x","timestamp":"2024-05-01T10:00:00Z","t":${nested(5000)}}}`, schema),
  put('a __proto__ metric holding an object', `{"Data":{"id":"${VALID.id}","timestamp":"2024-05-01T10:00:00Z","temperature":1,"__proto__":{"polluted":true}}}`, schema),
  put('a constructor.prototype metric', single({ ...VALID, constructor: { prototype: { polluted: true } } }), schema),
  // Batches.
  put('a batch on the single path', single([VALID]), { status: 400, message: /POST \/prod\/thingsstream\/batch takes \{"Data": \[1 to 500 readings\]\}/ }),
  post('one reading on the batch path', single(VALID), { status: 400, message: /PUT \/prod\/thingsstream takes \{"Data": \{reading\}\}/ }),
  post('an empty batch', single([]), schema),
  post('a batch over 500 readings', single(Array.from({ length: READING_LIMITS.maxBatchReadings + 1 }, (_, index) => ({ ...VALID, id: `things/bad-input/${index}` }))), schema),
  post('a batch with one bad reading among good ones', single([VALID, { ...VALID, temperature: 'warm' }, VALID]), schema),
  post('a batch with a number among the readings', single([VALID, 42]), schema),
  // Key, content type, route, method.
  put('no API key', single(VALID), badKey, { apiKey: 'none' }),
  put('a wrong API key', single(VALID), badKey, { apiKey: 'wrong' }),
  put('an empty API key', single(VALID), badKey, { apiKey: 'empty' }),
  put('the API key as a bearer token', single(VALID), badKey, { apiKey: 'none', headers: { authorization: 'Bearer local-api-key' } }),
  put('text/plain', single(VALID), notJson, { contentType: 'text/plain' }),
  put('XML', `<Data><id>${VALID.id}</id></Data>`, notJson, { contentType: 'application/xml' }),
  put('a form upload', 'Data=1', notJson, { contentType: 'application/x-www-form-urlencoded' }),
  put('an unknown path', single(VALID), noRoute('PUT'), { path: '/prod/other' }),
  put('a path below the batch path', single(VALID), noRoute('PUT'), { path: `${INGEST_PATHS.batch}/extra` }),
  { surface: 'ingest', name: 'a path escaping the stage', request: { method: 'GET', path: `${INGEST_PATHS.single}/../../../etc/passwd` }, expect: noRoute('GET') },
  { surface: 'ingest', name: 'the root path', request: { method: 'GET', path: '/' }, expect: noRoute('GET') },
  { surface: 'ingest', name: 'GET on the ingest path', request: { method: 'GET', path: INGEST_PATHS.single }, expect: noRoute('GET') },
  { surface: 'ingest', name: 'POST on the single path', request: { method: 'POST', path: INGEST_PATHS.single, body: single(VALID) }, expect: noRoute('POST') },
  { surface: 'ingest', name: 'PUT on the batch path', request: { method: 'PUT', path: INGEST_PATHS.batch, body: single([VALID]) }, expect: noRoute('PUT') },
  { surface: 'ingest', name: 'DELETE on the batch path', request: { method: 'DELETE', path: INGEST_PATHS.batch }, expect: noRoute('DELETE') },
];

// ---------------------------------------------------------------------------
// Web API
// ---------------------------------------------------------------------------

const SERIES = 'things/bad-input/001/temperature';
const get = (name: string, path: string, expect: HttpRefusal): HttpCase => ({ surface: 'web', name, request: { method: 'GET', path }, expect });
const readings = (query: Record<string, string>): string => `/api/readings?${new URLSearchParams(query)}`;
const parameter = (message: RegExp): HttpRefusal => ({ status: 400, message });
const cursorOf = (timestamp: string): string => Buffer.from(timestamp, 'utf8').toString('base64url');
const LIMIT_MESSAGE = new RegExp(`"limit" must be a whole number from 1 to ${PAGE_LIMITS.max}`);

const WEB_CASES: readonly HttpCase[] = [
  get('readings without thing', '/api/readings', parameter(/"thing" is required/)),
  get('an empty thing', '/api/readings?thing=', parameter(/"thing" is required/)),
  get('thing given twice', `/api/readings?thing=${encodeURIComponent(SERIES)}&thing=x%2Ft`, parameter(/"thing" must be given once/)),
  get('a thing over 2,048 bytes', readings({ thing: `things/${'é'.repeat(1100)}/t` }), parameter(/"thing" must be at most 2048 bytes long/)),
  get('a misspelt parameter', readings({ thing: SERIES, lmit: '5' }), parameter(/unknown parameter "lmit": this endpoint takes thing, from, to, limit, order, cursor/)),
  get('limit 0', readings({ thing: SERIES, limit: '0' }), parameter(LIMIT_MESSAGE)),
  get('limit -1', readings({ thing: SERIES, limit: '-1' }), parameter(LIMIT_MESSAGE)),
  get('limit 1e9', readings({ thing: SERIES, limit: '1e9' }), parameter(LIMIT_MESSAGE)),
  get('limit above the page maximum', readings({ thing: SERIES, limit: String(PAGE_LIMITS.max + 1) }), parameter(LIMIT_MESSAGE)),
  get('limit x', readings({ thing: SERIES, limit: 'x' }), parameter(LIMIT_MESSAGE)),
  get('from in words', readings({ thing: SERIES, from: 'yesterday' }), parameter(/"from": "yesterday" is not a recognised time/)),
  get('from on 30 February', readings({ thing: SERIES, from: '2016-02-30T00:00:00Z' }), parameter(/"from": "2016-02-30T00:00:00Z" names a day that does not exist/)),
  get('from before 1970 once its zone is applied', readings({ thing: SERIES, from: '1970-01-01T00:30:00+01:00' }), parameter(/"from": "1970-01-01T00:30:00\+01:00" falls outside 1970-01-01 to 9999-12-31 UTC/)),
  get('to past 9999 in epoch milliseconds', readings({ thing: SERIES, to: String(READING_LIMITS.maxEpochMillis + 1) }), parameter(/"to": .* is not a whole number of epoch milliseconds/)),
  get('an inverted time range', readings({ thing: SERIES, from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' }), parameter(/"to" \(2024-05-01T00:00:00.000000Z\) is before "from"/)),
  get('order sideways', readings({ thing: SERIES, order: 'sideways' }), parameter(/"order" must be "asc" \(oldest first\) or "desc" \(newest first\), got "sideways"/)),
  get('a header injected through order', `/api/readings?thing=${encodeURIComponent(SERIES)}&order=asc%0d%0aSet-Cookie:%20session=stolen`, parameter(/"order" must be "asc"/)),
  get('a cursor with characters base64url never has', readings({ thing: SERIES, cursor: '!!not-a-cursor!!' }), parameter(/"cursor" is not one this API issued/)),
  get('a cursor that decodes to no timestamp', readings({ thing: SERIES, cursor: cursorOf('DROP TABLE') }), parameter(/"cursor" is not one this API issued/)),
  get('a cursor from another time range', readings({ thing: SERIES, from: '2024-05-01T00:00:00Z', cursor: cursorOf('2023-01-01T00:00:00.000000Z') }), parameter(/"cursor" belongs to another time range/)),
  get('alerts with limit 0', `/api/alerts?${new URLSearchParams({ thing: SERIES, limit: '0' })}`, parameter(LIMIT_MESSAGE)),
  get('fleet alerts with a parameter of one series\' history', '/api/alerts?order=desc', parameter(/unknown parameter "order": this endpoint takes kind, state, limit, cursor \(with "thing": /)),
  get('fleet alerts of a kind there is none of', '/api/alerts?kind=smoke', parameter(/"kind" takes breach, no-data/)),
  get('thresholds without thing', '/api/thresholds', parameter(/"thing" is required/)),
  get('thresholds with a time range', `/api/thresholds?${new URLSearchParams({ thing: SERIES, from: '2024-05-01T00:00:00Z' })}`, parameter(/unknown parameter "from": this endpoint takes thing/)),
  get('series with a parameter', '/api/series?thing=x', parameter(/unknown parameter "thing": this endpoint takes q, status, sort, limit, cursor/)),
  get('a script tag in a parameter', `/api/readings?thing=${encodeURIComponent(SERIES)}&order=%3Cscript%3Ealert(1)%3C%2Fscript%3E`, parameter(/"order" must be "asc" .* got "<script>alert\(1\)<\/script>"/)),
  get('a script tag in the path', '/api/%3Cscript%3Ealert(1)%3C/script%3E', { status: 404, message: /Nothing at GET \/api\/%3Cscript%3Ealert\(1\)%3C\/script%3E/ }),
  get('an unknown route', '/api/things', { status: 404, message: /Nothing at GET \/api\/things/ }),
  get('a malformed percent-escape in the path', '/api/%', { status: 400, message: /'\/api\/%' is not a valid url component/ }),
  get('a path escaping the site', '/../../etc/passwd', { status: 404, message: /Nothing at GET/ }),
  get('a query string over 16 KB', readings({ thing: `things/${'x'.repeat(20_000)}/t` }), { status: [414, 431], message: /URI Too Long|Request Header Fields Too Large/, json: false }),
  { surface: 'web', name: 'POST to the readings API', request: { method: 'POST', path: readings({ thing: SERIES }), body: '{"items":[]}' }, expect: { status: [404, 405], message: /POST \/api\/readings/ } },
  { surface: 'web', name: 'DELETE on the thresholds API', request: { method: 'DELETE', path: `/api/thresholds?thing=${encodeURIComponent(SERIES)}` }, expect: { status: [404, 405], message: /DELETE \/api\/thresholds/ } },
];

// ---------------------------------------------------------------------------
// Command-line tools
// ---------------------------------------------------------------------------

const cli = (tool: Tool, name: string, args: readonly CliArg[], exitCode: number, message: RegExp, target = true): CliCase => ({ surface: 'cli', name, tool, args, target, expect: { exitCode, message } });
// Cases that a tool might wrongly accept run briefly and write only under a prefix of their own, so a miss shows as changed data, not a long run.
// Cases a tool might wrongly accept run briefly and write only under a prefix of their own, so a miss shows as changed data, not a long run.
const BRIEF_SIMULATION = { '--duration': '1', '--rate': '2', '--things': '1', '--prefix': 'things/bad-input-cli' };
const BRIEF_SYSTEM_TEST = { '--readings': '3', '--timeout': '5' };
/** `args`, then each of `defaults` the case does not give itself. */
const withDefaults = (args: readonly string[], defaults: Readonly<Record<string, string>>): string[] => [
  ...args,
  ...Object.entries(defaults)
    .filter(([flag]) => !args.includes(flag))
    .flat(),
];
const simulate = (name: string, args: readonly string[], message: RegExp): CliCase => cli('simulate', name, withDefaults(args, BRIEF_SIMULATION), USAGE, message);
const systemTest = (name: string, args: readonly string[], message: RegExp): CliCase => cli('system-test', name, withDefaults(args, BRIEF_SYSTEM_TEST), USAGE, message);

const CLI_CASES: readonly CliCase[] = [
  cli('thresholds', 'thresholds with no subcommand', [], USAGE, /Usage: npm run thresholds -- \[options\] \[command\]/, false),
  cli('thresholds', 'an unknown subcommand', ['frobnicate'], USAGE, /unknown command 'frobnicate'/, false),
  cli('thresholds', 'set without bounds', ['set', SERIES], USAGE, /give --min, --max or both/),
  cli('thresholds', 'set with min above max', ['set', SERIES, '--min', '30', '--max', '20'], USAGE, /--min 30 is above --max 20/),
  cli('thresholds', 'set with a bound beyond DynamoDB numbers', ['set', SERIES, '--max', '1e200'], USAGE, /argument '1e200' is invalid\. its magnitude is 1e126 or more/),
  cli('thresholds', 'set on a thing without a metric', ['set', 'things', '--min', '1'], USAGE, /series "things" must be "<thing id>\/<metric>"/),
  cli('thresholds', 'set with an unknown option', ['set', SERIES, '--min', '1', '--minimum', '2'], USAGE, /unknown option '--minimum'/),
  cli('thresholds', 'a DynamoDB endpoint that is not a URL', ['list', '--dynamodb-endpoint', 'not-a-url'], USAGE, /--dynamodb-endpoint must be an http\(s\) URL, got "not-a-url"/, false),
  cli('thresholds', 'a thresholds table that does not exist', ['list', '--thresholds-table', 'no-such-table'], USAGE, /check the table names/),
  cli('thresholds', 'an outputs file that does not exist', ['list', '--from-outputs', { missingFile: 'no-such-outputs.json' }], USAGE, /--from-outputs .*no-such-outputs\.json does not exist/, false),
  cli('thresholds', 'an outputs file that is not JSON', ['list', '--from-outputs', { fixture: 'truncated-outputs.json' }], USAGE, /truncated-outputs\.json is not JSON/, false),
  simulate('a simulation range with min above max', ['--min', '30', '--max', '20'], /--min 30 is above --max 20/),
  simulate('a threshold in words', ['--min', 'warm'], /option '--min <number>' argument 'warm' is invalid/),
  simulate('a prefix that makes ids over 256 characters', ['--prefix', `things/${'x'.repeat(260)}`], /--prefix .*"id" must be a non-blank string of at most 256 characters/),
  systemTest('a test range with min above max', ['--min', '30', '--max', '20'], /--min 30 is above --max 20/),
  systemTest('a seed in words', ['--seed', 'lucky'], /option '--seed <n>' argument 'lucky' is invalid/),
  systemTest('a blank thing id', ['--thing', '   '], /--thing .*"id" must be a non-blank string/),
];

/** Every case of the matrix, ingest API first, then web API, then tools, then the hostile inputs of storable-cases.ts. */
export const BAD_INPUT_CASES: readonly BadInputCase[] = [...INGEST_CASES, ...WEB_CASES, ...CLI_CASES, ...storableCases(schema)];
