/**
 * The queue's durable spool, one file per message like Postfix's queue
 * file: `<dataDir>/queue/<id>.msg` holds, on its first line, the envelope as
 * it arrived (one line of JSON: sender, recipients, arrival) and after it
 * the message exactly as it will be delivered. It is written to a temp file,
 * fsynced and renamed, and the directory is fsynced, before SMTP answers
 * 250: an acknowledged message survives a crash or `docker kill`. One file,
 * not two, is one fsync and one rename per message (issue 15: the two files
 * of every message were most of a receiving domain's kernel time).
 *
 * When an attempt changes the state (a recipient delivered, deferred,
 * bounced; a hold), it goes to `<id>.json` beside it (temp file, fsync,
 * rename), which from then on wins over the first line: the message is
 * never written again. A `.json` without its message is a removal that a
 * crash cut short (the message file goes first) and is removed at start.
 *
 * Spools of earlier versions (`<id>.eml`, the message alone, with its
 * `<id>.json`) are still read, so mail queued before an upgrade is not lost.
 *
 * The directory fsync that makes a new message's rename durable is shared
 * by the messages arriving meanwhile (group commit): with 20 sessions
 * sending at once, one directory fsync serves many of them.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncPath, replaceDurable } from '../../../core/src/durable-file';
import type { QueueEntry } from './types';

/** Queued messages are the server's own business: owner only. */
const SPOOL_MODE = 0o600;
/** Spool files up to this size are read synchronously. */
const SYNC_READ_MAX = 1024 * 1024;
/** Spool entries read at start between two turns of the event loop. */
const INIT_BATCH = 256;

/**
 * Whether parsed JSON is an entry the queue wrote for this file name. Other
 * JSON (`null`, `[]`, a hand-made file) is skipped like unreadable JSON,
 * rather than failing the queue's start on its first field.
 */
function isQueueEntry(x: unknown, id: string): x is QueueEntry {
  const e = x as Partial<QueueEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.id === id &&
    typeof e.from === 'string' &&
    typeof e.arrival === 'string' &&
    typeof e.size === 'number' &&
    Array.isArray(e.history) &&
    Array.isArray(e.recipients) &&
    e.recipients.every((r) => typeof r === 'object' && r !== null && typeof r.address === 'string' && typeof r.local === 'boolean' && ['pending', 'delivered', 'bounced'].includes(r.status) && typeof r.attempts === 'number')
  );
}

/** A spool file's first line is read in pieces of this size (an envelope is a few hundred octets). */
const HEAD_CHUNK = 4096;

/** The envelope line of a message file, parsed, or null when the file has none the queue wrote. */
function envelopeOf(path: string, id: string): QueueEntry | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    let head = Buffer.alloc(0);
    for (let at = 0; at < size; ) {
      const chunk = Buffer.allocUnsafe(Math.min(HEAD_CHUNK, size - at));
      const n = readSync(fd, chunk, 0, chunk.length, at);
      if (n <= 0) break;
      const nl = chunk.subarray(0, n).indexOf(10);
      if (nl >= 0) return parseEntry(Buffer.concat([head, chunk.subarray(0, nl)]).toString('utf8'), id);
      head = Buffer.concat([head, chunk.subarray(0, n)]);
      at += n;
    }
    return null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** JSON text as a queue entry for `id`, or null. */
function parseEntry(text: string, id: string): QueueEntry | null {
  try {
    const entry: unknown = JSON.parse(text);
    return isQueueEntry(entry, id) ? entry : null;
  } catch {
    return null;
  }
}

export class Spool {
  /** Messages whose state is in `<id>.json` (an attempt changed it since arrival). */
  private readonly withState = new Set<string>();
  /** Messages of an earlier version's spool: `<id>.eml`, the message alone. */
  private readonly legacy = new Set<string>();

  constructor(readonly dir: string) {}

  private path(id: string, ext: 'msg' | 'json' | 'eml'): string {
    return join(this.dir, `${id}.${ext}`);
  }

