/**
 * What the webmail does over IMAP, with the student's own login on the
 * lab's own IMAP server (mail-session.ts): folders with their unread counts
 * (LIST, STATUS), a page of a folder (EXAMINE, FETCH) or of a search on the
 * server (SEARCH TEXT), one message (SELECT, FETCH BODY.PEEK[], STORE
 * +FLAGS \Seen), moving (MOVE), deleting (MOVE to Trash; in Trash STORE
 * \Deleted + EXPUNGE), emptying Trash, folders (CREATE, RENAME, DELETE) and
 * keeping a sent message (APPEND to Sent). Never a file of the mailbox.
 */
import type { ImapFlow, ListResponse, MessageAddressObject } from 'imapflow';

export interface Folder {
  path: string;
  name: string;
  delimiter: string;
  /** \Inbox, \Sent, \Drafts, \Trash, \Junk … */
  specialUse?: string;
  messages: number;
  unseen: number;
  /** Can hold messages (not a \Noselect parent). */
  selectable: boolean;
}

export interface Address {
  name: string;
  address: string;
}

export interface ListedMessage {
  uid: number;
  seen: boolean;
  flagged: boolean;
  answered: boolean;
  subject: string;
  from: Address[];
  to: Address[];
  date?: Date;
  size: number;
  attachments: boolean;
}

export interface MessagePage {
  folder: string;
  /** Messages in the folder, or found by the search. */
  total: number;
  page: number;
  pages: number;
  items: ListedMessage[];
  query?: string;
}

export const PAGE_SIZE = 20;

/** Names the webmail gives the special folders when the server says no SPECIAL-USE (ours does). */
const SPECIAL_NAMES: Record<string, string> = { INBOX: '\\Inbox', Sent: '\\Sent', Drafts: '\\Drafts', Trash: '\\Trash', Junk: '\\Junk' };
const ORDER = ['\\Inbox', '\\Drafts', '\\Sent', '\\Junk', '\\Trash'];

export class FolderNameError extends Error {
  override readonly name = 'FolderNameError';
}

