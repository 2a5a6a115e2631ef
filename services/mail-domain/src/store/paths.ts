/**
 * Where a user's folders live on disk, and how IMAP folder names map to
 * file names. INBOX is `<dataDir>/mail/<user>` (like /var/mail/<user>);
 * other folders are `<dataDir>/folders/<user>/<name>` with `/` (the IMAP
 * hierarchy separator) and other unsafe characters percent-encoded, so a
 * folder is always exactly one file. IMAP state is under `<dataDir>/state`.
 */
import { join } from 'node:path';

export const INBOX = 'INBOX';

/** RFC 3501 5.1: INBOX is case-insensitive; every other name is kept as given. */
export function normalizeFolder(name: string): string {
  return name.toUpperCase() === INBOX ? INBOX : name;
}

export function encodeFolderName(name: string): string {
  return name.replace(/[%/\\\0\x01-\x1f]|^\.+/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

export function decodeFolderName(file: string): string {
  return decodeURIComponent(file);
}

export interface FolderPaths {
  mbox: string;
  state: string;
  journal: string;
}

export function folderPaths(dataDir: string, user: string, folder: string): FolderPaths {
  const f = normalizeFolder(folder);
  const mbox = f === INBOX ? join(dataDir, 'mail', user) : join(dataDir, 'folders', user, encodeFolderName(f));
  const stateBase = join(dataDir, 'state', user, f === INBOX ? 'INBOX' : 'folder-' + encodeFolderName(f));
  return { mbox, state: stateBase + '.json', journal: stateBase + '.append' };
}

export const userFoldersDir = (dataDir: string, user: string) => join(dataDir, 'folders', user);
export const userStateDir = (dataDir: string, user: string) => join(dataDir, 'state', user);
