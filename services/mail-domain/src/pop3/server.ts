/**
 * The POP3 server: `createPop3Server` returns a `net.Server` (the caller
 * listens). Each connection gets a greeting, a LineReader for framing, a
 * Pop3Session for the protocol, and a queue so pipelined commands (RFC 2449
 * PIPELINING) are answered strictly in order. The connection also owns the
 * idle timeout (RFC 1939 autologout: no UPDATE, lock released) and the
 * wire transcript: `C:` / `S:` lines, PASS and APOP secrets masked, message
 * bodies replaced by their size. `server.close()` also ends open sessions
 * (without UPDATE), so a shutdown does not wait for clients to leave.
 *
 * TLS (with `tls`): STLS (RFC 2595) turns the connection into TLS after
 * its +OK; whatever the client pipelined behind STLS in plain text is
 * dropped, not run inside the TLS session. With `implicitTls` the server is
 * POP3S (995): TLS from the first byte.
 */
import net from 'node:net';
import tls from 'node:tls';
import { formatDuration } from '../../../core/src/duration';
import { drainOrClose } from '../../../core/src/drain';
import type { Logger } from '../../../core/src/logger';
import type { AccountDirectory } from '../accounts';
import type { MailStore } from '../store/types';
import { AuthThrottle, DEFAULT_AUTH_FAILURE_DELAY_MS } from '../auth-throttle';
import { maskForLog } from './command';
import type { Pop3Env } from './context';
import { LineReader, type LineEvent } from './line-reader';
import { encode, err, type Reply } from './reply';
import { apopTimestamp, Pop3Session } from './session';
import { describeTlsSocket, upgradeServerSocket, type ServerTls } from '../tls/server-tls';
import type { SessionRecording } from '../trace/sessions';

export interface Pop3ServerOptions {
  store: MailStore;
  accounts: AccountDirectory;
  /** Host name in the greeting and the APOP timestamp, e.g. `mail.dadali.com`. */
  hostname: string;
  logger: Logger;
  limits: {
    /** Longest accepted command line in octets, CRLF excluded. */
    maxLineLength: number;
    /** Idle time in ms after which the session is closed without UPDATE. */
    sessionIdle: number;
  };
  /** Delay before the first `-ERR [AUTH]`; it doubles per failure, capped at 4x. @default 1000 */
  authFailureDelayMs?: number;
  /** The failed-login throttle, shared with the domain's IMAP and SMTP AUTH (a new one per server without it). */
  throttle?: AuthThrottle;
  /**
   * Put an APOP timestamp in the greeting. Clients such as curl use APOP
   * whenever they see one, and only accounts with a plain password can do
   * APOP. @default true when at least one account has a plain password
   */
  apop?: boolean;
  /** Key, certificate and requireTls: STLS is offered. */
  tls?: ServerTls;
  /** TLS from the first byte (POP3S, port 995); needs `tls`. */
  implicitTls?: boolean;
  /** Each session's commands into the trace journal (trace/sessions.ts). */
  record?: SessionRecording;
}

/** Queued command lines above which we stop reading the socket until the queue drains. */
const QUEUE_HIGH = 64;

export function createPop3Server(opts: Pop3ServerOptions): net.Server {
  const throttle = opts.throttle ?? new AuthThrottle({ baseDelayMs: opts.authFailureDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS });
  const offerApop = opts.apop ?? opts.accounts.users().some((u) => opts.accounts.apopSecret(u) !== null);
  let sessions = 0;
  const open = new Set<() => void>();
  const onConnection = (socket: net.Socket) => {
    const shutdown = serve(socket, ++sessions, opts, throttle, offerApop);
    open.add(shutdown);
    socket.on('close', () => open.delete(shutdown));
  };
  const server: net.Server =
    opts.implicitTls && opts.tls ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.2' }, onConnection) : net.createServer(onConnection);
  // A failed implicit-TLS handshake is the client's problem, not the server's.
  server.on('tlsClientError', (e: Error) => opts.logger.child('pop3').debug('TLS handshake failed', { error: e.message }));
  // net.Server.close() only stops accepting; end the sessions too so it can finish.
  const close = server.close.bind(server);
  server.close = ((callback?: (err?: Error) => void) => {
    close(callback);
    for (const shutdown of open) shutdown();
    return server;
  }) as typeof server.close;
  return server;
}

