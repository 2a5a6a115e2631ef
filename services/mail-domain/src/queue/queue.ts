/**
 * The outbound queue and its delivery agent.
 *
 * Every accepted message goes through here, local or remote (as in
 * Postfix): SMTP answers 250 only once `enqueue` has put the message
 * durably in the spool. The agent then delivers local recipients into the
 * mailbox store (local-delivery.ts) and remote ones over SMTP (outbound.ts),
 * per recipient.
 * Temporary failures are retried every `retryInterval`; after `warnAfter`
 * the sender gets a delay notice, after `returnAfter` the message is
 * returned; a 5xx bounces at once. Notices are RFC 3464 reports (dsn.ts)
 * that go through this same queue.
 *
 * Events, which the domain's event stream publishes (events.ts):
 * `queued` (entry), `attempt` (entry, AttemptEvent: one remote domain tried,
 * with the DNS questions and answers), `deferred`/`delivered`/`bounced`
 * (entry, recipient), `returned` (entry, recipient: its lifetime ended),
 * `warned` (entry: the delay notice went out), `held`/`released`/`deleted`/
 * `expired` (entry), `flushed` (ids), `profile` (name, previous), `done`.
 */
import { EventEmitter } from 'node:events';
import type { LabProfile } from '../../../core/src/config';
import { formatDuration } from '../../../core/src/duration';
import type { Logger } from '../../../core/src/logger';
import type { MailStore } from '../store/types';
import { buildDsn, type DsnRecipient } from './dsn';
import { alreadyInMailbox, deliverLocal } from './local-delivery';
import { deliverRemote, type DnsLookup, type Outcome } from './outbound';
import { Wakeups } from './wakeups';
import type { SmtpConnectionCache } from './connection-cache';
import type { LabResolver } from '../resolver';
import { Spool } from './spool';
import { SharedText } from './shared-text';
import { relayIdentity, SeenIndex, splitRecipients, type RelayIdentity } from './dedupe';
import { dirname, join } from 'node:path';
import { messageIdentity, type TraceJournal } from '../trace/journal';
import { headerPart } from '../message-headers';
import type { QueueListing, QueueProfileInfo, QueueSummary } from '../../../core/src/admin/api';
import type { AttemptRecord, QueueEntry, RecipientState } from './types';

export interface QueueOptions {
  /** This domain, e.g. `dadali.com`. */
  domain: string;
  /** This server's host name, e.g. `mail.dadali.com` (HELO name, DSN reporting MTA). */
  hostname: string;
  spoolDir: string;
  store: MailStore;
  timing: LabProfile;
  resolver: LabResolver;
  portFor: (exchange: string, ip: string) => number;
  logger: Logger;
  now?: () => Date;
  /**
   * Deliveries running at once. @default 20, Postfix's
   * `default_destination_concurrency_limit`: a queue draining after a healed
   * link keeps 20 sessions to the other domain busy (the connection cache
   * keeps as many open), not 8.
   */
  concurrency?: number;
  /** Open SMTP sessions kept for the next message to the same host (connection-cache.ts); without it every message opens its own. */
  connectionCache?: SmtpConnectionCache;
  /** Where finished messages are recorded for `trace`. */
  trace?: TraceJournal;
  /** The lab CA: outbound SMTP uses STARTTLS when offered and verifies the peer against it. */
  tls?: { ca: string };
  /** Name of `timing` in `profiles` (the lab definition's `profile`). */
  profile?: string;
  /** Every profile of the lab, for `setProfile`. */
  profiles?: Record<string, LabProfile>;
  /**
   * No-Docker lab: which remote domains cannot be reached now, and why (the
   * domain's link control owns it: links/reachability.ts). A blocked domain's
   * attempt "times out" at once, as a cut cable would make it. The Docker
   * lab needs none: its links are cut in the network.
   */
  reachability?: { blockedReason(domain: string): string | null };
}

