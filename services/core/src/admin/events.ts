/**
 * Live events of one admin API (`GET /events`) as server-sent events: an
 * {@link EventHub} numbers what the server publishes (1, 2, 3… per hub),
 * keeps the last ones in a ring buffer and writes each to every attached
 * stream. A client that reconnects with `Last-Event-ID: N` first gets what
 * it missed (or a `lost` event saying how much is gone). A client that does
 * not read is dropped once its unsent bytes pass a limit, so it can never
 * grow the server's memory. The client side is event-stream.ts.
 *
 * Wiring: `router.stream(MAIL_API.events, hub.handler())`, `hub.publish(...)`
 * where things happen, `hub.close()` before `server.close()`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabEvent, LabEventType } from './api';
import { ApiError } from './errors';
import type { Logger } from '../logger';

export interface EventHubOptions {
  /** The `source` of every event: the mail domain, or `dns`. */
  source: string;
  /** Events kept for replay. @default 1000 */
  bufferSize?: number;
  /** Between `: keep-alive` comments. @default 15000 */
  keepAliveMs?: number;
  /** The `retry:` the stream announces (ms). @default 2000 */
  retryMs?: number;
  /** @default 200 */
  maxClients?: number;
  /** Unsent bytes of one client before it is dropped as too slow. @default 1 MiB */
  maxQueuedBytes?: number;
  /** @default () => new Date() */
  clock?: () => Date;
  logger?: Logger;
}

export interface AttachOptions {
  /** Type prefixes: `queue` passes `queue.*`, `queue.queued` only itself. None: everything. */
  types?: string[];
}

/** The data of the `lost` event (it has no id, so a resume still starts after `after`). */
export interface LostEvents {
  /** The client's Last-Event-ID. */
  after: number;
  /** How many events (of any type) are gone; null when the server restarted (ids began anew). */
  missed: number | null;
  reason: 'too-old' | 'restarted';
}

export interface EventHubStats {
  clients: number;
  published: number;
  /** Clients dropped because their unsent bytes passed maxQueuedBytes. */
  droppedSlow: number;
  /** Unsent bytes of all clients now, and the most one client ever had (at most maxQueuedBytes, or one frame). */
  queuedBytes: number;
  peakQueuedBytes: number;
}

interface Client {
  res: ServerResponse;
  types?: string[];
  /** write() said false and no 'drain' since: bytes are waiting for this client. */
  congested: boolean;
}

