/**
 * `$context` of one request, as mapping templates, gateway responses and access logs read it.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
 */
import { randomUUID } from 'node:crypto';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (value: number): string => String(value).padStart(2, '0');

/** Common Log Format time, `dd/MMM/yyyy:HH:mm:ss +0000` (UTC). */
export function clfTime(epochMillis: number): string {
  const at = new Date(epochMillis);
  return `${two(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`;
}

export interface RequestFacts {
  readonly accountId: string;
  readonly apiId: string;
  readonly httpMethod: string;
  /** The request path, stage included (`/prod/thingsstream`). */
  readonly path: string;
  readonly host: string;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  readonly now: number;
}

/** A request's `$context`; the route, key and error parts are filled in as the pipeline learns them. */
export function requestContext(facts: RequestFacts): Record<string, unknown> & { identity: Record<string, unknown>; responseOverride: { status?: unknown; header: Record<string, unknown> } } {
  const requestId = randomUUID();
  return {
    accountId: facts.accountId,
    apiId: facts.apiId,
    domainName: facts.host,
    domainPrefix: facts.host.split('.')[0] ?? facts.host,
    extendedRequestId: requestId,
    httpMethod: facts.httpMethod,
    path: facts.path,
    protocol: 'HTTP/1.1',
    requestId,
    requestTime: clfTime(facts.now),
    // Epoch milliseconds, as in the Lambda proxy events AWS documents.
    requestTimeEpoch: facts.now,
    identity: { sourceIp: facts.sourceIp, ...(facts.userAgent === undefined ? {} : { userAgent: facts.userAgent }) },
    requestOverride: { header: {}, path: {}, querystring: {} },
    responseOverride: { header: {} },
  };
}
