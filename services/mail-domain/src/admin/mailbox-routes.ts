/**
 * Mailboxes and traces on a mail domain's admin API: a user's INBOX file
 * exactly as `cat` shows it, its messages' headers, and what this server
 * did with a message (trace journal + the live queue).
 */
import { promises as fs } from 'node:fs';
import { MAIL_API, type TraceItem } from '../../../core/src/admin/api';
import { notFound } from '../../../core/src/admin/errors';
import type { AdminRouter } from '../../../core/src/admin/router';
import { headerPart } from '../message-headers';
import type { OutboundQueue } from '../queue/queue';
import type { QueueEntry } from '../queue/types';
import type { MboxMailStore } from '../store/mbox-store';
import type { TraceJournal } from '../trace/journal';
import { entryView } from './views';

export function mailboxRoutes(router: AdminRouter, o: { domain: string; store: MboxMailStore; queue: OutboundQueue; trace?: TraceJournal }): void {
  const { store, domain } = o;
  const needUser = (user: string) => {
    if (!store.hasUser(user)) throw notFound('unknown-user', `no user ${user} at ${domain}`);
  };
  router
    .on(MAIL_API.mailbox, async ({ user }) => {
      needUser(user);
      await store.snapshot(user, 'INBOX');
      const path = store.mboxPath(user, 'INBOX');
      return { path, text: await fs.readFile(path, 'latin1') };
    })
    .on(MAIL_API.mailboxMessages, async ({ user }) => {
      needUser(user);
      const snap = await store.snapshot(user, 'INBOX');
      const raws = await store.readMany(user, 'INBOX', snap.messages.map((m) => m.uid), 'header');
      return snap.messages.map((m, i) => ({ uid: m.uid, size: m.size, date: m.internalDate.toISOString(), flags: [...m.flags], headers: raws[i] ? headerPart(raws[i]!.toString('latin1'), { breaks: 'any', upTo: 'fields' }) : '' }));
    })
    .on(MAIL_API.trace, ({ id }) => {
      const journal: TraceItem[] = (o.trace?.find(id) ?? []).map((e) => (e.kind === 'queue' ? { ...e, entry: entryView(e.entry as QueueEntry, false) } : e));
      const live: TraceItem[] = o.queue.byMessageId(id).map((entry) => ({ kind: 'queue', time: entry.arrival, domain, queueId: entry.id, messageId: entry.messageId, entry: entryView(entry, true), live: true }));
      return [...journal, ...live];
    });
}
