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
 *   commits it, a restart finishes it (rename-journal.ts).
 * - IMAP state lives in a sidecar that can always be rebuilt from the
 *   mbox file (folder-state.ts): a compacted JSON part and a log of the
 *   changes since. An append adds its records to the log (fsynced) at once,
 *   flag changes are logged lazily (many STOREs, one write); neither
 *   rewrites the JSON part, which is compacted after an expunge, before a
 *   rename and when the log has grown large.
 * - a persistent index per folder (mbox-index.ts: offsets, sizes, hashes,
 *   header sections) spares reading the whole mbox file to load a folder
 *   and serves header reads; it is valid only for the exact mbox file it
 *   describes, extended after an append (O(1)), rebuilt after an expunge,
 *   and rebuilt by a streaming pass whenever it does not match.
 * - subscriptions: a small JSON file per user (subscriptions.ts).
 * All operations of one user run one at a time (a per-user queue).
 * Reads go through a small cache of open file handles (file-handles.ts);
 * the stat that checks for hand edits and reads of messages up to 1 MiB are
 * synchronous (microseconds on a local disk, cheaper than the thread pool);
 * `readMany` reads many messages in few large reads.
 */
import { EventEmitter } from 'node:events';
import { promises as fs, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppendOptions, FlagOperation, FolderChange, FolderChangeEvent, FolderSnapshot, MailStore, MessageInfo } from './types';
import { StoreError, noSpace } from './types';
import { fromMboxBody, separatorLine, toMboxBody, wireSize } from './mbox-format';
import { type Entry, type FolderState, type SidecarChange, appendSidecar, loadFolder, makeInfo, recoverJournal, sameStamp, sidecarLogPath, stampNow, stampOf, writeSidecar } from './folder-state';
import { appendIndex, buildIndex, hashBody, storedHeader, type IndexRecord } from './mbox-index';
import { FileHandleCache } from './file-handles';
import { KeyedMutex } from './mutex';
import { AppendBatcher } from './append-batch';
import { INBOX, MAILBOX_MODE, decodeFolderName, folderPaths, normalizeFolder, userFoldersDir, userStateDir } from './paths';
import { FolderRenames } from './rename-journal';
import { Subscriptions } from './subscriptions';
import { ensureFile, fsyncPath } from '../../../core/src/durable-file';

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
  /**
   * The domain's accounts anew (`npx mail-lab reload`): a new one gets its INBOX and
   * special-use folders; one that went is no longer served, its files stay on disk.
   */
  setUsers(users: readonly string[]): Promise<void>;
  /**
   * Empties an account for a new class (`npx mail-lab reset --mailboxes`): INBOX and the
   * special-use folders emptied, other folders deleted, subscriptions back to the default.
   * Open sessions see the messages expunged. UIDVALIDITY and UIDNEXT stay, so UIDs keep
   * growing and none is ever used twice (RFC 3501 2.3.1.1); a folder made again later gets a
   * new UIDVALIDITY, as a deleted and recreated mailbox must.
   */
  emptyUser(user: string): Promise<{ messages: number; folders: number }>;
}

const SPECIAL = ['Sent', 'Drafts', 'Trash'];
/** Messages up to this size are read with one synchronous positioned read. */
const SYNC_READ_MAX = 1024 * 1024;
/** readMany: the largest range read at once, and the largest gap between messages read over. */
const READ_SPAN = 8 * 1024 * 1024;
const READ_GAP = 64 * 1024;
/**
 * Buffers of READ_SPAN octets that readSpans reads into, handed back after each call and used
 * again: every `take` copies what it keeps, so nothing outlives the read. A listing or a SEARCH
 * BODY of a big mailbox then reads gigabytes through the same megabytes instead of asking for
 * new memory each time, which made V8 collect far more often (issue 15). One is kept (a
 * session's reads come one after another); reads at the same moment beyond it get their own.
 */
const SPARE_READ_BUFFERS = 1;
const spareReadBuffers: Buffer[] = [];
/** The buffer through which an expunge copies the kept messages. */
const COPY_CHUNK = 4 * 1024 * 1024;

