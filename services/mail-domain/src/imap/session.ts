/**
 * One IMAP connection: the state machine (RFC 3501 section 3), the command
 * loop (frames from the reader, parsed, checked against the state table,
 * dispatched to a handler, tagged result), untagged updates from the store
 * at the points RFC 3501 section 7.4.1 allows, the idle timer, and the wire
 * transcript (`C:` / `S:` lines, credentials masked, literals summarised,
 * the untagged lines of one command beyond the first 50 summed up in one
 * line). Long answers are written in large batches (cork/uncork).
 * After a tagged OK to STARTTLS the session drops what the client sent
 * behind it in plain text and continues over TLS (RFC 3501 6.2.1).
 */
import type net from 'node:net';
import { TLSSocket } from 'node:tls';
import { describeTlsSocket, upgradeServerSocket } from '../tls/server-tls';
import type { Logger } from '../../../core/src/logger';
import { drainOrClose } from '../../../core/src/drain';
import type { Command } from './commands';
import { HANDLERS } from './dispatch';
import { parseCommand } from './parser';
import { CommandReader, type Frame, type ReaderItem } from './reader';
import { bad, failure, no, type Result, type ServerContext } from './result';
import { ALLOWED, capabilitiesFor, refusal, type State } from './states';
import type { MailboxView } from './view';
import { encodeLine, quote, raw, toTranscript, toWire, type ImapValue } from './wire';
import type { SessionRecorder } from '../trace/sessions';

/** Commands whose output is batched into large writes (none of them waits for client input). */
const BATCHED: ReadonlySet<Command['name']> = new Set(['FETCH', 'STORE', 'SEARCH', 'LIST', 'LSUB', 'EXPUNGE', 'SELECT', 'EXAMINE', 'COPY', 'MOVE', 'NOOP', 'CHECK']);
/** Octets written while corked before the batch is flushed. */
const CORK_OCTETS = 256 * 1024;
/** Output waiting in the socket above which a long answer waits for it to drain. */
const DRAIN_OCTETS = 1024 * 1024;
/** Untagged responses per command that the transcript shows in full. */
export const TRANSCRIPT_UNTAGGED = 50;

export class Session {
  state: State = 'not-authenticated';
  user: string | null = null;
  /** Failed LOGIN/AUTHENTICATE attempts in this session. */
  authFailures = 0;
  view: MailboxView | null = null;
  idling = false;
  /** The session is TLS (implicit TLS port, or after STARTTLS). */
  tls: boolean;
  /** STARTTLS was answered OK: the handshake starts before the next command is read. */
  pendingTls = false;
  readonly log: Logger;
  private reader: CommandReader;
  private readonly queue: ReaderItem[] = [];
  private readonly waiters: Array<(item: ReaderItem | null) => void> = [];
  private closed = false;
  private syncChain: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(
    readonly ctx: ServerContext,
    /** The TLS socket after STARTTLS. */
    public socket: net.Socket,
    id: number,
    /** This session's record in the trace journal (commands and tagged replies). */
    private readonly recorder?: SessionRecorder,
  ) {
    this.log = ctx.logger.child('imap', { session: id, remote: socket.remoteAddress });
    this.tls = socket instanceof TLSSocket;
    this.reader = this.newReader();
    this.unsubscribe = ctx.store.onChange((event) => {
      const view = this.view;
      if (!view || event.user !== view.user || event.folder !== view.folder) return;
      view.note(event.change);
      if (this.idling) void this.flushUpdates(true);
    });
    socket.on('data', this.onData);
    socket.on('close', () => this.shutdown());
    socket.on('error', (error) => this.log.debug('socket error', { error }));
    socket.on('timeout', this.onTimeout);
    this.setIdleTimeout(ctx.limits.sessionIdle);
  }

  private readonly onData = (data: Buffer) => this.reader.push(data);
  private readonly onTimeout = () => {
    this.writeText('* BYE Autologout; idle for too long');
    this.close();
  };

  private newReader(): CommandReader {
    return new CommandReader({
      maxLineLength: this.ctx.limits.maxLineLength,
      maxLiteral: this.ctx.limits.imapMaxLiteral,
      continuation: () => this.writeText('+ Ready for literal data'),
      emit: (item) => this.enqueue(item),
    });
  }

  /** CAPABILITY of this session, which depends on TLS (STARTTLS, LOGINDISABLED). */
  capabilities(): string[] {
    const tls = this.ctx.tls;
    return capabilitiesFor({ starttls: !!tls && !this.tls && this.state === 'not-authenticated', loginDisabled: !!tls?.requireTls && !this.tls });
  }

