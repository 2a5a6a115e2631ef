/**
 * The queue's spool entries (queue/types.ts, a file format) as the admin
 * API shows them (QueueEntryView in services/core/src/admin/api.ts): the
 * fields a user reads, without the server's bookkeeping (the relay key).
 */
import type { QueueEntryView } from '../../../core/src/admin/api';
import type { QueueEntry } from '../queue/types';

export function entryView(e: QueueEntry, queued: boolean): QueueEntryView {
  return {
    id: e.id,
    messageId: e.messageId,
    subject: e.subject,
    from: e.from,
    arrival: e.arrival,
    size: e.size,
    recipients: e.recipients.map((r) => ({ address: r.address, local: r.local, status: r.status, attempts: r.attempts, lastError: r.lastError, nextAttempt: r.nextAttempt, doneAt: r.doneAt, detail: r.detail })),
    warned: e.warned,
    held: e.held,
    history: e.history.map((h) => ({ ...h })),
    ...(e.notice ? { notice: e.notice } : {}),
    queued,
  };
}
