/**
 * What a failed DynamoDB call means for the people using the app: wait and retry (the
 * store is busy, unreachable or failing on its side), or something a person must fix (a
 * missing table, a refused role). The API and the readiness check both answer from this,
 * in words that name no host, port, key or library internals.
 */
import { isRetryableError, isThrottlingError } from '../handlers/batching';

export type StoreProblem = 'busy' | 'unreachable' | 'missing-table' | 'access-denied' | 'failed';

/** Network failures isRetryableError leaves out (a pipeline retry cannot mend them), which still mean "cannot be reached". */
const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'ECONNABORTED']);

/** Ours (the readiness deadline) or the SDK's (connection or request timeout). */
const GAVE_UP_ERRORS = new Set(['AbortError', 'TimeoutError']);

const DENIED_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'CredentialsProviderError',
]);

interface ErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
}

const shapeOf = (error: unknown): ErrorShape => (typeof error === 'object' && error !== null ? (error as ErrorShape) : {});

export function classifyStoreError(error: unknown): StoreProblem {
  const { name = '', code = '', $metadata } = shapeOf(error);
  if (isThrottlingError(error)) return 'busy';
  if (name === 'ResourceNotFoundException') return 'missing-table';
  if (DENIED_ERRORS.has(name)) return 'access-denied';
  if (GAVE_UP_ERRORS.has(name) || UNREACHABLE_CODES.has(code) || isRetryableError(error)) return 'unreachable';
  // The SDK counted its attempts but got no HTTP status: no answer ever came back. (A socket
  // error from another realm, as under jest's sandbox, even reaches here re-wrapped without its code.)
  if (name === 'Error' && $metadata?.attempts !== undefined && $metadata.httpStatusCode === undefined) return 'unreachable';
  return 'failed';
}

/** Problems a client can wait out: the API answers them 503 with `retry-after`. */
export const isTemporary = (problem: StoreProblem): boolean => problem === 'busy' || problem === 'unreachable';

/** Why DynamoDB could not be reached, in words without hosts or ports: "connection refused". */
export function unreachableReason(error: unknown, timeoutMs: number): string {
  const { name = '', code = '', $metadata } = shapeOf(error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name does not resolve';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'no network route to it';
  if (name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (GAVE_UP_ERRORS.has(name) || code === 'ETIMEDOUT') return 'the connection or request timed out';
  const status = $metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return `DynamoDB answered with a server error (HTTP ${status})`;
  return 'the request failed before any answer';
}
