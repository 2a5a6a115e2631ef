/**
 * VERB, Sendmail's verbose mode, as the lesson lists it ("VERB - Verbose,
 * memperbanyak kata"): after VERB, the session tells what the server does
 * with each message it accepts. As Sendmail did in verbose mode, the server
 * delivers while the client waits and writes each step as a `050` line
 * (`050 <jpri@dadali.com>... Sent (...)`), then its final `250`. Only a
 * client that asked with VERB gets these lines (RFC 5321 4.2: replies other
 * than the ones the client expects are not part of the protocol; a typed
 * session is where they belong). The wait is bounded: what is still under
 * way after the limit goes on in the queue, and the session says so.
 */
import type { AttemptEvent, OutboundQueue } from '../queue/queue';
import type { QueueEntry, RecipientState } from '../queue/types';

/** Writes one 050 line to the session that asked for VERB. */
export type Narrate = (line: string) => void;

/** How long a verbose session waits for the first attempt of its message before its 250. */
export const VERBOSE_WAIT_MS = 8000;

export interface Following {
  /** Resolves when every recipient had its first outcome, or at the limit (said in a line). */
  done: Promise<void>;
  /** The message is in the queue (durably): says so, then what happened meanwhile. Nothing is said before. */
  queued(): void;
  /** Stops following (the message was not queued after all). */
  stop(): void;
}

const when = (iso?: string) => (iso ? new Date(iso).toISOString().slice(11, 19) + ' UTC' : 'later');

/** The lines of one delivery attempt to a domain: the DNS answers the server used, the host it talked to. */
export function attemptLines(a: AttemptEvent): string[] {
  const who = a.recipients.map((r) => `<${r}>`).join(', ');
  if (a.blocked) return [`${who}... not tried: ${a.blocked}`];
  const lines: string[] = [];
  if (a.mx?.length) lines.push(`${who}... DNS: MX ${a.domain} -> ${a.mx.map((m) => `${m.priority} ${m.exchange}`).join(', ')}`);
  if (a.host) lines.push(`${who}... Connecting to ${a.host} via esmtp${a.tls ? ` (${a.tls})` : ''}...`);
  return lines;
}

/** The line of one recipient's outcome. */
export function outcomeLine(kind: 'delivered' | 'deferred' | 'bounced', r: RecipientState): string {
  const who = `<${r.address}>...`;
  if (kind === 'delivered') return r.local ? `${who} Delivered: appended to the mailbox file (local delivery)${r.detail ? `: ${r.detail}` : ''}` : `${who} Sent (${r.detail ?? 'accepted'})`;
  if (kind === 'deferred') return `${who} Deferred: ${r.lastError ?? r.detail ?? 'not now'}; it waits in the queue, next attempt at ${when(r.nextAttempt)}`;
  return `${who} Returned to the sender: ${r.lastError ?? r.detail ?? 'refused'}`;
}

/**
 * Follows the message `id` through the queue and narrates it. Call it before
 * the message is queued (its first attempt may start at once); call
 * `queued()` when it is, and nothing is written before (nor ever, when
 * queueing fails).
 */
export function followDelivery(queue: OutboundQueue, id: string, recipients: string[], narrate: Narrate, limitMs = VERBOSE_WAIT_MS): Following {
  const waiting = new Set(recipients.map((r) => r.toLowerCase()));
  // Held until the message is queued: the client hears "queued" first, and nothing if queueing fails.
  let held: string[] | null = [];
  const say = (line: string) => (held ? held.push(line) : narrate(line));
  const queued = () => {
    if (!held) return;
    const lines = held;
    held = null;
    narrate(`${id}: queued; delivering now while you wait (verbose mode)`);
    lines.forEach(narrate);
  };
  const offs: (() => void)[] = [];
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const stop = () => {
    offs.splice(0).forEach((off) => off());
    clearTimeout(timer);
    finish();
  };
  const on = <A extends unknown[]>(event: string, listener: (e: QueueEntry, ...rest: A) => void) => {
    const l = (e: QueueEntry, ...rest: A) => {
      if (e.id === id) listener(e, ...rest);
    };
    queue.on(event, l);
    offs.push(() => queue.off(event, l));
  };
  on('attempt', (_e, a: AttemptEvent) => attemptLines(a).forEach(say));
  for (const kind of ['delivered', 'deferred', 'bounced'] as const) {
    on(kind, (_e, r: RecipientState) => {
      say(outcomeLine(kind, r));
      waiting.delete(r.address.toLowerCase());
      if (!waiting.size) stop();
    });
  }
  const timer = setTimeout(() => {
    say(`still under way after ${limitMs / 1000} s: ${[...waiting].map((r) => `<${r}>`).join(', ')}; the queue goes on without this session`);
    stop();
  }, limitMs);
  timer.unref?.();
  if (!waiting.size) stop();
  return { done, queued, stop };
}
