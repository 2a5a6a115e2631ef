/**
 * The mailbox store: every folder is an mbox text file, all protocols of a
 * domain go through this one object (see types.ts for the contract).
 *
 * Safety on disk:
 * - append: the size before the append goes to a journal file (fsynced),
 *   then the message is appended and fsynced, then the journal is removed.
 *   A crash in between leaves the journal, and the next load cuts the file
 *   back, so a half-written message is never seen.
 * - expunge: the file is rewritten to a temp file, fsynced and renamed
 *   over the old one: before or after, never torn.
 * - rename (a folder hierarchy, or INBOX into a new folder): a journal
 *   commits it, a restart finishes it (see renameInbox / recoverUser).
 * - IMAP state lives in a JSON sidecar that can always be rebuilt from the
 *   mbox file (folder-state.ts), so it is written lazily after appends and
 *   flag changes, and at once after expunges.
 * All operations of one user run one at a time (a per-user queue).
 * Reads go through a small cache of open file handles (file-handles.ts);
 * the stat that checks for hand edits and reads of messages up to 1 MiB are
 * synchronous (microseconds on a local disk, cheaper than the thread pool);
 * `readMany` reads many messages in few large reads.
 */
import { EventEmitter } from 'node:events';
import { promises as fs, readSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppendOptions, FlagOperation, FolderChange, FolderChangeEvent, FolderSnapshot, MailStore, MessageInfo } from './types';
import { StoreError } from './types';
import { fromMboxBody, separatorLine, toMboxBody, wireSize } from './mbox-format';
import { type Entry, type FileStamp, type FolderState, hashBody, loadFolder, makeInfo, recoverJournal, sameStamp, stampOf, writeSidecar } from './folder-state';
import { FileHandleCache } from './file-handles';
import { KeyedMutex } from './mutex';
import { INBOX, MAILBOX_MODE, STATE_MODE, decodeFolderName, folderPaths, normalizeFolder, userFoldersDir, userStateDir } from './paths';
import { ensureFile, fsyncPath, replaceDurable, writeDurable } from '../../../core/src/durable-file';

export interface MailStoreOptions {
  dataDir: string;
  /** The domain's local users; their INBOX and special-use folders are created. */
  users: readonly string[];
  /** Folders created for every account (RFC 6154 special use). @default ['Sent','Drafts','Trash'] */
  specialFolders?: readonly string[];
  /** Largest message accepted by append. */
  maxMessageSize?: number;
  now?: () => Date;
  /** Delay before a lazily written sidecar is saved. @default 200 */
  sidecarDelayMs?: number;
}

export interface MboxMailStore extends MailStore {
  /** Creates missing mailbox files for every account. */
  init(): Promise<void>;
  /** Writes pending sidecars; call before exit. */
  flush(): Promise<void>;
  /** Path of a folder's mbox file (shown to students). */
  mboxPath(user: string, folder: string): string;
}

const SPECIAL = ['Sent', 'Drafts', 'Trash'];
/** Messages up to this size are read with one synchronous positioned read. */
const SYNC_READ_MAX = 1024 * 1024;
/** readMany: the largest range read at once, and the largest gap between messages read over. */
const READ_SPAN = 8 * 1024 * 1024;
const READ_GAP = 64 * 1024;

/** A stored body's header section: up to and including the first empty line (LF on disk), or all of it. */
function headerOf(stored: Buffer): Buffer {
  if (stored.length > 0 && stored[0] === 0x0a) return stored.subarray(0, 1);
  const end = stored.indexOf('\n\n');
  return end < 0 ? stored : stored.subarray(0, end + 2);
}

/**
 * The file's stamp now, or null when it does not exist. Synchronous on
 * purpose: it runs before every operation to notice hand edits, and a stat
 * on a local disk takes microseconds, less than a trip through the thread pool.
 */
function stampNow(path: string): FileStamp | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : null;
}

function noSpace(e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') throw new StoreError('NO_SPACE', 'no space left on the mail disk');
  throw e;
}

