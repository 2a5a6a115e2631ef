/**
 * Receiving side: a relayed message delivered again is accepted once.
 *
 * Why it happens: RFC 5321 6.1 makes the sender responsible for a message
 * until it has our 250 and has recorded it. A sender that dies after our
 * 250 but before writing down "delivered" (a crash, `docker kill`) still
 * has the message in its queue and, after its restart, rightly sends it
 * again: "at least once". RFC 5321 6.1 and 4.4 leave it to the receiver to
 * notice such duplicates; the trace information (Received) is the tool.
 *
 * How we recognise it: every MTA adds a Received header with its own queue
 * id (`id <queue id>`, RFC 5321 4.4) at the top of the data it relays. A
 * relayed copy is identified by (a) that top-most Received header's id, (b)
 * the Message-ID and (c) a SHA-256 of the whole data as it came in DATA,
 * which a retry from the sender's spool repeats octet for octet. Per
 * recipient we remember that we accepted it. A second copy with the same
 * identity is answered 250 ("duplicate of <our first queue id>") and not
 * queued again for recipients that already had it; recipients that did not
 * (the first attempt deferred them) get it normally. The duplicate is
 * logged and traced (`trace` shows the 250 and the id it duplicates).
 * The queue owns the index and makes the decision: SMTP asks
 * `OutboundQueue.admitRelay` and hands the identity to `enqueue`.
 *
 * What is not deduplicated: data without a Received header carrying an id
 * (a message typed by hand over telnet: sending the same text twice gives
 * two messages, as a student expects), and anything whose octets differ
 * (another message that reuses a Message-ID, the same text relayed twice
 * by the sender's queue under two queue ids).
 *
 * Durability: the record is written before the 250 that accepted the
 * first copy: the spool entry carries the key (`relayKey`, written with
 * the entry), and the queue appends a line to `<dataDir>/relayed.log`
 * (fsynced) before it starts delivery; at start the index is rebuilt from
 * the log and the spool entries. Bounded: a record is kept for the queue's
 * `returnAfter` (how long a sender with the same lab timing retries) and
 * at least a day (RETENTION_MIN_MS), at most MAX_RECORDS records (the
 * oldest go first); the log is compacted at start and whenever it has more
 * lines appended than records kept (and over 1000).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { headerPart } from '../message-headers';

/** A record is kept at least this long, whatever the timing profile. */
export const RETENTION_MIN_MS = 24 * 60 * 60 * 1000;
/** At most this many records (about 200 octets each on disk). */
export const MAX_RECORDS = 100_000;

export interface RelayIdentity {
  /** The stable key: hash of hop id, Message-ID and content hash. */
  key: string;
  /** The sending hop's queue id from its Received header. */
  hopId: string;
  messageId: string;
}

/**
 * The identity of a relayed copy, or null when the data is not one (no
 * Received header at its top with an `id` clause: a hand-typed message).
 */
export function relayIdentity(data: Buffer): RelayIdentity | null {
  // The header section of data as received (CRLF, each line with its CRLF), unfolded lines kept as they are.
  const headers = headerPart(data.toString('latin1'), { breaks: 'crlf', upTo: 'lines' });
  // The first header field must be a Received (RFC 5321 4.4: each hop prepends its own at the top).
  const first = /^Received:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/i.exec(headers);
  if (!first) return null;
  const hopId = /\bid\s+<?([^\s;<>]+)>?/i.exec(first[0].replace(/\([^()]*\)/g, ' '))?.[1];
  if (!hopId) return null;
  const messageId = /^Message-ID:[ \t]*((?:[^\r\n]|\r\n[ \t])*)/im.exec(headers)?.[1].replace(/\s+/g, '') ?? '';
  const content = createHash('sha256').update(data).digest('hex');
  const key = createHash('sha256').update(`${hopId}\n${messageId}\n${content}`).digest('hex').slice(0, 32);
  return { key, hopId, messageId };
}

export interface SeenRecord {
  key: string;
  /** Our queue id of the copy that was accepted. */
  id: string;
  /** Recipients that copy was accepted for (lower case). */
  recipients: string[];
  /** ISO time of acceptance. */
  time: string;
}

export interface Duplicate {
  /** Our queue id of the first accepted copy. */
  id: string;
  /** Recipients that already had it. */
  recipients: Set<string>;
}