/** A folder name a student typed: `Kuliah` or `Kuliah/2024`; throws FolderNameError for anything else. */
export function checkFolderName(name: string): string {
  const n = name.normalize('NFC').trim();
  if (!n || n.length > 100 || /[\u0000-\u001f\u007f*%"\\]/.test(n) || n.startsWith('/') || n.endsWith('/') || n.includes('//') || n.split('/').some((p) => p === '.' || p === '..' || p.trim() === '')) {
    throw new FolderNameError(n);
  }
  if (n.toUpperCase() === 'INBOX' || n.toUpperCase().startsWith('INBOX/')) throw new FolderNameError(n);
  return n;
}

const specialOf = (f: ListResponse) => f.specialUse ?? (f.path.toUpperCase() === 'INBOX' ? '\\Inbox' : SPECIAL_NAMES[f.path]);

/** Every folder with its message and unread counts (LIST, then STATUS of each), INBOX and the special ones first. */
export async function listFolders(imap: ImapFlow): Promise<Folder[]> {
  const listed = await imap.list({ statusQuery: { messages: true, unseen: true } });
  const folders = listed.map<Folder>((f) => ({
    path: f.path,
    name: f.path.toUpperCase() === 'INBOX' ? 'INBOX' : f.path,
    delimiter: f.delimiter || '/',
    specialUse: specialOf(f),
    messages: f.status?.messages ?? 0,
    unseen: f.status?.unseen ?? 0,
    selectable: !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'),
  }));
  const rank = (f: Folder) => (f.specialUse && ORDER.includes(f.specialUse) ? ORDER.indexOf(f.specialUse) : ORDER.length);
  return folders.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/** The path of a special folder (\Trash, \Sent), by SPECIAL-USE or its usual name; null when there is none. */
export function specialFolder(folders: Folder[], use: string): string | null {
  return folders.find((f) => f.specialUse === use)?.path ?? null;
}

const addresses = (list: MessageAddressObject[] | undefined): Address[] => (list ?? []).map((a) => ({ name: a.name ?? '', address: a.address ?? '' }));

function hasAttachment(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false;
  const n = node as { disposition?: string; childNodes?: unknown[]; type?: string };
  if (n.disposition && n.disposition.toLowerCase() === 'attachment') return true;
  return (n.childNodes ?? []).some(hasAttachment);
}

/**
 * One page of a folder, newest first: EXAMINE (read-only: listing marks
 * nothing as read), FETCH of the page's sequence range; with a query,
 * SEARCH TEXT on the server and FETCH of the page's UIDs.
 */
export async function listMessages(imap: ImapFlow, folder: string, page: number, query?: string, pageSize = PAGE_SIZE): Promise<MessagePage> {
  const box = imap.mailbox && imap.mailbox.path === folder ? imap.mailbox : await imap.mailboxOpen(folder, { readOnly: true });
  const q = query?.trim() || undefined;
  let total: number;
  let range: string | null;
  let byUid = false;
  let p = Math.max(1, Math.floor(page) || 1);
  if (q) {
    const found = ((await imap.search({ text: q }, { uid: true })) || []).sort((a, b) => b - a);
    total = found.length;
    p = Math.min(p, Math.max(1, Math.ceil(total / pageSize)));
    const slice = found.slice((p - 1) * pageSize, p * pageSize);
    range = slice.length ? slice.join(',') : null;
    byUid = true;
  } else {
    total = box.exists;
    p = Math.min(p, Math.max(1, Math.ceil(total / pageSize)));
    const hi = total - (p - 1) * pageSize;
    const lo = Math.max(1, hi - pageSize + 1);
    range = hi >= 1 ? `${lo}:${hi}` : null;
  }
  const items: (ListedMessage & { seq: number })[] = [];
  if (range) {
    for await (const m of imap.fetch(range, { uid: true, flags: true, envelope: true, size: true, bodyStructure: true }, { uid: byUid })) {
      const flags = m.flags ?? new Set<string>();
      items.push({
        seq: m.seq,
        uid: m.uid,
        seen: flags.has('\\Seen'),
        flagged: flags.has('\\Flagged'),
        answered: flags.has('\\Answered'),
        subject: m.envelope?.subject ?? '',
        from: addresses(m.envelope?.from),
        to: addresses(m.envelope?.to),
        date: m.envelope?.date ? new Date(m.envelope.date) : undefined,
        size: m.size ?? 0,
        attachments: hasAttachment(m.bodyStructure),
      });
    }
  }
  items.sort((a, b) => b.seq - a.seq);
  return { folder, total, page: p, pages: Math.max(1, Math.ceil(total / pageSize)), items: items.map(({ seq, ...rest }) => (void seq, rest)), query: q };
}

export interface FetchedMessage {
  uid: number;
  flags: Set<string>;
  source: Buffer;
  /** It had no \Seen before (this fetch marked it). */
  wasUnseen: boolean;
}

/**
 * One message's whole source (BODY.PEEK[]). `markSeen`: the folder is
 * SELECTed (read-write) and \Seen is set as a mail program does when a
 * message is opened; otherwise EXAMINE, nothing changes.
 */
export async function fetchMessage(imap: ImapFlow, folder: string, uid: number, markSeen: boolean): Promise<FetchedMessage | null> {
  if (!(imap.mailbox && imap.mailbox.path === folder && (!markSeen || !imap.mailbox.readOnly))) await imap.mailboxOpen(folder, { readOnly: !markSeen });
  const m = await imap.fetchOne(String(uid), { uid: true, flags: true, source: true }, { uid: true });
  if (!m || !m.source) return null;
  const flags = m.flags ?? new Set<string>();
  const wasUnseen = !flags.has('\\Seen');
  if (markSeen && wasUnseen) {
    await imap.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
    flags.add('\\Seen');
  }
  return { uid: m.uid, flags, source: m.source, wasUnseen: markSeen && wasUnseen };
}

/** MOVE to another folder; false when the message is not there. */
export async function moveMessage(imap: ImapFlow, folder: string, uid: number, to: string): Promise<boolean> {
  await imap.mailboxOpen(folder);
  return !!(await imap.messageMove(String(uid), to, { uid: true }));
}

/** Delete: to Trash (made when missing); in Trash itself, for good (\Deleted and EXPUNGE). */
export async function deleteMessage(imap: ImapFlow, folder: string, uid: number, trash: string | null): Promise<'trash' | 'gone'> {
  const bin = trash ?? 'Trash';
  if (folder === bin) {
    await imap.mailboxOpen(folder);
    await imap.messageDelete(String(uid), { uid: true });
    return 'gone';
  }
  if (!trash) await imap.mailboxCreate(bin).catch(() => undefined);
  await imap.mailboxOpen(folder);
  await imap.messageMove(String(uid), bin, { uid: true });
  return 'trash';
}

/** Every message in Trash deleted for good; how many. */
export async function emptyFolder(imap: ImapFlow, folder: string): Promise<number> {
  const box = await imap.mailboxOpen(folder);
  if (!box.exists) return 0;
  const n = box.exists;
  await imap.messageDelete('1:*');
  return n;
}

/** A message sent through submission, kept in Sent (\Seen). */
export async function keepSent(imap: ImapFlow, sent: string | null, raw: Buffer): Promise<string> {
  const folder = sent ?? 'Sent';
  if (!sent) await imap.mailboxCreate(folder).catch(() => undefined);
  await imap.append(folder, raw, ['\\Seen'], new Date());
  return folder;
}
