/**
 * `sync`: the offline copy of IMAP folders (the lesson, section 3: "most
 * mail clients cache the mail on the local machine ... the messages are
 * still on the IMAP server, but we now have a copy on our machine"), as
 * Thunderbird's "Keep messages for this account on this computer" does,
 * reduced to the download side of RFC 4549 (disconnected IMAP clients):
 *
 * 1. EXAMINE the folder (read-only, so nothing is marked on the server);
 * 2. if its UIDVALIDITY is not the one of the copy, the old UIDs mean
 *    nothing any more (RFC 3501 §2.3.1.1): the copy starts afresh;
 * 3. UID FETCH 1:* (FLAGS RFC822.SIZE): what is on the server now;
 * 4. messages of the copy the server no longer has were expunged there:
 *    they leave the copy too;
 * 5. new UIDs are fetched whole with BODY.PEEK[] (not marked \Seen) and
 *    saved as `<uid>.eml`; the flags of all are kept in folder.json.
 *
 * Changes made while offline (flags, deletions) are not sent back: the
 * copy is for reading. Folders deleted on the server leave the copy when
 * every folder is synced.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { ClientError } from './errors';
import type { Endpoint } from './endpoint';
import { folderSegment, listDir, readJson, writeFileAtomic, writeJson } from './local-store';
import { emptyFolderState, imapFolderDir, imapRoot, localIds, type ImapFolderState } from './local-mail';
import { imapSession, openFolder } from './mailbox';

export interface FolderSync {
  folder: string;
  /** UIDs fetched now. */
  added: number[];
  /** UIDs gone from the server, removed from the copy. */
  removed: number[];
  /** Messages in the copy now. */
  total: number;
  /** The copy was thrown away because UIDVALIDITY changed. */
  reset: boolean;
}

export interface SyncResult {
  dir: string;
  folders: FolderSync[];
  /** Folders removed from the copy because the server no longer has them. */
  dropped: string[];
}

/** UIDs are fetched in groups of this many, so a big folder does not become one huge command. */
const BATCH = 50;

async function syncFolder(c: ImapFlow, ep: Endpoint, root: string, folder: string): Promise<FolderSync> {
  const dir = imapFolderDir(root, ep.user, folder);
  const statePath = join(dir, 'folder.json');
  await openFolder(c, folder, ep.user, true);
  const box = c.mailbox;
  if (!box) throw new ClientError(`the IMAP server did not open ${folder}`);
  const validity = String(box.uidValidity);
  let state = await readJson<ImapFolderState>(statePath, emptyFolderState(folder));
  let reset = false;
  if (state.uidValidity !== '' && state.uidValidity !== validity) {
    // RFC 3501 §2.3.1.1: another UIDVALIDITY means the UIDs we hold name other messages now.
    for (const uid of await localIds(dir)) await fs.rm(join(dir, `${uid}.eml`), { force: true });
    state = emptyFolderState(folder);
    reset = true;
  }
  state.uidValidity = validity;

  const server = new Map<number, { flags: string[]; size: number }>();
  if (box.exists > 0) {
    for await (const m of c.fetch('1:*', { uid: true, flags: true, size: true })) server.set(m.uid, { flags: [...(m.flags ?? [])].sort(), size: m.size ?? 0 });
  }
  const local = new Set(await localIds(dir));
  const removed = [...local].filter((uid) => !server.has(uid)).sort((a, b) => a - b);
  for (const uid of removed) await fs.rm(join(dir, `${uid}.eml`), { force: true });
  const missing = [...server.keys()].filter((uid) => !local.has(uid)).sort((a, b) => a - b);
  const added: number[] = [];
  for (let i = 0; i < missing.length; i += BATCH) {
    const batch = missing.slice(i, i + BATCH);
    for await (const m of c.fetch(batch.join(','), { uid: true, source: true }, { uid: true })) {
      if (!m.source) continue;
      await writeFileAtomic(join(dir, `${m.uid}.eml`), m.source);
      added.push(m.uid);
    }
  }
  state.messages = Object.fromEntries([...server].filter(([uid]) => local.has(uid) || added.includes(uid)).map(([uid, v]) => [String(uid), v]));
  state.synced = new Date().toISOString();
  await writeJson(statePath, state);
  return { folder, added: added.sort((a, b) => a - b), removed, total: Object.keys(state.messages).length, reset };
}

/** The folders a client can open (LIST without \Noselect). */
async function selectable(c: ImapFlow): Promise<string[]> {
  return (await c.list()).filter((b) => !b.flags?.has('\\Noselect') && !b.flags?.has('\\NonExistent')).map((b) => b.path);
}

/** Brings the offline copy of `folders` (every folder when absent) up to date. */
export async function syncImap(ep: Endpoint, root: string, folders?: string[]): Promise<SyncResult> {
  return imapSession(ep, async (c) => {
    const all = await selectable(c);
    const wanted = folders ?? all;
    const out: FolderSync[] = [];
    for (const folder of wanted) out.push(await syncFolder(c, ep, root, folder));
    const dropped: string[] = [];
    if (!folders) {
      const keep = new Set(all.map(folderSegment));
      const base = imapRoot(root, ep.user);
      for (const segment of await listDir(base)) {
        if (keep.has(segment)) continue;
        const s = await readJson<ImapFolderState | null>(join(base, segment, 'folder.json'), null);
        if (!s) continue;
        await fs.rm(join(base, segment), { recursive: true, force: true });
        dropped.push(s.folder);
      }
    }
    return { dir: imapRoot(root, ep.user), folders: out, dropped };
  });
}
