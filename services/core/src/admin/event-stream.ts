/**
 * Following an admin API's live events (`GET /events`, events.ts) from
 * Node: a small server-sent-events parser and {@link followEvents}, which
 * reads the stream through the AdminClient (token, messages) and, when the
 * connection drops, reconnects with `Last-Event-ID` of the last event seen
 * so nothing is missed that the server still has, until the signal aborts.
 */
import type { IncomingMessage } from 'node:http';
import type { LabEvent } from './api';
import { AdminCallError, type AdminClient } from './client';
import type { LostEvents } from './events';

export interface SseMessage {
  /** The last `id:` seen on this stream (carried over, as EventSource does). */
  id: string | undefined;
  /** `message` when the event had no `event:` line. */
  event: string;
  data: string;
}

/** The SSE wire format (text/event-stream): lines split anywhere across chunks, LF, CRLF or CR. */
export class SseParser {
  private rest = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;

  constructor(private readonly o: { onMessage(m: SseMessage): void; onComment?(text: string): void; onRetry?(ms: number): void }) {}

  push(chunk: string): void {
    const buf = this.rest + chunk;
    let start = 0;
    for (let i = start; i < buf.length; i++) {
      const ch = buf.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      if (ch === 13 && i === buf.length - 1) break; // a CR at the end: its LF may come next
      this.line(buf.slice(start, i));
      if (ch === 13 && buf.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.rest = buf.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return this.o.onComment?.(line.slice(1).trimStart());
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.o.onRetry?.(Number(value));
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event || 'message';
    this.data = [];
    this.event = '';
    if (data.length) this.o.onMessage({ id: this.lastId, event, data: data.join('\n') });
  }
}

export type FollowState = 'open' | 'reconnecting' | 'closed';

export interface FollowOptions {
  /** @default '/events' */
  path?: string;
  /** Type prefixes, e.g. ['queue', 'mailbox']; none: every event. */
  types?: string[];
  /** Start after this id (the server replays what it still has after it). */
  lastEventId?: number;
  onEvent(e: LabEvent): void;
  /** The server no longer has every event after our last one. */
  onLost?(l: LostEvents): void;
  onState?(s: FollowState, detail?: string): void;
  signal?: AbortSignal;
  /** @default true */
  reconnect?: boolean;
  /** Wait before reconnecting; default: the server's `retry:`, else 1000. Doubles (to 30 s) while connecting fails. */
  retryMs?: number;
  /** Reconnect when nothing (not even a keep-alive) came for this long. @default 45000 */
  idleMs?: number;
}

export interface FollowResult {
  lastEventId: number | undefined;
  /** Connections opened. */
  connections: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A 200 that is not an event stream: asking again will not change it. */
class NotAnEventStream extends Error {}

/** What asking again will not change: a 4xx (wrong token, no such route; not 429) or not a stream at all. */
const permanent = (e: unknown) => e instanceof NotAnEventStream || (e instanceof AdminCallError && e.status >= 400 && e.status < 500 && e.status !== 429);

/** Follows the events until `signal` aborts (or, with reconnect: false, the stream ends). */
export async function followEvents(client: AdminClient, o: FollowOptions): Promise<FollowResult> {
  let last = o.lastEventId;
  let serverRetry: number | undefined;
  let failures = 0;
  let connections = 0;
  const base = o.path ?? '/events';
  const path = base + (o.types?.length ? `${base.includes('?') ? '&' : '?'}types=${encodeURIComponent(o.types.join(','))}` : '');
  const reconnect = o.reconnect ?? true;
  const delay = () => Math.min(30_000, (o.retryMs ?? serverRetry ?? 1000) * 2 ** Math.min(failures, 5));

  while (!o.signal?.aborted) {
    let res: IncomingMessage;
    try {
      res = await client.open(path, { accept: 'text/event-stream', ...(last !== undefined ? { 'last-event-id': String(last) } : {}) }, o.signal);
      if (!/^text\/event-stream\b/.test(res.headers['content-type'] ?? '')) {
        res.destroy();
        throw new NotAnEventStream(`${client.who} answered ${path} with ${res.headers['content-type'] ?? 'no content type'}, not an event stream`);
      }
    } catch (e) {
      if (o.signal?.aborted) break;
      if (!reconnect || permanent(e)) {
        o.onState?.('closed', (e as Error).message);
        throw e;
      }
      o.onState?.('reconnecting', (e as Error).message);
      await sleep(delay(), o.signal);
      failures++;
      continue;
    }
    failures = 0;
    connections++;
    o.onState?.('open');
    const ended = await new Promise<{ why: string; error?: unknown }>((resolve) => {
      const idle = setTimeout(() => res.destroy(new Error(`nothing from ${client.who} for ${(o.idleMs ?? 45_000) / 1000} s`)), o.idleMs ?? 45_000);
      const finish = (r: { why: string; error?: unknown }) => {
        clearTimeout(idle);
        resolve(r);
      };
      const parser = new SseParser({
        onRetry: (ms) => (serverRetry = ms),
        onMessage: (m) => {
          if (m.event === 'lost') o.onLost?.(JSON.parse(m.data) as LostEvents);
          else {
            const e = JSON.parse(m.data) as LabEvent;
            last = e.id;
            o.onEvent(e);
          }
        },
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        idle.refresh();
        try {
          parser.push(chunk);
        } catch (error) {
          // a callback threw, or the server sent something that is not JSON: stop, and say so
          res.destroy();
          finish({ why: 'error', error });
        }
      });
      res.on('end', () => finish({ why: `${client.who} ended the event stream` }));
      res.on('error', (e) => finish({ why: e.message }));
      res.on('close', () => finish({ why: `the connection to ${client.who} closed` }));
    });
    if (ended.error !== undefined) {
      o.onState?.('closed', (ended.error as Error).message);
      throw ended.error;
    }
    if (o.signal?.aborted || !reconnect) break;
    o.onState?.('reconnecting', ended.why);
    await sleep(delay(), o.signal);
  }
  o.onState?.('closed', o.signal?.aborted ? 'stopped' : undefined);
  return { lastEventId: last, connections };
}
