/**
 * Drill: what the local platform's servers answer a hostile web page and a slow client.
 * A page of another origin open in the developer's browser tries to use the DynamoDB and
 * Kinesis emulators (which would answer it `Access-Control-Allow-Origin: *`, letting it
 * read and delete tables): every such request and preflight must be refused, with no CORS
 * header, while the platform's own clients keep working. A client that sends its headers
 * or body too slowly must be cut off (408) by the web app and the emulators. The web app
 * must answer a wrong method on a known route 405 with `Allow`, and never let a probe
 * with a query string be cached.
 */
import { connect } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { EMULATOR_TIMEOUTS } from '../../local/emulators';
import { SERVER_TIMEOUTS } from '../../web/app';
import { check, type Drill, type DrillCheck } from '../drill';
import { seconds, withDrillPlatform } from '../probe';

const HOSTILE_ORIGIN = 'http://evil.example';

/** A request a page on HOSTILE_ORIGIN would make (the browser adds Origin), or its preflight. */
async function fromPage(endpoint: string, target: string, preflight: boolean): Promise<{ status: number; allowOrigin: string | null }> {
  const response = await fetch(endpoint, {
    method: preflight ? 'OPTIONS' : 'POST',
    headers: preflight
      ? { origin: HOSTILE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target' }
      : { origin: HOSTILE_ORIGIN, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
    ...(preflight ? {} : { body: '{}' }),
  });
  await response.arrayBuffer();
  return { status: response.status, allowOrigin: response.headers.get('access-control-allow-origin') };
}

/** Sends `partial` (a request cut short) on a connection of its own; resolves with the status the server closed it with, and when. */
function slowClient(endpoint: string, partial: string, giveUpMs: number): Promise<{ status: string; afterMs: number }> {
  const { hostname, port } = new URL(endpoint);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(partial));
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'none', afterMs: Date.now() - started });
    });
    socket.on('error', () => undefined);
  });
}

export const localServersDrill: Drill = {
  id: 'local-servers',
  title: 'a hostile web page and slow clients against the local servers: emulators refuse other origins, slow requests are cut off, wrong methods get 405',
  async run({ log = () => undefined, workDir }) {
    return withDrillPlatform(workDir, async (drill) => {
      const { urls } = drill.platform;
      const emulators = [
        { name: 'DynamoDB', endpoint: urls.dynamodb, target: 'DynamoDB_20120810.DeleteTable' },
        { name: 'Kinesis', endpoint: urls.kinesis, target: 'Kinesis_20131202.DeleteStream' },
      ];
      const pageAnswers = await Promise.all(
        emulators.flatMap((emulator) => [false, true].map(async (preflight) => ({ ...emulator, preflight, ...(await fromPage(emulator.endpoint, emulator.target, preflight)) }))),
      );
      const leaked = pageAnswers.filter((answer) => answer.status !== 403 || answer.allowOrigin !== null);
      const sdkWorks = await Promise.all([drill.dynamo.send(new ListTablesCommand({})), drill.kinesis.send(new ListStreamsCommand({}))]).then(
        ([tables, streams]) => (tables.TableNames ?? []).includes(drill.platform.tables.things) && (streams.StreamNames ?? []).includes(drill.platform.streamName),
        () => false,
      );

      // Wrong methods and probes with a query.
      const wrong = await fetch(`${urls.web}/api/series`, { method: 'PUT', body: '{}' });
      const wrongBody = await wrong.text();
      const probes = await Promise.all(['/healthz?x', '/livez?probe=1'].map(async (path) => [path, (await fetch(`${urls.web}${path}`)).headers.get('cache-control')] as const));

      // Slow clients that never finish their headers (the body timeout, 30 s on the web app, is tested in __tests__/web/app.test.ts with short limits).
      log(`local-servers: holding slow connections open (headers timeout ${seconds(SERVER_TIMEOUTS.headersMs)} on the web app, ${seconds(EMULATOR_TIMEOUTS.headersMs)} on the emulators)`);
      const giveUpMs = Math.max(SERVER_TIMEOUTS.headersMs, EMULATOR_TIMEOUTS.headersMs) + 5_000;
      const slow = await Promise.all([
        slowClient(urls.web, 'GET /api/series HTTP/1.1\r\nHost: localhost\r\n', giveUpMs).then((result) => ({ server: 'web app', limitMs: SERVER_TIMEOUTS.headersMs, ...result })),
        ...emulators.map((emulator) =>
          slowClient(emulator.endpoint, 'POST / HTTP/1.1\r\nHost: localhost\r\n', giveUpMs).then((result) => ({ server: `${emulator.name} emulator`, limitMs: EMULATOR_TIMEOUTS.headersMs, ...result })),
        ),
      ]);
      // A server without the timeout keeps the connection until this drill gives up on it (status 'none').
      const uncut = slow.filter((result) => result.status !== '408');

      const checks: DrillCheck[] = [
        check(
          'the emulators refuse every request and preflight from a page of another origin, with no CORS header',
          leaked.length === 0,
          pageAnswers.map((answer) => `${answer.name} ${answer.preflight ? 'preflight' : answer.target.split('.')[1]}: ${answer.status}${answer.allowOrigin === null ? '' : ` allow-origin ${answer.allowOrigin}`}`).join('; '),
        ),
        check('the platform\'s own SDK clients still use both emulators', sdkWorks, sdkWorks ? 'ListTables and ListStreams answered' : 'an SDK call failed'),
        check(
          'clients that never finish their headers are cut off with 408 when their time is up',
          uncut.length === 0,
          slow.map((result) => `${result.server}: ${result.status} after ${seconds(result.afterMs)} (limit ${seconds(result.limitMs)})`).join('; '),
        ),
        check('a wrong method on a known route is answered 405 with Allow', wrong.status === 405 && wrong.headers.get('allow') === 'GET, HEAD', `PUT /api/series: ${wrong.status}, Allow ${wrong.headers.get('allow') ?? 'none'}, ${wrongBody}`),
        check('probes with a query string are never cached', probes.every(([, header]) => header === 'no-store'), probes.map(([path, header]) => `${path}: ${header ?? 'no cache-control'}`).join('; ')),
      ];
      return { checks };
    });
  },
};
