/**
 * The instructor's faults on one mail domain, in memory and reversible
 * without a restart (routes.ts puts them on the admin API, the lab CLI's
 * `fault` command drives them):
 *
 * - `server-down`: port 25 stops listening (connection refused) while 587,
 *   POP3, IMAP and the queue keep working; domain.ts closes and reopens the
 *   listener through `SmtpListenerControl`. `server-down --all`: every mail
 *   port stops listening (25, 587, 465, POP3, IMAP and their TLS ports), the
 *   whole mail server is down as a student's mail program sees it (its
 *   outbox keeps what it writes; its offline copy is all it can read); the
 *   queue and the admin API go on, so the instructor can still heal it.
 * - `greylist [delay]`: the first RCPT from an unknown (client IP, sender,
 *   recipient) triplet gets `451 4.7.1 Greylisted, try again in N s`; once the
 *   delay has passed the triplet is accepted (and stays accepted). Port 25
 *   only, as on a real MX: logged-in users on 587 are not greylisted.
 * - `greet-delay [delay]`: port 25 waits before its 220 greeting, as
 *   Postfix's postscreen does in its pregreet test; a client that sends a
 *   command before the greeting is an early talker (many spam bots are) and
 *   gets `421 … You talk too soon` (smtp-server's reply) and is cut off. A
 *   real MTA waits for the greeting (RFC 5321 4.3.1: the client waits for
 *   220), so mail between the domains still flows, only later.
 *   smtp/lab-connection.ts asks `greetDelayMs()` for every new connection.
 * - `reject <address> [code] [text]`: RCPT to that local address gets the
 *   given 5xx (mailbox full, user unknown …), so the sender bounces at once.
 * (`isolate` and the links are the domain's link control's: links/.)
 *
 * smtp/server.ts calls `checkRcpt()` first thing in onRcptTo.
 */
import type { Logger } from '../../../core/src/logger';
import { formatDuration } from '../../../core/src/duration';
import { GREYLIST_DEFAULT_MS, REJECT_DEFAULT } from '../../../core/src/faults';

export type MailFaultKind = 'server-down' | 'greylist' | 'greet-delay' | 'reject';

export interface MailFaultInfo {
  kind: MailFaultKind;
  domain: string;
  since: string;
  /** greylist, greet-delay: delay in ms. */
  delayMs?: number;
  /** greet-delay: clients cut off for talking too soon so far. */
  refused?: number;
  /** greylist: triplets seen / accepted so far. */
  triplets?: number;
  passed?: number;
  /** server-down: every mail port, not only 25 (`--all`). */
  all?: boolean;
  /** reject: the address and the reply. */
  address?: string;
  code?: number;
  text?: string;
}

/** Closes and reopens a listener: port 25, or every other mail port together (domain.ts owns them). */
export interface SmtpListenerControl {
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface RcptCheck {
  /** The SMTP client's address as smtp-server reports it (may be `::ffff:`-prefixed). */
  client: string;
  /** MAIL FROM address, '' for the null sender. */
  from: string;
  to: string;
  /** true on port 587 (submission). */
  submission: boolean;
}

export interface RcptRefusal {
  code: number;
  text: string;
}

interface Greylist {
  since: Date;
  delayMs: number;
  /** triplet -> first seen (ms since epoch). */
  firstSeen: Map<string, number>;
  passed: Set<string>;
}

export class MailFaults {
  private down: { since: Date; all: boolean } | null = null;
  private greylist: Greylist | null = null;
  private greet: { since: Date; delayMs: number; refused: number } | null = null;
  private readonly rejects = new Map<string, RcptRefusal & { since: Date }>();
  private readonly log: Logger;
  private readonly now: () => Date;
  private listener?: SmtpListenerControl;
  private others?: SmtpListenerControl;

  constructor(private readonly o: { domain: string; logger: Logger; now?: () => Date; listener?: SmtpListenerControl }) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.listener = o.listener;
  }

  get domain(): string {
    return this.o.domain;
  }

  /** domain.ts hands over the port-25 listener once it exists, and the other mail ports together (for `--all`). */
  attachListener(listener: SmtpListenerControl, others?: SmtpListenerControl): void {
    this.listener = listener;
    this.others = others;
  }

  /**
   * Port 25 down (`on`), with `all` every mail port, or everything up again
   * (`on` false). Applying the other scope while down widens or narrows it.
   * Returns false when nothing changed.
   */
  async setServerDown(on: boolean, all = false): Promise<boolean> {
    const was = this.down;
    if (!on) {
      if (!was) return false;
      await this.listener?.start();
      if (was.all) await this.others?.start();
      this.down = null;
      this.log.info(`fault cleared: server-down (${was.all ? 'every mail port' : 'port 25'} of ${this.domain} listens again)`);
      return true;
    }
    if (was && was.all === all) return false;
    if (!this.listener) throw new Error('no port-25 listener to control');
    if (all && !this.others) throw new Error('no control of the other mail ports');
    if (!was) await this.listener.stop();
    if (all && !was?.all) await this.others!.stop();
    if (!all && was?.all) await this.others!.start();
    this.down = { since: was?.since ?? this.now(), all };
    this.log.info(
      all
        ? `fault applied: server-down --all (every mail port of ${this.domain} no longer listens: connection refused; the queue and the admin API keep working)`
        : `fault applied: server-down (port 25 of ${this.domain} no longer listens: connection refused; 587, POP3, IMAP and the queue keep working)`,
    );
    return true;
  }

