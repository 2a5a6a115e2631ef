/**
 * What only IMAP can do: list the folders with their counts, search on the
 * server (SEARCH FROM / SUBJECT / TEXT: the messages never leave the server
 * until asked for), and move a message between folders by UID.
 */
import { ClientError, UsageError } from './errors';
import type { Endpoint } from './endpoint';
import { imapSession, imapSummaries, openFolder, type Summary } from './mailbox';

export interface FolderInfo {
  path: string;
  specialUse: string;
  messages: number;
  unseen: number;
}

export async function listFolders(ep: Endpoint): Promise<FolderInfo[]> {
  return imapSession(ep, async (c) => {
    const boxes = await c.list({ statusQuery: { messages: true, unseen: true } });
    return boxes.map((b) => ({ path: b.path, specialUse: b.specialUse ?? '', messages: b.status?.messages ?? 0, unseen: b.status?.unseen ?? 0 }));
  });
}

export interface SearchQuery {
  from?: string;
  subject?: string;
  /** Anywhere in the headers or body (IMAP TEXT). */
  text?: string;
}

export async function searchMessages(ep: Endpoint, folder: string, q: SearchQuery): Promise<Summary[]> {
  const query = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined && v !== ''));
  if (Object.keys(query).length === 0) throw new UsageError('search needs something to look for: a QUERY, --from, --subject or --text');
  return imapSession(ep, async (c) => {
    const exists = await openFolder(c, folder, ep.user, true);
    if (exists === 0) return [];
    const uids = await c.search(query, { uid: true });
    if (!uids) throw new ClientError(`the IMAP server refused the search in ${folder}`);
    return uids.length === 0 ? [] : imapSummaries(c, uids.join(','));
  });
}

export interface MoveResult {
  from: string;
  to: string;
  uid: number;
  /** The UID in the destination folder when the server says (UIDPLUS). */
  newUid?: number;
}

export async function moveMessage(ep: Endpoint, from: string, uid: number, to: string): Promise<MoveResult> {
  return imapSession(ep, async (c) => {
    const folders = (await c.list()).map((b) => b.path);
    if (!folders.includes(to)) throw new ClientError(`${ep.user} has no folder "${to}"; folders: ${folders.join(', ')}`);
    await openFolder(c, from, ep.user, false);
    if (!(await c.fetchOne(String(uid), { uid: true }, { uid: true }))) {
      throw new ClientError(`no message with UID ${uid} in ${from} of ${ep.user}`);
    }
    const r = await c.messageMove(String(uid), to, { uid: true });
    if (!r) throw new ClientError(`the IMAP server refused to move UID ${uid} to ${to}`);
    return { from, to, uid, newUid: r.uidMap?.get(uid) };
  });
}