/** An operation on a queue id that is not (or no longer) in the queue. */
export class UnknownQueueIdError extends Error {
  override readonly name = 'UnknownQueueIdError';
  constructor(readonly id: string, domain: string) {
    super(`no message ${id} in the queue of ${domain}`);
  }
}

/** `setProfile` with a name the lab definition does not have. */
export class UnknownProfileError extends Error {
  constructor(readonly profile: string, readonly available: string[]) {
    super(`unknown queue profile "${profile}"; the lab has: ${available.join(', ')}`);
  }
}

/** One remote domain tried for a message (the `attempt` event). */
export interface AttemptEvent {
  domain: string;
  recipients: string[];
  /** Why it was not even tried (no-Docker lab: the link is cut), or undefined. */
  blocked?: string;
  mx?: { exchange: string; priority: number }[];
  lookups?: DnsLookup[];
  host?: string;
  tls?: string;
  outcomes: { address: string; result: 'delivered' | 'deferred' | 'bounced'; detail: string }[];
}

export interface EnqueueRequest {
  from: string;
  recipients: { address: string; local: boolean }[];
  message: Buffer;
  id?: string;
  /** A relayed copy's identity, from `admitRelay`: recorded durably before delivery starts (and before SMTP answers 250). */
  relay?: RelayIdentity;
}

/** The queue's answer to `admitRelay`: for which recipients a message that came in over SMTP is still to be queued. */
export interface RelayAdmission<R extends { address: string }> {
  /** The recipients to queue it for: all of them, unless it is a duplicate. */
  fresh: R[];
  /** The recipients that had it already, from the earlier copy (queued as `duplicateOf`). */
  already: R[];
  /** Our queue id of the earlier copy of this relayed message, when there is one. */
  duplicateOf?: string;
  /** The identity of a relayed copy (undefined for data that is none: a hand-typed message); give it to `enqueue`. */
  relay?: RelayIdentity;
}

/** Deliveries at once unless the options say otherwise (see `QueueOptions.concurrency`). */
export const DEFAULT_CONCURRENCY = 20;

export class OutboundQueue extends EventEmitter {
  private readonly entries = new Map<string, QueueEntry>();
  /** Recently finished messages, for `trace` and the scenarios (bounded). */
  private readonly done = new Map<string, QueueEntry>();
  private readonly running = new Set<string>();
  /** Messages due for an attempt while every delivery slot was busy (insertion order = FIFO). */
  private readonly waiting = new Set<string>();
  /** When each message next needs the queue (attempt, warning, return): what is due is found without scanning the queue. */
  private readonly wakeups = new Wakeups();
  /** One copy of the texts repeated across entries (shared-text.ts). */
  private readonly shared = new SharedText();
  private readonly spool: Spool;
  /** Relayed copies accepted recently, to answer a sender's redelivery without delivering twice (dedupe.ts). */
  private readonly seen: SeenIndex;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The lab's queue profiles, and the name of the one in force (`setProfile`). */
  private profiles: Record<string, LabProfile>;
  private profileName: string;

  constructor(private readonly o: QueueOptions) {
    super();
    this.spool = new Spool(o.spoolDir);
    this.seen = new SeenIndex(join(dirname(o.spoolDir), 'relayed.log'), () => this.o.timing.returnAfter, () => this.now());
    this.now = o.now ?? (() => new Date());
    this.profiles = o.profiles ?? {};
    this.profileName = o.profile ?? (Object.entries(this.profiles).find(([, p]) => p === o.timing)?.[0] || 'custom');
  }

  /** The timings in force now (the lab definition's profile, or the one `setProfile` chose). */
  profile(): QueueProfileInfo {
    const t = this.o.timing;
    return { name: this.profileName, retryInterval: t.retryInterval, warnAfter: t.warnAfter, returnAfter: t.returnAfter, available: Object.keys(this.profiles) };
  }

