/**
 * Durable file writes, shared by the mailbox store and the queue spool:
 * write-and-fsync, the atomic replace (temp file, fsync, rename, fsync of
 * the directory), and fsync of a path. A file written here gets exactly the
 * mode asked for, whatever the process umask (fchmod after open), because a
 * mode that depends on a file's history is a bug a user sees (issue 9: a
 * mailbox rewritten by a POP3 QUIT became unreadable to `docker exec -u root`).
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

/** fsync of a file or directory by path. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await fs.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to `path` (created or truncated) with exactly `mode`, and fsyncs it. */
export async function writeDurable(path: string, data: Buffer | string, mode: number): Promise<void> {
  const fh = await fs.open(path, 'w', mode);
  try {
    await fh.chmod(mode);
    await fh.write(typeof data === 'string' ? Buffer.from(data) : data);
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
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
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
