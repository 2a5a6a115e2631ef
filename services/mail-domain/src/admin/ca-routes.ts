/**
 * The lab CA certificate on a mail domain's admin API: `GET /ca` answers the
 * public certificate (`ca.crt` of the CA directory the servers' own
 * certificates come from), for a mail program to trust (the web pages' "My
 * lab" offers it for download). Never the key. A server without TLS
 * (no CA directory) answers 404 `not-found`; so does one whose CA is not
 * made yet.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { MAIL_API } from '../../../core/src/admin/api';
import { notFound } from '../../../core/src/admin/errors';
import type { AdminRouter } from '../../../core/src/admin/router';

const PEM = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?/;

export function caRoutes(router: AdminRouter, o: { domain: string; caDir?: string }): void {
  router.on(MAIL_API.ca, async () => {
    if (!o.caDir) throw notFound('not-found', `${o.domain} offers no TLS: it has no lab CA`);
    let text: string;
    try {
      text = await fs.readFile(join(o.caDir, 'ca.crt'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('not-found', `the lab CA of ${o.domain} is not made yet`);
      throw e;
    }
    const m = PEM.exec(text);
    if (!m) throw new Error(`${join(o.caDir, 'ca.crt')} holds no PEM certificate`);
    const pem = m[0].replace(/\r\n/g, '\n').replace(/\n?$/, '\n');
    const cert = new X509Certificate(pem);
    return { pem, fingerprint256: cert.fingerprint256, subject: cert.subject.replace(/\n/g, ', '), validTo: cert.validTo };
  });
}