  /**
   * Switches to another profile of the lab definition, without a restart
   * (`npx mail-lab queue-profile`; not kept across a restart, which reads
   * lab.yaml again). Messages already queued take the new timings at once:
   *
   * - warning and return count from each message's arrival, as the lifetime
   *   always does (RFC 5321 4.5.4.1: the give-up time is measured from when
   *   the message was queued). A message queued 3 minutes ago under
   *   `classroom` is therefore past `demo`'s 90 s lifetime and is returned at
   *   once; one queued 20 s ago gets its warning 10 s later. That is the
   *   point of the switch: the class sees the warning now, not in 2 minutes.
   * - the next attempt counts from the recipient's last attempt (as Postfix
   *   does), so it moves to last attempt + new retryInterval: earlier when the
   *   new interval is shorter, later when it is longer, and due at once when
   *   that time has passed. A recipient not tried yet, or flushed (due now),
   *   keeps its time.
   */
  async setProfile(name: string): Promise<{ previous: string; profile: QueueProfileInfo; changed: boolean; queued: number; rescheduled: number }> {
    if (!Object.hasOwn(this.profiles, name)) throw new UnknownProfileError(name, Object.keys(this.profiles));
    const previous = this.profileName;
    const next = this.profiles[name];
    // The options object is this queue's own (domain.ts builds it); every timing read goes through it.
    this.o.timing = next;
    this.profileName = name;
    const now = this.now().getTime();
    let rescheduled = 0;
    for (const e of this.entries.values()) {
      let changed = false;
      for (const r of e.recipients) {
        if (r.status !== 'pending' || !r.nextAttempt || Date.parse(r.nextAttempt) <= now) continue;
        const last = [...e.history].reverse().find((h) => h.recipients.includes(r.address));
        if (!last) continue;
        const at = new Date(Date.parse(last.time) + next.retryInterval).toISOString();
        if (at !== r.nextAttempt) {
          r.nextAttempt = at;
          changed = true;
        }
      }
      if (changed) {
        rescheduled++;
        // A running delivery writes the entry itself when it ends.
        if (!this.running.has(e.id)) await this.spool.update(e);
      }
    }
    this.o.logger.info(`queue profile ${previous} -> ${name}: retry every ${formatDuration(next.retryInterval)}, warn after ${formatDuration(next.warnAfter)}, return after ${formatDuration(next.returnAfter)}`, {
      by: 'admin',
      queued: this.entries.size,
      rescheduled,
    });
    this.emit('profile', name, previous);
    for (const e of this.entries.values()) this.plan(e);
    this.schedule();
    return { previous, profile: this.profile(), changed: previous !== name, queued: this.entries.size, rescheduled };
  }

  /**
   * The profiles of a reloaded lab definition (`npx mail-lab reload`); then `setProfile`
   * puts one in force. The one in force now keeps running until then.
   */
  setProfiles(profiles: Record<string, LabProfile>): void {
    this.profiles = profiles;
  }

  /**
   * Empties the queue for a new class (`npx mail-lab reset --queues`): every message is
   * deleted as `remove` does (nobody is told; a delivery under way finishes first).
   * Returns the ids dropped.
   */
  async clear(): Promise<string[]> {
    const ids = [...this.entries.keys()];
    const dropped: string[] = [];
    for (const id of ids) {
      try {
        await this.remove(id);
        dropped.push(id);
      } catch (e) {
        // Finished while we waited for its delivery: not in the queue any more.
        if (!(e instanceof UnknownQueueIdError)) throw e;
      }
    }
    return dropped;
  }

