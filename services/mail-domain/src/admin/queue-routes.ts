/**
 * The queue on a mail domain's admin API: the list (like mailq), its
 * counts (size, held, deferred), one message with its history, flush,
 * hold/release/delete/expire (like postsuper), and the queue profile in
 * force (switched without a restart).
 */
import { MAIL_API } from '../../../core/src/admin/api';
import { ApiError, notFound } from '../../../core/src/admin/errors';
import { JsonArrayStream, type AdminRouter } from '../../../core/src/admin/router';
import type { Logger } from '../../../core/src/logger';
import { UnknownProfileError, UnknownQueueIdError, type OutboundQueue } from '../queue/queue';
import { entryView } from './views';

/** The queue's own errors as API errors. */
function apiError(e: unknown): unknown {
  if (e instanceof UnknownQueueIdError) return notFound('unknown-queue-id', e.message);
  if (e instanceof UnknownProfileError) return new ApiError(400, 'unknown-profile', e.message, 'name');
  return e;
}

export function queueRoutes(router: AdminRouter, o: { domain: string; queue: OutboundQueue; logger: Logger }): void {
  const { queue, domain } = o;
  router
    .on(MAIL_API.queue, () => new JsonArrayStream(queue.listing()))
    // Before /queue/:id, which would take `summary` for a queue id.
    .on(MAIL_API.queueSummary, () => queue.summary())
    .on(MAIL_API.queueProfile, () => queue.profile())
    .on(MAIL_API.setQueueProfile, ({ name }) => queue.setProfile(name).catch((e: unknown) => Promise.reject(apiError(e))))
    .on(MAIL_API.queueEntry, ({ id }) => {
      const live = queue.get(id);
      if (live) return entryView(live, true);
      const done = queue.finished(id);
      if (done) return entryView(done, false);
      throw notFound('unknown-queue-id', `no message ${id} in the queue of ${domain}`);
    })
    .on(MAIL_API.flush, ({ id }) => {
      const ids = queue.flush(id);
      if (id && !ids.length) throw notFound('unknown-queue-id', `no message ${id} in the queue of ${domain}`);
      o.logger.info('flush requested', { ids: ids.join(',') || 'none' });
      return { flushed: ids };
    })
    .on(MAIL_API.queueAction, async ({ id, action }) => {
      try {
        if (action === 'hold') return { id, result: await queue.hold(id) };
        if (action === 'release') return { id, result: await queue.release(id) };
        if (action === 'delete') {
          await queue.remove(id);
          return { id, result: 'deleted' as const };
        }
        await queue.expire(id);
        return { id, result: 'expired' as const };
      } catch (e) {
        throw apiError(e);
      }
    });
}
