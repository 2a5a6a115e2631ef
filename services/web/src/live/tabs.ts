/**
 * Live updates for the browser: `GET /live?lab=N&types=link,fault&tab=ID`,
 * one server-sent-events stream per browser tab, fed by the shared upstream
 * followers (upstream.ts). Each lab event goes out as `event: <type>`
 * (`link.cut`, `queue.deferred`, …) with `data:` the event (LabEvent of the
 * admin API, plus `lab`); besides: `ready` (subscribed), `lost` (events were
 * missed: reload what you show), `upstream` (a lab's stream state).
 *
 * Besides, `changed` (data: the labs and types seen) comes after events of
 * the tab's types, at most every CHANGED_MS: the first of a burst at once,
 * the last after it, so a part that reloads on it is never left behind.
 * A page subscribes with htmx (layout.tsx loads htmx-ext-sse):
 *
 *   <div sse-connect={liveUrl({ labs: [n], types: ['link', 'fault'] })}>
 *     <div hx-get={`/lab/${n}/topology/drawing`} hx-trigger={liveTrigger('every 15s')}>…</div>
 *   </div>
 *
 * A page that wants the events themselves listens for their types (`sse:queue.deferred`,
 * or an EventSource of its own script) and reads `data` (LiveEvent).
 *
 * Resuming: the tab id in the URL names the tab's state on the server (how
 * far it got in each lab's stream, its last frames), kept for a while after
 * it disconnects. A reconnect (EventSource's own, with Last-Event-ID, or a
 * new EventSource of htmx) continues where the tab was. A student's tab gets
 * only their own lab, and of the mailbox events only their own account's.
 */
import { randomBytes } from 'node:crypto';
import type { SSEMessage } from 'hono/streaming';
import { streamSSE } from 'hono/streaming';
import type { LabEvent } from '../../../core/src/admin/api';
import type { Session } from '../auth/sessions';
import type { WebContext } from '../context';
import { errorPage } from '../error-page';
import type { LabSource } from '../labs';
import { upstreamKey, type UpstreamHub, type UpstreamState } from './upstream';

/** The event types of the admin APIs (services/core/src/admin/api.ts), by prefix: for hx-trigger lists. */
export const EVENT_TYPES: Record<string, string[]> = {
  queue: ['queued', 'attempt', 'deferred', 'delivered', 'bounced', 'delay-notice', 'returned', 'held', 'released', 'deleted', 'expired', 'flushed', 'profile'].map((t) => `queue.${t}`),
  mailbox: ['append', 'expunge', 'rename', 'flags'].map((t) => `mailbox.${t}`),
  trace: ['trace.smtp-in', 'trace.retrieved'],
  fault: ['fault.applied', 'fault.cleared'],
  link: ['link.cut', 'link.restored', 'link.slowed', 'link.unslowed'],
  dns: ['dns.query'],
};

/** A lab event as the browser gets it. */
export type LiveEvent = LabEvent & { lab: number };

/** After a burst of events, `changed` comes at most this often (the first at once, the last after the burst). */
export const CHANGED_MS = 300;

/**
 * An hx-trigger value that reloads a part when its tab's stream says `changed` (some event of the
 * tab's types arrived; several in a burst make one) or `lost` (events were missed), plus any other
 * triggers given: `hx-trigger={liveTrigger('every 20s')}`.
 */
export function liveTrigger(...more: string[]): string {
  return ['sse:changed', 'sse:lost', ...more].join(', ');
}

/** The URL of a tab's live stream (a new tab id each time a page is rendered). */
export function liveUrl(o: { labs: number[] | 'all'; types?: string[]; sources?: string[] }): string {
  const q = new URLSearchParams({ lab: o.labs === 'all' ? 'all' : o.labs.join(',') });
  if (o.types?.length) q.set('types', o.types.join(','));
  if (o.sources?.length) q.set('sources', o.sources.join(','));
  q.set('tab', randomBytes(12).toString('base64url'));
  return `/live?${q}`;
}

