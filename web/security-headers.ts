/**
 * The security headers of every response, as helmet sets them: for the dashboard's
 * files, a Content Security Policy that allows only this origin (no inline script or
 * style, no framing); for the JSON API, the short set OWASP's REST Security Cheat Sheet
 * lists (a JSON answer needs no script policy, and every header byte is paid per request).
 *
 * Helmet's middleware rebuilds the same header values on every request; since these
 * carry no per-request nonce they never change, so they are computed once here by
 * running helmet against a recording response, and each reply just copies them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

export const PAGE_HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    // helmet's defaults include upgrade-insecure-requests, which would break the page on the
    // plain-HTTP load balancer listener (the default when no certificate is configured).
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
};

export const API_HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  xFrameOptions: { action: 'deny' },
  // Kept: strictTransportSecurity, xContentTypeOptions (nosniff), crossOriginResourcePolicy (same-origin).
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

export function securityHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => (failure = error));
  if (failure !== undefined) throw failure;
  return Object.freeze(headers);
}
