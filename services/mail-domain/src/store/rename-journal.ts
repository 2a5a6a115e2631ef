/**
 * RENAME on disk, and the crash recovery at start (the mailbox store's
 * part that moves files; mbox-store.ts keeps the per-user lock, the folder
 * state cache and the events).
 *
 * RENAME is one step on disk (RFC 3501 6.3.5; issue 5: every mailbox before
 * or after, never torn). A journal, `state/<user>/rename.journal`, names
 * what the rename will do; once it is on disk (fsynced) the rename is
 * committed, and a restart after a crash finishes it (`recoverUser`, called
 * by the store's init). Before it, nothing visible has changed: a new
 * folder's file and sidecar are built under temporary names first, and a
 * temp file or an orphan sidecar left by a crash is removed at start.
 * - A folder and its inferiors (`renameFolders`): each sidecar (its JSON
 *   part and its log) is copied to the new name before its mbox file is
 *   renamed, so flags and UIDs move with it.
 * - INBOX (`renameInbox`): its messages go to a new folder whose file is
 *   written whole (temp file, fsync) with its sidecar before the journal;
 *   then the temp file is renamed into place and INBOX rewritten empty.
 */
import { promises as fs, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Entry, type FolderState, makeInfo, recoverJournal, sidecarLogPath, stampNow, writeSidecar } from './folder-state';
import { INBOX, MAILBOX_MODE, STATE_MODE, folderPaths, userFoldersDir, userStateDir } from './paths';
import { noSpace } from './types';
import { fsyncPath, replaceDurable, writeDurable } from '../../../core/src/durable-file';

/** What the renames need of the store's files: where they are, and its cache of open read handles. */
export interface RenameFiles {
  dataDir: string;
  /** Forgets the open read handle of a file that is about to be moved (file-handles.ts). */
  dropHandle(path: string): void;
}

/** INBOX as the store holds it, for `renameInbox` (called under the user's lock). */
export interface InboxToMove {
  /** INBOX's state, just checked against its file. */
  state: FolderState;
  /** A new UIDVALIDITY, for the new folder. */
  newUidValidity(): number;
  /** Rewrites INBOX with only `keep` (temp file, fsync, rename) and saves its sidecar. */
  rewrite(keep: Entry[]): Promise<void>;
}

export interface FolderMove {
  from: string;
  to: string;
}

type RenameJournal = { kind: 'folders'; moves: FolderMove[] } | { kind: 'inbox'; to: string; tmp: string; size: number; ino: number };

const exists = (path: string) => statSync(path, { throwIfNoEntry: false }) !== undefined;

export class FolderRenames {
  constructor(private readonly files: RenameFiles) {}

  private journalPath(user: string): string {
    return join(userStateDir(this.files.dataDir, user), 'rename.journal');
  }

  /** Commits a rename: the journal, fsynced, and its directory fsynced. */
  private async writeJournal(user: string, j: RenameJournal): Promise<void> {
    await writeDurable(this.journalPath(user), JSON.stringify(j), STATE_MODE);
    await fsyncPath(userStateDir(this.files.dataDir, user));
  }

  private async dropJournal(user: string): Promise<void> {
    await fs.unlink(this.journalPath(user)).catch(() => undefined);
  }

  /** Renames folders (a folder and its inferiors); their sidecars must be on disk already. */
  async renameFolders(user: string, moves: FolderMove[]): Promise<void> {
    await this.writeJournal(user, { kind: 'folders', moves });
    await this.completeFolderMoves(user, moves);
    await this.dropJournal(user);
  }

  /** Moves each folder whose move is not done yet (idempotent: also the recovery after a crash). */
  private async completeFolderMoves(user: string, moves: FolderMove[]): Promise<void> {
    const { dataDir } = this.files;
    for (const m of moves) {
      const a = folderPaths(dataDir, user, m.from);
      const b = folderPaths(dataDir, user, m.to);
      if (exists(a.mbox) && !exists(b.mbox)) {
        this.files.dropHandle(a.mbox);
        await fs.unlink(b.state).catch(() => undefined);
        await fs.unlink(sidecarLogPath(b.state)).catch(() => undefined);
        await fs.copyFile(a.state, b.state).catch(() => undefined);
        await fs.copyFile(sidecarLogPath(a.state), sidecarLogPath(b.state)).catch(() => undefined);
        await fs.rename(a.mbox, b.mbox);
      }
      if (exists(b.mbox)) {
        await fs.unlink(a.state).catch(() => undefined);
        await fs.unlink(sidecarLogPath(a.state)).catch(() => undefined);
      }
    }
    await fsyncPath(userFoldersDir(dataDir, user));
    await fsyncPath(userStateDir(dataDir, user));
  }