interface TabState {
  id: string;
  owner: string;
  /** Upstream key -> the upstream id of the last event handled for this tab. */
  positions: Map<string, number>;
  seq: number;
  /** The last frames sent, for a reconnect with Last-Event-ID. */
  ring: { seq: number; msg: SSEMessage }[];
  connections: number;
  lastSeen: number;
}

export interface LiveHubOptions {
  labs: LabSource;
  upstream: UpstreamHub;
  /** @default 15000 */
  keepAliveMs?: number;
  /** A disconnected tab's state is kept this long. @default 10 minutes */
  tabTtlMs?: number;
  /** Frames kept per tab for a reconnect. @default 200 */
  ringSize?: number;
  /** Frames waiting for a tab that does not read before it is dropped (it reconnects and resumes). @default 1000 */
  maxPending?: number;
}

const TYPE = /^[a-z][a-z0-9.-]{0,40}$/;
const TAB = /^[A-Za-z0-9_-]{8,64}$/;
const MAX_TABS = 5000;

/** May this student's tab see this event? Their lab's links and faults; mailbox events of their own account only. */
function studentMay(s: Session, e: LabEvent): boolean {
  if (e.type.startsWith('link.') || e.type.startsWith('fault.')) return true;
  if (e.source !== s.domain) return false;
  if (e.type.startsWith('mailbox.') || e.type === 'trace.retrieved') return e.data.user === s.localPart;
  return false;
}

const matches = (types: string[] | undefined, type: string) => !types || types.some((p) => type === p || type.startsWith(`${p}.`));

export class LiveHub {
  private readonly tabs = new Map<string, TabState>();
  private streams = 0;

  constructor(private readonly o: LiveHubOptions) {}

  stats(): { streams: number; tabs: number } {
    return { streams: this.streams, tabs: this.tabs.size };
  }

