/**
 * A reloaded lab definition survives a restart of a service: every service
 * that took one (`npx mail-lab reload`) keeps its text in
 * `reloaded-lab.json` beside the lab's admin token (Docker: the `lab-admin`
 * volume, shared by the DNS and the mail containers; no-Docker:
 * `.lab-data/`, `.lab-data/labs/NN/`), with a hash of the definition file
 * the services read at start (MAIL_LAB_CONFIG) as it was then.
 *
 * At start the newest definition wins: the reloaded text while that file is
 * still what it was at the reload (say, `reload --config other.yaml`, or a
 * Swarm config that cannot change), the file as soon as it changed after
 * the reload (edited and started again: the edit is newer). `down
 * --volumes` deletes it with the token.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { replaceDurable } from '../durable-file';

export interface SavedDefinition {
  version: 1;
  /** sha256 of the start-up definition file (its text) when the reload happened. */
  base: string;
  /** The reloaded definition's text, and the file it came from (for messages). */
  text: string;
  file: string;
  at: string;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `reloaded-lab.json` in the directory of the lab's admin token file. */
export const savedDefinitionFile = (tokenFile: string) => join(dirname(tokenFile), 'reloaded-lab.json');

/** Keeps a reloaded definition (0600: it holds the password hashes); `baseText` is the start-up file's text now. */
export async function saveDefinition(path: string, o: { baseText: string; text: string; file: string; now?: Date }): Promise<void> {
  const saved: SavedDefinition = { version: 1, base: sha256(o.baseText), text: o.text, file: o.file, at: (o.now ?? new Date()).toISOString() };
  // Every service of the lab writes the same content: temp file per process, then rename.
  await replaceDurable(path, JSON.stringify(saved), { mode: 0o600, tmp: `${path}.tmp-${process.pid}` });
}

export interface StartDefinition {
  text: string;
  /** What the text is, for the log: the file, or the reload. */
  file: string;
  /** Why this text, in words, when there was a saved one. */
  note?: string;
}

/** The definition a service starts with: the start-up file's text, or a reloaded one that is newer (see above). */
export function startDefinition(fileText: string, file: string, savedPath: string | undefined): StartDefinition {
  if (!savedPath || !existsSync(savedPath)) return { text: fileText, file };
  let saved: SavedDefinition;
  try {
    saved = JSON.parse(readFileSync(savedPath, 'utf8')) as SavedDefinition;
  } catch (e) {
    return { text: fileText, file, note: `${savedPath} is unreadable (${(e as Error).message}); using ${file}` };
  }
  if (saved.version !== 1 || typeof saved.text !== 'string') return { text: fileText, file, note: `${savedPath} is not a saved definition; using ${file}` };
  if (saved.base !== sha256(fileText)) return { text: fileText, file, note: `${file} changed after the reload of ${saved.at}: using it (it is newer)` };
  return { text: saved.text, file: saved.file, note: `using the definition reloaded at ${saved.at} from ${saved.file} (\`npx mail-lab reload\`); ${file} is unchanged since` };
}

/** The saved definition's directory exists (a service that cannot keep it says so). */
export const canSave = (path: string) => existsSync(dirname(path));
