/**
 * API Gateway's request limits for REST APIs, and the twin's timeouts for slow clients.
 * https://github.com/awsdocs/amazon-api-gateway-developer-guide/blob/13945642c8779810147a5b1f16054f7c2e8b64bb/doc_source/limits.md
 */
export const API_GATEWAY_LIMITS = {
  /** Largest payload, 10 MB. */
  maxPayloadBytes: 10 * 1024 * 1024,
  /** Header names and values, combined. */
  maxHeaderBytes: 10_240,
  /** Time for a client to send its headers. */
  headersTimeoutMs: 10_000,
  /** Time for a client to send its whole request. */
  requestTimeoutMs: 30_000,
} as const;
