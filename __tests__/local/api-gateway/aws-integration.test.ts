import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KinesisIntegration } from '../../../local/api-gateway/aws-integration';

/**
 * A Kinesis stand-in that answers the first request on each connection and drops the
 * connection when a second one arrives on it, as a server closing an idle kept-alive
 * socket does at the moment a client reuses it.
 */
function droppingServer(): Promise<{ server: Server; endpoint: string; connections: () => number }> {
  const served = new WeakMap<Socket, number>();
  let connections = 0;
  const server = createServer((request, response) => {
    const count = (served.get(request.socket) ?? 0) + 1;
    served.set(request.socket, count);
    if (count > 1) {
      request.socket.destroy();
      return;
    }
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{"ShardId":"shardId-000000000000","SequenceNumber":"1"}'));
  });
  server.on('connection', () => (connections += 1));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections })),
  );
}

describe('the Kinesis integration call', () => {
  it('sends a call again on a new connection when a kept-alive one was closed as it was reused (https://nodejs.org/api/http.html#requestreusedsocket)', async () => {
    const { server, endpoint, connections } = await droppingServer();
    const integration = new KinesisIntegration(endpoint, 'eu-west-2', 'local');
    try {
      const call = { action: 'PutRecord', body: '{}', headers: {}, timeoutMs: 5_000 };
      expect((await integration.call(call)).status).toBe(200);
      // The same socket is reused, dropped, and the call is made again on a new one.
      expect((await integration.call(call)).status).toBe(200);
      expect(connections()).toBe(2);
    } finally {
      integration.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
