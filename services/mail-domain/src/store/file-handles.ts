/**
 * Open read handles of mbox files, kept between reads so that reading a
 * message costs one positioned read instead of open + read + close (a POP3
 * client retrieving a mailbox, IMAP reading many messages). A handle is for
 * one inode: when the file was replaced (an expunge renames a new file over
 * it) the caller's expected inode no longer matches and the handle is
 * reopened; the store also drops a path's handle itself whenever it
 * replaces, moves or deletes the file. At most `max` idle handles stay open,
 * the least recently used are closed first; a handle in use is never closed
 * under its reader.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

interface Held {
  fh: FileHandle;
  ino: number;
  users: number;
  dropped: boolean;
}

export class FileHandleCache {
  private readonly held = new Map<string, Held>();

  constructor(private readonly max = 32) {}

  /** Runs `use` with a read handle on `path`, whose inode should be `ino` (from a fresh stat). */
  async with<T>(path: string, ino: number, use: (fh: FileHandle) => Promise<T>): Promise<T> {
    let h = this.held.get(path);
    if (h && h.ino !== ino) {
      this.drop(path);
      h = undefined;
    }
    if (!h) {
      const fh = await fs.open(path, 'r');
      const opened: Held = { fh, ino: (await fh.stat()).ino, users: 0, dropped: false };
      // Another reader may have opened the same path meanwhile: keep one, close ours later.
      const raced = this.held.get(path);
      if (raced && raced.ino === opened.ino) {
        await fh.close();
        h = raced;
      } else {
        if (raced) this.drop(path);
        this.held.set(path, opened);
        h = opened;
      }
    }
    this.held.delete(path); // most recently used goes last
    if (!h.dropped) this.held.set(path, h);
    h.users++;
    try {
      return await use(h.fh);
    } finally {
      h.users--;
      if (h.dropped && h.users === 0) await h.fh.close().catch(() => undefined);
      this.trim();
    }
  }

  /** Forgets the handle of `path` (the file is being replaced, moved or deleted); it closes once idle. */
  drop(path: string): void {
    const h = this.held.get(path);
    if (!h) return;
    this.held.delete(path);
    h.dropped = true;
    if (h.users === 0) void h.fh.close().catch(() => undefined);
  }

  /** Closes every handle (idle ones now, busy ones when their reader is done). */
  dropAll(): void {
    for (const path of [...this.held.keys()]) this.drop(path);
  }

  private trim(): void {
    if (this.held.size <= this.max) return;
    for (const [path, h] of this.held) {
      if (this.held.size <= this.max) break;
      if (h.users === 0) this.drop(path);
    }
  }
}
