/**
 * Reading the mail the client keeps on this computer, without any server:
 * the POP3 downloads (`pop3/<n>.eml`, named by their local number) and the
 * offline copies of IMAP folders (`imap/<folder>/<uid>.eml`, named by UID).
 * `list --offline`, `read --offline`, `save-attachments --offline` and
 * `folders --offline` come here instead of opening a connection.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { ClientError } from './errors';
import { accountDir, folderFromSegment, folderSegment, listDir, readIfThere, readJson } from './local-store';
import type { Summary } from './mailbox';
import { addressesText } from './message';

/** Where one local folder is: the POP3 downloads of an account, or one IMAP folder's offline copy. */
export interface LocalFolder {
  protocol: 'pop3' | 'imap';
  address: string;
  /** The IMAP folder name (POP3: INBOX). */
  folder: string;
  dir: string;
}

/** The state kept beside an IMAP folder's offline copy (imap-sync.ts writes it). */
export interface ImapFolderState {
  version: 1;
  folder: string;
  uidValidity: string;
  /** When it was last brought up to date (ISO time). */
  synced: string;
  messages: Record<string, { flags: string[]; size: number }>;
}

export const emptyFolderState = (folder: string): ImapFolderState => ({ version: 1, folder, uidValidity: '', synced: '', messages: {} });

export function pop3Dir(root: string, address: string): string {
  return join(accountDir(root, address), 'pop3');
}

export function imapRoot(root: string, address: string): string {
  return join(accountDir(root, address), 'imap');
}

export function imapFolderDir(root: string, address: string, folder: string): string {
  return join(imapRoot(root, address), folderSegment(folder));
}

export function localFolder(root: string, address: string, protocol: 'pop3' | 'imap', folder: string): LocalFolder {
  return { protocol, address, folder, dir: protocol === 'pop3' ? pop3Dir(root, address) : imapFolderDir(root, address, folder) };
}

/** The message numbers (POP3) or UIDs (IMAP) present, ascending. */
export async function localIds(dir: string): Promise<number[]> {
  return (await listDir(dir))
    .map((f) => /^(\d+)\.eml$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The header section of a message, for a summary without parsing the body. */
function headerPart(source: Buffer): Buffer {
  const crlf = source.indexOf('\r\n\r\n');
  const lf = source.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : source.length;
  return source.subarray(0, end);
}

export async function summaryOf(id: number, source: Buffer): Promise<Summary> {
  const head = await simpleParser(headerPart(source), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  return { id, date: head.date ?? null, from: addressesText(head.from) ?? '', subject: head.subject ?? '', size: source.length };
}

function nothingThere(f: LocalFolder): ClientError {
  const how =
    f.protocol === 'pop3'
      ? `download it first: mail-lab-client download --user ${f.address}`
      : `copy it first: mail-lab-client sync --user ${f.address}`;
  return new ClientError(`no local copy of ${f.address} ${f.protocol === 'pop3' ? '(POP3 downloads)' : f.folder} in ${f.dir}; ${how}`);
}

async function exists(dir: string): Promise<boolean> {
  return fs.stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

export async function listLocal(f: LocalFolder): Promise<Summary[]> {
  if (!(await exists(f.dir))) throw nothingThere(f);
  const out: Summary[] = [];
  for (const id of await localIds(f.dir)) {
    const source = await readIfThere(join(f.dir, `${id}.eml`));
    if (source) out.push(await summaryOf(id, source));
  }
  return out;
}

export async function readLocal(f: LocalFolder, id: number): Promise<Buffer> {
  if (!(await exists(f.dir))) throw nothingThere(f);
  const source = await readIfThere(join(f.dir, `${id}.eml`));
  if (!source) {
    const what = f.protocol === 'pop3' ? `no downloaded message ${id}` : `no message with UID ${id} in the offline copy of ${f.folder}`;
    throw new ClientError(`${what} of ${f.address} (see: mail-lab-client list --offline --user ${f.address}${f.protocol === 'imap' ? ` --protocol imap --folder ${JSON.stringify(f.folder)}` : ''})`);
  }
  return source;
}

/** When an IMAP folder's copy was last synced, for the listing's title. */
export async function syncedAt(f: LocalFolder): Promise<string | null> {
  if (f.protocol !== 'imap') return null;
  const s = await readJson<ImapFolderState>(join(f.dir, 'folder.json'), emptyFolderState(f.folder));
  return s.synced || null;
}

export interface LocalFolderInfo {
  path: string;
  messages: number;
  unseen: number;
  synced: string;
}

/** The IMAP folders of the offline copy with their counts (from the last sync). */
export async function localFolders(root: string, address: string): Promise<LocalFolderInfo[]> {
  const base = imapRoot(root, address);
  if (!(await exists(base))) throw new ClientError(`no offline copy of ${address} in ${base}; copy it first: mail-lab-client sync --user ${address}`);
  const out: LocalFolderInfo[] = [];
  for (const segment of (await listDir(base)).sort()) {
    const s = await readJson<ImapFolderState | null>(join(base, segment, 'folder.json'), null);
    if (!s) continue;
    const flags = Object.values(s.messages);
    out.push({ path: s.folder || folderFromSegment(segment), messages: flags.length, unseen: flags.filter((m) => !m.flags.includes('\\Seen')).length, synced: s.synced });
  }
  return out;
}
