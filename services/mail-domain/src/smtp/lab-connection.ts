/**
 * How HELP, VRFY, EXPN and VERB get real answers from smtp-server 3.21.
 *
 * smtp-server has no hook for these commands: it answers HELP and VRFY with
 * fixed text and EXPN and VERB with 500. It looks a command's handler up as
 * the method `handler_<VERB>` on its connection object
 * (`SMTPConnection._getHandler`), and it creates that object in one public
 * method, `SMTPServer.connect(socket, options)`. So we subclass both:
 * `LabSMTPServer.connect` builds a `LabSMTPConnection`, whose
 * `handler_HELP/VRFY/EXPN/VERB` methods call the pure functions of
 * commands.ts. Everything else (parsing, pipelining, DATA, AUTH, limits)
 * stays smtp-server's. `connect` repeats the library's four lines
 * (register, error/connect listeners, init); the tests in
 * test/unit/smtp pin the behaviour, so an upgrade that changes it fails
 * loudly rather than silently.
 *
 * `send` is also widened: a reply text that starts with its own RFC 3463
 * code (`5.7.1 ...`) keeps it, where smtp-server would add a generic one
 * derived from the reply number (554 -> 5.6.0).
 *
 * `init` makes the wait before the greeting a lab setting (`smtp.greetDelay`,
 * default 0): smtp-server always waits 100 ms to catch clients that talk
 * before the greeting (early talkers get `421 … You talk too soon`), which
 * Postfix's smtpd does not do unless postscreen is on; a lab that teaches
 * early-talker detection sets it again, or the instructor switches on the
 * `greet-delay` fault (asked per connection). Same steps as the library's
 * `init`. An early talker's 421 is reported through `onEarlyTalker`.
 *
 * `handler_VERB` switches the session to Sendmail's verbose mode: the
 * messages it then sends are narrated in `050` lines (smtp/verbose.ts).
 *
 * `handler_AUTH` refuses AUTH before STARTTLS when the lab requires TLS,
 * with the usual `530 5.7.0 Must issue a STARTTLS command first` (smtp-server
 * would answer a non-standard 538).
 */
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection';
import type { AccountDirectory } from '../accounts';
import { expn, help, verb, vrfy, type CommandSettings, type Reply } from './commands';

const OWN_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

/** A session that asked for VERB: `narrate` writes a 050 line to it. */
export interface VerboseSession {
  narrate?: (line: string) => void;
}

/** What our connection class needs besides smtp-server's options. */
export interface LabExtras {
  accounts: AccountDirectory;
  settings: CommandSettings;
  /** Refuse AUTH until the session is TLS. */
  requireTls?: boolean;
  /** Wait before the greeting of a new connection, to catch early talkers (smtp-server's own is 100 ms). @default 0 */
  greetDelayMs?: () => number;
  /** A client sent a command before the greeting and got 421. */
  onEarlyTalker?: (remoteAddress: string) => void;
  /** A connection opened (before its greeting): its session id (the log's `cid`) and the client's address. */
  onOpen?: (id: string, remoteAddress: string) => void;
}

export class LabSMTPConnection extends SMTPConnection {
  constructor(
    server: LabSMTPServer,
    socket: Socket,
    options: ConstructorParameters<typeof SMTPConnection>[2],
    private readonly lab: LabExtras,
  ) {
    super(server, socket, options);
  }

  override init(): void {
    const self = this as unknown as { _setListeners(cb: () => void): void; connectionReady(): void; _server: { options: { maxClients?: number }; connections: Set<unknown> }; name: string };
    self._setListeners(() => {
      if (self._server.options.maxClients && self._server.connections.size > self._server.options.maxClients) {
        return this.send(421, self.name + ' Too many connected clients, try again in a moment', false);
      }
      const delay = this.lab.greetDelayMs?.() ?? 0;
      if (delay <= 0) return self.connectionReady();
      setTimeout(() => self.connectionReady(), delay).unref();
    });
  }

  override handler_AUTH(command: Buffer, callback: () => void): void {
    if (this.lab.requireTls && !this.secure) {
      this.send(530, '5.7.0 Must issue a STARTTLS command first', false);
      return callback();
    }
    super.handler_AUTH(command, callback);
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    // smtp-server answers a command sent before the greeting with exactly this (its _onCommand).
    if (code === 421 && typeof data === 'string' && data.endsWith(' You talk too soon')) this.lab.onEarlyTalker?.((this as unknown as { remoteAddress: string }).remoteAddress);
    const lines = Array.isArray(data) ? data : data ? [data] : [];
    const own = lines.length > 0 && lines.every((l) => OWN_CODE.test(l));
    super.send(code, data, own ? false : context);
  }

  private reply(r: Reply, callback: () => void): void {
    this.send(r.code, r.lines.length === 1 ? r.lines[0] : r.lines, false);
    callback();
  }

  private argument(command: Buffer | string): string {
    return command.toString().replace(/^\S+\s?/, '');
  }

  override handler_HELP(command: Buffer, callback: () => void): void {
    this.reply(help(this.argument(command), this.lab.settings), callback);
  }

  override handler_VRFY(command: Buffer, callback: () => void): void {
    this.reply(vrfy(this.argument(command), this.lab.accounts, this.lab.settings), callback);
  }

  handler_EXPN(command: Buffer, callback: () => void): void {
    this.reply(expn(this.argument(command), this.lab.accounts, this.lab.settings), callback);
  }

  handler_VERB(_command: Buffer, callback: () => void): void {
    // Sendmail's verbose mode: from now on, onData narrates each accepted message (smtp/verbose.ts)
    // in 050 lines before its 250. The session object lives as long as the connection.
    (this.session as VerboseSession).narrate = (line: string) => this.send('050' as unknown as number, line, false);
    this.reply(verb(), callback);
  }
}

export class LabSMTPServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    private readonly lab: LabExtras,
  ) {
    super(options);
  }

  /**
   * Ends the sessions that are between messages with 421 and closes them
   * (RFC 5321 3.8: a server shutting down says 421 first); a session inside a
   * transaction (after MAIL FROM) goes on. Returns how many were ended.
   */
  endIdleSessions(text: string): number {
    let n = 0;
    for (const c of (this as unknown as { connections: Set<LabSMTPConnection> }).connections) {
      if ((c as unknown as { session?: { envelope?: { mailFrom?: unknown } } }).session?.envelope?.mailFrom) continue;
      c.send(421, text, false);
      c.close();
      n++;
    }
    return n;
  }

  override connect(socket: Socket, socketOptions: ConstructorParameters<typeof SMTPConnection>[2]): void {
    // Same steps as SMTPServer.connect in smtp-server 3.21, with our connection class.
    const connection = new LabSMTPConnection(this, socket, socketOptions, this.lab);
    const self = this as unknown as { connections: Set<unknown>; _onError(e: Error): void; _onClientConnect(d: unknown): void };
    self.connections.add(connection);
    const opened = connection as unknown as { id: string; remoteAddress: string };
    this.lab.onOpen?.(opened.id, opened.remoteAddress);
    connection.on('error', (err: Error) => self._onError(err));
    connection.on('connect', (data: unknown) => self._onClientConnect(data));
    connection.init();
  }
}
