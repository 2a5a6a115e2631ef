/**
 * The labs' live events as the web server receives them: one follower per
 * lab and source (a mail domain or `dns`) of `GET /events` on that admin API
 * (followEvents, which reconnects with Last-Event-ID), shared by every
 * browser tab that needs it. Counted: a follower starts with its first
 * subscriber and stops `graceMs` after its last one left (so a tab that
 * reconnects finds it still there).
 *
 * A follower keeps its last events. A subscriber that knows where it was
 * (`since`, the upstream id of the last event it had) gets what it missed
 * from them, or from the admin API itself when the follower has to start
 * anew; when that is no longer possible it is told how much is lost.
 */
import type { LabEvent } from '../../../core/src/admin/api';
import type { AdminClient } from '../../../core/src/admin/client';
import { followEvents } from '../../../core/src/admin/event-stream';
import type { Logger } from '../../../core/src/logger';
import type { LabSource } from '../labs';

export type UpstreamState = 'connecting' | 'open' | 'reconnecting' | 'failed' | 'closed';

export interface UpstreamListener {
  event(e: LabEvent): void;
  /** Events are gone: `missed` of them, or null when the lab's server restarted (ids began anew). */
  lost(missed: number | null): void;
  state?(s: UpstreamState, detail?: string): void;
}

interface Sub {
  listener: UpstreamListener;
  /** The last upstream id this subscriber has (events up to it are not sent again). */
  after: number | undefined;
  /** Joined a follower that had no event yet: the first one says whether some were missed. */
  checkGap: boolean;
}

interface Follower {
  key: string;
  lab: number;
  source: string;
  buffer: LabEvent[];
  /** Every event from this id up to lastId is in the buffer. */
  coveredFrom: number | undefined;
  lastId: number | undefined;
  subs: Set<Sub>;
  state: UpstreamState;
  detail?: string;
  abort: AbortController;
  closeTimer: NodeJS.Timeout | null;
}

export interface UpstreamOptions {
  labs: LabSource;
  /** A follower without subscribers stops after this long. @default 30000 */
  graceMs?: number;
  /** Events a follower keeps for subscribers that come back. @default 500 */
  bufferSize?: number;
  logger?: Logger;
}

