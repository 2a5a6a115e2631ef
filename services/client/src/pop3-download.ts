/**
 * `download`: what a POP3 mail program does when it checks mail (the
 * lesson, 2.B: it copies the messages to this computer and "generally
 * deletes them from the server, unless the client is set not to delete
 * after downloading"). Every message not downloaded before is fetched with
 * RETR and saved as `pop3/<n>.eml`; then
 *
 * - by default each message now safely here is marked with DELE, and the
 *   server removes them at QUIT (RFC 1939 §6, the UPDATE state);
 * - with `keep` nothing is deleted, and the next download must not fetch
 *   the same messages again: like Thunderbird's "Leave messages on server"
 *   the client remembers each message's UIDL (RFC 1939 §7: a unique-id that
 *   stays with the message across sessions) in `pop3/uidl.json` and skips
 *   those it has. UIDLs the server no longer has are forgotten.
 *
 * The UIDL list is remembered in both modes and written after every saved
 * message, so a download cut short (a lost connection before QUIT leaves
 * every message on the server) does not download them twice.
 */
import { join } from 'node:path';
import { ClientError } from './errors';
import type { Endpoint } from './endpoint';
import { readJson, writeFileAtomic, writeJson } from './local-store';
import { localIds, summaryOf } from './local-mail';
import { withPop3 } from './mailbox';
import { Pop3Error, type Pop3Client } from './pop3-client';

export interface Pop3State {
  version: 1;
  /** The message numbers downloaded by UIDL. */
  messages: { uidl: string; file: string; size: number; downloadedAt: string }[];
}

export interface DownloadedMessage {
  /** The message number in this POP3 session. */
  n: number;
  uidl: string;
  /** The local number (`<local>.eml`); for one already here, the file it was saved as. */
  local?: number;
  subject: string;
  size: number;
  /** false: it was here already (its UIDL is known), not fetched again. */
  fetched: boolean;
}

export interface DownloadResult {
  dir: string;
  messages: DownloadedMessage[];
  kept: boolean;
  /** Messages marked with DELE (removed at QUIT). */
  deleted: number;
  /** The server's reply to QUIT. */
  quit: string;
}

const STATE = 'uidl.json';

async function uidls(c: Pop3Client, ep: Endpoint, keep: boolean, count: number): Promise<{ n: number; uid: string }[]> {
  try {
    return await c.uidl();
  } catch (e) {
    if (!(e instanceof Pop3Error)) throw e;
    if (keep) throw new ClientError(`${ep.host}:${ep.port} does not support UIDL (${e.text}), so --keep cannot tell new messages from old ones`);
    return Array.from({ length: count }, (_, i) => ({ n: i + 1, uid: '' }));
  }
}

export async function downloadMail(ep: Endpoint, dir: string, keep: boolean): Promise<DownloadResult> {
  const statePath = join(dir, STATE);
  return withPop3(ep, async (c) => {
    const sizes = new Map((await c.list()).map((m) => [m.n, m.size]));
    const onServer = await uidls(c, ep, keep, sizes.size);
    const state = await readJson<Pop3State>(statePath, { version: 1, messages: [] });
    // Forget what the server no longer has (deleted after an earlier download, or by another program).
    const present = new Set(onServer.map((m) => m.uid));
    state.messages = state.messages.filter((m) => present.has(m.uidl));
    const known = new Map(state.messages.map((m) => [m.uidl, m]));
    let next = ((await localIds(dir)).at(-1) ?? 0) + 1;
    const messages: DownloadedMessage[] = [];
    let deleted = 0;
    for (const { n, uid } of onServer) {
      const had = uid ? known.get(uid) : undefined;
      if (had) {
        messages.push({ n, uidl: uid, local: Number(had.file.replace(/\.eml$/, '')), subject: '', size: had.size, fetched: false });
      } else {
        const source = await c.retr(n);
        const local = next++;
        await writeFileAtomic(join(dir, `${local}.eml`), source);
        if (uid) {
          state.messages.push({ uidl: uid, file: `${local}.eml`, size: source.length, downloadedAt: new Date().toISOString() });
          await writeJson(statePath, state);
        }
        messages.push({ n, uidl: uid, local, subject: (await summaryOf(local, source)).subject, size: sizes.get(n) ?? source.length, fetched: true });
      }
      if (!keep) {
        await c.dele(n);
        deleted++;
      }
    }
    await writeJson(statePath, state);
    const quit = await c.quit();
    return { dir, messages, kept: keep, deleted, quit };
  });
}
