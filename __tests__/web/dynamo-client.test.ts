/**
 * The web app's DynamoDB client gives up instead of hanging: a refused connection fails
 * after its two attempts, and an endpoint that accepts but never answers fails with the
 * request timeout (smithy only logs a warning unless told to throw).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createWebDynamoClient, WEB_DYNAMO_LIMITS } from '../../web/dynamo-client';
import { classifyStoreError } from '../../web/store-errors';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const read = new GetCommand({ TableName: 'iot-thresholds', Key: { ThingID: 'things/harrow/001/temperature' } });

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function failureOf(promise: Promise<unknown>): Promise<Error & { code?: string; $metadata?: { attempts?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded');
}

test('a refused connection fails after the bounded attempts, classed as unreachable', async () => {
  // A port that was just free and is closed again: connections to it are refused.
  const closed = createServer();
  const freePort = await listening(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  const client = createWebDynamoClient({ region: 'eu-west-2', credentials, endpoint: `http://127.0.0.1:${freePort}` });
  const error = await failureOf(client.send(read));
  client.destroy();
  // (Under jest the SDK re-wraps the socket error, from another realm, and its code is lost: not asserted.)
  expect(error.message).toContain('ECONNREFUSED');
  expect(error.$metadata?.attempts).toBe(WEB_DYNAMO_LIMITS.maxAttempts);
  expect(classifyStoreError(error)).toBe('unreachable');
});

test('an endpoint that accepts but never answers fails with the request timeout, classed as unreachable', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  const port = await listening(silent);
  const client = createWebDynamoClient({ region: 'eu-west-2', credentials, endpoint: `http://127.0.0.1:${port}` });
  try {
    const error = await failureOf(client.send(read));
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toContain(`${WEB_DYNAMO_LIMITS.requestTimeoutMs} ms requestTimeout`);
    expect(error.$metadata?.attempts).toBe(WEB_DYNAMO_LIMITS.maxAttempts);
    expect(sockets.size).toBe(WEB_DYNAMO_LIMITS.maxAttempts);
    expect(classifyStoreError(error)).toBe('unreachable');
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});
