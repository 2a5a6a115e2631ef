/**
 * A mail domain's live events (GET /events on its admin API, the catalogue
 * in services/core/src/admin/api.ts): what the queue, the mailbox store and
 * the trace journal do, published on the domain's EventHub as it happens.
 * Faults and links publish their own changes (admin/fault-routes.ts,
 * admin/link-routes.ts). Event data are small: ids, addresses, words; the
 * whole message or transcript stays behind `GET /queue/:id` and `/trace`.
 */
import type { EventHub } from '../../core/src/admin/events';
import type { LabEventType } from '../../core/src/admin/api';
import type { AttemptEvent, OutboundQueue } from './queue/queue';
import type { QueueEntry, RecipientState } from './queue/types';
import type { MailStore } from './store/types';
import type { TraceJournal } from './trace/journal';

/** What every queue event says about its message. */
const about = (e: QueueEntry) => ({ id: e.id, messageId: e.messageId, subject: e.subject, from: e.from || '<>' });
const recipient = (r: RecipientState) => ({ recipient: r.address, attempts: r.attempts, detail: r.detail, lastError: r.lastError, nextAttempt: r.nextAttempt });

/** Subscribes the hub to the queue, the store and the trace journal; returns the unsubscribe. */
export function publishDomainEvents(hub: EventHub, o: { queue: OutboundQueue; store: MailStore; trace?: TraceJournal }): () => void {
  const offs: (() => void)[] = [];
  const on = <A extends unknown[]>(event: string, type: LabEventType, data: (...args: A) => Record<string, unknown>) => {
    const listener = (...args: A) => void hub.publish(type, data(...args));
    o.queue.on(event, listener);
    offs.push(() => o.queue.off(event, listener));
  };
  on('queued', 'queue.queued', (e: QueueEntry) => ({ ...about(e), size: e.size, recipients: e.recipients.map((r) => r.address), notice: e.notice }));
  on('attempt', 'queue.attempt', (e: QueueEntry, a: AttemptEvent) => ({ ...about(e), ...a }));
  on('deferred', 'queue.deferred', (e: QueueEntry, r: RecipientState) => ({ ...about(e), ...recipient(r) }));
  on('delivered', 'queue.delivered', (e: QueueEntry, r: RecipientState) => ({ ...about(e), ...recipient(r), local: r.local }));
  on('bounced', 'queue.bounced', (e: QueueEntry, r: RecipientState) => ({ ...about(e), ...recipient(r) }));
  on('returned', 'queue.returned', (e: QueueEntry, r: RecipientState) => ({ ...about(e), ...recipient(r) }));
  on('warned', 'queue.delay-notice', (e: QueueEntry) => ({ ...about(e), pending: e.recipients.filter((r) => r.status === 'pending').map((r) => r.address) }));
  on('held', 'queue.held', (e: QueueEntry) => about(e));
  on('released', 'queue.released', (e: QueueEntry) => about(e));
  on('deleted', 'queue.deleted', (e: QueueEntry) => about(e));
  on('expired', 'queue.expired', (e: QueueEntry) => about(e));
  on('flushed', 'queue.flushed', (ids: string[]) => ({ ids }));
  on('profile', 'queue.profile', (name: string, previous: string) => ({ profile: name, previous }));

  offs.push(
    o.store.onChange(({ user, folder, change }) => {
      if (change.kind === 'append') hub.publish('mailbox.append', { user, folder, uids: change.uids });
      else if (change.kind === 'expunge') hub.publish('mailbox.expunge', { user, folder, uids: change.uids });
      else if (change.kind === 'flags') hub.publish('mailbox.flags', { user, folder, uids: change.uids });
      else if (change.kind === 'deleted' && change.renamedTo !== undefined) hub.publish('mailbox.rename', { user, folder, to: change.renamedTo });
    }),
  );
  if (o.trace) {
    offs.push(
      o.trace.subscribe((t) => {
        if (t.kind === 'smtp-in') hub.publish('trace.smtp-in', { queueId: t.queueId, messageId: t.messageId, subject: t.subject, port: t.port, peer: t.peer, helo: t.helo, user: t.user, transcript: t.transcript.slice(0, 40) });
        else if (t.kind === 'retrieved') hub.publish('trace.retrieved', { messageId: t.messageId, protocol: t.protocol, user: t.user, folder: t.folder, uid: t.uid });
      }),
    );
  }
  return () => offs.forEach((off) => off());
}