/** `queue,mailbox` (the `types` query parameter) → ['queue', 'mailbox']; empty → undefined. */
export function parseTypes(s: string | undefined): string[] | undefined {
  const list = (s ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return list.length ? list : undefined;
}

const matches = (types: string[] | undefined, type: string) => !types || types.some((p) => type === p || type.startsWith(`${p}.`));

const frameOf = (e: LabEvent): string => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

export class EventHub {
  /** The last events; each one's frame is made when a client first needs it (nobody watching: never). */
  private readonly ring: { event: LabEvent; frame: Buffer | null }[] = [];
  private readonly streams = new Set<Client>();
  private lastId = 0;
  private droppedSlow = 0;
  private peak = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly size: number;
  private readonly maxBytes: number;

  constructor(private readonly o: EventHubOptions) {
    this.size = Math.max(1, o.bufferSize ?? 1000);
    this.maxBytes = o.maxQueuedBytes ?? 1024 * 1024;
  }

  get clients(): number {
    return this.streams.size;
  }

  stats(): EventHubStats {
    let queued = 0;
    for (const c of this.streams) queued += c.res.writableLength;
    return { clients: this.streams.size, published: this.lastId, droppedSlow: this.droppedSlow, queuedBytes: queued, peakQueuedBytes: this.peak };
  }

  /**
   * Numbers, stamps, keeps and sends an event; returns it. `data` is serialised when a client first
   * needs it (at once when one is watching, at a replay otherwise): give a value nobody changes later.
   */
  publish(type: LabEventType, data: Record<string, unknown>): LabEvent {
    const event: LabEvent = { id: ++this.lastId, type, time: (this.o.clock?.() ?? new Date()).toISOString(), source: this.o.source, data };
    const kept = { event, frame: null };
    this.ring[(event.id - 1) % this.size] = kept;
    for (const c of this.streams) if (matches(c.types, type)) this.write(c, this.frame(kept));
    return event;
  }

  /** A kept event as an SSE frame, made once. */
  private frame(kept: { event: LabEvent; frame: Buffer | null }): Buffer {
    return (kept.frame ??= Buffer.from(frameOf(kept.event)));
  }

  /** The stream handler for `router.stream(API.events, hub.handler())`. */
  handler(): (input: { types?: string }, req: IncomingMessage, res: ServerResponse) => void {
    return (input, req, res) => this.attach(req, res, { types: parseTypes(input.types) });
  }

  /** Turns `res` into an event stream (or answers 503 when full or closed). */
  attach(req: IncomingMessage, res: ServerResponse, opts: AttachOptions = {}): void {
    if (this.closed || this.streams.size >= (this.o.maxClients ?? 200)) {
      const e = this.closed
        ? new ApiError(503, 'failed', `the event stream of ${this.o.source} is closed (the server is stopping)`)
        : new ApiError(503, 'too-many-clients', `${this.o.source} already streams events to ${this.streams.size} clients; close one and try again`);
      const text = JSON.stringify(e.body());
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'retry-after': '5' });
      res.end(text);
      return;
    }
    const client: Client = { res, types: opts.types, congested: false };
    this.streams.add(client);
    res.on('close', () => this.streams.delete(client));
    res.on('drain', () => (client.congested = false));
    req.socket.setNoDelay(true);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    this.write(client, `retry: ${this.o.retryMs ?? 2000}\n\n`);
    const header = req.headers['last-event-id'];
    const after = typeof header === 'string' && /^\s*\d+\s*$/.test(header) ? Number(header) : null;
    if (after !== null) this.replay(client, after);
    this.startTimer();
  }

  /** Ends every stream and stops the keep-alive timer; later attaches get 503. */
  close(): void {
    this.closed = true;
    this.stopTimer();
    for (const c of this.streams) {
      // A client with unsent bytes may never read them: end() would keep its socket (and server.close()) waiting.
      if (c.res.writableLength > 0) c.res.destroy();
      else c.res.end();
    }
    this.streams.clear();
  }

  private replay(c: Client, after: number): void {
    const oldest = Math.max(1, this.lastId - this.size + 1);
    let from = after + 1;
    let lost: LostEvents | null = null;
    if (after > this.lastId) {
      lost = { after, missed: null, reason: 'restarted' };
      from = oldest;
    } else if (from < oldest) {
      lost = { after, missed: oldest - from, reason: 'too-old' };
      from = oldest;
    }
    if (lost) this.write(c, `event: lost\ndata: ${JSON.stringify(lost)}\n\n`);
    for (let id = from; id <= this.lastId && this.streams.has(c); id++) {
      const kept = this.ring[(id - 1) % this.size];
      if (matches(c.types, kept.event.type)) this.write(c, this.frame(kept));
    }
  }

  /** Writes unless the client's unsent bytes would pass the limit; then drops it. */
  private write(c: Client, chunk: Buffer | string): void {
    const res = c.res;
    if (res.destroyed || res.writableEnded) return;
    const queued = res.writableLength;
    // A client that is not behind always takes one frame, so one event over the limit does not drop everybody.
    if (c.congested && queued + Buffer.byteLength(chunk) > this.maxBytes) {
      this.streams.delete(c);
      this.droppedSlow++;
      this.o.logger?.warn('event client dropped: it does not read', { source: this.o.source, queuedBytes: queued, peer: res.socket?.remoteAddress });
      res.destroy();
      return;
    }
    // write() says false once bytes wait unsent (until 'drain'); writableLength says how many.
    if (!res.write(chunk)) c.congested = true;
    this.peak = Math.max(this.peak, res.writableLength);
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.streams.size) return this.stopTimer();
      for (const c of this.streams) this.write(c, ': keep-alive\n\n');
    }, this.o.keepAliveMs ?? 15_000);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
