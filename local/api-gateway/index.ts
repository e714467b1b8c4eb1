/**
 * The local twin of the stack's API Gateway REST API: built from the synthesized
 * resources themselves (see definition.ts), served at `http://<host>:<port>/<stage>/<path>`
 * like `https://<api>.execute-api.<region>.amazonaws.com/<stage>/<path>`, with its AWS
 * service integrations calling the local Kinesis.
 *
 *   const twin = await startApiGatewayTwin({ stack, host: '127.0.0.1', port: 4010, kinesisEndpoint, ... });
 *   // PUT `${twin.baseUrl}/prod/thingsstream`
 *   await twin.close();
 *
 * Beside the API, the same port answers a small part of API Gateway's control plane (API
 * keys and usage-plan keys, see api-keys.ts), so tools create and revoke device keys with
 * the AWS SDK while the twin runs.
 *
 * The front door holds AWS's limits (headers up to 10,240 bytes, payloads up to 10 MB)
 * and gives slow clients a time limit for their headers and for their whole request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_CREDENTIALS } from '../defaults';
import type { TwinStack } from '../twin/stack';
import { ApiKeyRegistry } from './api-keys';
import { KinesisIntegration } from './aws-integration';
import { BodyValidation, type BodyValidationOptions } from './body-validation';
import { readRestApi } from './definition';
import { API_GATEWAY_LIMITS } from './limits';
import { ApiPipeline, type Answer, type MethodRequest } from './pipeline';
import { Throttling } from './throttling';

export { API_GATEWAY_LIMITS };

export interface ApiGatewayTwinOptions {
  readonly stack: TwinStack;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The local Kinesis the integrations call. */
  readonly kinesisEndpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** The value of API keys the stack leaves to AWS to generate. */
  readonly apiKeyValue: string;
  /** Execution-log lines: validation failures, integration and configuration errors. */
  readonly log: (line: string) => void;
  /** Access-log lines in the stage's format. @default none */
  readonly accessLog?: (line: string) => void;
  readonly validation?: BodyValidationOptions;
  /** Where API keys created or changed at run time are kept. @default in memory only */
  readonly apiKeysFile?: string;
  /** Called for every request the API receives (each is billed), for metering. @default none */
  readonly onRequest?: () => void;
}

export interface ApiGatewayTwin {
  /** `http://<host>:<port>`: paths start with the stage, e.g. `/prod/thingsstream`. */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Header names as sent (first spelling), repeated headers joined by `,`, and their size in bytes. */
function readHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; bytes: number } {
  const headers: Record<string, string> = {};
  const spelling = new Map<string, string>();
  let bytes = 0;
  for (let at = 0; at + 1 < rawHeaders.length; at += 2) {
    const name = rawHeaders[at] as string;
    const value = rawHeaders[at + 1] as string;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    const known = spelling.get(name.toLowerCase());
    if (known === undefined) {
      spelling.set(name.toLowerCase(), name);
      headers[name] = value;
    } else headers[known] = `${headers[known]},${value}`;
  }
  return { headers, bytes };
}

function send(response: ServerResponse, answer: Answer, close = false): void {
  const body = Buffer.from(answer.body, 'utf8');
  response.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.byteLength), ...(close ? { connection: 'close' } : {}) });
  response.end(body);
}

/** Collects the body, or undefined once it passes the limit (the rest is discarded). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        request.off('data', onData);
        request.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}

export async function startApiGatewayTwin(options: ApiGatewayTwinOptions): Promise<ApiGatewayTwin> {
  const api = readRestApi(options.stack, options.apiKeyValue);
  const validation = new BodyValidation(api.models, options.validation);
  const integration = new KinesisIntegration(options.kinesisEndpoint, options.region, LOCAL_CREDENTIALS.accessKeyId);
  const apiKeys = new ApiKeyRegistry(api, options.apiKeysFile);
  const pipeline = new ApiPipeline(api, {
    integration,
    validation,
    throttling: new Throttling(),
    apiKeys,
    accountId: options.accountId,
    log: options.log,
    ...(options.accessLog === undefined ? {} : { accessLog: options.accessLog }),
  });

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const { headers, bytes } = readHeaders(request.rawHeaders);
    const head = {
      method: request.method ?? 'GET',
      path: queryAt < 0 ? url : url.slice(0, queryAt),
      query: new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1)),
      headers,
      sourceIp: request.socket.remoteAddress ?? '',
    };
    if (!apiKeys.handles(head.path)) options.onRequest?.();
    if (bytes > API_GATEWAY_LIMITS.maxHeaderBytes) {
      send(response, { status: 431, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `Request Header Fields Too Large: at most ${API_GATEWAY_LIMITS.maxHeaderBytes} bytes` }) }, true);
      return;
    }
    if (Number(request.headers['content-length'] ?? 0) > API_GATEWAY_LIMITS.maxPayloadBytes) {
      send(response, pipeline.refuse('REQUEST_TOO_LARGE', head), true);
      return;
    }
    const body = await readBody(request, API_GATEWAY_LIMITS.maxPayloadBytes);
    if (body === undefined) {
      send(response, pipeline.refuse('REQUEST_TOO_LARGE', head), true);
      return;
    }
    const control = apiKeys.control(head.method, head.path, head.query, body);
    if (control !== undefined) {
      send(response, control);
      return;
    }
    const call: MethodRequest = { ...head, body };
    send(response, await pipeline.handle(call));
  };

  const server = createServer(
    { maxHeaderSize: API_GATEWAY_LIMITS.maxHeaderBytes + 8_192, headersTimeout: API_GATEWAY_LIMITS.headersTimeoutMs, requestTimeout: API_GATEWAY_LIMITS.requestTimeoutMs },
    (request, response) => {
      serve(request, response).catch((error: Error) => {
        options.log(`API Gateway twin failed on ${request.method} ${request.url}: ${error.stack ?? error.message}`);
        if (!response.headersSent) send(response, { status: 500, headers: { 'content-type': 'application/json' }, body: '{"message":"Internal server error"}' }, true);
        else response.destroy();
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    baseUrl: `http://${host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      integration.close();
      await validation.close();
    },
  };
}