  /**
   * Reads the spool after a restart: the whole messages, oldest first. Each
   * entry goes through `adopt` as soon as it is parsed (the queue shares its
   * repeated texts there), so a queue of 100,000 is never held twice, once
   * as parsed and once as kept.
   */
  async init(adopt: (e: QueueEntry) => QueueEntry = (e) => e): Promise<QueueEntry[]> {
    await fs.mkdir(this.dir, { recursive: true });
    const { msgs, emls, states } = await this.sortNames();
    const entries: QueueEntry[] = [];
    // Read synchronously, a batch between two turns of the event loop: a small file comes from the
    // page cache in microseconds, where the thread pool's four round trips per file (open, stat,
    // read, close) took 10 s for a queue of 100,000.
    let read = 0;
    const turnDue = () => ++read % INIT_BATCH === 0;
    for (const id of msgs) {
      if (turnDue()) await new Promise((r) => setImmediate(r));
      const entry = this.loadMessage(id, states, adopt);
      if (entry) entries.push(entry);
    }
    for (const id of emls) {
      if (turnDue()) await new Promise((r) => setImmediate(r));
      const entry = await this.loadLegacy(id, states, adopt);
      if (entry) entries.push(entry);
    }
    // A state without its message: a removal cut short (the message goes first). Only the queue's own.
    for (const id of states) if (this.readState(id)) await fs.unlink(this.path(id, 'json')).catch(() => undefined);
    // Code-unit order (ISO times, upper-case ids): localeCompare took a second for 100,000.
    return entries.sort((a, b) => (a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The spool directory's names by kind, ids without the extension; temp files (writes that never finished) removed. */
  private async sortNames(): Promise<{ msgs: string[]; emls: string[]; states: Set<string> }> {
    const msgs: string[] = [];
    const emls: string[] = [];
    const states = new Set<string>();
    for (const f of await fs.readdir(this.dir)) {
      // A temp file is a write that never finished: nothing was acknowledged for it.
      if (f.includes('.tmp')) await fs.unlink(join(this.dir, f)).catch(() => undefined);
      else if (f.endsWith('.msg')) msgs.push(f.slice(0, -4));
      else if (f.endsWith('.eml')) emls.push(f.slice(0, -4));
      else if (f.endsWith('.json')) states.add(f.slice(0, -5));
    }
    return { msgs, emls, states };
  }

  /** A message file: the state an attempt wrote, else its envelope line. Its `.json` leaves `states` (what is left there has no message). */
  private loadMessage(id: string, states: Set<string>, adopt: (e: QueueEntry) => QueueEntry): QueueEntry | null {
    const state = states.has(id) ? this.readState(id) : null;
    const entry = state ?? envelopeOf(this.path(id, 'msg'), id);
    // A message file without an envelope line the queue wrote is not the queue's: left alone.
    if (!entry) return null;
    const kept = adopt(entry);
    // A .json the queue cannot read is overwritten by the next update and removed with the message.
    // The entry's own id string is kept: a queue of 100,000 holds no second copy of each name.
    if (states.delete(id)) this.withState.add(kept.id);
    return kept;
  }

  /** An earlier version's `.eml`: its `.json` is its envelope; an `.eml` alone was never acknowledged and is removed. */
  private async loadLegacy(id: string, states: Set<string>, adopt: (e: QueueEntry) => QueueEntry): Promise<QueueEntry | null> {
    const state = states.has(id) ? this.readState(id) : null;
    if (!state) {
      await fs.unlink(this.path(id, 'eml')).catch(() => undefined);
      return null;
    }
    const kept = adopt(state);
    this.legacy.add(kept.id);
    this.withState.add(kept.id);
    states.delete(id);
    return kept;
  }

  /** One `.json` read back, or null for anything the queue did not write (a torn file cannot exist: rename is atomic). */
  private readState(id: string): QueueEntry | null {
    try {
      return parseEntry(readFileSync(this.path(id, 'json'), 'utf8'), id);
    } catch {
      return null;
    }
  }

  /** A queue id: time-ordered, unique, short enough to read aloud in class. */
  static newId(now: Date): string {
    return now.getTime().toString(36).toUpperCase() + randomBytes(3).toString('hex').toUpperCase();
  }

  /** Temp file, fsync, rename; the directory is fsynced by the caller where the name must be durable. */
  private writeDurable(path: string, data: Buffer | string): Promise<void> {
    return replaceDurable(path, data, { mode: SPOOL_MODE, syncDir: false });
  }

  private dirSync: Promise<void> | null = null;
  private nextDirSync: Promise<void> | null = null;

  /**
   * fsync of the spool directory, covering every rename made before it
   * starts. One running may have started before the caller's rename, so the
   * caller waits for the next one, which everybody asking meanwhile shares.
   */
  private syncDir(): Promise<void> {
    if (!this.dirSync) {
      this.dirSync = fsyncPath(this.dir).finally(() => (this.dirSync = null));
      return this.dirSync;
    }
    this.nextDirSync ??= this.dirSync
      .catch(() => undefined)
      .then(() => {
        this.nextDirSync = null;
        return this.syncDir();
      });
    return this.nextDirSync;
  }

  /**
   * Stores a new message durably: its envelope line and the message, one
   * file. Resolves only when it is safe to answer 250.
   */
  async add(entry: QueueEntry, message: Buffer): Promise<void> {
    // JSON.stringify without indentation escapes every line break inside strings: the envelope is one line.
    await this.writeDurable(this.path(entry.id, 'msg'), Buffer.concat([Buffer.from(JSON.stringify(entry) + '\n'), message]));
    await this.syncDir();
  }

  /** Writes to each message's files, one after another: a hold and the end of an attempt may write the same entry at once. */
  private readonly writes = new Map<string, Promise<void>>();

  private inTurn(id: string, work: () => Promise<void>): Promise<void> {
    const run = (this.writes.get(id) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.writes.set(id, run);
    const forget = () => {
      if (this.writes.get(id) === run) this.writes.delete(id);
    };
    run.then(forget, forget);
    return run;
  }

  /** Writes the entry's state; two updates of one message never share the temp file (the later one writes the state of its turn). */
  update(entry: QueueEntry): Promise<void> {
    return this.inTurn(entry.id, async () => {
      await this.writeDurable(this.path(entry.id, 'json'), JSON.stringify(entry, null, 1));
      this.withState.add(entry.id);
    });
  }

  /** The message alone, without the envelope line. One of ordinary size is read synchronously (microseconds from the page cache, less than a thread-pool round trip; see durable-file.ts). */
  async read(id: string): Promise<Buffer> {
    if (this.legacy.has(id)) return this.readFile(this.path(id, 'eml'));
    const file = await this.readFile(this.path(id, 'msg'));
    return file.subarray(file.indexOf(10) + 1);
  }

  private async readFile(path: string): Promise<Buffer> {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > SYNC_READ_MAX) return await fs.readFile(path);
      const buf = Buffer.allocUnsafe(size);
      let at = 0;
      for (let n = 1; at < size && n > 0; at += n) n = readSync(fd, buf, at, size - at, at);
      return buf.subarray(0, at);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * After any update of the message still under way (which would otherwise
   * bring its `.json` back). The message file goes first: a crash between
   * the two leaves a `.json` alone, which start-up removes, never a message
   * whose arrival line would send it again to recipients that had it.
   */
  remove(id: string): Promise<void> {
    // In the thread pool: on a disk busy with fsyncs an unlink can wait for the journal (0.5-0.8 ms each here).
    return this.inTurn(id, async () => {
      await fs.unlink(this.path(id, this.legacy.has(id) ? 'eml' : 'msg')).catch(() => undefined);
      if (this.withState.has(id)) await fs.unlink(this.path(id, 'json')).catch(() => undefined);
      this.withState.delete(id);
      this.legacy.delete(id);
    });
  }
}
