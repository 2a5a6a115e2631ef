/**
 * The outbound queue's SMTP connection cache, as Postfix's smtp client keeps
 * one (its `smtp_connection_cache_on_demand`): after a message went out, the
 * session to that mail host stays open for a short while (2 s by default,
 * Postfix's `smtp_connection_cache_time_limit`), and the next message for
 * the same host goes over it after a `RSET` (RFC 5321 4.1.1.5) instead of a
 * new TCP connection, greeting, EHLO and TLS handshake. A queue that drains
 * after a broken link is healed sends most of its messages this way; a
 * message now and then opens its own connection as before.
 *
 * A cached session is never trusted blindly: `take` checks it with RSET and
 * drops it when that fails; every session is closed when a link of this
 * domain changes (cut, slowed, isolated: `forgetOnLinkChange`), so a fault
 * the instructor sets takes effect on the next message, not 2 s later.
 */
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from '../../../core/src/logger';
import type { LinkControl } from '../links/types';

/** Where a session's `C:`/`S:` lines go: the attempt using it now (set again on every reuse). */
export interface TranscriptSink {
  lines: string[];
  logger: Logger;
}

export interface CachedSession {
  conn: SMTPConnection;
  sink: TranscriptSink;
  /** How it is protected, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`, or `none`. */
  tls: string;
  /** Date.now() when it was opened. */
  openedAt: number;
  /** Messages sent over it so far. */
  messages: number;
}

export interface ConnectionCacheOptions {
  /** How long an unused session stays open. @default 2000 */
  idleMs?: number;
  /** Idle sessions kept per mail host (a drain with N parallel deliveries keeps up to N; the queue runs 20). @default 20 */
  perHost?: number;
  /** Messages over one session before it is closed (Postfix: smtp_connection_reuse_count_limit). @default 100 */
  maxMessages?: number;
}

interface Idle {
  session: CachedSession;
  timer: NodeJS.Timeout;
}

const rset = (conn: SMTPConnection) => new Promise<void>((resolve, reject) => conn.reset((err) => (err ? reject(err) : resolve())));

export class SmtpConnectionCache {
  private readonly idle = new Map<string, Idle[]>();
  /** Sessions whose end is watched (once per session, however often it comes back). */
  private readonly watched = new WeakSet<CachedSession>();
  private readonly idleMs: number;
  private readonly perHost: number;
  private readonly maxMessages: number;

  constructor(o: ConnectionCacheOptions = {}) {
    this.idleMs = o.idleMs ?? 2000;
    this.perHost = o.perHost ?? 20;
    this.maxMessages = o.maxMessages ?? 100;
  }

  /** An idle session to `key` (host and port) that answered RSET, or null. */
  async take(key: string): Promise<CachedSession | null> {
    for (;;) {
      const list = this.idle.get(key);
      const item = list?.pop();
      if (!item) return null;
      if (!list!.length) this.idle.delete(key);
      clearTimeout(item.timer);
      try {
        await rset(item.session.conn);
        return item.session;
      } catch {
        item.session.conn.close();
      }
    }
  }

  /** Keeps a session that just finished a message, or closes it (QUIT) when the host has enough idle ones or it has sent its share. */
  give(key: string, session: CachedSession): void {
    const list = this.idle.get(key) ?? [];
    if (list.length >= this.perHost || session.messages >= this.maxMessages) {
      session.conn.quit();
      return;
    }
    const item: Idle = {
      session,
      timer: setTimeout(() => {
        const l = this.idle.get(key);
        const i = l?.indexOf(item) ?? -1;
        if (i >= 0) l!.splice(i, 1);
        if (l && !l.length) this.idle.delete(key);
        session.conn.quit();
      }, this.idleMs),
    };
    item.timer.unref();
    list.push(item);
    this.idle.set(key, list);
    // A session the server ends while it waits here leaves the cache at once.
    if (!this.watched.has(session)) {
      this.watched.add(session);
      session.conn.once('end', () => this.forget(key, session));
    }
  }

  /** Closes every idle session (QUIT); returns how many there were. */
  closeAll(): number {
    let n = 0;
    for (const list of this.idle.values()) {
      for (const item of list) {
        clearTimeout(item.timer);
        item.session.conn.quit();
        n++;
      }
    }
    this.idle.clear();
    return n;
  }

  /** Idle sessions now. */
  get size(): number {
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  private forget(key: string, session: CachedSession): void {
    const l = this.idle.get(key);
    const i = l?.findIndex((x) => x.session === session) ?? -1;
    if (i < 0) return;
    clearTimeout(l![i].timer);
    l!.splice(i, 1);
    if (!l!.length) this.idle.delete(key);
  }
}

/** The domain's link control, closing the cached sessions whenever a link changes (a cut or slowed link must not be bypassed by an open session). */
export function forgetOnLinkChange(links: LinkControl, cache: SmtpConnectionCache): LinkControl {
  const after = async <T>(p: Promise<T>): Promise<T> => {
    const r = await p;
    cache.closeAll();
    return r;
  };
  return {
    method: links.method,
    view: () => links.view(),
    cut: (peer, reason) => after(links.cut(peer, reason)),
    restore: (peer, reason) => links.restore(peer, reason),
    slow: (peer, params) => after(links.slow(peer, params)),
    unslow: (peer) => after(links.unslow(peer)),
    isolate: (on) => after(links.isolate(on)),
  };
}
