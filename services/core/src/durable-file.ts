/**
 * Durable file writes, shared by the mailbox store and the queue spool:
 * write-and-fsync, the atomic replace (temp file, fsync, rename, fsync of
 * the directory), and fsync of a path. A file written here gets exactly the
 * mode asked for, whatever the process umask (fchmod after open), because a
 * mode that depends on a file's history is a bug a user sees (issue 9: a
 * mailbox rewritten by a POP3 QUIT became unreadable to `docker exec -u root`).
 *
 * The fsync, which waits for the disk, and the open that creates a file,
 * which can wait for the file system's journal while other fsyncs run, go
 * through libuv's thread pool. The fchmod, write of one small file, close,
 * rename and unlink are made synchronously: each takes microseconds in the
 * page cache, less than a hand-off to the pool and back (issue 15: the
 * spool's files of every queued message were two dozen such hand-offs, a
 * fifth of a domain's CPU per message while a queue drained). A write larger
 * than SYNC_WRITE_MAX still goes through the pool, so that one big file does
 * not stall every session.
 */
import { closeSync, fchmodSync, fsync, open, openSync, renameSync, unlinkSync, writeSync, promises as fs } from 'node:fs';
import { dirname } from 'node:path';

/** Larger writes go through the thread pool. */
const SYNC_WRITE_MAX = 256 * 1024;

/** fsync of an open descriptor, in the thread pool. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/**
 * open in the thread pool: creating a file needs the file system's journal,
 * and on a disk busy with other fsyncs it can wait for one (0.3 ms each while
 * a queue drained here, all of it a stalled event loop when made synchronously).
 */
function openFd(path: string, flags: string, mode: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** fsync of a file or directory by path. */
export async function fsyncPath(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to `path` (created or truncated) with exactly `mode`, and fsyncs it. */
export async function writeDurable(path: string, data: Buffer | string, mode: number): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (bytes.length > SYNC_WRITE_MAX) return writeDurableLarge(path, bytes, mode);
  const fd = await openFd(path, 'w', mode);
  try {
    fchmodSync(fd, mode);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

async function writeDurableLarge(path: string, bytes: Buffer, mode: number): Promise<void> {
  const fh = await fs.open(path, 'w', mode);
  try {
    await fh.chmod(mode);
    await fh.write(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface ReplaceOptions {
  mode: number;
  /** The temp file's name (beside `path`). @default `${path}.tmp` */
  tmp?: string;
  /** fsync the directory after the rename (the rename itself durable). @default true */
  syncDir?: boolean;
  /** Called between the temp file's fsync and the rename (e.g. to drop an open read handle). */
  beforeRename?: () => void;
}

/**
 * Replaces `path` atomically: a reader sees the old file or the new one,
 * never a torn one; after a crash it is one or the other. The temp file is
 * removed when anything fails.
 */
export async function replaceDurable(path: string, data: Buffer | string, o: ReplaceOptions): Promise<void> {
  const tmp = o.tmp ?? `${path}.tmp`;
  try {
    await writeDurable(tmp, data, o.mode);
    o.beforeRename?.();
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // not there
    }
    throw e;
  }
  if (o.syncDir ?? true) await fsyncPath(dirname(path));
}

/** Creates `path` empty when it does not exist, and gives it `mode` either way. */
export async function ensureFile(path: string, mode: number): Promise<void> {
  const fh = await fs.open(path, 'a', mode);
  try {
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
}
