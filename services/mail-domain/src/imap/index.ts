/**
 * The IMAP4rev1 server (RFC 3501) with LITERAL+, SASL-IR, AUTH=PLAIN, IDLE,
 * UIDPLUS, MOVE, NAMESPACE, SPECIAL-USE, CHILDREN, ID, ENABLE and UNSELECT,
 * on top of the domain's `MailStore`. Failed logins are slowed down by the
 * shared `AuthThrottle` (../auth-throttle.ts), as in POP3. `createImapServer` returns a
 * `net.Server`; the caller listens (port 143 in the container).
 *
 * Module map: reader (framing, literals, limits) -> parser (+ cursor,
 * fetch-parse, search-parse) -> session (states, dispatch) -> cmd-* handlers
 * -> wire (serialiser). mime/structure/sections/search/decode build
 * BODYSTRUCTURE, ENVELOPE, BODY[section] and SEARCH from a real parse.
 */
import net from 'node:net';
import type { Logger } from '../../../core/src/logger';
import type { AccountDirectory } from '../accounts';
import { AuthThrottle, DEFAULT_AUTH_FAILURE_DELAY_MS } from '../auth-throttle';
import type { MailStore } from '../store/types';
import type { Limits } from './result';
import { Session } from './session';
import { RecentTracker } from './view';

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
}

export function createImapServer(opts: ImapServerOptions): net.Server {
  const throttle = new AuthThrottle({ baseDelayMs: opts.authFailureDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS });
  const ctx = { ...opts, limits: { ...opts.limits }, recent: new RecentTracker(), throttle };
  let next = 0;
  const open = new Set<Session>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const session = new Session(ctx, socket, ++next);
    open.add(session);
    socket.on('close', () => open.delete(session));
    session.start();
  });
  // net.Server.close() only stops accepting; say BYE to open sessions (RFC 3501 7.1.5) so it can finish.
  const close = server.close.bind(server);
  server.close = ((callback?: (err?: Error) => void) => {
    close(callback);
    for (const session of open) session.shutdownByServer();
    return server;
  }) as typeof server.close;
  return server;
}

export type { Limits } from './result';