  /**
   * Moves INBOX's messages to the new folder `to` and leaves INBOX empty
   * (messages appended meanwhile stay). Returns the UIDs that left INBOX.
   */
  async renameInbox(user: string, to: string, inbox: InboxToMove): Promise<number[]> {
    const st = inbox.state;
    const a = folderPaths(this.files.dataDir, user, INBOX);
    const b = folderPaths(this.files.dataDir, user, to);
    // The new folder gets INBOX's file as it is (same offsets), new UIDs under a new UIDVALIDITY, the same flags and dates.
    const uidValidity = inbox.newUidValidity();
    const moved: FolderState = {
      uidValidity,
      uidNext: st.entries.length + 1,
      entries: st.entries.map((e, i) => ({ ...e, info: makeInfo(uidValidity, i + 1, e.info.flags, e.info.internalDate, e.info.size) })),
      stamp: st.stamp,
      index: null,
      sidecar: null,
    };
    const tmp = `${b.mbox}.tmp-${process.pid}`;
    let size = 0;
    try {
      // A copy by the kernel (a big INBOX is not read into memory), then its mode and an fsync.
      await fs.copyFile(a.mbox, tmp);
      await fs.chmod(tmp, MAILBOX_MODE);
      await fsyncPath(tmp);
      size = (await fs.stat(tmp)).size;
      await fs.unlink(b.state).catch(() => undefined);
      await writeSidecar(b.state, moved);
      await this.writeJournal(user, { kind: 'inbox', to, tmp: tmp.slice(dirname(tmp).length + 1), size, ino: st.stamp.ino });
    } catch (e) {
      await fs.unlink(tmp).catch(() => undefined);
      await fs.unlink(b.state).catch(() => undefined);
      noSpace(e);
    }
    // Committed: from here on a crash is finished by recoverUser at the next start.
    await fs.rename(tmp, b.mbox);
    await fsyncPath(dirname(b.mbox));
    const uids = st.entries.map((e) => e.info.uid);
    await inbox.rewrite(st.entries.filter((e) => e.start >= size));
    await this.dropJournal(user);
    return uids;
  }

  /** After a crash (at start, before the user's folders are used): finishes a committed rename, removes what an uncommitted one left. */
  async recoverUser(user: string): Promise<void> {
    await this.finishCommitted(user);
    await this.dropJournal(user);
    await this.removeLeftovers(user);
  }

  /** Finishes the rename the journal names, if any. */
  private async finishCommitted(user: string): Promise<void> {
    let j: RenameJournal | null = null;
    try {
      j = JSON.parse(await fs.readFile(this.journalPath(user), 'utf8')) as RenameJournal;
    } catch {
      j = null;
    }
    if (j?.kind === 'folders' && Array.isArray(j.moves)) await this.completeFolderMoves(user, j.moves);
    if (j?.kind === 'inbox') await this.finishInbox(user, j);
  }

  /** A committed RENAME INBOX: the new folder's file into place, the moved messages cut from INBOX. */
  private async finishInbox(user: string, j: Extract<RenameJournal, { kind: 'inbox' }>): Promise<void> {
    const a = folderPaths(this.files.dataDir, user, INBOX);
    const b = folderPaths(this.files.dataDir, user, j.to);
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
      await replaceDurable(a.mbox, rest, { mode: MAILBOX_MODE, tmp: `${a.mbox}.tmp-${process.pid}` });
    }
  }

  /** Temp files of an interrupted rewrite, rename, sidecar or index write; sidecars and indexes of folders that do not exist. */
  private async removeLeftovers(user: string): Promise<void> {
    const { dataDir } = this.files;
    const mailDir = join(dataDir, 'mail');
    for (const f of await fs.readdir(mailDir).catch(() => [] as string[])) if (f.startsWith(`${user}.tmp-`)) await fs.unlink(join(mailDir, f)).catch(() => undefined);
    const folderFiles = await fs.readdir(userFoldersDir(dataDir, user)).catch(() => [] as string[]);
    for (const f of folderFiles) if (f.includes('.tmp-')) await fs.unlink(join(userFoldersDir(dataDir, user), f)).catch(() => undefined);
    const live = new Set(folderFiles.filter((f) => !f.includes('.tmp-')));
    for (const f of await fs.readdir(userStateDir(dataDir, user)).catch(() => [] as string[])) {
      const orphan = /^folder-(.+)\.(?:json|log)$/.exec(f) ?? /^index\.folder-(.+)$/.exec(f);
      if (f.includes('.tmp-') || (orphan && !live.has(orphan[1]))) await fs.unlink(join(userStateDir(dataDir, user), f)).catch(() => undefined);
    }
  }
}
