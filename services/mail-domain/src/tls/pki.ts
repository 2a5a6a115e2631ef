/**
 * The lab's own certificate authority and the mail servers' certificates.
 *
 * On first start a mail server makes a lab CA (ECDSA P-256, 10 years) in a
 * directory shared by the whole lab (Docker: the `lab-ca` volume at
 * /var/mail-lab-ca; no-Docker: `.lab-data/ca/`; tests: a temp dir), and a
 * certificate for its own host signed by it (2 years; SANs: the mail host,
 * `localhost`, 127.0.0.1, ::1 and the server's lab address). Both domains
 * start at the same time, so the CA is made under a lock file created with
 * O_EXCL: whoever creates the lock makes the CA, the other waits for
 * `ca.crt` to appear, so the lab has ONE CA that a student trusts once.
 * Files are written to a temporary name and renamed, so a reader never
 * sees half a file; `ca.crt` is written last and means "the CA is ready".
 *
 * Layout of the directory:
 *   ca.crt  ca.key                         the lab CA (the key only readable by its owner)
 *   hosts/<host>.crt  hosts/<host>.key     one per mail server
 *
 * X.509 encoding is @peculiar/x509 on Node's WebCrypto (pure JS, no openssl
 * binary); Node's own crypto.X509Certificate checks what is on disk. The
 * encoder is loaded only when a certificate has to be made: it costs about
 * 16 MB of memory for the life of the process, and a restart with the
 * certificates already in the volume needs none of it.
 */
import { X509Certificate as NodeX509, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import type { Logger } from '../../../core/src/logger';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;

let encoder: typeof X509 | undefined;
/** @peculiar/x509 (and the reflect-metadata it needs), loaded on first use. */
function x509lib(): typeof X509 {
  if (!encoder) {
    require('reflect-metadata');
    encoder = require('@peculiar/x509') as typeof X509;
    encoder.cryptoProvider.set(webcrypto as never);
  }
  return encoder;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** CA lifetime. */
export const CA_DAYS = 3650;
/** Server certificate lifetime. */
export const HOST_DAYS = 730;
/** A certificate with less than this left is made again (the CA only gets a warning). */
const RENEW_BEFORE = 30 * DAY;
/** A lock file older than this, with no CA made, was left by a process that died. */
const STALE_LOCK_MS = 30_000;

export const CA_SUBJECT = 'CN=mail-lab CA,O=mail-lab teaching lab';

export interface LabCa {
  /** The directory (for messages). */
  dir: string;
  /** Path of the CA certificate, the file a student trusts. */
  certFile: string;
  certPem: string;
  keyPem: string;
}

export interface HostCertificate {
  host: string;
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
  /** The lab CA, for clients that verify peers (the outbound queue). */
  caPem: string;
  caFile: string;
}

export interface HostCertificateOptions {
  /** The shared CA directory. */
  dir: string;
  /** The mail host, e.g. `mail.dadali.com`. */
  host: string;
  /** Further names for the SAN (host names or IP addresses); localhost, 127.0.0.1 and ::1 are always in. */
  altNames?: string[];
  logger?: Logger;
  now?: () => Date;
}

const serial = () => {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  b[0] |= 0x10; // and no leading zero octet to strip
  return b.toString('hex');
};

const pemOfKey = async (key: CryptoKey) => x509lib().PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');

async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return crypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

/** Writes a file under a temporary name, then renames it into place. */
function writeAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, file);
}

async function makeCa(now: Date): Promise<{ certPem: string; keyPem: string }> {
  const x509 = x509lib();
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: CA_SUBJECT,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: (await pemOfKey(keys.privateKey)) + '\n' };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The lab CA in `dir`, made if it is not there yet. Safe to call from
 * several processes (or containers sharing a volume) at once: exactly one
 * of them makes it.
 */