  /** Starts greylisting, or changes its delay (keeping the triplets seen). Returns false when it was already on with this delay. */
  setGreylist(delayMs: number): boolean {
    if (this.greylist && this.greylist.delayMs === delayMs) return false;
    this.greylist = { since: this.greylist?.since ?? this.now(), delayMs, firstSeen: this.greylist?.firstSeen ?? new Map(), passed: this.greylist?.passed ?? new Set() };
    this.log.info(`fault applied: greylist on ${this.domain} (first attempt of each client/sender/recipient triplet gets 451; accepted after ${formatDuration(delayMs)})`);
    return true;
  }

  /** Stops greylisting and forgets every triplet. Returns false when it was off. */
  clearGreylist(): boolean {
    if (!this.greylist) return false;
    this.greylist = null;
    this.log.info(`fault cleared: greylist on ${this.domain} (triplets forgotten)`);
    return true;
  }

  /** Starts waiting before the greeting on port 25, or changes the wait. Returns false when it already waited this long. */
  setGreetDelay(delayMs: number): boolean {
    if (this.greet?.delayMs === delayMs) return false;
    this.greet = { since: this.greet?.since ?? this.now(), delayMs, refused: this.greet?.refused ?? 0 };
    this.log.info(`fault applied: greet-delay on ${this.domain} (port 25 waits ${formatDuration(delayMs)} before its greeting; a client that talks first gets 421)`);
    return true;
  }

  /** Greets at once again. Returns false when it did already. */
  clearGreetDelay(): boolean {
    if (!this.greet) return false;
    this.greet = null;
    this.log.info(`fault cleared: greet-delay on ${this.domain} (port 25 greets at once)`);
    return true;
  }

  /** The wait before the greeting the fault asks for (port 25 only), or null without the fault. */
  greetDelayMs(submission: boolean): number | null {
    return this.greet && !submission ? this.greet.delayMs : null;
  }

  /** A client talked before the greeting and was cut off (counted while the fault is on). */
  earlyTalker(client: string): void {
    if (this.greet) this.greet.refused++;
    this.log.info(`early talker ${client.replace(/^::ffff:/, '')} sent a command before the greeting: 421 You talk too soon`);
  }

  /** Returns false when that address was already rejected with this reply. */
  setReject(address: string, code: number, text: string): boolean {
    const a = address.toLowerCase();
    const prev = this.rejects.get(a);
    if (prev && prev.code === code && prev.text === text) return false;
    this.rejects.set(a, { code, text, since: prev?.since ?? this.now() });
    this.log.info(`fault applied: reject ${a} (RCPT answers ${code} ${text})`);
    return true;
  }

  /** Returns false when that address was not rejected. */
  clearReject(address: string): boolean {
    const changed = this.rejects.delete(address.toLowerCase());
    if (changed) this.log.info(`fault cleared: reject ${address.toLowerCase()}`);
    return changed;
  }

  /** The reply for this RCPT when a fault applies, else null. */
  checkRcpt(c: RcptCheck): RcptRefusal | null {
    const to = c.to.toLowerCase();
    const rejected = this.rejects.get(to);
    if (rejected) {
      this.log.info(`RCPT TO:<${to}> refused by fault reject: ${rejected.code} ${rejected.text}`);
      return { code: rejected.code, text: rejected.text };
    }
    const g = this.greylist;
    if (!g || c.submission || !to.endsWith('@' + this.domain)) return null;
    const client = c.client.replace(/^::ffff:/, '');
    const key = `${client} ${c.from.toLowerCase() || '<>'} ${to}`;
    if (g.passed.has(key)) return null;
    const now = this.now().getTime();
    const first = g.firstSeen.get(key);
    if (first === undefined) g.firstSeen.set(key, now);
    const waited = first === undefined ? 0 : now - first;
    if (waited >= g.delayMs) {
      g.passed.add(key);
      this.log.info(`greylist: triplet (${client}, <${c.from}>, <${to}>) came back after ${formatDuration(waited)}: accepted`);
      return null;
    }
    const left = Math.max(1, Math.ceil((g.delayMs - waited) / 1000));
    this.log.info(`greylist: triplet (${client}, <${c.from}>, <${to}>) ${first === undefined ? 'is new' : `came back too early (after ${formatDuration(waited)})`}: 451`);
    return { code: 451, text: `4.7.1 Greylisted, try again in ${left} s` };
  }

  list(): MailFaultInfo[] {
    const out: MailFaultInfo[] = [];
    const d = this.domain;
    if (this.down) out.push({ kind: 'server-down', domain: d, since: this.down.since.toISOString(), ...(this.down.all ? { all: true } : {}) });
    if (this.greylist) {
      const g = this.greylist;
      out.push({ kind: 'greylist', domain: d, since: g.since.toISOString(), delayMs: g.delayMs, triplets: g.firstSeen.size, passed: g.passed.size });
    }
    if (this.greet) out.push({ kind: 'greet-delay', domain: d, since: this.greet.since.toISOString(), delayMs: this.greet.delayMs, refused: this.greet.refused });
    for (const [address, r] of this.rejects) out.push({ kind: 'reject', domain: d, since: r.since.toISOString(), address, code: r.code, text: r.text });
    return out;
  }

  /** Clears every fault of this domain; returns how many there were. */
  async clearAll(): Promise<number> {
    const n = this.list().length;
    await this.setServerDown(false);
    this.clearGreylist();
    this.clearGreetDelay();
    for (const a of [...this.rejects.keys()]) this.clearReject(a);
    return n;
  }
}
