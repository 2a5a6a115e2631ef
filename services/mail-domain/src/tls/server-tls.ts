/**
 * What the SMTP, POP3 and IMAP servers get for TLS: the server's key and
 * certificate (from the lab CA, pki.ts), a ready secure context for the
 * servers that upgrade sockets themselves (POP3 STLS, IMAP STARTTLS), and
 * the lab's `tls.requireTls` setting. A server started without one offers
 * no TLS at all (STARTTLS/STLS answered as not available), as the lab was
 * before it had a CA.
 */
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { HostCertificate } from './pki';

export interface ServerTls {
  key: string;
  cert: string;
  /** The lab CA (PEM). */
  ca: string;
  secureContext: SecureContext;
  /** Refuse logins before TLS (lab.yaml `tls.requireTls`). */
  requireTls: boolean;
}

export function serverTls(host: HostCertificate, requireTls: boolean): ServerTls {
  return {
    key: host.keyPem,
    cert: host.certPem,
    ca: host.caPem,
    secureContext: createSecureContext({ key: host.keyPem, cert: host.certPem, minVersion: 'TLSv1.2' }),
    requireTls,
  };
}

/** `TLSv1.3 TLS_AES_256_GCM_SHA384`, for transcripts and logs. */
export function describeTlsSocket(socket: TLSSocket): string {
  const cipher = socket.getCipher();
  return `${socket.getProtocol() ?? 'TLS'} ${cipher?.standardName ?? cipher?.name ?? ''}`.trim();
}

/**
 * Starts a server-side TLS handshake on an accepted plain socket (after
 * the +OK to STLS or the OK to STARTTLS). Resolves with the TLS socket once
 * the handshake is done; rejects when it fails (the socket is destroyed).
 */
export function upgradeServerSocket(socket: Socket, tls: ServerTls, handshakeTimeoutMs = 30_000): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.setTimeout(0);
    const secure = new TLSSocket(socket, { isServer: true, secureContext: tls.secureContext });
    const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), handshakeTimeoutMs);
    timer.unref();
    const fail = (e: Error) => {
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      reject(e);
    };
    secure.once('error', fail);
    secure.once('secure', () => {
      clearTimeout(timer);
      secure.off('error', fail);
      resolve(secure);
    });
  });
}