export async function ensureLabCa(dir: string, options: { logger?: Logger; now?: () => Date; waitMs?: number } = {}): Promise<LabCa> {
  const now = options.now ?? (() => new Date());
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  const lockFile = join(dir, 'ca.lock');
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  for (;;) {
    if (existsSync(certFile)) {
      const ca = { dir, certFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
      const left = Date.parse(new NodeX509(ca.certPem).validTo) - now().getTime();
      if (left < RENEW_BEFORE) options.logger?.warn(`the lab CA in ${dir} expires in ${Math.max(0, Math.floor(left / DAY))} days; delete the directory (or the lab-ca volume) to make a new one`);
      return ca;
    }
    let fd: number;
    try {
      fd = openSync(lockFile, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Another process is making the CA: wait for ca.crt. A lock that old was left by a crash.
      try {
        if (Date.now() - statSync(lockFile).mtimeMs > STALE_LOCK_MS) unlinkSync(lockFile);
      } catch {
        // gone meanwhile: fine, look again
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lab CA in ${dir} (${lockFile} is held by another process)`);
      await sleep(50);
      continue;
    }
    try {
      writeFileSync(fd, `${process.pid}@${osHostname()} ${new Date().toISOString()}\n`);
      closeSync(fd);
      if (!existsSync(certFile)) {
        const { certPem, keyPem } = await makeCa(now());
        writeAtomic(keyFile, keyPem, 0o600);
        writeAtomic(certFile, certPem, 0o644);
        options.logger?.info(`made the lab CA: ${certFile} (export it with \`npx mail-lab ca\`)`);
      }
    } finally {
      try {
        unlinkSync(lockFile);
      } catch {
        // removed as stale by another process: nothing to do
      }
    }
  }
}

/** Names a server certificate for `host` must carry. */
export function subjectAltNames(host: string, extra: string[] = []): string[] {
  const names = [host.toLowerCase(), 'localhost', '127.0.0.1', '::1', ...extra.map((n) => n.toLowerCase())];
  return [...new Set(names.filter(Boolean))];
}

/** True when the certificate on disk is signed by the CA, valid for a while yet, and carries every name. */
function usable(certPem: string, keyPem: string, caPem: string, names: string[], now: Date): boolean {
  try {
    const cert = new NodeX509(certPem);
    const ca = new NodeX509(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (Date.parse(cert.validTo) - now.getTime() < RENEW_BEFORE) return false;
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    return names.every((n) => (isIP(n) ? cert.checkIP(n) : cert.checkHost(n, { wildcards: false })) !== undefined);
  } catch {
    return false;
  }
}

/**
 * The certificate of one mail server, signed by the lab CA (made first if
 * needed). Kept on disk and used again on the next start while it is
 * valid, signed by the current CA and names everything asked for.
 */
export async function ensureHostCertificate(o: HostCertificateOptions): Promise<HostCertificate> {
  const now = o.now ?? (() => new Date());
  const ca = await ensureLabCa(o.dir, { logger: o.logger, now });
  const hostsDir = join(o.dir, 'hosts');
  mkdirSync(hostsDir, { recursive: true });
  const host = o.host.toLowerCase();
  const certFile = join(hostsDir, `${host}.crt`);
  const keyFile = join(hostsDir, `${host}.key`);
  const names = subjectAltNames(host, o.altNames);
  const base = { host, certFile, keyFile, caPem: ca.certPem, caFile: ca.certFile };
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const keyPem = readFileSync(keyFile, 'utf8');
    if (usable(certPem, keyPem, ca.certPem, names, now())) return { ...base, certPem, keyPem };
  }
  const t = now();
  const x509 = x509lib();
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${host},O=mail-lab teaching lab`,
    issuer: caCert.subject,
    notBefore: new Date(t.getTime() - DAY),
    notAfter: new Date(t.getTime() + HOST_DAYS * DAY),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(ca.keyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(await caCert.publicKey.export(webcrypto as never)),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  const keyPem = (await pemOfKey(keys.privateKey)) + '\n';
  writeAtomic(keyFile, keyPem, 0o600);
  writeAtomic(certFile, certPem, 0o644);
  o.logger?.info(`made the certificate of ${host} (signed by the lab CA): ${certFile}`, { names: names.join(', ') });
  return { ...base, certPem, keyPem };
}