  start(): void {
    this.log.info(this.socket instanceof TLSSocket ? `connection opened (TLS: ${describeTlsSocket(this.socket)})` : 'connection opened');
    this.writeText(`* OK [CAPABILITY ${this.capabilities().join(' ')}] ${this.ctx.hostname} IMAP4rev1 mail-lab ready`);
    void this.run().catch((error) => {
      this.log.error('session failed', { error: error instanceof Error ? error.stack : String(error) });
      this.close();
    });
  }

  setIdleTimeout(ms: number): void {
    this.socket.setTimeout(ms);
  }

  // ---- input ----

  private enqueue(item: ReaderItem): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else {
      this.queue.push(item);
      if (this.queue.length > 16) this.socket.pause();
    }
  }

  private next(): Promise<ReaderItem | null> {
    const item = this.queue.shift();
    if (item) {
      if (this.queue.length < 8) this.socket.resume();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next raw client line (AUTHENTICATE responses, IDLE's DONE); null when the client went away. */
  async readLine(masked: boolean): Promise<string | null> {
    const item = await this.next();
    if (!item) return null;
    if (item.kind === 'error') {
      this.log.info('C: <refused input>');
      return '*';
    }
    const line = item.texts[0];
    this.log.info(`C: ${masked ? '****' : line}`);
    return line;
  }

  private async run(): Promise<void> {
    for (;;) {
      const item = await this.next();
      if (!item) return;
      if (item.kind === 'error') {
        this.log.info('C: <input refused by limits>');
        this.recorder?.command('<input refused by limits>');
        this.writeText(`${item.tag ?? '*'} ${item.response}`);
        if (item.fatal) return this.close();
        continue;
      }
      const parsed = parseCommand(item);
      const shown = transcriptOf(item, parsed.ok ? parsed.command : null);
      this.log.info(`C: ${shown}`);
      this.recorder?.command(shown);
      if (!parsed.ok) {
        const refused = parsed.refusal && ALLOWED[this.state].has(parsed.refusal.name) && parsed.tag !== null;
        this.tagged(parsed.tag ?? '*', refused ? no(parsed.message, parsed.refusal!.code) : bad(parsed.message));
        continue;
      }
      await this.execute(parsed.tag, parsed.command);
      if (this.state === 'logout' || this.closed) return this.close();
      if (this.pendingTls) await this.startTls();
    }
  }

  /**
   * The handshake after `OK Begin TLS negotiation now`. Commands the client
   * pipelined behind STARTTLS arrived in plain text: dropped, with any partial
   * line, so nobody can inject commands into the TLS session (RFC 3207 section 6
   * describes the attack). The session goes on over the TLS socket.
   */
  private async startTls(): Promise<void> {
    this.pendingTls = false;
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.off('timeout', this.onTimeout);
    if (this.queue.length) this.log.info(`dropped ${this.queue.length} command(s) sent in plain text after STARTTLS`);
    this.queue.length = 0;
    this.reader = this.newReader();
    plain.resume();
    try {
      const secure = await upgradeServerSocket(plain, this.ctx.tls!);
      this.socket = secure;
      this.tls = true;
      secure.on('data', this.onData);
      secure.on('timeout', this.onTimeout);
      secure.on('error', (error) => this.log.debug('socket error', { error }));
      this.setIdleTimeout(this.ctx.limits.sessionIdle);
      this.log.info(`TLS started: ${describeTlsSocket(secure)}`);
    } catch (error) {
      this.log.info('TLS handshake failed', { error: (error as Error).message });
      this.close();
    }
  }

  private async execute(tag: string, command: Command): Promise<void> {
    if (!ALLOWED[this.state].has(command.name)) {
      this.tagged(tag, bad(refusal(this.state, command.name)));
      return;
    }
    // Commands that answer with many lines and never wait for the client: their lines go out in few large writes.
    const batched = BATCHED.has(command.name);
    if (batched) this.cork();
    this.untaggedSent = 0;
    this.untaggedHidden = { lines: 0, octets: 0 };
    let result: Result;
    try {
      const handler = HANDLERS[command.name] as (s: Session, tag: string, c: Command) => Promise<Result>;
      result = await handler(this, tag, command);
    } catch (error) {
      result = failure(error, this.log);
    }
    try {
      if (this.closed) return;
      // RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH (UID forms excepted).
      const quiet = (command.name === 'FETCH' || command.name === 'STORE' || command.name === 'SEARCH') && !command.uid;
      await this.flushUpdates(!quiet);
      if (this.untaggedHidden.lines > 0) {
        this.log.info(`S: ... ${this.untaggedHidden.lines} more untagged responses (${this.untaggedHidden.octets} octets) not shown`);
      }
      this.tagged(tag, result);
    } finally {
      if (batched) this.uncork();
    }
  }

  private corked = false;
  private corkedOctets = 0;
  /** Untagged responses of the current command written to the transcript, and those left out of it. */
  private untaggedSent = 0;
  private untaggedHidden = { lines: 0, octets: 0 };

  private cork(): void {
    if (this.corked || this.closed) return;
    this.socket.cork();
    this.corked = true;
    this.corkedOctets = 0;
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  // ---- untagged updates ----

  /** Sends pending EXISTS / EXPUNGE / FETCH FLAGS for the selected mailbox (serialised). */
  flushUpdates(allowExpunge: boolean, force = false): Promise<void> {
    const run = async () => {
      const view = this.view;
      if (!view || this.closed || (!view.dirty && !force)) return;
      view.dirty = false;
      try {
        const snap = await this.ctx.store.snapshot(view.user, view.folder);
        for (const line of view.sync(snap, allowExpunge)) this.untagged(line);
      } catch (error) {
        view.gone = true;
        this.log.debug('selected mailbox unreadable', { error });
      }
      if (view.gone && this.view === view) {
        this.writeText('* BYE The selected mailbox was deleted or rebuilt; please reconnect');
        this.state = 'logout';
        this.close();
      }
    };
    this.syncChain = this.syncChain.then(run, run).catch((error) => this.log.error('update failed', { error }));
    return this.syncChain;
  }

  // ---- output ----

  untagged(values: ImapValue[]): void {
    this.writeValues([raw('*'), ...values]);
  }

  writeValues(values: ImapValue[]): void {
    const chunks = encodeLine(values);
    const wire = toWire(chunks);
    // The transcript shows the first responses of a command; a long listing is summed up in one line.
    if (this.untaggedSent++ < TRANSCRIPT_UNTAGGED) this.log.info(`S: ${toTranscript(chunks)}`);
    else {
      this.untaggedHidden.lines++;
      this.untaggedHidden.octets += wire.length;
    }
    if (this.closed) return;
    this.socket.write(wire);
    if (this.corked && (this.corkedOctets += wire.length) >= CORK_OCTETS) {
      // Let the client start reading a long answer before it is complete.
      this.socket.uncork();
      this.socket.cork();
      this.corkedOctets = 0;
    }
  }

  /**
   * Resolves once the output waiting in the socket is below DRAIN_OCTETS (at
   * once when it is): a long answer built batch by batch (FETCH over a big
   * mailbox) is not piled up in memory ahead of a slow client.
   */
  drained(): Promise<void> {
    if (this.closed || this.socket.writableLength < DRAIN_OCTETS) return Promise.resolve();
    // Uncorked while waiting: a write still in flight when corked again would leave the rest buffered, and no drain would come.
    const corked = this.corked;
    this.uncork();
    return drainOrClose(this.socket).then(() => {
      if (corked) this.cork();
    });
  }

  writeText(line: string): void {
    this.log.info(`S: ${line}`);
    if (!this.closed && this.socket.writable) this.socket.write(line + '\r\n');
  }

  tagged(tag: string, result: Result): void {
    const line = `${tag} ${result.status}${result.code ? ` [${result.code}]` : ''} ${result.text}`;
    this.recorder?.reply(line);
    this.writeText(line);
  }

  /** The server is stopping: untagged BYE, then close (RFC 3501 7.1.5). */
  shutdownByServer(): void {
    this.writeText('* BYE Server shutting down');
    this.close();
  }

  close(): void {
    if (!this.closed) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref(); // a client that never closes its side
    }
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    if (this.recorder) {
      this.recorder.user = this.user ?? undefined;
      this.recorder.finish();
    }
    this.log.info('connection closed');
    for (const waiter of this.waiters.splice(0)) waiter(null);
  }
}

/** The client line for the transcript: literals summarised, LOGIN/AUTHENTICATE secrets masked. */
function transcriptOf(frame: Frame, command: Command | null): string {
  const text = frame.texts.map((t, i) => (i < frame.literals.length ? `${t}<${frame.literals[i].length} octets>` : t)).join('');
  const tag = text.split(' ')[0];
  if (command?.name === 'LOGIN') return `${tag} LOGIN ${quote(command.user)} ****`;
  if (command?.name === 'AUTHENTICATE') return `${tag} AUTHENTICATE ${command.mechanism}${command.initial !== null ? ' ****' : ''}`;
  const m = /^(\S+ (?:LOGIN|AUTHENTICATE))\b/i.exec(text);
  return m ? `${m[1]} ****` : text;
}