  /** `GET /live` (behind requireLogin). */
  async handle(c: WebContext): Promise<Response> {
    const session = c.var.session!;
    const labParam = c.req.query('lab') ?? '';
    let labs: number[];
    if (labParam === 'all') {
      if (session.role !== 'instructor') return errorPage(c, 403, 'error.forbidden');
      labs = (await this.o.labs.list()).map((l) => l.n);
    } else {
      labs = [...new Set(labParam.split(',').filter(Boolean).map(Number))];
      if (!labs.length || labs.some((n) => !Number.isInteger(n) || n < 0 || n > 99)) return errorPage(c, 400, 'error.notFound');
      if (session.role !== 'instructor' && labs.some((n) => n !== session.lab)) return errorPage(c, 403, 'error.forbidden');
    }
    const types = c.req.query('types')?.split(',').filter(Boolean);
    if (types?.some((t) => !TYPE.test(t))) return errorPage(c, 400, 'error.notFound');
    const sources = c.req.query('sources')?.split(',').filter(Boolean);
    const tabId = c.req.query('tab');
    const lastHeader = c.req.header('last-event-id');
    const last = lastHeader && /^\d+$/.test(lastHeader) ? Number(lastHeader) : undefined;

    const tab = this.tabFor(tabId && TAB.test(tabId) ? tabId : randomBytes(12).toString('base64url'), session.id);
    const keys: { lab: number; source: string }[] = [];
    for (const n of labs) {
      const lab = await this.o.labs.get(n);
      if (!lab) continue;
      for (const source of [...lab.config.domains.map((d) => d.name), 'dns']) if (!sources || sources.includes(source)) keys.push({ lab: n, source });
    }
    const allowed = (e: LabEvent) => matches(types, e.type) && (session.role === 'instructor' || studentMay(session, e));

    return streamSSE(c, async (stream) => {
      this.streams++;
      tab.connections++;
      let pending = 0;
      let chain: Promise<unknown> = Promise.resolve();
      const send = (msg: SSEMessage, keep = true) => {
        if (stream.aborted || stream.closed) return;
        if (keep) {
          msg.id = String(++tab.seq);
          tab.ring.push({ seq: tab.seq, msg });
          if (tab.ring.length > (this.o.ringSize ?? 200)) tab.ring.shift();
        }
        if (++pending > (this.o.maxPending ?? 1000)) {
          // Not reading: drop it; the browser reconnects and resumes from the tab's state.
          stream.abort();
          return;
        }
        chain = chain.then(() => stream.writeSSE(msg)).finally(() => pending--);
      };
      // `changed`: at most every CHANGED_MS, the first of a burst at once, the last after it.
      let pendingChange: { labs: Set<number>; types: Set<string> } | null = null;
      let lastChange = 0;
      let changeTimer: NodeJS.Timeout | null = null;
      const flushChange = () => {
        changeTimer = null;
        if (!pendingChange) return;
        lastChange = Date.now();
        send({ event: 'changed', data: JSON.stringify({ labs: [...pendingChange.labs], types: [...pendingChange.types] }) }, false);
        pendingChange = null;
      };
      const changed = (lab: number, type: string) => {
        pendingChange ??= { labs: new Set(), types: new Set() };
        pendingChange.labs.add(lab);
        pendingChange.types.add(type.split('.')[0]);
        changeTimer ??= setTimeout(flushChange, Math.max(0, lastChange + CHANGED_MS - Date.now()));
      };
      const resumed = tab.seq > 0 || tab.positions.size > 0;
      const unsubs: (() => void)[] = [];
      const done = new Promise<void>((resolve) => {
        stream.onAbort(() => resolve());
        c.req.raw.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      try {
        chain = chain.then(() => stream.write('retry: 2000\n\n'));
        // A reconnect with Last-Event-ID: the frames sent after it again (they may not have arrived).
        if (last !== undefined && tab.ring.length) {
          const firstKept = tab.ring[0].seq;
          if (last + 1 < firstKept) send({ event: 'lost', data: JSON.stringify({ lab: null, source: null, missed: firstKept - last - 1 }) }, false);
          for (const f of tab.ring) if (f.seq > last) send({ ...f.msg }, false);
        }
        for (const { lab, source } of keys) {
          const key = upstreamKey(lab, source);
          const unsub = await this.o.upstream
            .subscribe(lab, source, tab.positions.get(key), {
              event: (e) => {
                tab.positions.set(key, e.id);
                if (allowed(e)) {
                  send({ event: e.type, data: JSON.stringify({ ...e, lab } satisfies LiveEvent) });
                  changed(lab, e.type);
                }
              },
              lost: (missed) => {
                if (missed === null) tab.positions.delete(key);
                send({ event: 'lost', data: JSON.stringify({ lab, source, missed }) });
              },
              state: (s: UpstreamState, detail?: string) => send({ event: 'upstream', data: JSON.stringify({ lab, source, state: s, detail }) }, false),
            })
            .catch(() => null);
          if (unsub) unsubs.push(unsub);
        }
        send({ event: 'ready', data: JSON.stringify({ tab: tab.id, labs, sources: keys.map((k) => upstreamKey(k.lab, k.source)) }) }, false);
        // Back after a while away: whatever the page shows may be old.
        if (resumed) for (const n of labs) changed(n, 'resumed');
        const keepAlive = setInterval(() => {
          if (pending === 0) void stream.write(': keep-alive\n\n');
        }, this.o.keepAliveMs ?? 15_000);
        await done;
        clearInterval(keepAlive);
        if (changeTimer) clearTimeout(changeTimer);
      } finally {
        for (const u of unsubs) u();
        tab.connections--;
        tab.lastSeen = Date.now();
        this.streams--;
      }
    });
  }

  /** The tab's state (its owner's only), or a new one. */
  private tabFor(id: string, owner: string): TabState {
    const now = Date.now();
    for (const [k, t] of this.tabs) if (t.connections === 0 && now - t.lastSeen > (this.o.tabTtlMs ?? 600_000)) this.tabs.delete(k);
    const had = this.tabs.get(id);
    if (had && had.owner === owner) return had;
    if (had) id = randomBytes(12).toString('base64url');
    while (this.tabs.size >= MAX_TABS) this.tabs.delete(this.tabs.keys().next().value!);
    const t: TabState = { id, owner, positions: new Map(), seq: 0, ring: [], connections: 0, lastSeen: now };
    this.tabs.set(id, t);
    return t;
  }
}
