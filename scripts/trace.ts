/**
 * `mail-lab trace <message-id>`: a message's whole path through the lab,
 * gathered from every domain's trace journal and queue: the SMTP sessions
 * that brought it in (with their transcripts), the DNS answers each sender
 * used, each outbound SMTP conversation and queue attempt, the mailbox it
 * landed in, and who read it over POP3 or IMAP.
 */
import { MAIL_API, type TraceItem } from '../services/core/src/admin/api';
import type { LabTarget } from './lab-target';

export async function collectTrace(target: LabTarget, id: string): Promise<TraceItem[]> {
  const all: TraceItem[] = [];
  for (const d of target.config.domains) {
    all.push(...(await target.mail(d.name).call(MAIL_API.trace, { id })));
  }
  return all.sort((a, b) => a.time.localeCompare(b.time));
}

const clock = (iso: string) => iso.slice(11, 23);

export function formatTrace(id: string, items: TraceItem[], transcripts = true): string[] {
  if (!items.length) return [`no trace of ${id} in the lab (give the Message-ID header, e.g. <...@mail.garudayaksa.com>, or a queue id)`];
  const first = items.find((i) => i.messageId) ?? items[0];
  const subject = items.find((i) => i.kind === 'smtp-in' && i.subject);
  const out = [`trace of ${first.messageId ?? id}${subject && subject.kind === 'smtp-in' ? ` "${subject.subject}"` : ''}`];
  for (const item of items) {
    const where = item.domain.padEnd(16);
    if (item.kind === 'smtp-in') {
      out.push(`${clock(item.time)} ${where} received over SMTP port ${item.port} from ${item.helo ?? '?'} (${item.peer})${item.user ? `, logged in as ${item.user}` : ''}: queued as ${item.queueId}`);
      if (transcripts) out.push(...item.transcript.map((l) => `    ${l}`));
    } else if (item.kind === 'queue') {
      const e = item.entry;
      out.push(`${clock(item.time)} ${where} queue ${e.id}${item.live ? ' (still in the queue)' : ''}: from ${e.from || '<>'} to ${e.recipients.map((r) => `${r.address} [${r.status}]`).join(', ')}`);
      for (const h of e.history) {
        out.push(`${clock(h.time)} ${where}   attempt: ${h.result} ${h.recipients.join(',')}: ${h.detail}`);
        if (h.mx) out.push(`${' '.repeat(30)}DNS: MX answer ${h.mx.map((m) => `${m.priority} ${m.exchange}`).join(', ')}${h.host ? `; connected to ${h.host}` : ''}${h.tls ? `, TLS: ${h.tls}` : ''}`);
        if (transcripts && h.transcript) out.push(...h.transcript.map((l) => `    ${l}`));
      }
    } else {
      out.push(`${clock(item.time)} ${where} read by ${item.user} over ${item.protocol.toUpperCase()} (${item.folder}, uid ${item.uid})`);
    }
  }
  return out;
}