export const upstreamKey = (lab: number, source: string) => `${lab}/${source}`;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class UpstreamHub {
  private readonly followers = new Map<string, Follower>();
  private readonly taps = new Set<(lab: number, e: LabEvent) => void>();
  private closed = false;

  constructor(private readonly o: UpstreamOptions) {}

  /** Every event of every follower, without keeping any follower alive (e.g. to refresh a cache). */
  tap(fn: (lab: number, e: LabEvent) => void): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }

  /** Followers running and their subscribers (tests, the bench). */
  stats(): { followers: number; subscribers: number; keys: string[] } {
    let subscribers = 0;
    for (const f of this.followers.values()) subscribers += f.subs.size;
    return { followers: this.followers.size, subscribers, keys: [...this.followers.keys()] };
  }

  /**
   * Subscribes to lab `lab`'s `source` (a domain of the lab, or `dns`); `since`: the upstream id of the
   * last event the caller had. Returns the unsubscribe function; throws when the lab or source is unknown.
   */
  async subscribe(lab: number, source: string, since: number | undefined, listener: UpstreamListener): Promise<() => void> {
    if (this.closed) throw new Error('the live hub is closed');
    const key = upstreamKey(lab, source);
    let f = this.followers.get(key);
    const sub: Sub = { listener, after: since, checkGap: false };
    if (!f) {
      const l = await this.o.labs.get(lab);
      if (!l) throw new Error(`lab ${lab} does not exist`);
      if (source !== 'dns' && !l.config.domains.some((d) => d.name === source)) throw new Error(`lab ${lab} has no source ${source}`);
      f = this.followers.get(key); // another subscriber may have started it meanwhile
      if (!f) {
        f = { key, lab, source, buffer: [], coveredFrom: since === undefined ? undefined : since + 1, lastId: since, subs: new Set(), state: 'connecting', abort: new AbortController(), closeTimer: null };
        this.followers.set(key, f);
        void this.run(f, source === 'dns' ? l.dns() : l.mail(source), since);
        f.subs.add(sub);
        listener.state?.(f.state);
        return () => this.unsubscribe(f!, sub);
      }
    }
    if (f.closeTimer) {
      clearTimeout(f.closeTimer);
      f.closeTimer = null;
    }
    if (since === undefined) sub.after = f.lastId;
    else if (f.lastId !== undefined && since > f.lastId) {
      // The tab knew higher ids than the server has now: the lab's server restarted.
      listener.lost(null);
      sub.after = f.lastId;
    } else if (f.coveredFrom === undefined) {
      sub.checkGap = true;
    } else {
      if (since + 1 < f.coveredFrom) listener.lost(f.coveredFrom - since - 1);
      for (const e of f.buffer) if (e.id > since) listener.event(e);
      sub.after = f.lastId ?? since;
    }
    f.subs.add(sub);
    listener.state?.(f.state, f.detail);
    return () => this.unsubscribe(f!, sub);
  }

  /** Stops every follower now. */
  close(): void {
    this.closed = true;
    for (const f of this.followers.values()) this.stop(f);
    this.followers.clear();
  }

  private unsubscribe(f: Follower, sub: Sub): void {
    if (!f.subs.delete(sub) || f.subs.size || f.closeTimer || this.followers.get(f.key) !== f) return;
    f.closeTimer = setTimeout(() => {
      f.closeTimer = null;
      if (f.subs.size) return;
      this.stop(f);
      this.followers.delete(f.key);
    }, this.o.graceMs ?? 30_000);
    f.closeTimer.unref();
  }

  private stop(f: Follower): void {
    if (f.closeTimer) clearTimeout(f.closeTimer);
    f.closeTimer = null;
    f.abort.abort();
    this.setState(f, 'closed');
  }

  private setState(f: Follower, s: UpstreamState, detail?: string): void {
    if (f.state === s && f.detail === detail) return;
    f.state = s;
    f.detail = detail;
    for (const sub of f.subs) sub.listener.state?.(s, detail);
  }

  private onEvent(f: Follower, e: LabEvent): void {
    f.buffer.push(e);
    if (f.buffer.length > (this.o.bufferSize ?? 500)) f.buffer.shift();
    f.coveredFrom = f.coveredFrom === undefined ? e.id : Math.max(f.coveredFrom, f.buffer[0].id);
    f.lastId = e.id;
    for (const tap of this.taps) tap(f.lab, e);
    for (const sub of f.subs) {
      if (sub.checkGap) {
        // This follower started after the subscriber's last event was published, so its first
        // event is later, unless the lab's server restarted (ids began anew).
        sub.checkGap = false;
        if (sub.after !== undefined && e.id <= sub.after) {
          sub.listener.lost(null);
          sub.after = undefined;
        } else if (sub.after !== undefined && e.id > sub.after + 1) sub.listener.lost(e.id - sub.after - 1);
      }
      if (sub.after !== undefined && e.id <= sub.after) continue;
      sub.after = e.id;
      sub.listener.event(e);
    }
  }

  private onLost(f: Follower, missed: number | null): void {
    f.buffer = [];
    f.coveredFrom = undefined;
    if (missed === null) f.lastId = undefined;
    for (const sub of f.subs) {
      if (missed === null) sub.after = undefined;
      sub.listener.lost(missed);
    }
  }

  /** Follows until stopped; after a permanent error (a wrong token, the lab recreated) tries again, slower each time. */
  private async run(f: Follower, client: AdminClient, since: number | undefined): Promise<void> {
    const signal = f.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await followEvents(client, {
          lastEventId: f.lastId ?? since,
          signal,
          onEvent: (e) => {
            failures = 0;
            this.onEvent(f, e);
          },
          onLost: (l) => this.onLost(f, l.missed),
          onState: (s, detail) => {
            if (s === 'open') failures = 0;
            if (s !== 'closed') this.setState(f, s, detail);
          },
        });
      } catch (e) {
        if (signal.aborted) break;
        this.setState(f, 'failed', (e as Error).message);
        this.o.logger?.warn('live events: cannot follow', { lab: f.lab, source: f.source, error: (e as Error).message });
        await sleep(Math.min(30_000, 2000 * 2 ** Math.min(failures++, 4)), signal);
      }
    }
  }
}
