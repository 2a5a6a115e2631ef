/**
 * `mail-lab trace <message-id>`: a message's whole path through the lab,
 * gathered from every domain's trace journal and queue: the SMTP sessions
 * that brought it in (with their transcripts), the DNS answers each sender
 * used, each outbound SMTP conversation and queue attempt, the mailbox it
 * landed in, and who read it over POP3 or IMAP. Printed in English or
 * Indonesian (`--lang`); the wire transcripts stay as they were spoken.
 */
import { MAIL_API, type RecipientStatus, type TraceItem } from '../services/core/src/admin/api';
import type { Lang } from './i18n/lang';
import type { LabTarget } from './lab-target';

export async function collectTrace(target: LabTarget, id: string): Promise<TraceItem[]> {
  const all: TraceItem[] = [];
  for (const d of target.config.domains) {
    all.push(...(await target.mail(d.name).call(MAIL_API.trace, { id })));
  }
  return all.sort((a, b) => a.time.localeCompare(b.time));
}

const clock = (iso: string) => iso.slice(11, 23);

type AttemptResult = 'delivered' | 'deferred' | 'bounced';

/** The words of a trace. */
const WORDS = {
  en: {
    none: (id: string) => `no trace of ${id} in the lab (give the Message-ID header, e.g. <...@mail.garudayaksa.com>, or a queue id)`,
    title: (id: string, subject: string) => `trace of ${id}${subject ? ` "${subject}"` : ''}`,
    smtpIn: (port: number, helo: string, peer: string, user: string | undefined, queueId: string) =>
      `received over SMTP port ${port} from ${helo} (${peer})${user ? `, logged in as ${user}` : ''}: queued as ${queueId}`,
    queue: (id: string, live: boolean, from: string, to: string) => `queue ${id}${live ? ' (still in the queue)' : ''}: from ${from} to ${to}`,
    status: (s: RecipientStatus): string => s,
    attempt: (result: AttemptResult, rcpts: string, detail: string) => `  attempt: ${result} ${rcpts}: ${detail}`,
    mx: (list: string, host?: string, tls?: string) => `DNS: MX answer ${list}${host ? `; connected to ${host}` : ''}${tls ? `, TLS: ${tls}` : ''}`,
    read: (user: string, protocol: string, folder: string, uid: number) => `read by ${user} over ${protocol} (${folder}, uid ${uid})`,
  },
  id: {
    none: (id: string) => `tidak ada jejak ${id} di lab (berikan header Message-ID, misalnya <...@mail.garudayaksa.com>, atau nomor antrian)`,
    title: (id: string, subject: string) => `jejak ${id}${subject ? ` "${subject}"` : ''}`,
    smtpIn: (port: number, helo: string, peer: string, user: string | undefined, queueId: string) =>
      `diterima lewat SMTP port ${port} dari ${helo} (${peer})${user ? `, login sebagai ${user}` : ''}: masuk antrian sebagai ${queueId}`,
    queue: (id: string, live: boolean, from: string, to: string) => `antrian ${id}${live ? ' (masih di antrian)' : ''}: dari ${from} ke ${to}`,
    status: (s: RecipientStatus): string => ({ pending: 'menunggu', delivered: 'terkirim', bounced: 'dikembalikan' })[s],
    attempt: (result: AttemptResult, rcpts: string, detail: string) => `  percobaan: ${({ delivered: 'terkirim', deferred: 'ditunda', bounced: 'dikembalikan' })[result]} ${rcpts}: ${detail}`,
    mx: (list: string, host?: string, tls?: string) => `DNS: jawaban MX ${list}${host ? `; terhubung ke ${host}` : ''}${tls ? `, TLS: ${tls}` : ''}`,
    read: (user: string, protocol: string, folder: string, uid: number) => `dibaca oleh ${user} lewat ${protocol} (${folder}, uid ${uid})`,
  },
} satisfies Record<Lang, unknown>;

export function formatTrace(id: string, items: TraceItem[], transcripts = true, lang: Lang = 'en'): string[] {
  const w = WORDS[lang];
  if (!items.length) return [w.none(id)];
  const first = items.find((i) => i.messageId) ?? items[0];
  const subject = items.find((i) => i.kind === 'smtp-in' && i.subject);
  const out = [w.title(first.messageId ?? id, subject && subject.kind === 'smtp-in' ? (subject.subject ?? '') : '')];
  for (const item of items) {
    const where = item.domain.padEnd(16);
    if (item.kind === 'smtp-in') {
      out.push(`${clock(item.time)} ${where} ${w.smtpIn(item.port, item.helo ?? '?', item.peer, item.user, item.queueId)}`);
      if (transcripts) out.push(...item.transcript.map((l) => `    ${l}`));
    } else if (item.kind === 'queue') {
      const e = item.entry;
      out.push(`${clock(item.time)} ${where} ${w.queue(e.id, !!item.live, e.from || '<>', e.recipients.map((r) => `${r.address} [${w.status(r.status)}]`).join(', '))}`);
      for (const h of e.history) {
        out.push(`${clock(h.time)} ${where} ${w.attempt(h.result, h.recipients.join(','), h.detail)}`);
        if (h.mx) out.push(`${' '.repeat(30)}${w.mx(h.mx.map((m) => `${m.priority} ${m.exchange}`).join(', '), h.host, h.tls)}`);
        if (transcripts && h.transcript) out.push(...h.transcript.map((l) => `    ${l}`));
      }
    } else {
      out.push(`${clock(item.time)} ${where} ${w.read(item.user, item.protocol.toUpperCase(), item.folder, item.uid)}`);
    }
  }
  return out;
}
