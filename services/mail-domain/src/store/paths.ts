/**
 * Where a user's folders live on disk, and how IMAP folder names map to
 * file names. INBOX is `<dataDir>/mail/<user>` (like /var/mail/<user>);
 * other folders are `<dataDir>/folders/<user>/<name>` with `/` (the IMAP
 * hierarchy separator) and other unsafe characters percent-encoded, so a
 * folder is always exactly one file. IMAP state is under `<dataDir>/state`.
 */
import { join } from 'node:path';

export const INBOX = 'INBOX';

/**
 * The mode of every mailbox (mbox) file, whatever its history: created,
 * appended to, rewritten by a POP3 QUIT or an IMAP EXPUNGE, moved by a
 * RENAME. rw-r--r--: the mail server's user writes, every reader the lab
 * documents can read it (`docker exec … cat` as the container's user or as
 * root, which in these containers has no CAP_DAC_OVERRIDE, the scenario
 * runner, the admin API). The store's own state files stay 0600.
 */
export const MAILBOX_MODE = 0o644;
/** The mode of the store's state files (IMAP sidecars, journals). */
export const STATE_MODE = 0o600;

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
  /** The folder's persistent index (mbox-index.ts): a cache, deleted and rebuilt at will. */
  index: string;
}

export function folderPaths(dataDir: string, user: string, folder: string): FolderPaths {
  const f = normalizeFolder(folder);
  const mbox = f === INBOX ? join(dataDir, 'mail', user) : join(dataDir, 'folders', user, encodeFolderName(f));
  const base = f === INBOX ? 'INBOX' : 'folder-' + encodeFolderName(f);
  const stateBase = join(dataDir, 'state', user, base);
  return { mbox, state: stateBase + '.json', journal: stateBase + '.append', index: join(dataDir, 'state', user, 'index.' + base) };
}

export const userFoldersDir = (dataDir: string, user: string) => join(dataDir, 'folders', user);
export const userStateDir = (dataDir: string, user: string) => join(dataDir, 'state', user);
