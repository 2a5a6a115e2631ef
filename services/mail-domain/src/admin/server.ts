/**
 * The domain's admin interface: a small HTTP/JSON API used by the lab CLI
 * (`queue`, `flush`, `break`/`heal` in no-Docker mode, `status`) and by the
 * scenario runner. Published only on 127.0.0.1.
 *
 *   GET  /health                   domain, host name, uptime
 *   GET  /queue                    the queue, mailq-style
 *   GET  /queue/:id                one message with its attempt history (also recently finished ones)
 *   POST /queue/flush[?id=ID]      retry now
 *   GET  /queue/profile            the queue profile in force: name, timings, the profiles there are
 *   POST /queue/profile/:name      switch to another profile of the lab definition, no restart (400 if unknown)
 *   GET  /links                    domains this server cannot reach (no-Docker mode)
 *   POST /links/:domain/break      cut the outbound path to a domain (no-Docker mode)
 *   POST /links/:domain/heal       restore it
 *   GET  /mailbox/:user            the user's INBOX mbox file, as `cat` shows it
 *   GET  /mailbox/:user/messages   INBOX messages: uid, size, date, headers
 *   GET  /trace?id=MESSAGE-ID      what this server did with a message (journal + live queue)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promises as fs } from 'node:fs';
import type { Logger } from '../../../core/src/logger';
import { UnknownProfileError, type OutboundQueue } from '../queue/queue';
import type { MboxMailStore } from '../store/mbox-store';
import { headerBlock } from '../queue/dsn';
import type { TraceJournal } from '../trace/journal';

export interface AdminOptions {
  domain: string;
  hostname: string;
  queue: OutboundQueue;
  store: MboxMailStore;
  logger: Logger;
  startedAt: Date;
  trace?: TraceJournal;
}

/** One admin endpoint: method, path pattern, handler (throw HttpError for 4xx). */
export type AdminRoute = [method: 'GET' | 'POST', path: RegExp, handler: (match: RegExpExecArray, url: URL) => Promise<unknown> | unknown];

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function createAdminServer(o: AdminOptions, extraRoutes: AdminRoute[] = []): Server {
  const log = o.logger.child('admin');
  const routes: AdminRoute[] = [
    ...extraRoutes,
    ['GET', /^\/health$/, () => ({ ok: true, domain: o.domain, hostname: o.hostname, uptimeMs: Date.now() - o.startedAt.getTime() })],
    ['GET', /^\/queue$/, () => o.queue.list()],
    // Before /queue/:id, which would take "profile" for a queue id.
    ['GET', /^\/queue\/profile$/, () => o.queue.profile()],
    [
      'POST',
      /^\/queue\/profile\/([^/]+)$/,
      async (m) => {
        let name: string;
        try {
          name = decodeURIComponent(m[1]);
        } catch {
          throw new HttpError(400, `"${m[1]}" is not a valid profile name in a URL`);
        }
        try {
          return await o.queue.setProfile(name);
        } catch (e) {
          if (e instanceof UnknownProfileError) throw new HttpError(400, e.message);
          throw e;
        }
      },
    ],
    [
      'GET',
      /^\/queue\/([A-Za-z0-9]+)$/,
      (m) => {
        const entry = o.queue.get(m[1]) ?? o.queue.finished(m[1]);
        if (!entry) throw new HttpError(404, `no message ${m[1]} in the queue of ${o.domain}`);
        return entry;
      },
    ],
    [
      'POST',
      /^\/queue\/flush$/,
      (_m, url) => {
        const id = url.searchParams.get('id') ?? undefined;
        const ids = o.queue.flush(id);
        if (id && !ids.length) throw new HttpError(404, `no message ${id} in the queue of ${o.domain}`);
        log.info(`flush requested`, { ids: ids.join(',') || 'none' });
        return { flushed: ids };
      },
    ],
    [
      'POST',
      /^\/queue\/([A-Za-z0-9]+)\/(hold|release|delete|expire)$/,
      async (m) => {
        const [id, action] = [m[1], m[2]];
        try {
          if (action === 'hold') return { id, result: await o.queue.hold(id) };
          if (action === 'release') return { id, result: await o.queue.release(id) };
          if (action === 'delete') await o.queue.remove(id);
          else await o.queue.expire(id);
          return { id, result: action === 'delete' ? 'deleted' : 'expired' };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, (e as Error).message);
          throw e;
        }
      },
    ],
    [
      'GET',
      /^\/trace$/,
      (_m, url) => {
        const id = url.searchParams.get('id');
        if (!id) throw new HttpError(400, 'give ?id=<Message-ID or queue id>');
        const live = o.queue.byMessageId(id).map((entry) => ({ kind: 'queue', time: entry.arrival, domain: o.domain, queueId: entry.id, messageId: entry.messageId, entry, live: true }));
        return [...(o.trace?.find(id) ?? []), ...live];
      },
    ],
    ['GET', /^\/links$/, () => ({ broken: o.queue.blockedDomains() })],
    [
      'POST',
      /^\/links\/([a-z0-9.-]+)\/(break|heal)$/,
      (m) => {
        const already = o.queue.blockedDomains().includes(m[1]);
        if (m[2] === 'break') o.queue.block(m[1], 'link broken by the instructor');
        else o.queue.unblock(m[1]);
        log.info(`link to ${m[1]} ${m[2] === 'break' ? 'broken' : 'healed'}`);
        return { domain: m[1], broken: m[2] === 'break', changed: m[2] === 'break' ? !already : already };
      },
    ],
    [
      'GET',
      /^\/mailbox\/([a-z0-9._+-]+)$/,
      async (m) => {
        if (!o.store.hasUser(m[1])) throw new HttpError(404, `no user ${m[1]} at ${o.domain}`);
        await o.store.snapshot(m[1], 'INBOX');
        return { path: o.store.mboxPath(m[1], 'INBOX'), text: await fs.readFile(o.store.mboxPath(m[1], 'INBOX'), 'latin1') };
      },
    ],
    [
      'GET',
      /^\/mailbox\/([a-z0-9._+-]+)\/messages$/,
      async (m) => {
        if (!o.store.hasUser(m[1])) throw new HttpError(404, `no user ${m[1]} at ${o.domain}`);
        const snap = await o.store.snapshot(m[1], 'INBOX');
        const out = [];
        for (const msg of snap.messages) {
          const raw = await o.store.read(m[1], 'INBOX', msg.uid);
          out.push({ uid: msg.uid, size: msg.size, date: msg.internalDate.toISOString(), flags: msg.flags, headers: raw ? headerBlock(raw) : '' });
        }
        return out;
      },
    ],
  ];

  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const route = routes.find(([method, re]) => method === req.method && re.test(url.pathname));
    if (!route) return send(404, { error: `no such admin endpoint: ${req.method} ${url.pathname}` });
    Promise.resolve()
      .then(() => route[2](route[1].exec(url.pathname)!, url))
      .then(
        (body) => send(200, body),
        (e: Error) => send(e instanceof HttpError ? e.status : 500, { error: e.message }),
      );
  });
}
