/** How a failed DynamoDB call is classed for the API and the readiness check, and told without internals. */
import { InternalServerError, ProvisionedThroughputExceededException, RequestLimitExceeded, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { classifyStoreError, isTemporary, unreachableReason, type StoreProblem } from '../../web/store-errors';

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
/** A Node socket error as the SDK rethrows it after its attempts. */
const socketError = (code: string, message: string) => Object.assign(new Error(message), { code, syscall: 'connect', $metadata: { attempts: 2, totalRetryDelay: 30 } });
const named = (name: string, extra: object = {}) => Object.assign(new Error(`${name} for arn:aws:dynamodb:eu-west-2:123456789012:table/iot-things`), { name, ...extra });

const CASES: [string, unknown, StoreProblem][] = [
  ['connection refused', socketError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:443'), 'unreachable'],
  ['connection reset', socketError('ECONNRESET', 'read ECONNRESET'), 'unreachable'],
  ['a host name that does not resolve', socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND dynamodb.example.internal'), 'unreachable'],
  ['no route to the host', socketError('EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.7:443'), 'unreachable'],
  ["the SDK's request timeout", named('TimeoutError', { code: 'ETIMEDOUT' }), 'unreachable'],
  ["the SDK's connection timeout", named('TimeoutError'), 'unreachable'],
  ['the readiness deadline', named('AbortError'), 'unreachable'],
  ['a socket error the SDK re-wrapped without its code', Object.assign(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 10.0.0.7:443'), { $metadata: { attempts: 2, totalRetryDelay: 12 } }), 'unreachable'],
  ['a DynamoDB server error', new InternalServerError({ message: 'Internal server error', ...metadata(500) }), 'unreachable'],
  ['a 503 from the endpoint', named('ServiceUnavailable', { $fault: 'server', ...metadata(503) }), 'unreachable'],
  ['throttling by the table', new ProvisionedThroughputExceededException({ message: 'Rate exceeded', ...metadata(400) }), 'busy'],
  ['throttling by the account', new RequestLimitExceeded({ message: 'Throughput exceeds the current account limit', ...metadata(400) }), 'busy'],
  ['a missing table', new ResourceNotFoundException({ message: 'Requested resource not found', ...metadata(400) }), 'missing-table'],
  ['a refused role', named('AccessDeniedException', metadata(400)), 'access-denied'],
  ['unknown credentials', named('UnrecognizedClientException', metadata(400)), 'access-denied'],
  ['expired credentials', named('ExpiredTokenException', metadata(400)), 'access-denied'],
  ['no credentials at all', named('CredentialsProviderError', { $metadata: { attempts: 1 } }), 'access-denied'],
  ['a plain error outside the SDK', Object.assign(new Error('bug'), { $metadata: { httpStatusCode: 200 } }), 'failed'],
  ['a malformed request (our bug)', named('ValidationException', metadata(400)), 'failed'],
  ['a plain error', new Error('something else'), 'failed'],
  ['a thrown string', 'down', 'failed'],
  ['undefined', undefined, 'failed'],
];

test.each(CASES)('%s is %s', (_case, error, problem) => {
  expect(classifyStoreError(error)).toBe(problem);
});

test('only busy and unreachable are worth a retry by the client', () => {
  expect((['busy', 'unreachable', 'missing-table', 'access-denied', 'failed'] as const).filter(isTemporary)).toEqual(['busy', 'unreachable']);
});

test.each<[string, unknown, string]>([
  ['refused', socketError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:443'), 'connection refused'],
  ['reset', socketError('ECONNRESET', 'read ECONNRESET'), 'connection reset'],
  ['unresolvable', socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND dynamodb.example.internal'), 'its host name does not resolve'],
  ['unroutable', socketError('ENETUNREACH', 'connect ENETUNREACH 10.0.0.7:443'), 'no network route to it'],
  ['past the deadline', named('AbortError'), 'no answer within 1500 ms'],
  ['timed out', named('TimeoutError', { code: 'ETIMEDOUT' }), 'the connection or request timed out'],
  ['a server error', new InternalServerError({ message: 'x', ...metadata(500) }), 'DynamoDB answered with a server error (HTTP 500)'],
])('the reason for %s names no host, port or code', (_case, error, reason) => {
  const text = unreachableReason(error, 1_500);
  expect(text).toBe(reason);
  expect(text).not.toMatch(/10\.0\.0\.7|443|example\.internal|E[A-Z]{4,}/);
});
