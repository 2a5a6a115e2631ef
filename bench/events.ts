/**
 * Live events (services/core/src/admin/events.ts) on loopback: the time
 * from `hub.publish` until followEvents hands the event to a client, with
 * 1 client and with 100 at once (median and p95), and this process's RSS
 * and heap before and after attaching the 100 clients. The server and the
 * clients share this process, so the memory numbers include both sides.
 * Every loop stops after a count and a time. `node dist/bench/events.js`
 * (`node --expose-gc` makes the memory numbers steadier).
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MAIL_API } from '../services/core/src/admin/api';
import { AdminClient } from '../services/core/src/admin/client';
import { followEvents } from '../services/core/src/admin/event-stream';
import { EventHub } from '../services/core/src/admin/events';
import { AdminRouter } from '../services/core/src/admin/router';
import { quantile } from './latency';

export interface EventsBenchOptions {
  /** Events per round. @default 200 */
  events?: number;
  /** Clients of the second round. @default 100 */
  clients?: number;
  /** Each round's limit. @default 30000 */
  maxMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
const round = (n: number) => Math.round(n * 100) / 100;

function memory(): { rss: number; heap: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

export async function runEventsBench(o: EventsBenchOptions = {}): Promise<Record<string, number>> {
  const events = o.events ?? 200;
  const maxMs = o.maxMs ?? 30_000;
  const token = randomBytes(16).toString('hex');
  const hub = new EventHub({ source: 'bench.invalid' });
  const server = new AdminRouter({ service: 'bench.invalid', token }).stream(MAIL_API.events, hub.handler()).server();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = new AdminClient({ who: 'bench.invalid', port: (server.address() as AddressInfo).port, token });
  const sentAt = new Map<number, number>();
  const out: Record<string, number> = {};

  /** n followers; one round of `events` events `everyMs` apart; latencies of every delivery. */
  async function measureRound(n: number, everyMs: number, measure?: () => void): Promise<{ samples: number[]; missing: number }> {
    const ac = new AbortController();
    setMaxListeners(2 * n + 10, ac.signal); // one signal stops every follower
    const samples: number[] = [];
    let open = 0;
    const got = new Array<number>(n).fill(0);
    const stopped = Array.from({ length: n }, (_, i) =>
      followEvents(client, {
        signal: ac.signal,
        onState: (s) => s === 'open' && open++,
        onEvent: (e) => {
          const t = sentAt.get(e.id);
          if (t !== undefined) samples.push(performance.now() - t);
          got[i]++;
        },
      }).catch(() => undefined),
    );
    const deadline = Date.now() + maxMs;
    while (open < n && Date.now() < deadline) await sleep(10);
    measure?.();
    for (let i = 0; i < events && Date.now() < deadline; i++) {
      const t = performance.now();
      sentAt.set(hub.publish('queue.attempt', { n: i, to: 'jpri@dadali.com' }).id, t);
      await sleep(everyMs);
    }
    while (got.some((g) => g < events) && Date.now() < deadline) await sleep(10);
    measure?.();
    ac.abort();
    await Promise.all(stopped);
    return { samples, missing: n * events - samples.length };
  }

  try {
    const one = await measureRound(1, 5);
    out.latency1MedianMs = round(quantile(one.samples, 0.5));
    out.latency1P95Ms = round(quantile(one.samples, 0.95));
    while (hub.clients > 0) await sleep(10);
    const before = memory();
    let rss = 0;
    let heap = 0;
    const many = await measureRound(o.clients ?? 100, 20, () => {
      const m = memory();
      rss = Math.max(rss, m.rss);
      heap = Math.max(heap, m.heap);
    });
    out.latency100MedianMs = round(quantile(many.samples, 0.5));
    out.latency100P95Ms = round(quantile(many.samples, 0.95));
    out.missingDeliveries = one.missing + many.missing;
    out.droppedSlow = hub.stats().droppedSlow;
    out.rssBeforeMiB = MiB(before.rss);
    out.rssWith100MiB = MiB(rss);
    out.heapBeforeMiB = MiB(before.heap);
    out.heapWith100MiB = MiB(heap);
  } finally {
    hub.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  return out;
}

/** The hub's numbers as report lines. */
export function formatEventsReport(r: Record<string, number>): string {
  return `- the event hub alone (server and clients in one process): ${Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`;
}

if (require.main === module) {
  runEventsBench().then(
    (r) => {
      for (const [k, v] of Object.entries(r)) console.log(`events ${k} ${v}`);
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
