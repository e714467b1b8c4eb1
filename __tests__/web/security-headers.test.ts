import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';
import { API_HELMET_OPTIONS, PAGE_HELMET_OPTIONS, securityHeaders } from '../../web/security-headers';

/** The headers helmet's own middleware puts on a real response. */
async function helmetHeaders(options: Readonly<HelmetOptions>): Promise<Record<string, string>> {
  const middleware = helmet(options);
  const server = createServer((request, response) => middleware(request, response, () => response.end('ok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await new Promise((resolve) => server.close(resolve));
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
  });
  return headers;
}

test.each([
  ['page', PAGE_HELMET_OPTIONS],
  ['API', API_HELMET_OPTIONS],
])('the %s headers are exactly those helmet itself sets on a real response', async (_kind, options) => {
  const expected = await helmetHeaders(options);
  expect(securityHeaders(options)).toEqual(expected);
  expect(Object.keys(expected).length).toBeGreaterThanOrEqual(5);
});

test('pages may load only from this origin, and nothing forces https on a plain-HTTP listener', () => {
  expect(securityHeaders(PAGE_HELMET_OPTIONS)['content-security-policy']).toBe(
    "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';font-src 'self';object-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
  );
});

test('API answers carry the REST set: nothing may load, no framing, no sniffing', () => {
  expect(securityHeaders(API_HELMET_OPTIONS)).toEqual({
    'content-security-policy': "default-src 'none';frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  });
});