/** A range of a file to read, and whose result it is. */
interface Span {
  from: number;
  to: number;
  i: number;
}

export function createMailStore(options: MailStoreOptions): MboxMailStore {
  const { dataDir } = options;
  const users = new Set(options.users);
  const special = options.specialFolders ?? SPECIAL;
  const now = options.now ?? (() => new Date());
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const mutex = new KeyedMutex();
  // Appends to one folder that wait for the same turn are written together (append-batch.ts).
  const appends = new AppendBatcher<{ wire: Buffer; options?: AppendOptions }, MessageInfo>({
    turn: (user, work) => mutex.run(user, work),
    write: (user, folder, items) => appendMany(user, folder, items),
    bytes: (item) => item.wire.length,
  });
  const folders = new Map<string, FolderState>();
  const dirtySidecars = new Map<string, NodeJS.Timeout>();
  /** Per folder, the changes not yet in its sidecar's log. */
  const sidecarChanges = new Map<string, SidecarChange[]>();
  const locks = new Map<string, string>();
  const handles = new FileHandleCache();
  const renames = new FolderRenames({ dataDir, dropHandle: (path) => handles.drop(path) });
  const subscriptions = new Subscriptions({ dataDir, specialFolders: special });
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

  /** Writes the folder's pending sidecar changes to its log; `compact`: the whole sidecar anew instead. */
  async function saveSidecar(user: string, folder: string, compact = false): Promise<void> {
    const key = cacheKey(user, folder);
    const t = dirtySidecars.get(key);
    if (t) clearTimeout(t);
    dirtySidecars.delete(key);
    const changes = sidecarChanges.get(key) ?? [];
    sidecarChanges.delete(key);
    const state = folders.get(key);
    if (!state) return;
    const path = folderPaths(dataDir, user, folder).state;
    if (compact) await writeSidecar(path, state);
    else await appendSidecar(path, state, changes);
  }
  function logChanges(user: string, folder: string, changes: SidecarChange[]): void {
    const key = cacheKey(user, folder);
    const list = sidecarChanges.get(key);
    if (list) list.push(...changes);
    else sidecarChanges.set(key, changes);
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
    sidecarChanges.delete(key);
    const { state: loaded } = await loadFolder(paths.mbox, paths.state, paths.index, newUidValidity);
    folders.set(key, loaded);
    // A sidecar that describes the file exactly stays as it is (a load writes nothing); else it is compacted anew.
    if (!loaded.sidecar) await writeSidecar(paths.state, loaded);
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

  /** Throws TOO_BIG for a message of `size` octets over the store's limit. */
  function refuseTooBig(size: number): void {
    if (options.maxMessageSize && size > options.maxMessageSize) throw new StoreError('TOO_BIG', `message of ${size} octets is over the limit of ${options.maxMessageSize}`);
  }

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
    const indexed: Array<{ record: IndexRecord; head: Buffer }> = [];
    let uidNext = st.uidNext;
    for (const { wire, options: o } of items) {
      refuseTooBig(wire.length);
      const date = o?.internalDate ?? now();
      const sep = Buffer.from(separatorLine(o?.envelopeFrom, date), 'latin1');
      const body = toMboxBody(wire);
      const start = offset;
      const bodyStart = start + sep.length;
      const bodyEnd = bodyStart + body.length;
      chunks.push(sep, body, Buffer.from('\n'));
      offset = bodyEnd + 1;
      const size = wireSize(body);
      const key = hashBody(body);
      const head = storedHeader(body);
      const record: IndexRecord = { start, bodyStart, bodyEnd, end: offset, size, date: date.getTime(), key, headAt: 0, headLen: head.length };
      indexed.push({ record, head });
      added.push({ info: makeInfo(st.uidValidity, uidNext++, o?.flags ?? [], date, size), start, bodyStart, bodyEnd, end: offset, key, headAt: -1, headLen: 0 });
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
    // The next snapshot's list: a new array (one handed out is never changed), copied rather than rebuilt message by message.
    st.messages = st.messages ? st.messages.concat(added.map((e) => e.info)) : null;
    st.uidNext = uidNext;
    st.stamp = await stampOf(paths.mbox);
    await extendIndex(paths.index, st, added, indexed);
    // The new messages' UIDs and flags go to the sidecar's log at once (O(1) in the mailbox, fsynced);
    // should that fail, the message is stored all the same and the sidecar is compacted a little later.
    logChanges(user, folder, added.map((e) => ({ uid: e.info.uid, flags: e.info.flags, key: e.key, date: e.info.internalDate.getTime() })));
    await saveSidecar(user, folder).catch(() => saveSidecarLater(user, folder));
    emit(user, folder, { kind: 'append', uids: added.map((e) => e.info.uid) });
    return added.map((e) => e.info);
  }

  /**
   * After an append: the new messages' records at the end of the index (O(1)
   * in the mailbox). An index that cannot be extended is deleted: the next
   * load rebuilds it, header reads meanwhile go to the mbox file.
   */
  async function extendIndex(path: string, st: FolderState, added: Entry[], indexed: Array<{ record: IndexRecord; head: Buffer }>): Promise<void> {
    if (!st.index) return;
    try {
      st.index = await appendIndex(st.index, st.stamp, indexed);
      added.forEach((e, i) => {
        e.headAt = indexed[i].record.headAt;
        e.headLen = indexed[i].record.headLen;
      });
    } catch {
      st.index = null;
      handles.drop(path);
      await fs.unlink(path).catch(() => undefined);
    }
  }

  /** After the mbox file was rewritten: a new index from it, whose records line up with `st.entries` (else none). */
  async function reindex(path: string, mbox: string, st: FolderState): Promise<void> {
    handles.drop(path);
    st.index = null;
    try {
      const built = await buildIndex(mbox, path, st.stamp);
      const lined = built.file && built.records.length === st.entries.length && built.records.every((r, i) => r.key === st.entries[i].key && r.start === st.entries[i].start);
      if (!lined) {
        await fs.unlink(path).catch(() => undefined);
        return;
      }
      st.entries.forEach((e, i) => {
        e.headAt = built.records[i].headAt;
        e.headLen = built.records[i].headLen;
      });
      st.index = built.file;
    } catch {
      await fs.unlink(path).catch(() => undefined);
    }
  }

  /**
   * Rewrites the folder's mbox file with only `keep` (temp file, fsync,
   * rename, fsync of the directory: before or after, never torn). The kept
   * messages are copied range by range through one buffer of COPY_CHUNK
   * octets: an expunge in a 1.7 GB mailbox no longer holds the file (and a
   * copy of it) in memory.
   */
  async function rewrite(user: string, folder: string, st: FolderState, keep: Entry[]): Promise<void> {
    const paths = folderPaths(dataDir, user, folder);
    const entries: Entry[] = [];
    const ranges: Array<{ from: number; to: number }> = [];
    let offset = 0;
    for (const e of keep) {
      const shift = offset - e.start;
      entries.push({ ...e, start: e.start + shift, bodyStart: e.bodyStart + shift, bodyEnd: e.bodyEnd + shift, end: e.end + shift });
      offset += e.end - e.start;
      const last = ranges[ranges.length - 1];
      if (last && last.to === e.start) last.to = e.end;
      else ranges.push({ from: e.start, to: e.end });
    }
    const tmp = `${paths.mbox}.tmp-${process.pid}`;
    try {
      await copyRanges(paths.mbox, tmp, ranges);
      handles.drop(paths.mbox);
      await fs.rename(tmp, paths.mbox);
    } catch (e) {
      await fs.unlink(tmp).catch(() => undefined);
      noSpace(e);
    }
    await fsyncPath(dirname(paths.mbox));
    st.entries = entries;
    st.messages = null;
    st.stamp = await stampOf(paths.mbox);
    await reindex(paths.index, paths.mbox, st);
    await saveSidecar(user, folder, true);
  }

  /** Writes the ranges of `from` one after another to a new file `to` (mode MAILBOX_MODE), fsynced. */
  async function copyRanges(from: string, to: string, ranges: ReadonlyArray<{ from: number; to: number }>): Promise<void> {
    const src = await fs.open(from, 'r');
    try {
      const out = await fs.open(to, 'w', MAILBOX_MODE);
      try {
        await out.chmod(MAILBOX_MODE);
        const buf = Buffer.allocUnsafe(Math.max(1, Math.min(COPY_CHUNK, ranges.reduce((n, r) => Math.max(n, r.to - r.from), 0))));
        for (const r of ranges) {
          for (let at = r.from; at < r.to; ) {
            const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, r.to - at), at);
            if (bytesRead === 0) break; // the file is shorter than it was (cannot happen under the lock: it was just checked)
            await out.write(buf, 0, bytesRead);
            at += bytesRead;
          }
        }
        await out.sync();
      } finally {
        await out.close();
      }
    } finally {
      await src.close();
    }
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

  async function initUser(user: string): Promise<void> {
    await fs.mkdir(join(dataDir, 'mail'), { recursive: true });
    await fs.mkdir(userFoldersDir(dataDir, user), { recursive: true });
    await fs.mkdir(userStateDir(dataDir, user), { recursive: true });
    await renames.recoverUser(user);
    // Every mailbox file gets MAILBOX_MODE, also one an older version left with another mode.
    await ensureFile(folderPaths(dataDir, user, INBOX).mbox, MAILBOX_MODE);
    for (const name of special) await ensureFile(folderPaths(dataDir, user, name).mbox, MAILBOX_MODE);
    for (const f of await fs.readdir(userFoldersDir(dataDir, user))) if (!f.includes('.tmp-')) await fs.chmod(join(userFoldersDir(dataDir, user), f), MAILBOX_MODE).catch(() => undefined);
  }

  /** Removes every message of a folder (the user's lock held); returns how many. */
  async function emptyFolder(user: string, folder: string): Promise<number> {
    const st = await state(user, folder);
    const uids = st.entries.map((e) => e.info.uid);
    if (!uids.length) return 0;
    await rewrite(user, folder, st, []);
    emit(user, folder, { kind: 'expunge', uids });
    return uids.length;
  }

  const store: MboxMailStore = {
    async init() {
      for (const user of users) await initUser(user);
    },
    async setUsers(next) {
      for (const user of next) if (!users.has(user)) await mutex.run(user, () => initUser(user));
      users.clear();
      for (const user of next) users.add(user);
    },
    emptyUser: (user) =>
      mutex.run(user, async () => {
        checkUser(user);
        let messages = 0;
        let deleted = 0;
        for (const f of await listFoldersUnlocked(user)) {
          if (f === INBOX || special.includes(f)) {
            messages += await emptyFolder(user, f);
            continue;
          }
          messages += (await state(user, f)).entries.length;
          const paths = folderPaths(dataDir, user, f);
          handles.drop(paths.mbox);
          await fs.unlink(paths.mbox).catch(() => undefined);
          await fs.unlink(paths.state).catch(() => undefined);
          await fs.unlink(sidecarLogPath(paths.state)).catch(() => undefined);
          sidecarChanges.delete(cacheKey(user, f));
          handles.drop(paths.index);
          await fs.unlink(paths.index).catch(() => undefined);
          folders.delete(cacheKey(user, f));
          emit(user, f, { kind: 'deleted' });
          deleted++;
        }
        // A special-use folder deleted by a student comes back.
        for (const name of special) await ensureFile(folderPaths(dataDir, user, name).mbox, MAILBOX_MODE);
        await subscriptions.reset(user);
        return { messages, folders: deleted };
      }),
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
        await fs.unlink(sidecarLogPath(paths.state)).catch(() => undefined);
        sidecarChanges.delete(cacheKey(user, f));
        handles.drop(paths.index);
        await fs.unlink(paths.index).catch(() => undefined);
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
          const st = await state(user, INBOX);
          const uids = await renames.renameInbox(user, to, { state: st, newUidValidity, rewrite: (keep) => rewrite(user, INBOX, st, keep) });
          if (uids.length) emit(user, INBOX, { kind: 'expunge', uids });
          return;
        }
        // Inferior names move with their parent (RFC 3501 6.3.5); each sidecar on disk first, so flags and UIDs move too.
        const moves = all.filter((n) => n === from || n.startsWith(from + '/')).map((n) => ({ from: n, to: to + n.slice(from.length) }));
        for (const m of moves) await saveSidecar(user, m.from, true);
        await renames.renameFolders(user, moves);
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
          // One array per change, not per call (every IMAP command asks): a snapshot is never changed after it is handed out.
          messages: (st.messages ??= st.entries.map((e) => e.info)),
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
    append: async (user, folder, message, o) => {
      // Refused alone, before it joins a batch (a batch fails as one).
      refuseTooBig(message.length);
      return appends.add(user, folder, { wire: message, options: o });
    },
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
          st.messages = null;
          changed.push(e.info);
        });
        if (changed.length) {
          logChanges(user, folder, changed.map((i) => ({ uid: i.uid, flags: i.flags })));
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
        return subscriptions.list(user);
      }),
    setSubscribed: (user, folder, subscribed) =>
      mutex.run(user, async () => {
        checkUser(user);
        await subscriptions.set(user, folder, subscribed);
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
   * Reads many entries with few large reads: header sections from the
   * folder's index when it is valid (one sequential read for a whole
   * mailbox listing), everything else from the mbox file.
   */
  async function readEntries(user: string, folder: string, st: FolderState, entries: readonly (Entry | null)[], part: 'whole' | 'header'): Promise<(Buffer | null)[]> {
    const out: (Buffer | null)[] = entries.map(() => null);
    const index = part === 'header' ? st.index : null;
    const fromIndex: Span[] = [];
    const fromMbox: Span[] = [];
    entries.forEach((e, i) => {
      if (!e) return;
      if (index && e.headAt >= 0) fromIndex.push({ from: e.headAt, to: e.headAt + e.headLen, i });
      else fromMbox.push({ from: e.bodyStart, to: e.bodyEnd, i });
    });
    // fromMboxBody and Buffer.from copy: a result does not keep the whole range alive, and the range is read over next.
    // A stored body's header section: up to and including the first empty line (LF on disk), or all of it.
    if (fromMbox.length) await withFile(user, folder, st, (fh) => readSpans(fh, fromMbox, (stored, i) => (out[i] = part === 'header' ? storedHeader(stored) : fromMboxBody(stored))));
    if (fromIndex.length && index) await handles.with(index.path, index.ino, (fh) => readSpans(fh, fromIndex, (head, i) => (out[i] = Buffer.from(head))));
    return out;
  }

  /**
   * Reads ranges of one file: ranges that lie close together (in any order
   * asked) are read as one range of at most READ_SPAN octets; a larger one
   * is read on its own. A range past the end of the file (it shrank under
   * us, a hand edit) is skipped: the next state() re-reads the folder.
   * `take` must copy what it keeps: the octets it is given are read over.
   */
  async function readSpans(fh: FileHandle, spans: Span[], take: (data: Buffer, i: number) => void): Promise<void> {
    const order = [...spans].sort((a, b) => a.from - b.from);
    let spare: Buffer | undefined;
    try {
      for (let k = 0; k < order.length; ) {
        const from = order[k].from;
        let to = order[k].to;
        let n = k + 1;
        while (n < order.length && order[n].to - from <= READ_SPAN && order[n].from - to <= READ_GAP) to = Math.max(to, order[n++].to);
        // Only the bytesRead octets are ever used; `take` copies what it keeps (see spareReadBuffers).
        const buf = to - from <= READ_SPAN ? (spare ??= spareReadBuffers.pop() ?? Buffer.allocUnsafe(READ_SPAN)) : Buffer.allocUnsafe(to - from);
        const { bytesRead } = await fh.read(buf, 0, to - from, from);
        for (; k < n; k++) {
          const s = order[k];
          if (s.to - from > bytesRead) continue;
          take(buf.subarray(s.from - from, s.to - from), s.i);
        }
      }
    } finally {
      if (spare && spareReadBuffers.length < SPARE_READ_BUFFERS) spareReadBuffers.push(spare);
    }
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