/** Serves one connection; returns a function that ends it for a server shutdown. */
function serve(socket: net.Socket, id: number, opts: Pop3ServerOptions, throttle: AuthThrottle, offerApop: boolean): () => void {
  const client = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  const logger = opts.logger.child('pop3', { session: id, client });
  const env: Pop3Env = {
    store: opts.store,
    accounts: opts.accounts,
    hostname: opts.hostname,
    throttle,
    logger,
    clientAddress: socket.remoteAddress ?? 'unknown',
    holder: `pop3 session ${id} from ${client}`,
    apopTimestamp: offerApop ? apopTimestamp(opts.hostname) : null,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    tlsOffered: !!opts.tls && !opts.implicitTls,
    requireTls: !!opts.tls?.requireTls,
  };
  const session = new Pop3Session(env);
  session.state.tls = socket instanceof tls.TLSSocket;
  const recorder = opts.record?.('pop3', opts.implicitTls ? 995 : 110, socket.remoteAddress);
  let reader = new LineReader(opts.limits.maxLineLength);
  /** The socket commands come from and replies go to: the TLS socket after STLS. */
  let conn: net.Socket = socket;
  let upgrading = false;
  const queue: LineEvent[] = [];
  let busy = false;
  let ending = false;
  let stopping = false;

  const send = async (reply: Reply): Promise<void> => {
    const { bytes, log } = encode(reply);
    for (const line of log) logger.info(`S: ${line}`);
    recorder?.reply(log[0]);
    const out = conn;
    if (out.destroyed || out.writableEnded) return;
    if (!out.write(bytes)) await drainOrClose(out);
  };

  const finish = () => {
    ending = true;
    queue.length = 0;
    const out = conn;
    out.end();
    // A client that never closes its side does not keep the socket forever.
    setTimeout(() => out.destroy(), 5000).unref();
  };

  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length && !ending) {
        const event = queue.shift() as LineEvent;
        const shown = event.kind === 'line' ? maskForLog(event.text) : `[line longer than ${event.limit} octets, discarded]`;
        logger.info(`C: ${shown}`);
        recorder?.command(shown);
        const reply = await session.handle(event);
        if (recorder && session.state.maildrop) recorder.user = session.state.maildrop.user;
        if (session.state.closed) return;
        await send(reply);
        if (reply.starttls) {
          await startTls();
          return;
        }
        if (reply.close) finish();
        else if (stopping) return stop();
        if (conn.isPaused() && queue.length < QUEUE_HIGH / 2) conn.resume();
      }
    } catch (e) {
      logger.error('connection failed', { error: e });
      conn.destroy();
    } finally {
      busy = false;
    }
  };

  const onData = (chunk: Buffer) => {
    if (ending || upgrading) return;
    for (const event of reader.push(chunk)) queue.push(event);
    if (queue.length >= QUEUE_HIGH) conn.pause();
    void pump();
  };
  const onTimeout = () => {
    if (ending) return;
    session.disconnect('idle timeout');
    void send(err(`idle for more than ${formatDuration(opts.limits.sessionIdle)}, closing the connection (nothing deleted)`)).then(finish);
    ending = true;
  };
  const onError = (e: Error) => logger.debug('socket error', { error: e });
  const listen = (s: net.Socket) => {
    s.setTimeout(opts.limits.sessionIdle);
    s.on('data', onData);
    s.on('timeout', onTimeout);
    s.on('error', onError);
  };

  // STLS answered +OK: plain-text input after it is dropped (RFC 2595 / RFC 3207 section 6
  // injection), the handshake runs, and the session goes on over TLS with a fresh reader.
  const startTls = async () => {
    upgrading = true;
    queue.length = 0;
    reader = new LineReader(opts.limits.maxLineLength);
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.setTimeout(0);
    try {
      const secure = await upgradeServerSocket(socket, opts.tls!);
      conn = secure;
      session.state.tls = true;
      session.state.pendingLogin = null;
      logger.info(`TLS started: ${describeTlsSocket(secure)}`);
      listen(secure);
      upgrading = false;
      if (stopping) stop();
    } catch (e) {
      logger.info('TLS handshake failed', { error: (e as Error).message });
      ending = true;
    }
  };

  logger.info(socket instanceof tls.TLSSocket ? `connection opened (TLS: ${describeTlsSocket(socket)})` : 'connection opened');
  listen(socket);
  socket.on('close', () => {
    session.disconnect('connection closed');
    recorder?.finish();
    logger.info('connection closed');
  });
  void send(session.greeting());

  // Server shutdown: a command in progress finishes first (a QUIT completes its UPDATE).
  const stop = () => {
    if (ending) return;
    session.disconnect('server shutting down');
    void send(err('server shutting down, nothing deleted', 'SYS/TEMP')).then(finish);
    ending = true;
  };
  return () => {
    stopping = true;
    if (!busy && !upgrading) stop();
  };
}
