/**
 * The web app's DynamoDB client, built in one place for the server (server.ts) and the
 * local platform. Every call is bounded: when DynamoDB cannot be reached, a request fails
 * within seconds with an error the API answers 503, instead of holding the visitor (and a
 * socket) for the SDK's defaults (no request timeout, three attempts).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { exactDocumentClient } from '../handlers/stored-number';

export const WEB_DYNAMO_LIMITS = {
  /** A TCP (and TLS) connection to the regional endpoint takes milliseconds; a second means it is not there. */
  connectionTimeoutMs: 1_000,
  /** Longest wait for an answer, connecting included; the largest page (1 MB Query) takes well under this. */
  requestTimeoutMs: 2_000,
  /** One retry: enough for a dropped keep-alive socket, and a call gives up within about 2 × 2 s. */
  maxAttempts: 2,
} as const;

/** `config`: region, and for emulators endpoint and credentials; the handler and retries are always the app's. */
export function createWebDynamoClient(config: Omit<DynamoDBClientConfig, 'requestHandler' | 'maxAttempts'>): DynamoDBDocumentClient {
  // Numbers are read exactly: a value DynamoDB holds with 38 digits is answered with 38 digits.
  return exactDocumentClient(
    new DynamoDBClient({
      ...config,
      maxAttempts: WEB_DYNAMO_LIMITS.maxAttempts,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: WEB_DYNAMO_LIMITS.connectionTimeoutMs,
        requestTimeout: WEB_DYNAMO_LIMITS.requestTimeoutMs,
        // Without this, smithy only logs a warning when requestTimeout passes and keeps waiting.
        throwOnRequestTimeout: true,
      }),
    }),
  );
}
