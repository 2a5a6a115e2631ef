/**
 * Benchmarks 3 and 4, local delivery under load: `clients` concurrent SMTP
 * sessions on a server's port 25, unauthenticated, each sending message
 * after message (one transaction at a time, the session reused) to the
 * server's own users in turn, until `total` messages or `maxMs`. Then the
 * mbox files are counted until every accepted message is in them (or
 * `drainMs` passes). The same function and the same messages drive our
 * server and Postfix.
 */
import { performance } from 'node:perf_hooks';
import { MboxCounter, type MboxSource } from './mailbox-watch';
import { benchMessage, SmtpClient } from './smtp-client';

export interface LoadOptions {
  port: number;
  /** Recipients, used in turn. */
  recipients: string[];
  from: string;
  clients: number;
  total: number;
  maxMs: number;
  size: number;
  runId: string;
  /** The recipients' mbox files, counted for deliveries. */
  mailboxes: MboxSource[];
  /** How long to wait after the load for the queue to drain. @default 60000 */
  drainMs?: number;
  /** Extra "is the queue empty" check (our admin API); the mbox count decides otherwise. */
  queueEmpty?: () => Promise<boolean>;
}

export interface LoadResult {
  accepted: number;
  failed: number;
  errors: string[];
  /** First send to last 250, ms. */
  acceptMs: number;
  /** Messages found in the mailboxes, beyond those there before. */
  delivered: number;
  /** First send to the moment the last accepted message was counted in a mailbox, ms. */
  deliverMs: number;
  drained: boolean;
  acceptedPerSec: number;
  deliveredPerSec: number;
}

async function countAll(counters: MboxCounter[]): Promise<number> {
  let n = 0;
  for (const c of counters) n += await c.update();
  return n;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const counters = o.mailboxes.map((m) => new MboxCounter(m));
  const before = await countAll(counters);
  let next = 0;
  let accepted = 0;
  let failed = 0;
  const errors: string[] = [];
  const t0 = performance.now();
  const deadline = t0 + o.maxMs;
  let lastAccept = t0;

  const worker = async (w: number) => {
    let client: SmtpClient | null = null;
    let reconnects = 0;
    while (next < o.total && performance.now() < deadline && reconnects <= 5) {
      try {
        if (!client) {
          client = await SmtpClient.connect(o.port, '127.0.0.1', 15_000);
          await client.ehlo(`load${w}.bench.invalid`);
        }
        const i = next++;
        const to = o.recipients[i % o.recipients.length];
        const r = await client.send(o.from, [to], benchMessage({ id: `${o.runId}-load-${i}`, from: o.from, to, size: o.size }));
        accepted++;
        lastAccept = Math.max(lastAccept, r.at);
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push((e as Error).message);
        client?.close();
        client = null;
        reconnects++;
      }
    }
    await client?.quit();
  };
  await Promise.all(Array.from({ length: o.clients }, (_, w) => worker(w)));
  const acceptMs = lastAccept - t0;

  // Drain: count until every accepted message is in a mailbox (and the queue says empty).
  const drainUntil = performance.now() + (o.drainMs ?? 60_000);
  let delivered = (await countAll(counters)) - before;
  let deliverMs = performance.now() - t0;
  while (performance.now() < drainUntil) {
    const n = (await countAll(counters)) - before;
    if (n !== delivered) deliverMs = performance.now() - t0;
    delivered = n;
    if (delivered >= accepted && (!o.queueEmpty || (await o.queueEmpty()))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    accepted,
    failed,
    errors,
    acceptMs,
    delivered,
    deliverMs,
    drained: delivered >= accepted,
    acceptedPerSec: accepted / (acceptMs / 1000),
    deliveredPerSec: delivered / (deliverMs / 1000),
  };
}
