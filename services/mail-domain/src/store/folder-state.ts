/**
 * Loads one folder: recovers an interrupted append, takes the messages of
 * the mbox file from its persistent index (mbox-index.ts; rebuilt by one
 * streaming pass when it does not match the file), and lines them up with
 * the IMAP sidecar (UIDVALIDITY, UIDNEXT, UIDs, flags). Messages are matched to sidecar records by a hash of their
 * stored bytes, in order, so state survives POP3 deletions and
 * expunges; when a hand edit breaks the order (a message inserted in the
 * middle), RFC 3501 2.3.1.1 requires a new UIDVALIDITY and the folder is
 * renumbered, keeping flags.
 *
 * The sidecar is two files: `<name>.json`, the compacted part (UIDVALIDITY,
 * UIDNEXT, every message's UID, key, flags and date, with a random
 * generation id), and `<name>.log`, the changes since (issue 15: an append
 * to a folder of 100,000 messages must not rewrite an 8 MB file). The log
 * starts with a header line naming the generation of the compacted part it
 * continues (a log of another generation, left by a crash during a
 * compaction, is ignored), then one line per record: a CRC-32 and a JSON
 * object, either a message added (`u`, `k`, `f`, `d`) or a message's new
 * flags (`u`, `f`). Records are appended and fsynced; a record cut short by
 * a crash (no final LF, wrong CRC) ends the log on read, and the folder's
 * next load compacts. Compaction (temp file, fsync, rename, then the log
 * removed) happens when the log has grown to half the compacted part, after
 * an expunge, before a rename, and when a load found the sidecar not to
 * describe the mbox exactly.
 */