export function createMailStore(options: MailStoreOptions): MboxMailStore {
  const { dataDir } = options;
  const users = new Set(options.users);
  const special = options.specialFolders ?? SPECIAL;
  const now = options.now ?? (() => new Date());
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const mutex = new KeyedMutex();
  const folders = new Map<string, FolderState>();
  const dirtySidecars = new Map<string, NodeJS.Timeout>();
  const locks = new Map<string, string>();
  const handles = new FileHandleCache();
  let lastUidValidity = 0;
  const newUidValidity = () => {
    lastUidValidity = Math.max(lastUidValidity + 1, Math.floor(now().getTime() / 1000));
    return lastUidValidity;
  };
  const cacheKey = (user: string, folder: string) => `${user}\0${normalizeFolder(folder)}`;

  const checkUser = (user: string) => {
    if (!users.has(user)) throw new StoreError('NO_SUCH_USER', `no such user: ${user}`);
  };
  const emit = (user: string, folder: string, change: FolderChange) => {
    const event: FolderChangeEvent = { user, folder: normalizeFolder(folder), change };
    events.emit('change', event);
  };

  async function saveSidecar(user: string, folder: string): Promise<void> {
    const key = cacheKey(user, folder);
    const t = dirtySidecars.get(key);
    if (t) clearTimeout(t);
    dirtySidecars.delete(key);
    const state = folders.get(key);
    if (state) await writeSidecar(folderPaths(dataDir, user, folder).state, state);
  }
  function saveSidecarLater(user: string, folder: string): void {
    const key = cacheKey(user, folder);
    if (dirtySidecars.has(key)) return;
    dirtySidecars.set(
      key,
      setTimeout(() => void mutex.run(user, () => saveSidecar(user, folder)).catch(() => undefined), options.sidecarDelayMs ?? 200),
    );
  }

  /** The folder's state, re-read when the file changed behind our back (a hand edit). */
  async function state(user: string, folder: string): Promise<FolderState> {
    checkUser(user);
    const f = normalizeFolder(folder);
    const paths = folderPaths(dataDir, user, f);
    const key = cacheKey(user, f);
    // One stat per call (this runs before every read): a missing file is ENOENT here.
    let stamp = stampNow(paths.mbox);
    if (stamp === null && f === INBOX) {
      await ensureFile(paths.mbox, MAILBOX_MODE);
      stamp = stampNow(paths.mbox);
    }
    if (stamp === null) {
      folders.delete(key);
      throw new StoreError('NO_SUCH_FOLDER', `no such folder: ${f}`);
    }
    const cached = folders.get(key);
    if (cached && sameStamp(cached.stamp, stamp)) return cached;
    // Changed behind our back: reconcile with what we know now (flags, UIDNEXT), not with a sidecar whose write is still pending.
    if (cached) await saveSidecar(user, f);
    await recoverJournal(paths.mbox, paths.journal);
    const { state: loaded } = await loadFolder(paths.mbox, paths.state, newUidValidity);
    folders.set(key, loaded);
    await writeSidecar(paths.state, loaded);
    if (cached) {
      if (cached.uidValidity !== loaded.uidValidity) emit(user, f, { kind: 'reset' });
      else {
        const now = new Set(loaded.entries.map((e) => e.info.uid));
        const before = new Set(cached.entries.map((e) => e.info.uid));
        const gone = [...before].filter((u) => !now.has(u));
        const added = [...now].filter((u) => !before.has(u));
        if (gone.length) emit(user, f, { kind: 'expunge', uids: gone });
        if (added.length) emit(user, f, { kind: 'append', uids: added });
      }
    }
    return loaded;
  }

  const findEntry = (st: FolderState, uid: number): Entry | undefined => {
    let lo = 0;
    let hi = st.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = st.entries[mid].info.uid;
      if (u === uid) return st.entries[mid];
      if (u < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  };

  /** Appends several messages in one write (one journal, one fsync). */
  async function appendMany(user: string, folder: string, items: { wire: Buffer; options?: AppendOptions }[]): Promise<MessageInfo[]> {
    const st = await state(user, folder);
    const paths = folderPaths(dataDir, user, folder);
    const chunks: Buffer[] = [];
    // Messages in an mbox file start after an empty line: repair a file a hand edit left without one.
    if (st.stamp.size > 0) {
      const tail = await readTail(paths.mbox, st.stamp.size);
      const pad = tail.endsWith('\n\n') ? '' : tail.endsWith('\n') ? '\n' : '\n\n';
      if (pad) chunks.push(Buffer.from(pad));
    }
    let offset = st.stamp.size + (chunks[0]?.length ?? 0);
    const added: Entry[] = [];
    let uidNext = st.uidNext;
    for (const { wire, options: o } of items) {
      if (options.maxMessageSize && wire.length > options.maxMessageSize) throw new StoreError('TOO_BIG', `message of ${wire.length} octets is over the limit of ${options.maxMessageSize}`);
      const date = o?.internalDate ?? now();
      const sep = Buffer.from(separatorLine(o?.envelopeFrom, date), 'latin1');
      const body = toMboxBody(wire);
      const start = offset;
      const bodyStart = start + sep.length;
      const bodyEnd = bodyStart + body.length;
      chunks.push(sep, body, Buffer.from('\n'));
      offset = bodyEnd + 1;
      added.push({ info: makeInfo(st.uidValidity, uidNext++, o?.flags ?? [], date, wireSize(body)), start, bodyStart, bodyEnd, end: offset, key: hashBody(body) });
    }
    const data = Buffer.concat(chunks);
    try {
      await fs.writeFile(paths.journal, String(st.stamp.size));
      await fsyncPath(paths.journal);
      const fh = await fs.open(paths.mbox, 'a', MAILBOX_MODE);
      try {
        await fh.write(data);
        await fh.sync();
      } catch (e) {
        await fh.truncate(st.stamp.size).catch(() => undefined);
        throw e;
      } finally {
        await fh.close();
      }
      await fs.unlink(paths.journal);
    } catch (e) {
      await fs.unlink(paths.journal).catch(() => undefined);
      noSpace(e);
    }
    st.entries.push(...added);
    st.uidNext = uidNext;
    st.stamp = await stampOf(paths.mbox);
    saveSidecarLater(user, folder);
    emit(user, folder, { kind: 'append', uids: added.map((e) => e.info.uid) });
    return added.map((e) => e.info);
  }

  async function rewrite(user: string, folder: string, st: FolderState, keep: Entry[]): Promise<void> {
    const paths = folderPaths(dataDir, user, folder);
    const file = await fs.readFile(paths.mbox);
    const parts: Buffer[] = [];
    const entries: Entry[] = [];
    let offset = 0;
    for (const e of keep) {
      const chunk = file.subarray(e.start, e.end);
      parts.push(chunk);
      const shift = offset - e.start;
      entries.push({ ...e, start: e.start + shift, bodyStart: e.bodyStart + shift, bodyEnd: e.bodyEnd + shift, end: e.end + shift });
      offset += chunk.length;
    }
    try {
      await replaceDurable(paths.mbox, Buffer.concat(parts), { mode: MAILBOX_MODE, tmp: `${paths.mbox}.tmp-${process.pid}`, beforeRename: () => handles.drop(paths.mbox) });
    } catch (e) {
      noSpace(e);
    }
    st.entries = entries;
    st.stamp = await stampOf(paths.mbox);
    await saveSidecar(user, folder);
  }

  async function listFoldersUnlocked(user: string): Promise<string[]> {
    checkUser(user);
    const files = await fs.readdir(userFoldersDir(dataDir, user)).catch(() => [] as string[]);
    const names = files.filter((f) => !f.includes('.tmp-')).map(decodeFolderName).sort();
    return [INBOX, ...names];
  }

  const validName = (name: string) => {
    const f = normalizeFolder(name);
    if (!f || f.startsWith('/') || f.endsWith('/') || f.includes('//') || f.length > 200) {
      throw new StoreError('INVALID_FOLDER_NAME', `invalid folder name: "${name}"`);
    }
    return f;
  };

  /**
   * RENAME is one step on disk (RFC 3501 6.3.5; issue 5: every mailbox before
   * or after, never torn). A journal, `state/<user>/rename.journal`, names
   * what the rename will do; once it is on disk (fsynced) the rename is
   * committed, and a restart after a crash finishes it (init). Before it,
   * nothing visible has changed: a new folder's file and sidecar are built
   * under temporary names first, and a temp file or an orphan sidecar left
   * by a crash is removed at start.
   * - A folder and its inferiors: each sidecar is copied to the new name
   *   before its mbox file is renamed, so flags and UIDs move with it.
   * - INBOX: its messages go to a new folder whose file is written whole
   *   (temp file, fsync) with its sidecar before the journal; then the temp
   *   file is renamed into place and INBOX rewritten empty.
   */
  type RenameJournal = { kind: 'folders'; moves: { from: string; to: string }[] } | { kind: 'inbox'; to: string; tmp: string; size: number; ino: number };
  const journalPath = (user: string) => join(userStateDir(dataDir, user), 'rename.journal');
  const exists = (path: string) => statSync(path, { throwIfNoEntry: false }) !== undefined;

  async function writeJournal(user: string, j: RenameJournal): Promise<void> {
    await writeDurable(journalPath(user), JSON.stringify(j), STATE_MODE);
    await fsyncPath(userStateDir(dataDir, user));
  }

  /** Moves each folder whose move is not done yet (idempotent: also the recovery after a crash). */
  async function completeFolderMoves(user: string, moves: { from: string; to: string }[]): Promise<void> {
    for (const m of moves) {
      const a = folderPaths(dataDir, user, m.from);
      const b = folderPaths(dataDir, user, m.to);
      if (exists(a.mbox) && !exists(b.mbox)) {
        handles.drop(a.mbox);
        await fs.unlink(b.state).catch(() => undefined);
        await fs.copyFile(a.state, b.state).catch(() => undefined);
        await fs.rename(a.mbox, b.mbox);
      }
      if (exists(b.mbox)) await fs.unlink(a.state).catch(() => undefined);
    }
    await fsyncPath(userFoldersDir(dataDir, user));
    await fsyncPath(userStateDir(dataDir, user));
  }

  /** After a crash: finishes a committed rename, removes what an uncommitted one left. */
  async function recoverUser(user: string): Promise<void> {
    let j: RenameJournal | null = null;
    try {
      j = JSON.parse(await fs.readFile(journalPath(user), 'utf8')) as RenameJournal;
    } catch {
      j = null;
    }
    if (j?.kind === 'folders' && Array.isArray(j.moves)) await completeFolderMoves(user, j.moves);
    if (j?.kind === 'inbox') {
      const a = folderPaths(dataDir, user, INBOX);
      const b = folderPaths(dataDir, user, j.to);
      const tmp = join(dirname(b.mbox), j.tmp);
      if (exists(tmp) && !exists(b.mbox)) {
        await fs.rename(tmp, b.mbox);
        await fsyncPath(dirname(b.mbox));
      }
      const st = stampNow(a.mbox);
      if (st && st.ino === j.ino && st.size >= j.size) {
        // INBOX not rewritten yet: cut the moved messages (anything after them stays).
        await recoverJournal(a.mbox, a.journal);
        const rest = (await fs.readFile(a.mbox)).subarray(j.size);
        const cut = `${a.mbox}.tmp-${process.pid}`;
        await writeDurable(cut, rest, MAILBOX_MODE);
        await fs.rename(cut, a.mbox);
        await fsyncPath(dirname(a.mbox));
      }
    }
    await fs.unlink(journalPath(user)).catch(() => undefined);
    // Temp files of an interrupted rewrite, rename or sidecar write; sidecars of folders that do not exist.
    const mailDir = join(dataDir, 'mail');
    for (const f of await fs.readdir(mailDir).catch(() => [] as string[])) if (f.startsWith(`${user}.tmp-`)) await fs.unlink(join(mailDir, f)).catch(() => undefined);
    const folderFiles = await fs.readdir(userFoldersDir(dataDir, user)).catch(() => [] as string[]);
    for (const f of folderFiles) if (f.includes('.tmp-')) await fs.unlink(join(userFoldersDir(dataDir, user), f)).catch(() => undefined);
    const live = new Set(folderFiles.filter((f) => !f.includes('.tmp-')));
    for (const f of await fs.readdir(userStateDir(dataDir, user)).catch(() => [] as string[])) {
      const orphan = /^folder-(.+)\.json$/.exec(f);
      if (f.includes('.tmp-') || (orphan && !live.has(orphan[1]))) await fs.unlink(join(userStateDir(dataDir, user), f)).catch(() => undefined);
    }
  }

  async function renameInbox(user: string, to: string): Promise<void> {
    const st = await state(user, INBOX);
    const a = folderPaths(dataDir, user, INBOX);
    const b = folderPaths(dataDir, user, to);
    const file = await fs.readFile(a.mbox);
    // The new folder gets INBOX's file as it is (same offsets), new UIDs under a new UIDVALIDITY, the same flags and dates.
    const uidValidity = newUidValidity();
    const moved: FolderState = {
      uidValidity,
      uidNext: st.entries.length + 1,
      entries: st.entries.map((e, i) => ({ ...e, info: makeInfo(uidValidity, i + 1, e.info.flags, e.info.internalDate, e.info.size) })),
      stamp: st.stamp,
    };
    const tmp = `${b.mbox}.tmp-${process.pid}`;
    try {
      await writeDurable(tmp, file, MAILBOX_MODE);
      await fs.unlink(b.state).catch(() => undefined);
      await writeSidecar(b.state, moved);
      await writeJournal(user, { kind: 'inbox', to, tmp: tmp.slice(dirname(tmp).length + 1), size: file.length, ino: st.stamp.ino });
    } catch (e) {
      await fs.unlink(tmp).catch(() => undefined);
      await fs.unlink(b.state).catch(() => undefined);
      noSpace(e);
    }
    // Committed: from here on a crash is finished by recoverUser at the next start.
    await fs.rename(tmp, b.mbox);
    await fsyncPath(dirname(b.mbox));
    const uids = st.entries.map((e) => e.info.uid);
    await rewrite(user, INBOX, st, st.entries.filter((e) => e.start >= file.length));
    await fs.unlink(journalPath(user)).catch(() => undefined);
    if (uids.length) emit(user, INBOX, { kind: 'expunge', uids });
  }

  const store: MboxMailStore = {
    async init() {
      for (const user of users) {
        await fs.mkdir(join(dataDir, 'mail'), { recursive: true });
        await fs.mkdir(userFoldersDir(dataDir, user), { recursive: true });
        await fs.mkdir(userStateDir(dataDir, user), { recursive: true });
        await recoverUser(user);
        // Every mailbox file gets MAILBOX_MODE, also one an older version left with another mode.
        await ensureFile(folderPaths(dataDir, user, INBOX).mbox, MAILBOX_MODE);
        for (const name of special) await ensureFile(folderPaths(dataDir, user, name).mbox, MAILBOX_MODE);
        for (const f of await fs.readdir(userFoldersDir(dataDir, user))) if (!f.includes('.tmp-')) await fs.chmod(join(userFoldersDir(dataDir, user), f), MAILBOX_MODE).catch(() => undefined);
      }
    },
    async flush() {
      handles.dropAll();
      for (const key of [...dirtySidecars.keys()]) {
        const [user, folder] = key.split('\0');
        await mutex.run(user, () => saveSidecar(user, folder));
      }
    },
    mboxPath: (user, folder) => folderPaths(dataDir, user, folder).mbox,
    hasUser: (user) => users.has(user),
    listFolders: (user) => mutex.run(user, () => listFoldersUnlocked(user)),
    createFolder: (user, folder) =>
      mutex.run(user, async () => {
        checkUser(user);
        const f = validName(folder);
        if (f === INBOX) throw new StoreError('FOLDER_EXISTS', 'INBOX always exists');
        try {
          const fh = await fs.open(folderPaths(dataDir, user, f).mbox, 'wx', MAILBOX_MODE);
          await fh.chmod(MAILBOX_MODE).finally(() => fh.close());
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new StoreError('FOLDER_EXISTS', `folder ${f} already exists`);
          noSpace(e);
        }
      }),
    deleteFolder: (user, folder) =>
      mutex.run(user, async () => {
        checkUser(user);
        const f = normalizeFolder(folder);
        if (f === INBOX) throw new StoreError('CANNOT_DELETE_INBOX', 'INBOX cannot be deleted');
        const paths = folderPaths(dataDir, user, f);
        handles.drop(paths.mbox);
        try {
          await fs.unlink(paths.mbox);
        } catch {
          throw new StoreError('NO_SUCH_FOLDER', `no such folder: ${f}`);
        }
        await fs.unlink(paths.state).catch(() => undefined);
        folders.delete(cacheKey(user, f));
        emit(user, f, { kind: 'deleted' });
      }),
    renameFolder: (user, fromName, toName) =>
      mutex.run(user, async () => {
        checkUser(user);
        const from = normalizeFolder(fromName);
        const to = validName(toName);
        if (to === INBOX) throw new StoreError('FOLDER_EXISTS', 'INBOX always exists');
        const all = await listFoldersUnlocked(user);
        if (!all.includes(from)) throw new StoreError('NO_SUCH_FOLDER', `no such folder: ${from}`);
        if (all.includes(to)) throw new StoreError('FOLDER_EXISTS', `folder ${to} already exists`);
        if (from === INBOX) {
          // RFC 3501 6.3.5: renaming INBOX moves its messages to the new folder; INBOX stays, empty.
          await renameInbox(user, to);
          return;
        }
        // Inferior names move with their parent (RFC 3501 6.3.5).
        const moves = all.filter((n) => n === from || n.startsWith(from + '/')).map((n) => ({ from: n, to: to + n.slice(from.length) }));
        for (const m of moves) await saveSidecar(user, m.from);
        await writeJournal(user, { kind: 'folders', moves });
        await completeFolderMoves(user, moves);
        await fs.unlink(journalPath(user)).catch(() => undefined);
        for (const m of moves) {
          folders.delete(cacheKey(user, m.from));
          emit(user, m.from, { kind: 'deleted', renamedTo: m.to });
        }
      }),
    snapshot: (user, folder) =>
      mutex.run(user, async () => {
        const st = await state(user, folder);
        const snap: FolderSnapshot = {
          user,
          folder: normalizeFolder(folder),
          uidValidity: st.uidValidity,
          uidNext: st.uidNext,
          messages: st.entries.map((e) => e.info),
        };
        return snap;
      }),
    read: (user, folder, uid) =>
      mutex.run(user, async () => {
        const st = await state(user, folder);
        const e = findEntry(st, uid);
        return e ? readEntry(user, folder, st, e) : null;
      }),
    readMany: (user, folder, uids, part = 'whole') =>
      mutex.run(user, async () => {
        const st = await state(user, folder);
        const entries = uids.map((uid) => findEntry(st, uid) ?? null);
        return readEntries(user, folder, st, entries, part);
      }),
    append: (user, folder, message, o) => mutex.run(user, async () => (await appendMany(user, folder, [{ wire: message, options: o }]))[0]),
    setFlags: (user, folder, uids, op: FlagOperation, flags) =>
      mutex.run(user, async () => {
        const st = await state(user, folder);
        const changed: MessageInfo[] = [];
        const wanted = new Set(uids);
        st.entries.forEach((e) => {
          if (!wanted.has(e.info.uid)) return;
          const current = new Set(e.info.flags);
          const next = op === 'set' ? new Set(flags) : current;
          if (op === 'add') flags.forEach((f) => next.add(f));
          if (op === 'remove') flags.forEach((f) => next.delete(f));
          e.info = makeInfo(st.uidValidity, e.info.uid, [...next], e.info.internalDate, e.info.size);
          changed.push(e.info);
        });
        if (changed.length) {
          saveSidecarLater(user, folder);
          emit(user, folder, { kind: 'flags', uids: changed.map((i) => i.uid) });
        }
        return changed;
      }),
    expunge: (user, folder, uids) =>
      mutex.run(user, async () => {
        const st = await state(user, folder);
        const gone = new Set(uids);
        const removed = st.entries.filter((e) => gone.has(e.info.uid)).map((e) => e.info.uid);
        if (!removed.length) return [];
        await rewrite(user, folder, st, st.entries.filter((e) => !gone.has(e.info.uid)));
        emit(user, folder, { kind: 'expunge', uids: removed });
        return removed;
      }),
    copy: (user, from, uids, to) =>
      mutex.run(user, async () => {
        const src = await state(user, from);
        const target = await state(user, to);
        const items = [];
        for (const uid of uids) {
          const e = findEntry(src, uid);
          if (e) items.push({ wire: await readEntry(user, from, src, e), options: { flags: e.info.flags, internalDate: e.info.internalDate } });
        }
        const infos = items.length ? await appendMany(user, to, items) : [];
        return { uidValidity: target.uidValidity, uids: infos.map((i) => i.uid) };
      }),
    lockMaildrop(user, holder) {
      checkUser(user);
      const current = locks.get(user);
      if (current !== undefined) throw new StoreError('LOCKED', `maildrop of ${user} is locked by ${current}`);
      locks.set(user, holder);
      let released = false;
      return () => {
        if (!released && locks.get(user) === holder) locks.delete(user);
        released = true;
      };
    },
    onChange(listener) {
      events.on('change', listener);
      return () => events.off('change', listener);
    },
    subscriptions: (user) =>
      mutex.run(user, async () => {
        checkUser(user);
        try {
          return JSON.parse(await fs.readFile(join(userStateDir(dataDir, user), 'subscriptions.json'), 'utf8')) as string[];
        } catch {
          return [INBOX, ...special];
        }
      }),
    setSubscribed: (user, folder, subscribed) =>
      mutex.run(user, async () => {
        checkUser(user);
        const path = join(userStateDir(dataDir, user), 'subscriptions.json');
        let list: string[];
        try {
          list = JSON.parse(await fs.readFile(path, 'utf8')) as string[];
        } catch {
          list = [INBOX, ...special];
        }
        const f = normalizeFolder(folder);
        const set = new Set(list);
        if (subscribed) set.add(f);
        else set.delete(f);
        await fs.writeFile(path + '.tmp', JSON.stringify([...set].sort()));
        await fs.rename(path + '.tmp', path);
      }),
  };

  async function readTail(path: string, size: number): Promise<string> {
    const fh = await fs.open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(2, size));
      await fh.read(buf, 0, buf.length, size - buf.length);
      return buf.toString('latin1');
    } finally {
      await fh.close();
    }
  }

  /**
   * Reads many entries with one open file and few large reads: entries that
   * lie close together in the file (in any order asked) are read as one
   * range of at most READ_SPAN octets; a larger message is read on its own.
   */
  async function readEntries(user: string, folder: string, st: FolderState, entries: readonly (Entry | null)[], part: 'whole' | 'header'): Promise<(Buffer | null)[]> {
    const out: (Buffer | null)[] = entries.map(() => null);
    const order = entries.map((e, i) => ({ e, i })).filter((x): x is { e: Entry; i: number } => x.e !== null).sort((a, b) => a.e.bodyStart - b.e.bodyStart);
    if (order.length === 0) return out;
    await withFile(user, folder, st, async (fh) => {
      for (let k = 0; k < order.length; ) {
        const from = order[k].e.bodyStart;
        let to = order[k].e.bodyEnd;
        let n = k + 1;
        while (n < order.length && order[n].e.bodyEnd - from <= READ_SPAN && order[n].e.bodyStart - to <= READ_GAP) to = Math.max(to, order[n++].e.bodyEnd);
        const buf = Buffer.allocUnsafe(to - from); // only the bytesRead octets are ever used
        const { bytesRead } = await fh.read(buf, 0, buf.length, from);
        for (; k < n; k++) {
          const { e, i } = order[k];
          if (e.bodyEnd - from > bytesRead) continue; // the file shrank under us (a hand edit): the next state() re-reads it
          const stored = buf.subarray(e.bodyStart - from, e.bodyEnd - from);
          // fromMboxBody copies: a result does not keep the whole range alive.
          out[i] = fromMboxBody(part === 'header' ? headerOf(stored) : stored);
        }
      }
    });
    return out;
  }

  /** Reads from the folder's mbox file through the handle cache; `st` is the state just checked against the file. */
  function withFile<T>(user: string, folder: string, st: FolderState, use: (fh: FileHandle) => Promise<T>): Promise<T> {
    return handles.with(folderPaths(dataDir, user, folder).mbox, st.stamp.ino, use);
  }

  async function readEntry(user: string, folder: string, st: FolderState, e: Entry): Promise<Buffer> {
    return withFile(user, folder, st, async (fh) => {
      const buf = Buffer.allocUnsafe(e.bodyEnd - e.bodyStart); // filled by the read (a short read is cut off)
      // A message of ordinary size is read synchronously: a page-cache copy of microseconds costs
      // less than a round trip through the thread pool (a POP3 client retrieving one after another).
      const bytesRead = buf.length <= SYNC_READ_MAX ? readSync(fh.fd, buf, 0, buf.length, e.bodyStart) : (await fh.read(buf, 0, buf.length, e.bodyStart)).bytesRead;
      return fromMboxBody(buf.subarray(0, bytesRead));
    });
  }

  return store;
}
