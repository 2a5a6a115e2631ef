/**
 * Benchmark 2, cross-domain delivery latency: mbrain submits on
 * garudayaksa.com's port 587 (AUTH PLAIN, one session for every message),
 * and the clock runs from the 250 reply to DATA until the message's last
 * line is in jpri's INBOX mbox at dadali.com. In between: the sender's
 * durable spool, the MX lookup in the lab DNS, SMTP to dadali.com, its
 * spool, and its local delivery. Messages go one at a time.
 */
import type { DomainConfig } from '../services/core/src/config';
import type { MboxSource } from './mailbox-watch';
import { MboxWatcher } from './mailbox-watch';
import { benchMessage, endMarker, SmtpClient } from './smtp-client';

export interface LatencyOptions {
  sender: DomainConfig;
  recipient: string;
  mailbox: MboxSource;
  count: number;
  size: number;
  runId: string;
  /** Per message, after the 250. @default 10000 */
  timeoutMs?: number;
  /** Whole run. @default 60000 */
  maxMs?: number;
}

export interface LatencyResult {
  samplesMs: number[];
  failures: string[];
}

export async function measureLatency(o: LatencyOptions): Promise<LatencyResult> {
  const watcher = new MboxWatcher(o.mailbox, 5);
  await watcher.start();
  const samplesMs: number[] = [];
  const failures: string[] = [];
  const deadline = Date.now() + (o.maxMs ?? 60_000);
  const from = `mbrain@${o.sender.name}`;
  const client = await SmtpClient.connect(o.sender.ports.submission);
  try {
    await client.ehlo('bench.invalid');
    await client.authPlain('mbrain', 'rahasia123');
    for (let i = 0; i < o.count && Date.now() < deadline; i++) {
      const id = `${o.runId}-lat-${i}`;
      const seen = watcher.waitFor(endMarker(id), o.timeoutMs ?? 10_000);
      seen.catch(() => undefined);
      try {
        const reply = await client.send(from, [o.recipient], benchMessage({ id, from, to: o.recipient, size: o.size }));
        const at = await seen;
        samplesMs.push(Math.max(0, at - reply.at));
      } catch (e) {
        failures.push(`${id}: ${(e as Error).message}`);
        if (failures.length >= 5) break;
      }
    }
    await client.quit();
  } finally {
    client.close();
    watcher.stop();
  }
  return { samplesMs, failures };
}

/** The q-quantile (0..1) of a sample, by linear interpolation. */
export function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
