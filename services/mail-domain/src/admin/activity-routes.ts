/**
 * What the students did on this mail domain, on its admin API, for
 * `npx mail-lab check` (the rules: services/core/src/check/):
 *
 * - `GET /activity?since=` : every SMTP, POP3 and IMAP session recorded in
 *   the trace journal (trace/sessions.ts), every message of the queue
 *   (finished ones from the journal, queued ones live; attempts without
 *   their transcripts), every POP3/IMAP read, and the self-check marks.
 * - `POST /activity/mark` : the scenario runner says a self-check starts or
 *   ends, so the check can leave the runner's own sessions out.
 */
import { MAIL_API, type ActivityItem, type ActivityMessage } from '../../../core/src/admin/api';
import type { AdminRouter } from '../../../core/src/admin/router';
import type { OutboundQueue } from '../queue/queue';
import type { QueueEntry } from '../queue/types';
import type { TraceJournal } from '../trace/journal';

/** A queue entry as the check sees it: who, to whom, what became of each attempt. */
export function activityMessage(domain: string, e: QueueEntry, queued: boolean): ActivityMessage {
  return {
    kind: 'message',
    time: e.arrival,
    domain,
    queueId: e.id,
    ...(e.messageId ? { messageId: e.messageId } : {}),
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    from: e.from,
    warned: e.warned,
    queued,
    recipients: e.recipients.map((r) => ({ address: r.address, local: r.local, status: r.status, doneAt: r.doneAt, detail: r.detail, lastError: r.lastError })),
    attempts: e.history.map((h) => ({ time: h.time, result: h.result, detail: h.detail, ...(h.mx ? { mx: h.mx.map((m) => m.exchange) } : {}) })),
  };
}

export function activityRoutes(router: AdminRouter, o: { domain: string; queue: OutboundQueue; trace?: TraceJournal; now?: () => Date }): void {
  const now = o.now ?? (() => new Date());
  router
    .on(MAIL_API.activity, async ({ since }) => {
      const from = since ? new Date(since) : undefined;
      const items: ActivityItem[] = [];
      for (const e of (await o.trace?.since(from, ['session', 'queue', 'retrieved', 'mark'])) ?? []) {
        if (e.kind === 'queue') items.push(activityMessage(o.domain, e.entry as QueueEntry, false));
        else if (e.kind !== 'smtp-in') items.push(e);
      }
      const after = from?.toISOString() ?? '';
      for (const entry of o.queue.messages()) {
        if (entry.arrival >= after) items.push(activityMessage(o.domain, entry, true));
      }
      return items;
    })
    .on(MAIL_API.markActivity, (mark) => {
      o.trace?.add({ kind: 'mark', time: now().toISOString(), domain: o.domain, ...mark });
      return { recorded: true as const };
    });
}
