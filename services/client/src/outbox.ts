/**
 * The outbox: mail written while the server cannot be reached waits here
 * and goes out when it can (the lesson, section 3: "once we are connected
 * again we can ... send all the mail we wrote while disconnected"), as
 * Thunderbird's Outbox and "Send Unsent Messages" do.
 *
 * One directory per account (`<local>/<from>/outbox/`): each message as it
 * was composed (`<id>.eml`, Message-ID and Date fixed when it was written)
 * and its envelope and history (`<id>.json`, written second: a message
 * without it is an unfinished write and is ignored). Sending takes the
 * oldest first, so mail arrives in the order it was written; a message
 * leaves the outbox only after the server's 250. When the server cannot be
 * reached the flush stops (the rest waits); a message the server refuses
 * (a recipient refused, the message too big) stays with the reason, for
 * the user to read and delete. A lock file keeps two flushes of the same
 * outbox apart.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ClientError, messageOf, UnreachableError } from './errors';
import type { Endpoint } from './endpoint';
import { accountDir, listDir, readIfThere, readJson, writeFileAtomic, writeJson } from './local-store';
import { submitMessage, type ComposedMessage, type SendResult } from './send';

export interface OutboxEntry {
  id: string;
  from: string;
  /** Every recipient (To and Cc). */
  to: string[];
  subject: string;
  messageId: string;
  size: number;
  /** When it was written (ISO time). */
  queuedAt: string;
  attempts: number;
  lastAttempt?: string;
  /** Why the last attempt did not send it. */
  lastError?: string;
}

export interface FlushReport {
  sent: { entry: OutboxEntry; result: SendResult }[];
  /** Refused by the server; still in the outbox with the reason. */
  refused: { entry: OutboxEntry; error: string }[];
  /** The server could not be reached; the flush stopped there. */
  unreachable?: UnreachableError;
  /** Messages still in the outbox. */
  waiting: number;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\.(\d{3})Z$/, '-$1');

export class Outbox {
  readonly dir: string;

  constructor(
    root: string,
    readonly address: string,
  ) {
    this.dir = join(accountDir(root, address), 'outbox');
  }

  /**
   * Writes a composed message into the outbox (message first, then its
   * envelope); `failed`: the attempt that just could not send it.
   */
  async add(message: ComposedMessage, subject: string, failed?: string, now = new Date()): Promise<OutboxEntry> {
    const id = `${stamp(now)}-${randomBytes(3).toString('hex')}`;
    const entry: OutboxEntry = { id, from: message.envelope.from, to: message.envelope.to, subject, messageId: message.messageId, size: message.raw.length, queuedAt: now.toISOString(), attempts: 0 };
    if (failed !== undefined) Object.assign(entry, { attempts: 1, lastAttempt: now.toISOString(), lastError: failed });
    await writeFileAtomic(join(this.dir, `${id}.eml`), message.raw);
    await writeJson(join(this.dir, `${id}.json`), entry);
    return entry;
  }

  /** The waiting messages, oldest first. */
  async list(): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    for (const f of await listDir(this.dir)) {
      const m = /^(.+)\.json$/.exec(f);
      if (!m) continue;
      const e = await readJson<OutboxEntry | null>(join(this.dir, f), null);
      if (e && (await readIfThere(join(this.dir, `${m[1]}.eml`)))) out.push(e);
    }
    return out.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt) || a.id.localeCompare(b.id));
  }

  async message(entry: OutboxEntry): Promise<ComposedMessage> {
    const raw = await readIfThere(join(this.dir, `${entry.id}.eml`));
    if (!raw) throw new ClientError(`the outbox of ${this.address} has no message ${entry.id}`);
    return { envelope: { from: entry.from, to: entry.to }, messageId: entry.messageId, raw };
  }

  /** Removes one message (its envelope first, so a half-removed one is not sent). */
  async remove(id: string): Promise<boolean> {
    if (!/^[\w-]+$/.test(id)) return false;
    const had = (await readIfThere(join(this.dir, `${id}.json`))) !== null;
    await fs.rm(join(this.dir, `${id}.json`), { force: true });
    await fs.rm(join(this.dir, `${id}.eml`), { force: true });
    return had;
  }

  private async note(entry: OutboxEntry, error: string): Promise<OutboxEntry> {
    const next = { ...entry, attempts: entry.attempts + 1, lastAttempt: new Date().toISOString(), lastError: error };
    await writeJson(join(this.dir, `${entry.id}.json`), next);
    return next;
  }

  /** Holds the outbox for one flush; another process holding it is an error that names it. */
  private async lock(): Promise<() => Promise<void>> {
    const path = join(this.dir, '.lock');
    await fs.mkdir(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.writeFile(path, String(process.pid), { flag: 'wx' });
        return () => fs.rm(path, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number((await readIfThere(path))?.toString().trim());
        if (pid > 0 && pid !== process.pid && alive(pid)) throw new ClientError(`another mail-lab-client (process ${pid}) is sending the outbox of ${this.address}; try again when it is done`);
        // Left behind by a client that was killed: take it over.
        await fs.rm(path, { force: true });
      }
    }
    throw new ClientError(`cannot lock the outbox of ${this.address} (${path})`);
  }

  /** Sends every waiting message through `ep`, oldest first (see the file comment). */
  async flush(ep: Endpoint, onSent?: (entry: OutboxEntry, result: SendResult) => void): Promise<FlushReport> {
    const report: FlushReport = { sent: [], refused: [], waiting: 0 };
    const waiting = await this.list();
    if (waiting.length === 0) return report;
    const unlock = await this.lock();
    try {
      for (const entry of waiting) {
        if (report.unreachable) break;
        try {
          const result = await submitMessage(ep, await this.message(entry));
          await this.remove(entry.id);
          report.sent.push({ entry, result });
          onSent?.(entry, result);
        } catch (e) {
          if (e instanceof UnreachableError) {
            await this.note(entry, e.message);
            report.unreachable = e;
          } else if (e instanceof ClientError) {
            const kept = await this.note(entry, e.message);
            report.refused.push({ entry: kept, error: e.message });
          } else {
            throw e;
          }
        }
      }
    } finally {
      await unlock();
    }
    report.waiting = (await this.list()).length;
    return report;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The error of a flush that could not reach the server, in one sentence. */
export function stillWaiting(o: Outbox, report: FlushReport): string {
  return `${report.waiting} message${report.waiting === 1 ? '' : 's'} still in the outbox of ${o.address}${report.unreachable ? `: ${messageOf(report.unreachable)}` : ''}`;
}
