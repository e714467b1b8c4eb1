/**
 * The bad-input drill against a platform of its own, then the parts that decide its
 * verdict, each shown to fail when it should: the snapshot comparison, the stack-trace
 * detector, and the case runner on answers that are wrong in every way it checks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { failures, passed, runDrill, type DrillResult } from '../../verify/drill';
import { BAD_INPUT_CASES, type BadInputCase, type CliCase, type HttpCase } from '../../verify/drills/bad-input-cases';
import { badInputDrill, canonicalJson, cliArguments, diffSnapshots, perSurface, runCases, type StoredSnapshot } from '../../verify/drills/bad-inputs';
import { showsStackTrace } from '../../verify/probe';
import type { DrillPlatform } from '../../verify/probe';

describe('the bad-input matrix', () => {
  it('has at least 50 cases: 25 or more for the ingest API, 15 or more each for the web API and the tools', () => {
    const surfaces = perSurface(BAD_INPUT_CASES);
    expect(BAD_INPUT_CASES.length).toBeGreaterThanOrEqual(50);
    expect(surfaces.ingest).toBeGreaterThanOrEqual(25);
    expect(surfaces.web).toBeGreaterThanOrEqual(15);
    expect(surfaces.cli).toBeGreaterThanOrEqual(15);
  });

  it('has no two cases with the same name or sending the same thing', () => {
    const sent = (entry: BadInputCase) =>
      entry.surface === 'cli'
        ? JSON.stringify([entry.tool, entry.args, entry.target])
        : JSON.stringify([entry.surface, entry.request.method, entry.request.path, entry.request.apiKey, entry.request.headers, entry.request.contentType, typeof entry.request.body === 'function' ? entry.request.body.toString() : entry.request.body]);
    const duplicates = (keys: string[]) => keys.filter((key, index) => keys.indexOf(key) !== index);
    expect(duplicates(BAD_INPUT_CASES.map((entry) => `${entry.surface}: ${entry.name}`))).toEqual([]);
    expect(duplicates(BAD_INPUT_CASES.map(sent))).toEqual([]);
  });

  it('expects a 4xx of every request, and a non-zero exit of every command line', () => {
    const statuses = BAD_INPUT_CASES.flatMap((entry) => (entry.surface === 'cli' ? [] : [entry.expect.status].flat()));
    expect(statuses.filter((status) => status < 400 || status >= 500)).toEqual([]);
    expect(BAD_INPUT_CASES.filter((entry): entry is CliCase => entry.surface === 'cli' && entry.expect.exitCode === 0)).toEqual([]);
  });
});

describe('bad-input drill', () => {
  let result: DrillResult;

  beforeAll(async () => {
    result = await runDrill(badInputDrill);
  }, 240_000);

  it('passes: every case refused as expected, no 5xx, no stack trace, nothing stored changed', () => {
    expect({ passed: passed(result), failures: failures(result) }).toEqual({ passed: true, failures: '' });
  });

  it('tried every case of the matrix and counts each one handled', () => {
    expect(result.badInputs).toEqual({ tried: BAD_INPUT_CASES.length, handled: BAD_INPUT_CASES.length });
    expect(result.badInputs?.tried).toBeGreaterThanOrEqual(50);
    const surfaces = perSurface(BAD_INPUT_CASES);
    expect(result.checks.find((entry) => entry.name.startsWith('every bad input'))?.detail).toContain(`(ingest ${surfaces.ingest}, web ${surfaces.web}, tools ${surfaces.cli})`);
  });

  it('had data to protect: every good reading stored before the bad inputs, and none in the failure queue after them', () => {
    expect(result.readings?.sent).toBeGreaterThan(0);
    expect(result.readings).toEqual({ sent: result.readings?.sent, stored: result.readings?.sent, failureQueue: 0 });
  });
});

describe('snapshot comparison', () => {
  const base: StoredSnapshot = {
    tables: {
      things: [canonicalJson({ ThingID: 'things/a/t', Timestamp: '2024-05-01T00:00:00.000000Z', Value: 20 })],
      thresholds: [canonicalJson({ ThingID: 'things/a/t', MinThreshold: 18, MaxThreshold: 25 })],
      alerts: [],
      series: [canonicalJson({ ThingID: 'things/a/t', LatestTimestamp: '2024-05-01T00:00:00.000000Z', LatestValue: 20 })],
      rollups: [],
    },
    failureQueue: [],
    alerts: ['m-1 The temperature of things/a was 30'],
    streamRecords: 1,
  };

  it('finds nothing between equal snapshots, whatever the order of keys and items', () => {
    const reordered: StoredSnapshot = { ...base, tables: { ...base.tables, thresholds: [canonicalJson({ MaxThreshold: 25, MinThreshold: 18, ThingID: 'things/a/t' })] } };
    expect(diffSnapshots(base, reordered)).toEqual([]);
  });

  it('names every kind of change: an item added, changed or gone, a queued message, an alert, a stream record', () => {
    const changed: StoredSnapshot = {
      tables: {
        things: [...base.tables.things, canonicalJson({ ThingID: 'things/x/t', Timestamp: '2024-05-01T00:00:01.000000Z', Value: 1 })],
        thresholds: [canonicalJson({ ThingID: 'things/a/t', MinThreshold: 18, MaxThreshold: 99 })],
        alerts: [],
        series: [],
        rollups: [],
      },
      failureQueue: ['q-1 {"reason":{"code":"bad-timestamp"}}'],
      alerts: [...base.alerts, 'm-2 back to normal'],
      streamRecords: 2,
    };
    const changes = diffSnapshots(base, changed);
    expect(changes).toEqual([
      expect.stringMatching(/^things table: 1 added, e\.g\. .*things\/x\/t/),
      expect.stringMatching(/^thresholds table: 1 added, e\.g\. .*"MaxThreshold":99/),
      expect.stringMatching(/^thresholds table: 1 gone, e\.g\. .*"MaxThreshold":25/),
      expect.stringMatching(/^series table: 1 gone/),
      expect.stringMatching(/^failure queue: 1 added, e\.g\. q-1/),
      expect.stringMatching(/^published alerts: 1 added, e\.g\. m-2/),
      'stream: 1 records before, 2 after',
    ]);
  });

  it('counts a repeated item as a change', () => {
    const twice: StoredSnapshot = { ...base, tables: { ...base.tables, things: [...base.tables.things, ...base.tables.things] } };
    expect(diffSnapshots(base, twice)).toEqual([expect.stringMatching(/^things table: 1 added/)]);
  });
});

describe('stack-trace detector', () => {
  it.each([
    ['a V8 stack frame', 'TypeError: x is undefined\n    at handler (/srv/app.js:10:5)'],
    ['a frame without a file', 'Error: boom\n    at async Promise.all (index 0)'],
    ['a TypeScript source position', 'failed in web/app.ts:42'],
    ['a dependency path', 'Cannot find module node_modules/fastify/lib/route'],
  ])('flags %s', (_name, text) => {
    expect(showsStackTrace(text)).toBe(true);
  });

  it.each([
    ['an ingest refusal', 'the body does not match the reading schema Data: metric "temperature" must be a number or a numeric string such as "19.57", got "hot"'],
    ['a usage error', "error: unknown option '--minimum'\n(add --help for usage)"],
    ['a message that mentions "at"', 'the stream is over its write capacity at the moment: retry'],
  ])('passes %s', (_name, text) => {
    expect(showsStackTrace(text)).toBe(false);
  });
});

describe('case runner', () => {
  let server: Server;
  let origin: string;
  let fixtureDir: string;

  beforeAll(async () => {
    fixtureDir = mkdtempSync(path.join(tmpdir(), 'bad-inputs-runner-'));
    // Answers wrong in each way the runner checks.
    server = createServer((request, response) => {
      if (request.url === '/crash') {
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'TypeError: boom\n    at route (/srv/web/app.ts:12:3)' }));
      } else if (request.url === '/html') {
        response.writeHead(400, { 'content-type': 'text/html' }).end('<p>bad</p>');
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(fixtureDir, { recursive: true, force: true });
  });

  const platformAt = (url: string) =>
    ({
      platform: {
        urls: { ingest: `${url}/prod/thingsstream`, batchIngest: `${url}/prod/thingsstream/batch`, web: url, dynamodb: 'http://127.0.0.1:9' },
        apiKey: 'key',
        region: 'eu-west-2',
        tables: { things: 'things', thresholds: 'thresholds', alerts: 'alerts', series: 'series' },
      },
    }) as unknown as DrillPlatform;

  it('reports a wrong status, a 5xx, a stack trace, a non-JSON answer and a vague message', async () => {
    const cases: HttpCase[] = [
      { surface: 'web', name: 'crash', request: { method: 'GET', path: '/crash' }, expect: { status: 400, message: /"limit"/ } },
      { surface: 'web', name: 'html', request: { method: 'GET', path: '/html' }, expect: { status: 400, message: /bad/ } },
      { surface: 'ingest', name: 'accepted', request: { method: 'PUT', path: '/prod/thingsstream', body: '{}' }, expect: { status: 400, message: /"Data"/ } },
    ];
    const [crash, html, accepted] = await runCases(cases, platformAt(origin), fixtureDir);
    expect(crash).toMatchObject({ answer: 'HTTP 500', serverError: true, stackTrace: true, problems: ['status 500, expected 400', 'message does not match /"limit"/'] });
    expect(html).toMatchObject({ answer: 'HTTP 400', serverError: false, stackTrace: false, problems: ['not a JSON answer (content-type text/html)'] });
    expect(accepted?.problems).toEqual(['status 200, expected 400', 'message does not match /"Data"/']);
  });

  it('reports a request that got no answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const [outcome] = await runCases([{ surface: 'web', name: 'nobody', request: { method: 'GET', path: '/' }, expect: { status: 404, message: /./ } }], platformAt(url), fixtureDir);
    expect(outcome?.problems).toEqual([expect.stringMatching(/^no answer \(.*ECONNREFUSED/)]);
  });

  it('runs a real command line and reports an exit code or output other than expected', async () => {
    const helpIsNoRefusal: CliCase = { surface: 'cli', name: 'help', tool: 'thresholds', args: ['--help'], target: false, expect: { exitCode: 2, message: /unknown option/ } };
    const [outcome] = await runCases([helpIsNoRefusal], platformAt(origin), fixtureDir);
    expect(outcome).toMatchObject({ answer: 'exit 0', stackTrace: false, problems: ['exit 0, expected 2', 'output does not match /unknown option/'] });
    expect(outcome?.text).toContain('Usage: npm run thresholds --');
  }, 60_000);

  it('points a command line at the drill platform unless the case gives the flag itself, and resolves fixture files', () => {
    const target = { '--api-url': 'http://127.0.0.1:1/prod/thingsstream', '--thresholds-table': 'iot-thresholds' };
    const entry: CliCase = { surface: 'cli', name: 'x', tool: 'thresholds', args: ['list', '--thresholds-table', 'other', '--from-outputs', { fixture: 'truncated-outputs.json' }], expect: { exitCode: 2, message: /./ } };
    expect(cliArguments(entry, '/fixtures', target)).toEqual([
      'list',
      '--thresholds-table',
      'other',
      '--from-outputs',
      path.join('/fixtures', 'truncated-outputs.json'),
      '--api-url',
      'http://127.0.0.1:1/prod/thingsstream',
    ]);
    expect(cliArguments({ ...entry, target: false }, '/fixtures', target)).toHaveLength(5);
  });
});
