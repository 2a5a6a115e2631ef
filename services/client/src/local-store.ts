/**
 * The client's own files on this computer, as a real mail program keeps a
 * profile: one directory per account under the local directory
 * (`--local-dir`, else $MAIL_LAB_CLIENT_DIR, else ~/.mail-lab-client):
 *
 *   <local>/<user@domain>/pop3/<n>.eml        mail downloaded over POP3, numbered as it came
 *   <local>/<user@domain>/pop3/uidl.json      which server messages are here (by UIDL)
 *   <local>/<user@domain>/imap/<folder>/<uid>.eml   the offline copy of an IMAP folder
 *   <local>/<user@domain>/imap/<folder>/folder.json UIDVALIDITY, flags, when it was synced
 *   <local>/<user@domain>/outbox/<id>.eml + <id>.json   mail written but not sent yet
 *
 * Every file is written whole or not at all (temporary file, fsync,
 * rename, fsync of the directory), so a crash or Ctrl-C never leaves half
 * a message or a half-written state file.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Env } from './endpoint';
import { ClientError } from './errors';

/** The local directory: the option, else $MAIL_LAB_CLIENT_DIR, else ~/.mail-lab-client. */
export function localRoot(option: string | undefined, env: Env): string {
  const dir = option ?? env.MAIL_LAB_CLIENT_DIR ?? join(env.HOME || homedir(), '.mail-lab-client');
  return resolve(dir);
}

/** The directory of one account (the address in lower case). */
export const accountDir = (root: string, address: string) => join(root, address.toLowerCase());

/**
 * A folder name as one path segment: `Sent Items` → `Sent%20Items`,
 * `Kelas/XI` → `Kelas%2FXI`; `.` and `..` cannot come out of it.
 */
export function folderSegment(folder: string): string {
  const s = encodeURIComponent(folder).replace(/\*/g, '%2A');
  return s === '.' ? '%2E' : s === '..' ? '%2E%2E' : s;
}

export function folderFromSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Writes `data` to `path` atomically (temp file, fsync, rename, fsync of the directory). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = resolve(path, '..');
  await fs.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  const d = await fs.open(dir, 'r');
  try {
    await d.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename is done anyway.
  } finally {
    await d.close();
  }
}

/** A JSON file, or `fallback` when it does not exist; a damaged one is an error that names it. */
export async function readJson<T>(path: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ClientError(`${path} is damaged (not JSON); move it away and the client starts that part afresh`);
  }
}

export const writeJson = (path: string, value: unknown) => writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');

/** The entries of a directory, or none when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** A file's bytes, or null when it is not there. */
export async function readIfThere(path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** `~/.mail-lab-client/x` for output, when the path is under the home directory. */
export function shownPath(path: string, env: Env): string {
  const home = env.HOME || homedir();
  return home && (path === home || path.startsWith(home + '/')) ? '~' + path.slice(home.length) : path;
}