  /** Loads the spool after a restart; messages still owed are delivered again. */
  async init(): Promise<void> {
    // The repeated texts are shared as each entry is read (shared-text.ts), not after all are.
    const recovered = await this.spool.init((e) => this.shared.entry(e));
    // Relayed copies accepted before a crash: the spool entry has the key even when the log line was not written yet.
    await this.seen.init(recovered.filter((e) => e.relayKey).map((e) => ({ key: e.relayKey!, id: e.id, recipients: e.recipients.map((r) => r.address), time: e.arrival })));
    for (const e of recovered) {
      for (const r of e.recipients) {
        // A crash between the mailbox append and the spool update must not deliver twice.
        if (r.status === 'pending' && r.local && (await alreadyInMailbox(this.o.store, e.id, r.address))) {
          r.status = 'delivered';
          r.doneAt = this.now().toISOString();
          r.detail = 'found in the mailbox after a restart';
        }
      }
      this.entries.set(e.id, e);
      this.plan(e);
      // One line per message for a classroom queue; a summary for a big one (100,000 lines would bury the log).
      if (recovered.length <= 50) this.o.logger.info(`recovered ${e.id} from the spool`, { pending: e.recipients.filter((r) => r.status === 'pending').length });
    }
    if (recovered.length > 50) this.o.logger.info(`recovered ${recovered.length} messages from the spool`);
    this.schedule();
  }

  newId(): string {
    return Spool.newId(this.now());
  }

  /**
   * The duplicate check of the receiving side (dedupe.ts), asked by SMTP
   * before it queues data that came from another server: a relayed copy
   * accepted before (its sender died between our 250 and recording it,
   * RFC 5321 6.1) is not queued again for the recipients that had it; they
   * are `already`, the earlier copy's queue id is `duplicateOf`. Data that
   * is no relayed copy (no Received with an id at its top: a hand-typed
   * message) is never a duplicate. Then `enqueue(..., relay)` for `fresh`
   * (if any) records this copy.
   */
  admitRelay<R extends { address: string }>(data: Buffer, recipients: R[]): RelayAdmission<R> {
    const relay = relayIdentity(data) ?? undefined;
    const seen = relay ? this.seen.lookup(relay.key) : undefined;
    return { ...splitRecipients(recipients, seen), ...(seen ? { duplicateOf: seen.id } : {}), ...(relay ? { relay } : {}) };
  }

  /** Stores a message durably; returns its queue id. Delivery starts at once. */
  async enqueue(req: EnqueueRequest): Promise<string> {
    const id = req.id ?? this.newId();
    const now = this.now().toISOString();
    const entry: QueueEntry = {
      id,
      ...messageIdentity(req.message),
      from: req.from,
      arrival: now,
      size: req.message.length,
      recipients: req.recipients.map((r) => ({ address: r.address.toLowerCase(), local: r.local, status: 'pending', attempts: 0, nextAttempt: now })),
      warned: false,
      held: false,
      history: [],
      ...(req.relay ? { relayKey: req.relay.key } : {}),
    };
    await this.spool.add(entry, req.message);
    if (req.relay) await this.seen.record({ key: req.relay.key, id, recipients: entry.recipients.map((r) => r.address), time: now });
    this.entries.set(id, this.shared.entry(entry));
    this.o.logger.info(`queued ${id}`, { from: req.from || '<>', to: entry.recipients.map((r) => r.address).join(','), size: entry.size });
    this.emit('queued', entry);
    // The first attempt takes the message from here, not back from the spool file just written.
    void this.attempt(id, req.message);
    return id;
  }

  /** The queue like mailq. */
  list(): QueueListing[] {
    return [...this.listing()];
  }

  /** The same one message at a time, for an answer written as it is made: a queue of 100,000 is never one array. */
  *listing(): Generator<QueueListing> {
    const now = this.now().getTime();
    for (const e of this.entries.values()) yield this.listingOf(e, now);
  }

  /** Every message in the queue now, in the order they came (the live entries: to read, not to change). */
  messages(): IterableIterator<QueueEntry> {
    return this.entries.values();
  }