/** Which recipients of a new copy are new; the rest were accepted before (as `duplicateOf`). */
export function splitRecipients<R extends { address: string }>(list: R[], seen: Duplicate | undefined): { fresh: R[]; already: R[] } {
  if (!seen) return { fresh: list, already: [] };
  return { fresh: list.filter((r) => !seen.recipients.has(r.address.toLowerCase())), already: list.filter((r) => seen.recipients.has(r.address.toLowerCase())) };
}

/** The durable index of relayed copies accepted recently (see the top of this file). */
export class SeenIndex {
  private readonly records = new Map<string, { id: string; recipients: Set<string>; time: number }>();
  private writes: Promise<void> = Promise.resolve();
  /** Lines appended since the last compaction. */
  private appended = 0;
  /** Lines recorded and not yet given to a write, and the write that will take them. */
  private pendingLines: string[] = [];
  private nextBatch: Promise<void> | null = null;

  constructor(
    readonly file: string,
    /** How long a record is kept (the queue's current returnAfter, at least RETENTION_MIN_MS). */
    private readonly retention: () => number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Loads the log, adds the spool's records (written before a crash could reach the log), compacts the log. */
  async init(fromSpool: SeenRecord[] = []): Promise<void> {
    let text = '';
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch {
      text = '';
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as SeenRecord;
        if (typeof r.key === 'string' && typeof r.id === 'string' && Array.isArray(r.recipients) && typeof r.time === 'string') this.add(r);
      } catch {
        // A line cut by a crash in the middle of an append: it was never acknowledged.
      }
    }
    for (const r of fromSpool) this.add(r);
    // Oldest first (expire() relies on it): spool records may be older than the log's last lines.
    const sorted = [...this.records].sort((x, y) => x[1].time - y[1].time);
    this.records.clear();
    for (const [key, r] of sorted) this.records.set(key, r);
    await fs.mkdir(dirname(this.file), { recursive: true });
    await this.serial(() => this.compact());
  }

  /** Writes run one at a time: an append never lands in a file that a compaction is about to replace. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Rewrites the log with the records still kept (temp file, fsync, rename). */
  private async compact(): Promise<void> {
    this.expire();
    const tmp = `${this.file}.tmp`;
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.write(this.lines());
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
    this.appended = 0;
  }

  private retentionMs(): number {
    return Math.max(this.retention(), RETENTION_MIN_MS);
  }

  get size(): number {
    return this.records.size;
  }

  lookup(key: string): Duplicate | undefined {
    const r = this.records.get(key);
    if (!r || this.now().getTime() - r.time > this.retentionMs()) return undefined;
    return { id: r.id, recipients: r.recipients };
  }

  /**
   * Remembers an accepted copy; resolves once the line is on disk. Lines
   * recorded while a write is under way go together in the next one, one
   * write and one fsync for all of them (group commit): 20 sessions relaying
   * at once used to wait for 20 fsyncs one after another.
   */
  async record(r: SeenRecord): Promise<void> {
    this.add(r);
    this.pendingLines.push(JSON.stringify(r) + '\n');
    this.nextBatch ??= this.serial(async () => {
      this.nextBatch = null;
      const lines = this.pendingLines;
      this.pendingLines = [];
      const fh = await fs.open(this.file, 'a', 0o600);
      try {
        await fh.write(lines.join(''));
        await fh.sync();
      } finally {
        await fh.close();
      }
      // The log is compacted at start, and also when it holds many more lines than records kept.
      this.expire();
      this.appended += lines.length;
      if (this.appended > Math.max(1000, this.records.size)) await this.compact();
    });
    return this.nextBatch;
  }

  private add(r: SeenRecord): void {
    const known = this.records.get(r.key);
    const time = Date.parse(r.time);
    if (known) {
      for (const a of r.recipients) known.recipients.add(a.toLowerCase());
      return;
    }
    // Map order is insertion order: the oldest first, for expire().
    this.records.set(r.key, { id: r.id, recipients: new Set(r.recipients.map((a) => a.toLowerCase())), time: Number.isFinite(time) ? time : this.now().getTime() });
  }

  private expire(): void {
    const limit = this.now().getTime() - this.retentionMs();
    // Insertion order is (nearly) time order: stop at the first record still kept.
    for (const [key, r] of this.records) {
      if (r.time >= limit) break;
      this.records.delete(key);
    }
    while (this.records.size > MAX_RECORDS) this.records.delete(this.records.keys().next().value as string);
  }

  private lines(): string {
    return [...this.records].map(([key, r]) => JSON.stringify({ key, id: r.id, recipients: [...r.recipients], time: new Date(r.time).toISOString() }) + '\n').join('');
  }
}
