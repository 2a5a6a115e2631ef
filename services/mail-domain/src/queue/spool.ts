/**
 * The queue's durable spool: `<dataDir>/queue/<id>.eml` holds the message
 * exactly as it will be delivered, `<id>.json` its envelope and per-recipient
 * state. Both are written to a temp file, fsynced and renamed, and the
 * directory is fsynced, before SMTP answers 250: an acknowledged message
 * survives a crash or `docker kill`. An `.eml` without its `.json`, or a
 * `.json` without its `.eml`, is a message that was never acknowledged and
 * is removed at start-up.
 *
 * The two files of a new message are written, fsynced and renamed side by
 * side (one without the other is dropped at start, above); the directory
 * fsync that makes the renames durable is shared by the messages arriving
 * meanwhile (group commit): with 20 sessions sending at once, one directory
 * fsync serves many of them.
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

export class Spool {
  constructor(readonly dir: string) {}

  /**
   * Reads the spool after a restart: the whole messages, oldest first. Each
   * entry goes through `adopt` as soon as it is parsed (the queue shares its
   * repeated texts there), so a queue of 100,000 is never held twice, once
   * as parsed and once as kept.
   */
  async init(adopt: (e: QueueEntry) => QueueEntry = (e) => e): Promise<QueueEntry[]> {
    await fs.mkdir(this.dir, { recursive: true });
    const files = await fs.readdir(this.dir);
    const emls = new Set<string>();
    const json: string[] = [];
    for (const f of files) {
      // A temp file is a write that never finished: nothing was acknowledged for it.
      if (f.includes('.tmp')) await fs.unlink(join(this.dir, f)).catch(() => undefined);
      else if (f.endsWith('.eml')) emls.add(f.slice(0, -4));
      else if (f.endsWith('.json')) json.push(f.slice(0, -5));
    }
    // The names are in `emls` and `json` now; 200,000 of them need not be held twice while reading.
    files.length = 0;
    const entries: QueueEntry[] = [];
    const orphans: string[] = [];
    // Read synchronously, a batch between two turns of the event loop: a small file comes from the
    // page cache in microseconds, where the thread pool's four round trips per file (open, stat,
    // read, close) took 10 s for a queue of 100,000.
    for (let i = 0; i < json.length; i++) {
      const id = json[i];
      if (i % INIT_BATCH === INIT_BATCH - 1) await new Promise((r) => setImmediate(r));
      const entry = this.readEntry(id);
      if (!entry) continue;
      // A message is both files; either one alone was never acknowledged.
      if (!emls.has(id)) orphans.push(id);
      else {
        emls.delete(id);
        entries.push(adopt(entry));
      }
    }
    for (const id of orphans) await fs.unlink(join(this.dir, `${id}.json`)).catch(() => undefined);
    for (const id of emls) await fs.unlink(join(this.dir, `${id}.eml`)).catch(() => undefined);
    // Code-unit order (ISO times, upper-case ids): localeCompare took a second for 100,000.
    return entries.sort((a, b) => (a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** One `.json` read back, or null for anything the queue did not write (a torn file cannot exist: rename is atomic). */
  private readEntry(id: string): QueueEntry | null {
    try {
      const entry: unknown = JSON.parse(readFileSync(join(this.dir, `${id}.json`), 'utf8'));
      return isQueueEntry(entry, id) ? entry : null;
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

  /** Stores a new message durably. Resolves only when it is safe to answer 250. */
  async add(entry: QueueEntry, message: Buffer): Promise<void> {
    const eml = join(this.dir, `${entry.id}.eml`);
    const json = join(this.dir, `${entry.id}.json`);
    // Both writes end before anything is cleaned up: a file whose write was still under way when the
    // other failed (disk full) would otherwise be created after the cleanup and stay behind.
    const written = await Promise.allSettled([this.writeDurable(eml, message), this.writeDurable(json, JSON.stringify(entry, null, 1))]);
    const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) {
      // One file may be in place already: take it away again (init would, at the next start).
      await Promise.all([eml, json].map((p) => fs.unlink(p).catch(() => undefined)));
      throw failed.reason;
    }
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
    return this.inTurn(entry.id, () => this.writeDurable(join(this.dir, `${entry.id}.json`), JSON.stringify(entry, null, 1)));
  }

  /** A message of ordinary size is read synchronously (microseconds from the page cache, less than a thread-pool round trip; see durable-file.ts). */
  async read(id: string): Promise<Buffer> {
    const path = join(this.dir, `${id}.eml`);
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

  /** After any update of the message still under way (which would otherwise bring its `.json` back). */
  remove(id: string): Promise<void> {
    // In the thread pool: on a disk busy with fsyncs an unlink can wait for the journal (0.5-0.8 ms each here).
    return this.inTurn(id, async () => {
      for (const ext of ['json', 'eml']) await fs.unlink(join(this.dir, `${id}.${ext}`)).catch(() => undefined);
    });
  }
}
