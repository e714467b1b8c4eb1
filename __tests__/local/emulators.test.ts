/**
 * The embedded emulators as the local platform starts them: SDK clients work, web pages
 * from other origins get nothing (dynalite and kinesalite would answer them with
 * `Access-Control-Allow-Origin: *`), and slow clients are cut off.
 * CORS: https://fetch.spec.whatwg.org/#http-cors-protocol (a browser sends `Origin` on
 * cross-origin requests and reads an answer only when it carries Access-Control-Allow-Origin).
 */
import { connect } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startDynamoEmulator, startKinesisEmulator, type RunningEmulator } from '../../local/emulators';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** What a page on evil.example would send to delete a table, and its preflight. */
const fromPage = (endpoint: string, method: string, origin: string) =>
  fetch(endpoint, {
    method,
    headers: {
      origin,
      ...(method === 'OPTIONS'
        ? { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target' }
        : { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' }),
    },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });

describe.each([
  ['DynamoDB (dynalite)', (options: { allowedOrigins?: string[]; timeouts?: { headersMs: number; requestMs: number } } = {}) => startDynamoEmulator({ host: '127.0.0.1', port: 0, ...options })],
  ['Kinesis (kinesalite)', (options: { allowedOrigins?: string[]; timeouts?: { headersMs: number; requestMs: number } } = {}) => startKinesisEmulator({ host: '127.0.0.1', port: 0, ...options })],
])('the %s emulator', (name, start) => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start();
  });
  afterAll(() => emulator.stop());

  it('serves SDK clients, which send no Origin', async () => {
    if (name.startsWith('DynamoDB')) {
      const client = new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: emulator.endpoint });
      await expect(client.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
      client.destroy();
    } else {
      const client = new KinesisClient({ region: 'us-east-1', credentials, endpoint: emulator.endpoint, requestHandler: new NodeHttpHandler() });
      await expect(client.send(new ListStreamsCommand({}))).resolves.toMatchObject({ StreamNames: [] });
      client.destroy();
    }
  });

  it.each(['POST', 'OPTIONS'])('refuses a %s from a web page of another origin, with no CORS header for the page to read it by', async (method) => {
    const response = await fromPage(emulator.endpoint, method, 'http://evil.example');
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.text()).toMatch(/refuses .*requests from web pages \(Origin http:\/\/evil\.example\)/);
  });

  it('lets an allowed origin through', async () => {
    const allowing = await start({ allowedOrigins: ['http://localhost:3000'] });
    const response = await fromPage(allowing.endpoint, 'POST', 'http://localhost:3000');
    expect(response.status).not.toBe(403);
    expect((await fromPage(allowing.endpoint, 'POST', 'http://localhost:3001')).status).toBe(403);
    await allowing.stop();
  });

  it('cuts off a client that never finishes its headers (https://nodejs.org/api/http.html#serverheaderstimeout)', async () => {
    const slow = await start({ timeouts: { headersMs: 300, requestMs: 600 } });
    const { hostname, port } = new URL(slow.endpoint);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write('POST / HTTP/1.1\r\nHost: x\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    await slow.stop();
  });
});