  private listingOf(e: QueueEntry, now: number): QueueListing {
    const pending = e.recipients.filter((r) => r.status === 'pending');
    const next = pending.map((r) => r.nextAttempt).filter(Boolean).sort()[0];
    const last = [...e.history].reverse().find((h) => h.result !== 'delivered');
    const arrival = Date.parse(e.arrival);
    return {
      id: e.id,
      size: e.size,
      arrival: e.arrival,
      ageMs: now - arrival,
      from: e.from,
      subject: e.subject,
      messageId: e.messageId,
      recipients: e.recipients.map((r) => ({ address: r.address, status: r.status, attempts: r.attempts, lastError: r.lastError, nextAttempt: r.nextAttempt })),
      attempts: Math.max(0, ...e.recipients.map((r) => r.attempts)),
      lastError: last?.detail,
      nextAttempt: next,
      held: e.held,
      warnAt: new Date(arrival + this.o.timing.warnAfter).toISOString(),
      warned: e.warned,
      returnAt: new Date(arrival + this.o.timing.returnAfter).toISOString(),
    };
  }

  /**
   * The counts of `list()` without listing: a listing of 100,000 deferred
   * messages is 56 MiB of JSON, for a dashboard that shows three numbers.
   */
  summary(): QueueSummary {
    let held = 0;
    let deferred = 0;
    for (const e of this.entries.values()) {
      if (e.held) held++;
      if (e.recipients.some((r) => r.attempts > 0)) deferred++;
    }
    return { size: this.entries.size, held, deferred };
  }

  /** Messages in the queue now (O(1): SMTP asks it before every MAIL FROM). */
  get size(): number {
    return this.entries.size;
  }

  get(id: string): QueueEntry | undefined {
    return this.entries.get(id);
  }

  /** Messages still in the queue with this Message-ID. */
  byMessageId(messageId: string): QueueEntry[] {
    const wanted = messageId.replace(/^<|>$/g, '');
    return [...this.entries.values()].filter((e) => e.messageId?.replace(/^<|>$/g, '') === wanted || e.id === wanted);
  }

  finished(id: string): QueueEntry | undefined {
    return this.done.get(id);
  }

  /** Retries now: every message, or one. Returns the ids that will be tried. */
  flush(id?: string): string[] {
    const ids = id ? (this.entries.has(id) ? [id] : []) : [...this.entries.keys()];
    const now = this.now().toISOString();
    for (const i of ids) for (const r of this.entries.get(i)!.recipients) if (r.status === 'pending') r.nextAttempt = now;
    for (const i of ids) void this.attempt(i);
    if (ids.length) this.emit('flushed', ids);
    return ids;
  }

  /** Stops delivery attempts of a message until `release` (postsuper -h). */
  async hold(id: string): Promise<'held' | 'already'> {
    const entry = this.require(id);
    if (entry.held) return 'already';
    entry.held = true;
    await this.spool.update(entry);
    this.o.logger.info(`held ${id}`, { by: 'admin' });
    this.emit('held', entry);
    this.plan(entry);
    this.schedule();
    return 'held';
  }

  /** Lets a held message be delivered again, at once (postsuper -H). */
  async release(id: string): Promise<'released' | 'already'> {
    const entry = this.require(id);
    if (!entry.held) return 'already';
    entry.held = false;
    await this.spool.update(entry);
    this.o.logger.info(`released ${id}`, { by: 'admin' });
    this.emit('released', entry);
    this.flush(id);
    return 'released';
  }

  /** Deletes a message from the queue without telling anyone (postsuper -d). */
  async remove(id: string): Promise<void> {
    const entry = this.require(id);
    while (this.running.has(id)) await new Promise((r) => setTimeout(r, 20));
    // The delivery under way finished it (delivered or bounced): there is nothing left to delete.
    if (!this.entries.has(id)) throw new UnknownQueueIdError(id, this.o.domain);
    await this.spool.remove(id);
    this.entries.delete(id);
    this.wakeups.set(id, null);
    entry.history.push({ time: this.now().toISOString(), recipients: entry.recipients.filter((r) => r.status === 'pending').map((r) => r.address), result: 'bounced', detail: 'deleted from the queue by the administrator; nobody was told' });
    this.remember(entry);
    this.o.logger.warn(`deleted ${id} from the queue`, { by: 'admin' });
    this.emit('deleted', entry);
  }

