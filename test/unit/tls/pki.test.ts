/**
 * The lab CA and the server certificates on disk: one CA however many
 * servers start at once, certificates that openssl accepts in strict mode
 * with the right names and lifetimes, reused on restart, made again when
 * they no longer fit.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHostCertificate, ensureLabCa } from '../../../services/mail-domain/src/tls/pki';
import { run } from './helpers';

const DAY = 86_400_000;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-ca-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('servers starting together share ONE CA; openssl verifies their certificates strictly', async () => {
  const hosts = ['mail.garudayaksa.com', 'mail.dadali.com'];
  const made = await Promise.all([...hosts, ...hosts].map((host) => ensureHostCertificate({ dir, host })));
  expect(new Set(made.map((m) => m.caPem)).size).toBe(1);
  expect(existsSync(join(dir, 'ca.lock'))).toBe(false);
  expect(statSync(join(dir, 'ca.key')).mode & 0o077).toBe(0);

  const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
  expect(ca.ca).toBe(true);
  expect(ca.subject).toMatch(/CN=mail-lab CA/);
  const caYears = (Date.parse(ca.validTo) - Date.now()) / (365 * DAY);
  expect(caYears).toBeGreaterThan(9.9);
  expect(caYears).toBeLessThan(10.1);

  for (const host of hosts) {
    const file = join(dir, 'hosts', `${host}.crt`);
    const verify = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', host, '-CAfile', join(dir, 'ca.crt'), file]);
    expect(verify.all).toContain(`${file}: OK`);
    const cert = new X509Certificate(readFileSync(file));
    expect(cert.subject).toMatch(new RegExp(`CN=${host.replace(/\./g, '\\.')}`));
    expect(cert.subjectAltName).toBe(`DNS:${host}, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const years = (Date.parse(cert.validTo) - Date.now()) / (365 * DAY);
    expect(years).toBeGreaterThan(1.9);
    expect(years).toBeLessThan(2.1);
  }
});

test('a restart reuses the certificate; a new name or a new CA makes a new one', async () => {
  const first = await ensureHostCertificate({ dir, host: 'mail.dadali.com' });
  const again = await ensureHostCertificate({ dir, host: 'mail.dadali.com' });
  expect(again.certPem).toBe(first.certPem);

  const withAddress = await ensureHostCertificate({ dir, host: 'mail.dadali.com', altNames: ['172.29.25.20'] });
  expect(withAddress.certPem).not.toBe(first.certPem);
  expect(new X509Certificate(withAddress.certPem).checkIP('172.29.25.20')).toBe('172.29.25.20');

  // A new CA (the directory's CA files deleted): the old certificate no longer verifies, so it is replaced.
  rmSync(join(dir, 'ca.crt'));
  rmSync(join(dir, 'ca.key'));
  const renewed = await ensureHostCertificate({ dir, host: 'mail.dadali.com', altNames: ['172.29.25.20'] });
  expect(renewed.caPem).not.toBe(first.caPem);
  expect(new X509Certificate(renewed.certPem).checkIssued(new X509Certificate(renewed.caPem))).toBe(true);

  // Close to expiry (a clock two years on): made again.
  const later = await ensureHostCertificate({ dir, host: 'mail.dadali.com', altNames: ['172.29.25.20'], now: () => new Date(Date.now() + 720 * DAY) });
  expect(later.certPem).not.toBe(renewed.certPem);
});

test('a lock left behind by a crashed process does not stop the next start', async () => {
  const lock = join(dir, 'ca.lock');
  writeFileSync(lock, '12345@gone\n');
  const old = new Date(Date.now() - 120_000);
  utimesSync(lock, old, old);
  const ca = await ensureLabCa(dir, { waitMs: 5000 });
  expect(ca.certPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  expect(existsSync(lock)).toBe(false);
});

test('a fresh lock held by another process: wait for its CA instead of making a second one', async () => {
  const lock = join(dir, 'ca.lock');
  writeFileSync(lock, 'other\n');
  const waiting = ensureLabCa(dir, { waitMs: 5000 });
  // The "other process" finishes its CA.
  const other = mkdtempSync(join(tmpdir(), 'mail-lab-ca-other-'));
  const made = await ensureLabCa(other);
  writeFileSync(join(dir, 'ca.key'), made.keyPem);
  writeFileSync(join(dir, 'ca.crt'), made.certPem);
  rmSync(lock);
  expect((await waiting).certPem).toBe(made.certPem);
  rmSync(other, { recursive: true, force: true });
});
