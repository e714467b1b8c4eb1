/**
 * The call an AWS service integration makes: the rendered body POSTed to the service
 * endpoint with the action in `X-Amz-Target` and the integration's request headers, the
 * service's real status, headers and body handed back for the integration response.
 *
 * API Gateway signs the call with the integration's role; the local Kinesis checks only
 * that a signature is present, so the twin sends the local credentials' SigV4 header
 * shape without computing a signature (docs/api-gateway-twin.md).
 */
import { Agent, request as httpRequest } from 'node:http';

/** Kinesis's JSON protocol target prefix (service `Kinesis_20131202`). */
const KINESIS_TARGET_PREFIX = 'Kinesis_20131202';

export interface ServiceCall {
  readonly action: string;
  readonly body: string;
  /** Headers from the integration's request parameters (`Content-Type` among them). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface ServiceReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The service did not answer: unreachable (INTEGRATION_FAILURE) or too slow (INTEGRATION_TIMEOUT). */
export class IntegrationError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'IntegrationError';
  }
}

const amzDate = (now: Date): string => now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export class KinesisIntegration {
  private readonly endpoint: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    endpoint: string,
    private readonly region: string,
    private readonly accessKeyId: string,
  ) {
    this.endpoint = new URL(endpoint);
  }

  call(call: ServiceCall, retried = false): Promise<ServiceReply> {
    const now = new Date();
    const date = amzDate(now);
    const headers: Record<string, string> = {
      // Without a mapped Content-Type, API Gateway sends the body as JSON.
      'content-type': 'application/json',
      ...Object.fromEntries(Object.entries(call.headers).map(([name, value]) => [name.toLowerCase(), value])),
      'x-amz-target': `${KINESIS_TARGET_PREFIX}.${call.action}`,
      'x-amz-date': date,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/${date.slice(0, 8)}/${this.region}/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=local-unsigned`,
      'content-length': String(Buffer.byteLength(call.body)),
    };
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: this.endpoint.hostname, port: this.endpoint.port, path: '/', method: 'POST', headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          const replyHeaders = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value ?? '')]));
          resolve({ status: response.statusCode ?? 500, headers: replyHeaders, body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', (error) => reject(new IntegrationError(`Kinesis answer broke off: ${error.message}`, false)));
      });
      const timer = setTimeout(() => outgoing.destroy(new IntegrationError(`Kinesis did not answer within ${call.timeoutMs} ms`, true)), call.timeoutMs);
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // A kept-alive socket the emulator closed as it was reused: the call never reached
        // Kinesis, so it is sent again once on a new socket (https://nodejs.org/api/http.html#requestreusedsocket).
        if (!retried && outgoing.reusedSocket && error.code === 'ECONNRESET') {
          resolve(this.call(call, true));
          return;
        }
        reject(error instanceof IntegrationError ? error : new IntegrationError(`Kinesis at ${this.endpoint.origin} is unreachable: ${error.message}`, false));
      });
      outgoing.end(call.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
