/**
 * The IMAP4rev1 server (RFC 3501) with LITERAL+, SASL-IR, AUTH=PLAIN, IDLE,
 * UIDPLUS, MOVE, NAMESPACE, SPECIAL-USE, CHILDREN, ID, ENABLE and UNSELECT,
 * on top of the domain's `MailStore`. Failed logins are slowed down by the
 * shared `AuthThrottle` (../auth-throttle.ts), as in POP3. `createImapServer` returns a
 * `net.Server`; the caller listens (port 143 in the container). With `tls`
 * it offers STARTTLS; with `implicitTls` too it is IMAPS (993, TLS from the
 * first byte).
 *
 * Module map: reader (framing, literals, limits) -> parser (+ cursor,
 * fetch-parse, search-parse) -> session (states, dispatch) -> cmd-* handlers
 * -> wire (serialiser). mime/structure/sections/search/decode build
 * BODYSTRUCTURE, ENVELOPE, BODY[section] and SEARCH from a real parse.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../../core/src/logger';
import type { AccountDirectory } from '../accounts';
import { AuthThrottle, DEFAULT_AUTH_FAILURE_DELAY_MS } from '../auth-throttle';
import type { MailStore } from '../store/types';
import type { Limits } from './result';
import { HeaderCache } from './header-cache';
import { Session } from './session';
import { RecentTracker } from './view';
import type { ServerTls } from '../tls/server-tls';
import type { SessionRecording } from '../trace/sessions';

export interface ImapServerOptions {
  store: MailStore;
  accounts: AccountDirectory;
  /** Named in the greeting. */
  hostname: string;
  logger: Logger;
  /** From the lab config: `limits.maxLineLength`, `limits.imapMaxLiteral`, `limits.sessionIdle` (ms). */
  limits: Limits;
  /** Base delay before a failed LOGIN/AUTHENTICATE is answered (doubles per failure, like POP3). @default 1000 */
  authFailureDelayMs?: number;
  /** The failed-login throttle, shared with the domain's POP3 and SMTP AUTH (a new one per server without it). */
  throttle?: AuthThrottle;
  /** Key, certificate and requireTls: STARTTLS is offered. */
  tls?: ServerTls;
  /** TLS from the first byte (IMAPS, port 993); needs `tls`. */
  implicitTls?: boolean;
  /** Each session's commands into the trace journal (trace/sessions.ts). */
  record?: SessionRecording;
}

export function createImapServer(opts: ImapServerOptions): net.Server {
  const throttle = opts.throttle ?? new AuthThrottle({ baseDelayMs: opts.authFailureDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS });
  const ctx = { ...opts, limits: { ...opts.limits }, recent: new RecentTracker(), throttle, headers: new HeaderCache() };
  let next = 0;
  const open = new Set<Session>();
  const onConnection = (socket: net.Socket) => {
    socket.setNoDelay(true);
    const session = new Session(ctx, socket, ++next, opts.record?.('imap', opts.implicitTls ? 993 : 143, socket.remoteAddress));
    open.add(session);
    socket.on('close', () => open.delete(session));
    session.start();
  };
  const server: net.Server =
    opts.implicitTls && opts.tls ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.2' }, onConnection) : net.createServer(onConnection);
  server.on('tlsClientError', (e: Error) => opts.logger.child('imap').debug('TLS handshake failed', { error: e.message }));
  // net.Server.close() only stops accepting; say BYE to open sessions (RFC 3501 7.1.5) so it can finish.
  const close = server.close.bind(server);
  server.close = ((callback?: (err?: Error) => void) => {
    close(callback);
    for (const session of open) session.shutdownByServer();
    return server;
  }) as typeof server.close;
  return server;
}