  /** Returns a message to its sender now, as if its lifetime were over (postsuper -e). */
  async expire(id: string): Promise<void> {
    const entry = this.require(id);
    while (this.running.has(id)) await new Promise((r) => setTimeout(r, 20));
    this.running.add(id);
    try {
      const now = this.now().toISOString();
      const bounced: DsnRecipient[] = [];
      for (const r of entry.recipients.filter((x) => x.status === 'pending')) {
        Object.assign(r, { status: 'bounced', doneAt: now, nextAttempt: undefined });
        bounced.push({ address: r.address, status: '4.4.7', diagnostic: `returned by the administrator before its lifetime ended; last error: ${r.lastError ?? 'none'}` });
        this.emit('bounced', entry, r);
      }
      entry.history.push({ time: now, recipients: bounced.map((b) => b.address), result: 'bounced', detail: 'expired by the administrator (postsuper -e)' });
      this.o.logger.warn(`expired ${id}: returning it to the sender now`, { by: 'admin' });
      this.emit('expired', entry);
      await this.finishAttempt(entry, bounced);
    } finally {
      this.running.delete(id);
      this.plan(entry);
      this.schedule();
    }
  }

  private require(id: string): QueueEntry {
    const entry = this.entries.get(id);
    if (!entry) throw new UnknownQueueIdError(id, this.o.domain);
    return entry;
  }

