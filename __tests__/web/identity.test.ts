/**
 * The signed-in user from the load balancer's claims, verified as AWS says to:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html#user-claims-encoding
 * (ES256 JWT in x-amzn-oidc-data; the key id's PEM from the regional public-key endpoint;
 * the signer field must be the expected load balancer; base64url with the padding the
 * load balancer leaves on).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { CLAIMS_HEADER, loadBalancerIdentity, localIdentity, noIdentity } from '../../web/identity';

const ARN = 'arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/app/iot-web/0123456789abcdef';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const NOW = Date.parse('2024-05-01T10:00:00Z');

/** Base64url with the `=` padding the load balancer's tokens carry. */
const padded = (buffer: Buffer) => {
  const text = buffer.toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
};

function token(header: Record<string, unknown>, claims: Record<string, unknown>, key = privateKey): string {
  const signed = `${padded(Buffer.from(JSON.stringify(header)))}.${padded(Buffer.from(JSON.stringify(claims)))}`;
  return `${signed}.${padded(sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

const HEADER = { alg: 'ES256', kid: '12345678-1234-1234-1234-123456789012', signer: ARN, iss: 'https://cognito-idp.eu-west-2.amazonaws.com/pool', client: 'client', exp: NOW / 1000 + 120 };
const CLAIMS = { sub: 'a1b2', email: 'ops@example.com', exp: NOW / 1000 + 120 };

function identity() {
  const fetched: string[] = [];
  const subject = loadBalancerIdentity({ region: 'eu-west-2', loadBalancerArn: ARN, now: () => NOW, fetchKey: async (url) => (fetched.push(url), PEM) });
  return { subject, fetched };
}

describe('load balancer sign-in', () => {
  it('names the signed-in user, fetching the key of the key id from the regional endpoint once', async () => {
    const { subject, fetched } = identity();
    await expect(subject.identify({ [CLAIMS_HEADER]: token(HEADER, CLAIMS) })).resolves.toEqual({ ok: true, user: 'ops@example.com' });
    await expect(subject.identify({ [CLAIMS_HEADER]: token(HEADER, { sub: 'a1b2', exp: CLAIMS.exp }) })).resolves.toEqual({ ok: true, user: 'a1b2' });
    expect(fetched).toEqual([`https://public-keys.auth.elb.eu-west-2.amazonaws.com/${HEADER.kid}`]);
  });

  it.each([
    ['no header', undefined, /no x-amzn-oidc-data header/],
    ['claims changed after signing', token(HEADER, CLAIMS).replace(/^([^.]+)\.[^.]+/, (_, head: string) => `${head}.${padded(Buffer.from(JSON.stringify({ ...CLAIMS, email: 'boss@example.com' })))}`), /signature does not match/],
    ['another load balancer', token({ ...HEADER, signer: ARN.replace('iot-web', 'other') }, CLAIMS), /not signed by this load balancer/],
    ['expired claims', token({ ...HEADER, exp: NOW / 1000 - 1 }, CLAIMS), /expired/],
    ['another algorithm', token({ ...HEADER, alg: 'none' }, CLAIMS), /not signed with ES256/],
    ['another key', token(HEADER, CLAIMS, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), /signature does not match/],
    ['a key id that is a path', token({ ...HEADER, kid: '../../etc' }, CLAIMS), /name no key/],
    ['not a JWT', 'abc', /not a JWT/],
  ])('refuses %s with 401', async (_name, value, message) => {
    const result = await identity().subject.identify(value === undefined ? {} : { [CLAIMS_HEADER]: value });
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect((result as { message: string }).message).toMatch(message);
  });

  it('fetches a key again after a failed fetch', async () => {
    let calls = 0;
    const subject = loadBalancerIdentity({ region: 'eu-west-2', loadBalancerArn: ARN, now: () => NOW, fetchKey: async () => (++calls === 1 ? Promise.reject(new Error('timeout')) : PEM) });
    await expect(subject.identify({ [CLAIMS_HEADER]: token(HEADER, CLAIMS) })).resolves.toMatchObject({ ok: false, status: 401 });
    await expect(subject.identify({ [CLAIMS_HEADER]: token(HEADER, CLAIMS) })).resolves.toEqual({ ok: true, user: 'ops@example.com' });
  });
});

describe('other modes', () => {
  it('locally everyone is "local"; without sign-in changes are refused with 403', async () => {
    await expect(localIdentity.identify({})).resolves.toEqual({ ok: true, user: 'local' });
    await expect(noIdentity.identify({ [CLAIMS_HEADER]: token(HEADER, CLAIMS) })).resolves.toMatchObject({ ok: false, status: 403 });
  });
});
