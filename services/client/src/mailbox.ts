/**
 * The mailbox operations that work over both POP3 and IMAP: list the
 * headers, fetch one message's source, delete one message. POP3 names
 * messages by their number in this session (1, 2, ...); IMAP by UID, which
 * stays the same between sessions.
 */
import type { ImapFlow, FetchMessageObject } from 'imapflow';
import { simpleParser } from 'mailparser';
import { ClientError } from './errors';
import { resolveHost, type Endpoint } from './endpoint';
import { withImap } from './imap-client';
import { addressesText } from './message';
import { Pop3Client, Pop3Error } from './pop3-client';

export type Protocol = 'pop3' | 'imap';

/** One line of a listing. */
export interface Summary {
  /** POP3 message number or IMAP UID. */
  id: number;
  date: Date | null;
  from: string;
  subject: string;
  size: number;
}

export interface MailboxTarget {
  protocol: Protocol;
  endpoint: Endpoint;
  /** IMAP folder. @default INBOX */
  folder: string;
}

export async function withPop3<T>(ep: Endpoint, work: (c: Pop3Client) => Promise<T>): Promise<T> {
  const address = await resolveHost(ep);
  const client = await Pop3Client.connect({ ...ep, address });
  try {
    await client.login(ep.user, ep.password);
    return await work(client);
  } finally {
    client.close();
  }
}

export async function imapSession<T>(ep: Endpoint, work: (c: ImapFlow) => Promise<T>): Promise<T> {
  return withImap(ep, await resolveHost(ep), work);
}

/** SELECT (or EXAMINE) a folder, with "no such folder" as a clear error. */
export async function openFolder(c: ImapFlow, folder: string, user: string, readOnly: boolean): Promise<number> {
  try {
    return (await c.mailboxOpen(folder, { readOnly })).exists;
  } catch (e) {
    if ((e as { code?: string }).code === 'NoConnection') throw e;
    throw new ClientError(`${user} has no folder "${folder}" (see: mail-lab-client folders --user ${user})`);
  }
}

function addressText(list: { name?: string; address?: string }[] | undefined): string {
  const a = list?.[0];
  if (!a) return '';
  return a.name ? `${a.name} <${a.address ?? ''}>` : (a.address ?? '');
}

export function imapSummary(m: FetchMessageObject): Summary {
  const env = m.envelope;
  const internal = m.internalDate ? new Date(m.internalDate) : null;
  return { id: m.uid, date: env?.date ? new Date(env.date) : internal, from: addressText(env?.from), subject: env?.subject ?? '', size: m.size ?? 0 };
}

/** Summaries of the given UIDs (`1:*` for all) in the open folder. */
export async function imapSummaries(c: ImapFlow, uids: string): Promise<Summary[]> {
  const out: Summary[] = [];
  for await (const m of c.fetch(uids, { uid: true, envelope: true, size: true, internalDate: true }, { uid: true })) out.push(imapSummary(m));
  return out.sort((a, b) => a.id - b.id);
}

async function pop3Summary(c: Pop3Client, n: number, size: number): Promise<Summary> {
  const head = await simpleParser(await c.top(n, 0), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  return { id: n, date: head.date ?? null, from: addressesText(head.from) ?? '', subject: head.subject ?? '', size };
}

export async function listMessages(t: MailboxTarget): Promise<Summary[]> {
  if (t.protocol === 'pop3') {
    return withPop3(t.endpoint, async (c) => {
      const out: Summary[] = [];
      for (const { n, size } of await c.list()) out.push(await pop3Summary(c, n, size));
      await c.quit();
      return out;
    });
  }
  return imapSession(t.endpoint, async (c) => {
    const exists = await openFolder(c, t.folder, t.endpoint.user, true);
    return exists === 0 ? [] : imapSummaries(c, '1:*');
  });
}

function noSuchMessage(t: MailboxTarget, id: number): ClientError {
  const where = t.protocol === 'pop3' ? `no message ${id} in the mailbox` : `no message with UID ${id} in ${t.folder}`;
  return new ClientError(`${where} of ${t.endpoint.user} (see: mail-lab-client list --user ${t.endpoint.user} --protocol ${t.protocol})`);
}

/** The source of one message, exactly as the server holds it. IMAP marks it \Seen. */
export async function fetchMessage(t: MailboxTarget, id: number): Promise<Buffer> {
  if (t.protocol === 'pop3') {
    return withPop3(t.endpoint, async (c) => {
      try {
        const source = await c.retr(id);
        await c.quit();
        return source;
      } catch (e) {
        throw e instanceof Pop3Error ? noSuchMessage(t, id) : e;
      }
    });
  }
  return imapSession(t.endpoint, async (c) => {
    await openFolder(c, t.folder, t.endpoint.user, false);
    const m = await c.fetchOne(String(id), { uid: true, source: true }, { uid: true });
    if (!m || !m.source) throw noSuchMessage(t, id);
    await c.messageFlagsAdd(String(id), ['\\Seen'], { uid: true });
    return m.source;
  });
}

/** Deletes one message; returns what happened, for the user. */
export async function deleteMessage(t: MailboxTarget, id: number): Promise<string> {
  if (t.protocol === 'pop3') {
    return withPop3(t.endpoint, async (c) => {
      try {
        await c.dele(id);
      } catch (e) {
        throw e instanceof Pop3Error ? noSuchMessage(t, id) : e;
      }
      const bye = await c.quit();
      return `message ${id} marked with DELE and removed at QUIT (+OK ${bye})`;
    });
  }
  return imapSession(t.endpoint, async (c) => {
    await openFolder(c, t.folder, t.endpoint.user, false);
    const m = await c.fetchOne(String(id), { uid: true }, { uid: true });
    if (!m) throw noSuchMessage(t, id);
    if (!(await c.messageDelete(String(id), { uid: true }))) throw new ClientError(`the IMAP server did not delete UID ${id}`);
    return `message UID ${id} flagged \\Deleted and expunged from ${t.folder}`;
  });
}
