/**
 * `GET /ca` of a mail domain's admin API: the lab CA certificate (the public
 * ca.crt the servers' certificates come from, never a key), its fingerprint;
 * 404 `not-found` on a server without TLS; the token is needed like on every
 * route but /health.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { AdminCallError } from '../../../services/core/src/admin/client';
import { startTestLab, type TestLab } from '../helpers/test-lab';
import { caFile, D, G } from './helpers';

// Two labs with their CA made at start: more than jest's 5 s on a busy machine.
jest.setTimeout(30_000);

let tls: TestLab;
let plain: TestLab;

beforeAll(async () => {
  tls = await startTestLab({ tls: true });
  plain = await startTestLab();
});
afterAll(async () => {
  await tls.close();
  await plain.close();
});

test('a server with TLS answers the lab CA certificate it was issued by, and nothing private', async () => {
  const file = readFileSync(caFile(tls), 'utf8');
  for (const domain of [G, D]) {
    const ca = await tls.target().mail(domain).call(MAIL_API.ca);
    expect(ca.pem).toBe(file);
    expect(ca.pem).not.toMatch(/PRIVATE KEY/);
    const cert = new X509Certificate(ca.pem);
    expect(ca.fingerprint256).toBe(cert.fingerprint256);
    expect(ca.subject).toBe('CN=mail-lab CA, O=mail-lab teaching lab');
    expect(cert.ca).toBe(true);
    expect(new Date(ca.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 86400_000);
  }
});

test('a server without TLS: 404 not-found, said in words', async () => {
  const e = await plain.target().mail(G).call(MAIL_API.ca).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(AdminCallError);
  expect([(e as AdminCallError).status, (e as AdminCallError).code]).toEqual([404, 'not-found']);
  expect((e as AdminCallError).message).toContain('garudayaksa.com offers no TLS');
});

test('without the token: 401, no certificate', async () => {
  const port = tls.config.domains.find((d) => d.name === G)!.ports.admin;
  const res = await fetch(`http://127.0.0.1:${port}/ca`);
  expect(res.status).toBe(401);
  expect(await res.text()).not.toContain('BEGIN CERTIFICATE');
});
