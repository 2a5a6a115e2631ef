/**
 * One live event of the lab (the catalogue: services/core/src/admin/api.ts)
 * as one line for the terminal: `10:42:07.123 dadali.com queue.delivered
 * MWX8M5O2BB5926 jpri@dadali.com: delivered to mailbox jpri (uid 3)`.
 */
import type { LabEvent } from '../../services/core/src/admin/api';
import { describeFault, type FaultSpec } from '../../services/core/src/faults';

type D = Record<string, unknown>;
const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(',') : str(v));

function lookups(d: D): string {
  const ls = (d.lookups as { type: string; name: string; answers: string[]; ms: number; error?: string }[] | undefined) ?? [];
  return ls.map((l) => `${l.type} ${l.name} -> ${l.error ?? (l.answers.join(', ') || 'no answer')} (${l.ms} ms)`).join('; ');
}

/** The words after the type. */
export function summary(e: LabEvent): string {
  const d = e.data as D;
  switch (e.type) {
    case 'queue.queued':
      return `${d.id} from ${d.from} to ${list(d.recipients)} (${d.size} octets)${d.subject ? ` "${d.subject}"` : ''}`;
    case 'queue.attempt': {
      const outcomes = (d.outcomes as { address: string; result: string; detail: string }[]) ?? [];
      const how = d.blocked ? `not tried: ${d.blocked}` : [lookups(d), d.host ? `talked to ${d.host}${d.tls ? `, TLS ${d.tls}` : ''}` : ''].filter(Boolean).join('; ');
      return `${d.id} to ${d.domain}: ${how} -> ${outcomes.map((o) => `${o.address} ${o.result}`).join(', ')}`;
    }
    case 'queue.deferred':
      return `${d.id} ${d.recipient}: ${str(d.lastError ?? d.detail)}${d.nextAttempt ? `; next attempt ${str(d.nextAttempt).slice(11, 19)}` : ''}`;
    case 'queue.delivered':
    case 'queue.bounced':
    case 'queue.returned':
      return `${d.id} ${d.recipient}: ${str(d.detail ?? d.lastError)}`;
    case 'queue.delay-notice':
      return `${d.id}: delay notice to ${d.from} (still waiting: ${list(d.pending)})`;
    case 'queue.flushed':
      return `retrying now: ${list(d.ids)}`;
    case 'queue.profile':
      return `${d.previous} -> ${d.profile}`;
    case 'mailbox.append':
    case 'mailbox.expunge':
    case 'mailbox.flags':
      return `${d.user} ${d.folder} uid ${list(d.uids)}`;
    case 'mailbox.rename':
      return `${d.user} ${d.folder} -> ${d.to}`;
    case 'trace.smtp-in':
      return `${d.queueId} from ${d.helo ?? '?'} [${d.peer}] on port ${d.port}${d.user ? `, logged in as ${d.user}` : ''}${d.subject ? ` "${d.subject}"` : ''}`;
    case 'trace.retrieved':
      return `${d.user} read ${d.folder} uid ${d.uid} over ${str(d.protocol).toUpperCase()}`;
    case 'fault.applied':
    case 'fault.cleared':
      return `${describeFault(d.spec as FaultSpec)}${d.how ? ` (${d.how})` : ''}`;
    case 'link.cut':
    case 'link.restored':
    case 'link.slowed':
    case 'link.unslowed':
      return `${d.domain} -> ${d.peer}${d.reason && d.reason !== 'break' ? ` (${d.reason})` : ''}: ${str(d.how)}`;
    case 'dns.query':
      return str(d.line);
    default:
      return d.id !== undefined ? str(d.id) : JSON.stringify(d);
  }
}

export const eventLine = (e: LabEvent) => `${e.time.slice(11, 23)} ${e.source.padEnd(15)} ${e.type.padEnd(17)} ${summary(e)}`;
