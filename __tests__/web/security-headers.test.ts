import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from 'helmet';
import { HELMET_OPTIONS, securityHeaders } from '../../web/security-headers';

test('are exactly the headers helmet itself sets on a real response', async () => {
  const middleware = helmet(HELMET_OPTIONS);
  const server = createServer((request, response) => middleware(request, response, () => response.end('ok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await new Promise((resolve) => server.close(resolve));

  const expected: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)) expected[name] = value;
  });
  expect(securityHeaders()).toEqual(expected);
  expect(Object.keys(expected).length).toBeGreaterThan(8);
});

test('the policy allows only this origin, and does not force https', () => {
  const csp = securityHeaders()['content-security-policy'];
  expect(csp).toBe(
    "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';font-src 'self';object-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
  );
});
