/**
 * Requests to an app listening on a free loopback port.
 *
 * Fastify's `inject` cannot run under jest on Node 20: it loads `cookie` 2, an ES
 * module jest's CommonJS runtime refuses before Node 24.9. Real requests through the
 * socket test the same routes (and the HTTP layer too).
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface TestResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  json(): unknown;
}

export interface TestClient {
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  get(path: string): Promise<TestResponse>;
  request(method: string, path: string, body?: string): Promise<TestResponse>;
  close(): Promise<void>;
}

export async function listen(app: FastifyInstance): Promise<TestClient> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const request = async (method: string, path: string, requestBody?: string): Promise<TestResponse> => {
    const response = await fetch(`${base}${path}`, { method, ...(requestBody === undefined ? {} : { body: requestBody, headers: { 'content-type': 'application/json' } }) });
    const body = await response.text();
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    return { statusCode: response.status, headers, body, json: () => JSON.parse(body) as unknown };
  };
  return {
    base,
    get: (path) => request('GET', path),
    request,
    close: () => app.close(),
  };
}
