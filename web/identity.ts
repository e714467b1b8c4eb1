/**
 * Who is asking, for the routes that change something (acknowledging an alert, silencing
 * series): the person the load balancer signed in, verified from the claims it signs;
 * "local" on the local platform, which has no load balancer; nobody when the deployment
 * has no sign-in, so changes are refused there.
 *
 * The load balancer passes the signed-in user's claims in `x-amzn-oidc-data`, a JWT signed
 * with ES256 whose header names the key (`kid`) and the load balancer that signed it
 * (`signer`). AWS says to verify the signature, and that the signer is the expected load
 * balancer, before trusting any claim; the public key is served, as PEM, at
 * `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>`. The header is not trusted
 * on the strength of the security groups alone: the tasks' host ports are reachable from
 * the load balancer only, but anything running on an instance (or an SSH session to it)
 * could call a task with a forged header.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html#user-claims-encoding
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export type IdentityMode = 'load-balancer' | 'local' | 'none';

export type IdentityResult = { readonly ok: true; readonly user: string } | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

export interface UserIdentity {
  readonly mode: IdentityMode;
  /** The user behind a request, from its headers. */
  identify(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<IdentityResult>;
}

/** The header the load balancer puts the signed claims in. */
export const CLAIMS_HEADER = 'x-amzn-oidc-data';

/** Who every change is recorded as on the local platform. */
export const LOCAL_USER = 'local';

export const localIdentity: UserIdentity = { mode: 'local', identify: async () => ({ ok: true, user: LOCAL_USER }) };

export const noIdentity: UserIdentity = {
  mode: 'none',
  identify: async () => ({
    ok: false,
    status: 403,
    message: 'Changes need a signed-in user, and this deployment has no sign-in: set network.certificateArn, web.domainName and web.signIn (see docs/deploy.md, "Web access").',
  }),
};

export interface LoadBalancerIdentityOptions {
  readonly region: string;
  /** The ARN the `signer` field must hold: the deployment's own load balancer. */
  readonly loadBalancerArn: string;
  /** Fetches the PEM of a key id. @default the regional public-key endpoint */
  readonly fetchKey?: (url: string) => Promise<string>;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Base64url with or without the `=` padding the load balancer's tokens carry. */
const fromBase64Url = (text: string): Buffer => Buffer.from(text.replace(/=+$/, ''), 'base64url');

const unauthorised = (message: string): IdentityResult => ({ ok: false, status: 401, message: `The request carries no valid sign-in from the load balancer (${message}): sign in again.` });

async function fetchPem(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

/** Verifies the load balancer's signed claims; keys are fetched once per key id. */
export function loadBalancerIdentity(options: LoadBalancerIdentityOptions): UserIdentity {
  const keys = new Map<string, Promise<KeyObject>>();
  const fetchKey = options.fetchKey ?? fetchPem;
  const now = options.now ?? Date.now;
  const keyOf = (kid: string): Promise<KeyObject> => {
    let key = keys.get(kid);
    if (key === undefined) {
      key = fetchKey(`https://public-keys.auth.elb.${options.region}.amazonaws.com/${kid}`).then((pem) => createPublicKey(pem));
      // A failed fetch is tried again by the next request.
      key.catch(() => keys.delete(kid));
      keys.set(kid, key);
    }
    return key;
  };

  return {
    mode: 'load-balancer',
    async identify(headers) {
      const token = headers[CLAIMS_HEADER];
      if (typeof token !== 'string' || token === '') return unauthorised(`no ${CLAIMS_HEADER} header`);
      const parts = token.split('.');
      if (parts.length !== 3) return unauthorised('the claims are not a JWT');
      const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
      let header: { alg?: unknown; kid?: unknown; signer?: unknown; exp?: unknown };
      let claims: Record<string, unknown>;
      try {
        header = JSON.parse(fromBase64Url(encodedHeader).toString('utf8')) as typeof header;
        claims = JSON.parse(fromBase64Url(encodedPayload).toString('utf8')) as Record<string, unknown>;
      } catch {
        return unauthorised('the claims are not JSON');
      }
      if (header.alg !== 'ES256') return unauthorised('the claims are not signed with ES256');
      if (header.signer !== options.loadBalancerArn) return unauthorised('the claims were not signed by this load balancer');
      if (typeof header.kid !== 'string' || !/^[A-Za-z0-9-]{1,128}$/.test(header.kid)) return unauthorised('the claims name no key');
      const expires = Number(header.exp ?? claims.exp);
      if (!Number.isFinite(expires) || expires * 1000 <= now()) return unauthorised('the claims have expired');
      let key: KeyObject;
      try {
        key = await keyOf(header.kid);
      } catch {
        return { ok: false, status: 401, message: 'The load balancer\'s signing key could not be fetched to check the sign-in; try again in a moment.' };
      }
      const signed = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'utf8');
      if (!verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, fromBase64Url(encodedSignature))) return unauthorised('the signature does not match');
      const user = [claims.email, claims.preferred_username, claims.username, claims.sub].find((value): value is string => typeof value === 'string' && value !== '');
      return user === undefined ? unauthorised('the claims name no user') : { ok: true, user };
    },
  };
}
