/**
 * One copy of the texts that repeat across queued messages. A queue of
 * 100,000 messages deferred behind a broken link holds in every entry the
 * same sender, recipient addresses, error text, result words and retry
 * times; read back from 100,000 spool files (JSON.parse makes new strings)
 * or written by each retry pass, every entry had its own copies: ≈1 KB per
 * entry, of which ≈430 bytes go when these are shared (measured on the
 * queue bench's entries). Only the values are shared, so nothing a reader
 * sees changes. The pool forgets everything past `max` distinct texts (what
 * was shared stays shared), so unique texts cannot make it grow for ever.
 */
import type { QueueEntry } from './types';

export class SharedText {
  private readonly pool = new Map<string, string>();

  constructor(private readonly max = 20_000) {}

  /** The pool's copy of `s`. */
  text<T extends string | undefined>(s: T): T {
    if (s === undefined) return s;
    const known = this.pool.get(s);
    if (known !== undefined) return known as T;
    if (this.pool.size >= this.max) this.pool.clear();
    this.pool.set(s, s);
    return s;
  }

  /** Shares the repeated texts of `e` in place; returns it. */
  entry(e: QueueEntry): QueueEntry {
    e.from = this.text(e.from);
    e.arrival = this.text(e.arrival);
    for (const r of e.recipients) {
      r.address = this.text(r.address);
      r.status = this.text(r.status);
      r.lastError = this.text(r.lastError);
      r.detail = this.text(r.detail);
      r.nextAttempt = this.text(r.nextAttempt);
      r.doneAt = this.text(r.doneAt);
    }
    for (const h of e.history) {
      h.time = this.text(h.time);
      h.result = this.text(h.result);
      h.detail = this.text(h.detail);
      h.host = this.text(h.host);
      h.tls = this.text(h.tls);
      for (let i = 0; i < h.recipients.length; i++) h.recipients[i] = this.text(h.recipients[i]);
    }
    return e;
  }
}