  private remember(entry: QueueEntry): void {
    this.o.trace?.add({ kind: 'queue', time: entry.arrival, domain: this.o.domain, queueId: entry.id, messageId: entry.messageId, entry });
    this.done.set(entry.id, entry);
    if (this.done.size > 500) this.done.delete(this.done.keys().next().value as string);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running.size) await new Promise((r) => setTimeout(r, 20));
  }

  /** Plans when this message next needs the queue: its earliest pending attempt, its delay warning, its return; nothing when held or done. */
  private plan(e: QueueEntry): void {
    const pending = e.recipients.filter((r) => r.status === 'pending');
    if (e.held || !pending.length || !this.entries.has(e.id)) return this.wakeups.set(e.id, null);
    const arrival = Date.parse(e.arrival);
    let next = arrival + this.o.timing.returnAfter;
    if (!e.warned && e.from !== '') next = Math.min(next, arrival + this.o.timing.warnAfter);
    for (const r of pending) if (r.nextAttempt) next = Math.min(next, Date.parse(r.nextAttempt));
    this.wakeups.set(e.id, next);
  }

  /** One timer, for the earliest planned wake-up. */
  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.wakeups.next();
    if (next === null) return;
    const delay = Math.max(0, Math.min(next - this.now().getTime(), 2 ** 31 - 1));
    this.timer = setTimeout(() => this.runDue(), delay);
    this.timer.unref?.();
  }

  /** Starts the messages that are due (held ones wait for release; a running one is planned again when it ends). */
  private runDue(): void {
    for (const id of this.wakeups.due(this.now().getTime())) {
      const e = this.entries.get(id);
      if (e && !e.held) void this.attempt(id);
    }
    this.schedule();
  }

  /** `message`: its bytes when the caller has them (a fresh enqueue); else they are read from the spool. */
  private async attempt(id: string, message?: Buffer): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.held || this.running.has(id) || this.closed) return;
    if (this.running.size >= (this.o.concurrency ?? DEFAULT_CONCURRENCY)) {
      // Wait for a free slot, once: pump() starts it when a delivery ends.
      this.waiting.add(id);
      return;
    }
    this.waiting.delete(id);
    this.running.add(id);
    try {
      await this.deliver(entry, message);
    } catch (e) {
      this.o.logger.error(`delivery of ${id} failed unexpectedly`, { error: (e as Error).message });
    } finally {
      this.running.delete(id);
      this.plan(entry);
      this.pump();
      this.schedule();
    }
  }

  /** Starts waiting deliveries, oldest first, while there are free slots. */
  private pump(): void {
    for (const id of this.waiting) {
      if (this.running.size >= (this.o.concurrency ?? DEFAULT_CONCURRENCY)) return;
      this.waiting.delete(id);
      void this.attempt(id);
    }
  }

  private async deliver(entry: QueueEntry, bytes?: Buffer): Promise<void> {
    const now = this.now();
    const due = entry.recipients.filter((r) => r.status === 'pending' && (!r.nextAttempt || Date.parse(r.nextAttempt) <= now.getTime()));
    const newlyBounced: DsnRecipient[] = [];
    if (due.length) {
      const message = bytes ?? (await this.spool.read(entry.id));
      const outcomes: Outcome[] = [];
      const records: AttemptRecord[] = [];
      for (const r of due.filter((x) => x.local)) {
        const o = await deliverLocal(this.o.store, entry.from, r.address, message);
        outcomes.push(o);
        records.push({ time: now.toISOString(), recipients: [r.address], result: o.result, detail: o.detail });
      }
      const byDomain = new Map<string, RecipientState[]>();
      for (const r of due.filter((x) => !x.local)) {
        const d = r.address.slice(r.address.lastIndexOf('@') + 1);
        byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
      }
      for (const [domain, rcpts] of byDomain) {
        const reason = this.o.reachability?.blockedReason(domain) ?? null;
        if (reason) {
          const detail = `connection to ${domain} timed out (${reason})`;
          rcpts.forEach((r) => outcomes.push({ address: r.address, result: 'deferred', detail, status: '4.4.1' }));
          records.push({ time: now.toISOString(), recipients: rcpts.map((r) => r.address), result: 'deferred', detail });
          this.emit('attempt', entry, { domain, recipients: rcpts.map((r) => r.address), blocked: reason, outcomes: rcpts.map((r) => ({ address: r.address, result: 'deferred', detail })) } satisfies AttemptEvent);
          continue;
        }
        const result = await deliverRemote({
          domain,
          from: entry.from,
          recipients: rcpts.map((r) => r.address),
          message,
          resolver: this.o.resolver,
          portFor: this.o.portFor,
          heloName: this.o.hostname,
          selfNames: [this.o.hostname],
          connectTimeout: this.o.timing.connectTimeout,
          commandTimeout: this.o.timing.commandTimeout,
          logger: this.o.logger.child('outbound', { id: entry.id }),
          tls: this.o.tls,
          cache: this.o.connectionCache,
        });
        outcomes.push(...result.outcomes);
        this.emit('attempt', entry, {
          domain,
          recipients: rcpts.map((r) => r.address),
          mx: result.mx,
          lookups: result.lookups,
          host: result.host,
          tls: result.tls,
          outcomes: result.outcomes.map((x) => ({ address: x.address, result: x.result, detail: x.detail })),
        } satisfies AttemptEvent);
        for (const kind of ['delivered', 'deferred', 'bounced'] as const) {
          const these = result.outcomes.filter((x) => x.result === kind);
          if (these.length) records.push({ time: now.toISOString(), recipients: these.map((x) => x.address), result: kind, mx: result.mx, host: result.host, tls: result.tls, detail: these[0].detail, transcript: result.transcript });
        }
      }
      entry.history.push(...records);
      const next = new Date(now.getTime() + this.o.timing.retryInterval).toISOString();
      for (const o of outcomes) {
        const r = entry.recipients.find((x) => x.address === o.address)!;
        r.attempts += 1;
        r.detail = o.detail;
        if (o.result === 'delivered') {
          r.status = 'delivered';
          r.doneAt = now.toISOString();
          r.nextAttempt = undefined;
          this.o.logger.info(`delivered ${entry.id} to ${r.address}`, { detail: o.detail });
          this.emit('delivered', entry, r);
        } else if (o.result === 'bounced') {
          r.status = 'bounced';
          r.doneAt = now.toISOString();
          r.lastError = o.detail;
          r.nextAttempt = undefined;
          newlyBounced.push({ address: r.address, status: o.status, diagnostic: o.detail, remoteMta: o.remoteMta });
          this.o.logger.warn(`bounced ${entry.id} for ${r.address}`, { detail: o.detail });
          this.emit('bounced', entry, r);
        } else {
          r.lastError = o.detail;
          r.nextAttempt = next;
          this.o.logger.info(`deferred ${entry.id} for ${r.address}, next attempt in ${formatDuration(this.o.timing.retryInterval)}`, { detail: o.detail });
          this.emit('deferred', entry, r);
        }
      }
    }
    this.shared.entry(entry);
    await this.finishAttempt(entry, newlyBounced);
  }

  /** After an attempt: lifetime checks, notices, and the spool brought up to date. */
  private async finishAttempt(entry: QueueEntry, newlyBounced: DsnRecipient[]): Promise<void> {
    await this.checkLifetime(entry, this.now(), newlyBounced);
    if (newlyBounced.length && entry.from !== '') await this.notify(entry, 'failure', newlyBounced);
    if (entry.recipients.every((r) => r.status !== 'pending')) {
      await this.spool.remove(entry.id);
      this.entries.delete(entry.id);
      this.remember(entry);
      this.emit('done', entry);
    } else {
      await this.spool.update(entry);
    }
  }

  /** Delay warning after `warnAfter`, return to sender after `returnAfter`. */
  private async checkLifetime(entry: QueueEntry, now: Date, newlyBounced: DsnRecipient[]): Promise<void> {
    const age = now.getTime() - Date.parse(entry.arrival);
    const pending = entry.recipients.filter((r) => r.status === 'pending');
    if (!pending.length) return;
    if (age >= this.o.timing.returnAfter) {
      for (const r of pending) {
        r.status = 'bounced';
        r.doneAt = now.toISOString();
        r.nextAttempt = undefined;
        const diagnostic = `delivery time expired after ${formatDuration(age)}; last error: ${r.lastError ?? 'none'}`;
        newlyBounced.push({ address: r.address, status: '4.4.7', diagnostic });
        this.o.logger.warn(`returned ${entry.id} for ${r.address} to the sender`, { detail: diagnostic });
        this.emit('returned', entry, r);
      }
      return;
    }
    if (age >= this.o.timing.warnAfter && !entry.warned && entry.from !== '') {
      entry.warned = true;
      await this.notify(
        entry,
        'delay',
        pending.map((r) => ({ address: r.address, status: '4.4.1', diagnostic: r.lastError ?? 'not delivered yet' })),
      );
      this.emit('warned', entry);
    }
  }

  private async notify(entry: QueueEntry, kind: 'delay' | 'failure', recipients: DsnRecipient[]): Promise<void> {
    const original = await this.spool.read(entry.id);
    const now = this.now();
    const id = this.newId();
    const dsn = buildDsn({
      kind,
      reportingMta: this.o.hostname,
      queueId: entry.id,
      originalSender: entry.from,
      arrival: new Date(entry.arrival),
      now,
      recipients,
      willRetryUntil: new Date(Date.parse(entry.arrival) + this.o.timing.returnAfter),
      originalHeaders: headerPart(original.toString('latin1'), { breaks: 'any', upTo: 'fields' }),
    });
    const received = `Received: by ${this.o.hostname} (mail-lab queue) id ${id};\r\n\t${now.toUTCString().replace('GMT', '+0000')}\r\n`;
    const local = entry.from.toLowerCase().endsWith('@' + this.o.domain);
    this.o.logger.info(`${kind === 'delay' ? 'delay notice' : 'returned-mail notice'} for ${entry.id} to ${entry.from}`, { notice: id });
    await this.enqueue({ id, from: '', recipients: [{ address: entry.from, local }], message: Buffer.concat([Buffer.from(received), dsn]) });
  }
}
