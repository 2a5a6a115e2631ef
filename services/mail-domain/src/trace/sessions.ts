/**
 * Every SMTP, POP3 and IMAP session of a mail domain, one record in the
 * trace journal when it ends: who (client address, login, HELO), which
 * commands in which order with the first line of each reply, and when each
 * command came, in milliseconds after the connection opened (so a teacher
 * can tell a session typed by hand from one sent by a program), plus the
 * messages the session handed over (queue id, Received count, attachments).
 * `npx mail-lab check` reads these records (GET /activity) to say which
 * worksheet tasks a student did.
 *
 * Bounded: at most {@link SESSION_LIMITS}.commands commands per session
 * (the rest only counted), each line and reply cut to a few hundred
 * characters. Secrets never get here: the protocol servers hand over their
 * already masked transcript lines (PASS ****, LOGIN user ****, AUTH
 * arguments). A session that sent no command, or only QUIT/LOGOUT (the
 * readiness probes of `up` and `status`), is not recorded.
 */
import type { TraceJournal } from './journal';

export type SessionProtocol = 'smtp' | 'pop3' | 'imap';

export interface SessionCommand {
  /** Milliseconds after the connection opened. */
  at: number;
  /** The command line as sent (secrets masked); `<N bytes of DATA>` for an SMTP message. */
  line: string;
  /** The first line of the server's reply (IMAP: the tagged one). */
  reply?: string;
}

/** What a MIME or uuencode attachment scan found in a message (message-summary.ts). */
export interface AttachmentCount {
  mime: number;
  uuencode: number;
}

/** A message an SMTP session handed over and the server accepted. */
export interface AcceptedMessage {
  queueId: string;
  messageId?: string;
  subject?: string;
  /** `Received:` header lines it arrived with (a mail loop is refused at limits.maxHops). */
  hops: number;
  attachments?: AttachmentCount;
}

export interface SessionEvent {
  kind: 'session';
  /** When the connection opened (ISO). */
  time: string;
  /** When it closed. */
  end: string;
  domain: string;
  protocol: SessionProtocol;
  /** The service's standard port: 25, 587, 465, 110, 995, 143, 993. */
  port: number;
  /** The client's address (IPv4 without the ::ffff: prefix). */
  peer: string;
  /** The account logged in (a local user name), if any. */
  user?: string;
  /** SMTP: the name given in HELO/EHLO. */
  helo?: string;
  commands: SessionCommand[];
  /** Commands after the first {@link SESSION_LIMITS}.commands, counted only. */
  omitted?: number;
  /** SMTP: the messages accepted in this session. */
  messages?: AcceptedMessage[];
}

export const SESSION_LIMITS = { commands: 200, line: 200, reply: 200, messages: 50 } as const;

const cut = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
/** `::ffff:127.0.0.1` is 127.0.0.1. */
export const plainAddress = (address: string | undefined) => (address ?? 'unknown').replace(/^::ffff:/, '');

const NOTHING_DONE = /^(?:\S+ +)?(QUIT|LOGOUT)\b/i;

/** One session's record in the making; `finish()` writes it (once). */
export class SessionRecorder {
  private readonly started: Date;
  private readonly commands: SessionCommand[] = [];
  private readonly messages: AcceptedMessage[] = [];
  private omitted = 0;
  private awaitingReply = false;
  private done = false;
  user?: string;
  helo?: string;

  constructor(
    private readonly journal: TraceJournal | undefined,
    private readonly base: { domain: string; protocol: SessionProtocol; port: number; peer: string | undefined },
    private readonly now: () => Date = () => new Date(),
  ) {
    this.started = now();
  }

  /** A command line from the client (already masked). */
  command(line: string): void {
    if (this.done) return;
    this.awaitingReply = true;
    if (this.commands.length >= SESSION_LIMITS.commands) {
      this.omitted++;
      this.awaitingReply = false;
      return;
    }
    this.commands.push({ at: this.now().getTime() - this.started.getTime(), line: cut(line, SESSION_LIMITS.line) });
  }

  /** A reply line; the first one after a command is that command's reply, the others are ignored. */
  reply(line: string): void {
    // 0xx lines are VERB's narration (smtp/verbose.ts), not the reply to the command.
    if (this.done || !this.awaitingReply || /^0\d\d[ -]/.test(line)) return;
    this.awaitingReply = false;
    const last = this.commands[this.commands.length - 1];
    if (last && last.reply === undefined) last.reply = cut(line, SESSION_LIMITS.reply);
  }

  accepted(message: AcceptedMessage): void {
    if (!this.done && this.messages.length < SESSION_LIMITS.messages) this.messages.push(message);
  }

  /** The session ended: recorded unless it did nothing (no command, or only QUIT/LOGOUT). */
  finish(): void {
    if (this.done) return;
    this.done = true;
    if (!this.journal || this.commands.every((c) => NOTHING_DONE.test(c.line))) return;
    const event: SessionEvent = {
      kind: 'session',
      time: this.started.toISOString(),
      end: this.now().toISOString(),
      domain: this.base.domain,
      protocol: this.base.protocol,
      port: this.base.port,
      peer: plainAddress(this.base.peer),
      ...(this.user ? { user: this.user } : {}),
      ...(this.helo ? { helo: cut(this.helo, SESSION_LIMITS.line) } : {}),
      commands: this.commands,
      ...(this.omitted ? { omitted: this.omitted } : {}),
      ...(this.messages.length ? { messages: this.messages } : {}),
    };
    this.journal.add(event);
  }
}

/** Makes a recorder per connection for one protocol server (undefined journal: records nothing). */
export type SessionRecording = (protocol: SessionProtocol, port: number, peer: string | undefined) => SessionRecorder;

export function sessionRecording(journal: TraceJournal | undefined, domain: string, now?: () => Date): SessionRecording {
  return (protocol, port, peer) => new SessionRecorder(journal, { domain, protocol, port, peer }, now);
}