import { promises as fs, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { MessageInfo } from './types';
import { STATE_MODE } from './paths';
import { buildIndex, readIndex, type IndexFile } from './mbox-index';
import { writeDurable } from '../../../core/src/durable-file';

export { hashBody } from './mbox-index';

export interface Entry {
  info: MessageInfo;
  start: number;
  bodyStart: number;
  bodyEnd: number;
  end: number;
  key: string;
  /** Where its header section (wire form) lies in the folder's index file (`FolderState.index`), when that is valid; -1: not there. */
  headAt: number;
  headLen: number;
}

export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface FolderState {
  uidValidity: number;
  uidNext: number;
  entries: Entry[];
  stamp: FileStamp;
  /** The persistent index, valid for `stamp`; null when none could be kept. */
  index: IndexFile | null;
  /** Where the sidecar on disk stands (its log can be appended to); null: the next save compacts it. */
  sidecar: SidecarLog | null;
  /** The infos of `entries` as the last snapshot handed them out; null (or absent) after any change. */
  messages?: readonly MessageInfo[] | null;
}

/** The sidecar on disk: the compacted part's generation and size, and the octets of its log (0: no log yet). */
export interface SidecarLog {
  gen: string;
  baseBytes: number;
  logBytes: number;
}

/** A change for the sidecar's log: a message added (with `key` and `date`), or a message's new flags. */
export type SidecarChange = { uid: number; flags: readonly string[]; key: string; date: number } | { uid: number; flags: readonly string[]; key?: undefined; date?: undefined };

interface SidecarRecord {
  uid: number;
  key: string;
  flags: string[];
  date: number;
}

interface Sidecar {
  uidValidity: number;
  uidNext: number;
  messages: SidecarRecord[];
  /** The compacted part's generation (none in a sidecar of an older version). */
  gen: string | null;
  baseBytes: number;
  logBytes: number;
  /** The log ended in a torn or unreadable record (or was of another generation). */
  torn: boolean;
}

const LOG_MAGIC = 'MLSIDELOG1';
/** The log is compacted into the JSON part once it is this large and half the size of that part. */
const LOG_MIN_COMPACT = 256 * 1024;

/** The log file beside a sidecar `<name>.json`. */
export const sidecarLogPath = (statePath: string) => statePath.replace(/\.json$/, '') + '.log';


/**
 * Flag lists are shared: most messages of a big folder have one of a few
 * (none, \\Seen, …), and one frozen array each spares an array per message.
 */
const flagLists = new Map<string, readonly string[]>();
const FLAG_LISTS_MAX = 4096;
function flagList(flags: readonly string[]): readonly string[] {
  const list = [...new Set(flags)].sort();
  const key = list.join('\u0000');
  const known = flagLists.get(key);
  if (known) return known;
  const frozen = Object.freeze(list);
  if (flagLists.size < FLAG_LISTS_MAX) flagLists.set(key, frozen);
  return frozen;
}

/**
 * A message's info as the store hands it out. Its INTERNALDATE and POP3 id are made when asked:
 * kept as a Date object and a string each, they were 12 MB of the heap of a 100,000-message
 * folder (issue 15), and a listing asks for few of them.
 */
class StoredInfo implements MessageInfo {
  constructor(
    readonly uid: number,
    readonly flags: readonly string[],
    private readonly dateMs: number,
    readonly size: number,
    private readonly uidValidity: number,
  ) {
    Object.freeze(this);
  }

  get internalDate(): Date {
    return new Date(this.dateMs);
  }

  get uniqueId(): string {
    return `${this.uidValidity}.${this.uid}`;
  }
}

export function makeInfo(uidValidity: number, uid: number, flags: readonly string[], internalDate: Date, size: number): MessageInfo {
  return new StoredInfo(uid, flagList(flags), internalDate.getTime(), size, uidValidity);
}

export async function stampOf(path: string): Promise<FileStamp> {
  const st = await fs.stat(path);
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/**
 * The file's stamp now, or null when it does not exist. Synchronous on
 * purpose: it runs before every operation to notice hand edits, and a stat
 * on a local disk takes microseconds, less than a trip through the thread pool.
 */
export function stampNow(path: string): FileStamp | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : null;
}

export const sameStamp = (a: FileStamp, b: FileStamp) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

/** Undo an append that was cut short by a crash: the journal holds the size before it. */
export async function recoverJournal(mboxPath: string, journalPath: string): Promise<boolean> {
  let text: string;
  try {
    text = await fs.readFile(journalPath, 'utf8');
  } catch {
    return false;
  }
  const size = Number.parseInt(text, 10);
  if (Number.isFinite(size) && size >= 0) {
    const st = await fs.stat(mboxPath).catch(() => null);
    if (st && st.size > size) await fs.truncate(mboxPath, size);
  }
  await fs.unlink(journalPath).catch(() => undefined);
  return true;
}

/** A UID, UIDVALIDITY or UIDNEXT as IMAP allows it (RFC 3501 2.3.1.1: 32-bit, non-zero). */
const imapNumber = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 0xffffffff;

function soundRecord(r: unknown): r is SidecarRecord {
  const rec = r as Partial<SidecarRecord> | null;
  return (
    typeof rec === 'object' &&
    rec !== null &&
    imapNumber(rec.uid) &&
    typeof rec.key === 'string' &&
    Array.isArray(rec.flags) &&
    rec.flags.every((f) => typeof f === 'string') &&
    typeof rec.date === 'number' &&
    Number.isFinite(new Date(rec.date).getTime())
  );
}

/**
 * The sidecar, if it is sound: the compacted part with its log applied. A
 * hand-edited or foreign one: with a broken header it is rebuilt from the
 * mbox (new UIDVALIDITY); broken records are dropped, and their messages
 * get new UIDs.
 */
async function readSidecar(path: string): Promise<Sidecar | null> {
  let base: Sidecar;
  try {
    const text = await fs.readFile(path, 'utf8');
    const data = JSON.parse(text) as (Partial<Omit<Sidecar, 'gen'>> & { gen?: unknown }) | null;
    if (!(typeof data === 'object' && data !== null && imapNumber(data.uidValidity) && imapNumber(data.uidNext) && Array.isArray(data.messages))) return null;
    const gen = typeof data.gen === 'string' && /^[0-9a-f]{1,32}$/.test(data.gen) ? data.gen : null;
    base = { uidValidity: data.uidValidity, uidNext: data.uidNext, messages: data.messages.filter(soundRecord), gen, baseBytes: Buffer.byteLength(text), logBytes: 0, torn: false };
  } catch {
    return null; // Missing or unreadable: rebuilt from the mbox.
  }
  let log: Buffer;
  try {
    log = await fs.readFile(sidecarLogPath(path));
  } catch {
    return base; // no log: nothing changed since the compaction
  }
  const firstLf = log.indexOf(0x0a);
  if (base.gen === null || firstLf < 0 || log.toString('latin1', 0, firstLf) !== `${LOG_MAGIC} ${base.gen}`) {
    base.torn = true; // a log of another generation (a crash during a compaction) or a torn header: ignored
    return base;
  }
  const byUid = new Map<number, SidecarRecord>();
  for (const r of base.messages) byUid.set(r.uid, r);
  let at = firstLf + 1;
  while (at < log.length) {
    const lf = log.indexOf(0x0a, at);
    const change = lf < 0 ? null : parseLogLine(log.toString('utf8', at, lf));
    if (!change) {
      base.torn = true; // a record cut short by a crash: it and anything after it are ignored
      break;
    }
    at = lf + 1;
    const known = byUid.get(change.uid);
    if (change.key !== undefined) {
      const rec: SidecarRecord = { uid: change.uid, key: change.key, flags: [...change.flags], date: change.date };
      if (known) Object.assign(known, rec);
      else {
        byUid.set(rec.uid, rec);
        base.messages.push(rec);
      }
      base.uidNext = Math.max(base.uidNext, rec.uid + 1);
    } else if (known) known.flags = [...change.flags];
  }
  base.logBytes = at;
  base.messages.sort((a, b) => a.uid - b.uid);
  return base;
}

function logLine(change: SidecarChange): string {
  const json = JSON.stringify(change.key !== undefined ? { u: change.uid, k: change.key, f: change.flags, d: change.date } : { u: change.uid, f: change.flags });
  return `${(crc32(json) >>> 0).toString(16).padStart(8, '0')} ${json}\n`;
}

/** One log record, or null when it is torn or not ours. */
function parseLogLine(line: string): SidecarChange | null {
  if (line.length < 10 || line[8] !== ' ') return null;
  const json = line.slice(9);
  if ((crc32(json) >>> 0).toString(16).padStart(8, '0') !== line.slice(0, 8)) return null;
  try {
    const o = JSON.parse(json) as { u?: unknown; k?: unknown; f?: unknown; d?: unknown };
    if (!imapNumber(o.u) || !Array.isArray(o.f) || !o.f.every((f) => typeof f === 'string')) return null;
    if (o.k === undefined) return { uid: o.u, flags: o.f as string[] };
    const rec = { uid: o.u, key: o.k, flags: o.f, date: o.d };
    return soundRecord(rec) ? rec : null;
  } catch {
    return null;
  }
}

/**
 * Compacts the sidecar: the whole state as the JSON part under a new
 * generation (temp file, fsync, rename), then the log removed (a log left
 * by a crash in between is of the old generation, and ignored).
 */
export async function writeSidecar(path: string, state: FolderState): Promise<void> {
  const gen = randomBytes(8).toString('hex');
  const sidecar = {
    uidValidity: state.uidValidity,
    uidNext: state.uidNext,
    gen,
    messages: state.entries.map((e) => ({ uid: e.info.uid, key: e.key, flags: [...e.info.flags], date: e.info.internalDate.getTime() })),
  };
  const text = JSON.stringify(sidecar);
  const tmp = `${path}.tmp-${process.pid}`;
  state.sidecar = null; // until the new one is in place
  try {
    await writeDurable(tmp, text, STATE_MODE);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fs.unlink(sidecarLogPath(path)).catch(() => undefined);
  state.sidecar = { gen, baseBytes: Buffer.byteLength(text), logBytes: 0 };
}

/**
 * Records changes in the sidecar's log (appended, fsynced): O(changes), not
 * O(mailbox). Compacts instead when there is no sound sidecar to continue or
 * the log has grown large.
 */
export async function appendSidecar(path: string, state: FolderState, changes: readonly SidecarChange[]): Promise<void> {
  const at = state.sidecar;
  if (!at || (at.logBytes > LOG_MIN_COMPACT && at.logBytes > at.baseBytes / 2)) return writeSidecar(path, state);
  if (!changes.length) return;
  const data = Buffer.from((at.logBytes === 0 ? `${LOG_MAGIC} ${at.gen}\n` : '') + changes.map(logLine).join(''), 'utf8');
  state.sidecar = null; // until the write is known to be whole
  const fh = await fs.open(sidecarLogPath(path), at.logBytes === 0 ? 'w' : 'a', STATE_MODE);
  try {
    if (at.logBytes > 0 && (await fh.stat()).size !== at.logBytes) throw new Error('sidecar log changed under us');
    await fh.write(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  state.sidecar = { ...at, logBytes: at.logBytes + data.length };
}

/** Reads the folder (from its index, or the mbox file when the index does not match it) and reconciles it with the sidecar. */
export async function loadFolder(mboxPath: string, sidecarPath: string, indexPath: string, newUidValidity: () => number): Promise<{ state: FolderState; renumbered: boolean }> {
  const stamp = await stampOf(mboxPath);
  const indexed = (await readIndex(indexPath, stamp)) ?? (await buildIndex(mboxPath, indexPath, stamp));
  const sidecar = await readSidecar(sidecarPath);
  const byKey = new Map<string, SidecarRecord[]>();
  for (const rec of sidecar?.messages ?? []) {
    const list = byKey.get(rec.key) ?? [];
    list.push(rec);
    byKey.set(rec.key, list);
  }
  let lastUid = 0;
  let inOrder = true;
  let seenNew = false;
  let used = 0;
  const matched = indexed.records.map((r) => {
    const candidates = byKey.get(r.key);
    let rec: SidecarRecord | undefined;
    if (candidates) {
      const i = candidates.findIndex((c) => c.uid > lastUid);
      if (i >= 0) rec = candidates.splice(i, 1)[0];
    }
    if (rec) {
      used++;
      if (seenNew) inOrder = false;
      lastUid = rec.uid;
    } else {
      seenNew = true;
    }
    return { r, rec };
  });
  let uidValidity = sidecar?.uidValidity ?? newUidValidity();
  let uidNext = Math.max(sidecar?.uidNext ?? 1, lastUid + 1);
  const renumber = !inOrder;
  if (renumber) {
    uidValidity = Math.max(newUidValidity(), uidValidity + 1);
    uidNext = 1;
  }
  const entries: Entry[] = matched.map(({ r, rec }) => {
    const uid = renumber || !rec ? uidNext++ : rec.uid;
    const date = rec ? new Date(rec.date) : new Date(Number.isNaN(r.date) ? stamp.mtimeMs : r.date);
    return {
      info: makeInfo(uidValidity, uid, rec?.flags ?? [], date, r.size),
      start: r.start,
      bodyStart: r.bodyStart,
      bodyEnd: r.bodyEnd,
      end: r.end,
      key: r.key,
      headAt: indexed.file ? r.headAt : -1,
      headLen: r.headLen,
    };
  });
  // The sidecar on disk goes on as it is only when it describes this file exactly (its log is appended to); else it is compacted anew.
  const exact = sidecar !== null && sidecar.gen !== null && !sidecar.torn && !renumber && !seenNew && used === sidecar.messages.length && uidNext === sidecar.uidNext;
  const kept: SidecarLog | null = exact ? { gen: sidecar.gen!, baseBytes: sidecar.baseBytes, logBytes: sidecar.logBytes } : null;
  return { state: { uidValidity, uidNext, entries, stamp, index: indexed.file, sidecar: kept }, renumbered: renumber && sidecar !== null };
}
