/**
 * Loads one folder: recovers an interrupted append, takes the messages of
 * the mbox file from its persistent index (mbox-index.ts; rebuilt by one
 * streaming pass when it does not match the file), and lines them up with
 * the IMAP sidecar (UIDVALIDITY, UIDNEXT, UIDs, flags). Messages are matched to sidecar records by a hash of their
 * stored bytes, in order, so state survives POP3 deletions and
 * expunges; when a hand edit breaks the order (a message inserted in the
 * middle), RFC 3501 2.3.1.1 requires a new UIDVALIDITY and the folder is
 * renumbered, keeping flags.
 */
import { promises as fs, statSync } from 'node:fs';
import type { MessageInfo } from './types';
import { buildIndex, readIndex, type IndexFile } from './mbox-index';

export { hashBody } from './mbox-index';

export interface Entry {
  info: MessageInfo;
  start: number;
  bodyStart: number;
  bodyEnd: number;
  end: number;
  key: string;
  /** Where its header section (wire form) lies in the folder's index file (`FolderState.index`), when that is valid. */
  head: { at: number; len: number } | null;
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
}

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
}


export function makeInfo(uidValidity: number, uid: number, flags: readonly string[], internalDate: Date, size: number): MessageInfo {
  return Object.freeze({
    uid,
    flags: Object.freeze([...new Set(flags)].sort()),
    internalDate,
    size,
    uniqueId: `${uidValidity}.${uid}`,
  });
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
 * The sidecar, if it is sound. A hand-edited or foreign one: with a broken
 * header it is rebuilt from the mbox (new UIDVALIDITY); broken records are
 * dropped, and their messages get new UIDs.
 */
async function readSidecar(path: string): Promise<Sidecar | null> {
  try {
    const data = JSON.parse(await fs.readFile(path, 'utf8')) as Partial<Sidecar> | null;
    if (typeof data === 'object' && data !== null && imapNumber(data.uidValidity) && imapNumber(data.uidNext) && Array.isArray(data.messages)) {
      return { uidValidity: data.uidValidity, uidNext: data.uidNext, messages: data.messages.filter(soundRecord) };
    }
  } catch {
    // Missing or unreadable: rebuilt from the mbox.
  }
  return null;
}

export async function writeSidecar(path: string, state: FolderState, entriesKeys = true): Promise<void> {
  const sidecar: Sidecar = {
    uidValidity: state.uidValidity,
    uidNext: state.uidNext,
    messages: state.entries.map((e) => ({
      uid: e.info.uid,
      key: entriesKeys ? e.key : '',
      flags: [...e.info.flags],
      date: e.info.internalDate.getTime(),
    })),
  };
  const tmp = `${path}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(sidecar));
  await fs.rename(tmp, path);
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
  const matched = indexed.records.map((r) => {
    const candidates = byKey.get(r.key);
    let rec: SidecarRecord | undefined;
    if (candidates) {
      const i = candidates.findIndex((c) => c.uid > lastUid);
      if (i >= 0) rec = candidates.splice(i, 1)[0];
    }
    if (rec) {
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
      head: indexed.file ? { at: r.headAt, len: r.headLen } : null,
    };
  });
  return { state: { uidValidity, uidNext, entries, stamp, index: indexed.file }, renumbered: renumber && sidecar !== null };
}
