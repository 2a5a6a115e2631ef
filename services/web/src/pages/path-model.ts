/**
 * The Message path of one message as a list of steps, the way Packet
 * Tracer's simulation mode lists events: each with where it came from and
 * where it went (the nodes of the topology drawing: `client`, `dns`, a lab
 * domain), its kind, its words (i18n keys with their values) and its
 * details (an SMTP transcript, a DNS question and answer, the mbox `From `
 * line). Pure: built from what every domain's `GET /trace` says (the SMTP
 * sessions that brought it in, each queue copy with its attempts, the
 * reads) and the live events the web server saw (queue.attempt carries the
 * DNS lookup times; when the delay notice went out), so a test can give it
 * both by hand.
 */
import type { AttemptView, LabEvent, QueueEntryView, TraceItem } from '../../../core/src/admin/api';

export type StepKind = 'submission' | 'smtp-in' | 'queued' | 'dns-mx' | 'dns-a' | 'hop' | 'deferred' | 'bounced' | 'mailbox' | 'waiting' | 'held' | 'deleted' | 'delay-notice' | 'returned' | 'read';
export type StepCategory = 'smtp' | 'dns' | 'queue' | 'mailbox' | 'read' | 'notice';

export const CATEGORY: Record<StepKind, StepCategory> = {
  submission: 'smtp',
  'smtp-in': 'smtp',
  hop: 'smtp',
  queued: 'queue',
  deferred: 'queue',
  bounced: 'queue',
  waiting: 'queue',
  held: 'queue',
  deleted: 'queue',
  'dns-mx': 'dns',
  'dns-a': 'dns',
  mailbox: 'mailbox',
  read: 'read',
  'delay-notice': 'notice',
  returned: 'notice',
};

export const CATEGORIES: StepCategory[] = ['smtp', 'dns', 'queue', 'mailbox', 'read', 'notice'];

/** Words: an i18n key of path.tsx and its values (values are data: shown as text). */
export interface Words {
  key: string;
  params?: Record<string, string | number>;
}

export interface StepDetails {
  /** The SMTP conversation (`C:`/`S:` lines), as the sending side wrote it. */
  transcript?: string[];
  /** The receiving server's side of the same hop. */
  received?: { domain: string; queueId: string; transcript: string[] };
  dns?: { type: 'MX' | 'A'; name: string; answers: string[]; ms?: number; error?: string };
  /** The mbox file's separator line of the delivered copy (null: no longer in the file). */
  mbox?: { user: string; domain: string; uid?: number; path?: string; fromLine: string | null };
  /** Key-value facts: label key, value (data). */
  facts: [string, string][];
  /** Another message this step made (a delay or failure notice): its path. */
  notice?: string;
}

export interface PathStep {
  /** Stable across reloads (the page keeps its place by it). */
  key: string;
  kind: StepKind;
  category: StepCategory;
  time: string;
  /** The node where it happened. */
  at: string;
  /** The envelope's way on the drawing: from node, to node (DNS steps: there and back). */
  from: string;
  to: string;
  outcome: 'ok' | 'fail' | 'wait';
  title: Words;
  info?: Words;
  /** Words of a server, shown as they are (a reply, an error). */
  said?: string;
  details: StepDetails;
}

export interface MessagePath {
  /** What was asked (a Message-ID or a queue id). */
  id: string;
  messageId?: string;
  subject?: string;
  from?: string;
  recipients: string[];
  /** Its copies: the sender's queue, each relay's. */
  copies: { domain: string; id: string; live: boolean; notice?: 'delay' | 'failure' }[];
  /** Mailboxes it went into (mailbox events of these concern it). */
  mailboxes: { domain: string; user: string; uid?: number; queueId: string }[];
  /** Still in a queue somewhere. */
  pending: boolean;
  steps: PathStep[];
}

export interface PathInput {
  id: string;
  items: TraceItem[];
  /** Live events remembered for this message (RecentMessages.eventsOf). */
  events?: LabEvent[];
  domains: { name: string; mailHost: string }[];
  /** The separator lines of delivered copies, by `domain/user/queueId` (null: not in the file any more). */
  mboxLines?: Map<string, { fromLine: string | null; path?: string }>;
  /** Notices made about the message (RecentMessages): kind and key. */
  notices?: { kind: 'delay' | 'failure'; key: string }[];
  now?: number;
}

const bare = (id: string) => id.trim().replace(/^<|>$/g, '');
const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
const QUEUED_AS = /queued as ([A-Za-z0-9]+)/;
const LOCAL_DELIVERY = /^delivered to mailbox ([^\s]+) \(uid (\d+)\)/;

/** Which mailbox a local delivery went into, from its detail. */
export function localDelivery(detail: string): { user: string; uid: number } | null {
  const m = LOCAL_DELIVERY.exec(detail);
  return m ? { user: m[1], uid: Number(m[2]) } : null;
}

/** The DNS lines an outbound transcript starts with: `DNS: MX dadali.com -> 10 mail.dadali.com`. */
function dnsFromTranscript(lines: string[]): { type: 'MX' | 'A'; name: string; answers: string[] }[] {
  const out: { type: 'MX' | 'A'; name: string; answers: string[] }[] = [];
  for (const l of lines) {
    const m = /^DNS: (MX|A) (\S+) -> (.*)$/.exec(l);
    if (m) out.push({ type: m[1] as 'MX' | 'A', name: m[2], answers: m[3].split(', ').filter(Boolean) });
  }
  return out;
}

interface Lookup {
  type: 'MX' | 'A';
  name: string;
  answers: string[];
  ms?: number;
  error?: string;
}

/** The queue.attempt event of an attempt (same queue id and remote domain, the first one published after its start). */
function attemptEvent(events: LabEvent[], source: string, queueId: string, remote: string, time: string): LabEvent | undefined {
  const t = Date.parse(time);
  let best: LabEvent | undefined;
  for (const e of events) {
    if (e.type !== 'queue.attempt' || e.source !== source || e.data.id !== queueId || e.data.domain !== remote) continue;
    const et = Date.parse(e.time);
    if (et < t) continue;
    if (!best || et < Date.parse(best.time)) best = e;
  }
  return best;
}

export function buildPath(input: PathInput): MessagePath {
  const now = input.now ?? Date.now();
  const events = input.events ?? [];
  const hostToDomain = new Map(input.domains.map((d) => [d.mailHost.toLowerCase(), d.name]));
  const labDomain = (d: string) => input.domains.some((x) => x.name === d);
  const items = [...input.items].sort((a, b) => a.time.localeCompare(b.time));

  // The queue copies, once each (the journal's finished record over a live one).
  const queues = new Map<string, { domain: string; entry: QueueEntryView; live: boolean; time: string }>();
  for (const it of items) {
    if (it.kind !== 'queue') continue;
    const k = `${it.domain}/${it.queueId}`;
    const had = queues.get(k);
    if (!had || (had.live && !it.live)) queues.set(k, { domain: it.domain, entry: it.entry, live: !!it.live, time: it.time });
  }
  const smtpIn = new Map<string, Extract<TraceItem, { kind: 'smtp-in' }>>();
  for (const it of items) if (it.kind === 'smtp-in') smtpIn.set(`${it.domain}/${it.queueId}`, it);

  const first = items.find((i) => i.messageId) ?? items[0];
  const anyEntry = [...queues.values()][0]?.entry;
  const subjectItem = items.find((i) => i.kind === 'smtp-in' && i.subject) as Extract<TraceItem, { kind: 'smtp-in' }> | undefined;
  const sender = anyEntry?.from;
  const senderNode = (from: string | undefined) => (from && labDomain(domainOf(from)) ? domainOf(from) : 'client');

  const steps: PathStep[] = [];
  const merged = new Set<string>();
  const mailboxes: MessagePath['mailboxes'] = [];

  // The hops first: which SMTP sessions were a lab server handing the message on.
  const hopReceipts = new Map<string, Extract<TraceItem, { kind: 'smtp-in' }>>();
  for (const q of queues.values()) {
    for (const h of q.entry.history) {
      const m = QUEUED_AS.exec(h.detail);
      if (h.result !== 'delivered' || !m || !h.host) continue;
      const remote = hostToDomain.get(h.host.split('[')[0].toLowerCase()) ?? domainOf(h.recipients[0] ?? '');
      const rx = smtpIn.get(`${remote}/${m[1]}`);
      if (rx) {
        hopReceipts.set(`${q.domain}/${q.entry.id}/${h.time}/${h.recipients.join(',')}`, rx);
        merged.add(`${remote}/${m[1]}`);
      }
    }
  }

  for (const it of items) {
    if (it.kind === 'smtp-in') {
      const k = `${it.domain}/${it.queueId}`;
      if (merged.has(k)) continue;
      const fromHost = it.helo ? hostToDomain.get(it.helo.toLowerCase()) : undefined;
      const submission = !!it.user || it.port === 587 || it.port === 465;
      const from = submission ? 'client' : (fromHost ?? 'client');
      steps.push({
        key: `in/${k}`,
        kind: submission ? 'submission' : 'smtp-in',
        category: 'smtp',
        time: it.time,
        at: it.domain,
        from,
        to: it.domain,
        outcome: 'ok',
        title: { key: submission ? 'path.step.submission' : 'path.step.smtpIn', params: { host: input.domains.find((d) => d.name === it.domain)?.mailHost ?? it.domain } },
        info: it.user
          ? { key: 'path.info.submissionLogin', params: { port: it.port, user: it.user, id: it.queueId } }
          : { key: 'path.info.smtpIn', params: { port: it.port, helo: it.helo ?? '?', id: it.queueId } },
        details: {
          transcript: it.transcript,
          facts: [
            ['path.fact.port', String(it.port)],
            ['path.fact.peer', it.peer],
            ['path.fact.helo', it.helo ?? ''],
            ...(it.user ? ([['path.fact.login', it.user]] as [string, string][]) : []),
            ['path.fact.queueId', it.queueId],
          ],
        },
      });
      continue;
    }
    if (it.kind === 'retrieved') {
      steps.push({
        key: `read/${it.domain}/${it.user}/${it.uid}/${it.protocol}/${it.time}`,
        kind: 'read',
        category: 'read',
        time: it.time,
        at: it.domain,
        from: it.domain,
        to: 'client',
        outcome: 'ok',
        title: { key: 'path.step.read', params: { user: it.user, protocol: it.protocol.toUpperCase() } },
        info: { key: 'path.info.read', params: { folder: it.folder, uid: it.uid } },
        details: {
          facts: [
            ['path.fact.protocol', it.protocol.toUpperCase()],
            ['path.fact.account', `${it.user}@${it.domain}`],
            ['path.fact.folder', it.folder],
            ['path.fact.uid', String(it.uid)],
          ],
        },
      });
      continue;
    }
    // Kinds of record this page does not show (yet) are left out.
    if (it.kind !== 'queue') continue;
    const q = queues.get(`${it.domain}/${it.queueId}`);
    if (!q || q.entry !== it.entry) continue;
    steps.push(...queueSteps(q.domain, q.entry, q.live));
  }

  function queueSteps(domain: string, e: QueueEntryView, live: boolean): PathStep[] {
    const out: PathStep[] = [];
    const base = `${domain}/${e.id}`;
    if (!smtpIn.has(base)) {
      out.push({
        key: `queued/${base}`,
        kind: 'queued',
        category: e.notice ? 'notice' : 'queue',
        time: e.arrival,
        at: domain,
        from: domain,
        to: domain,
        outcome: 'ok',
        title: { key: e.notice ? `path.step.queuedNotice.${e.notice}` : 'path.step.queued', params: { domain } },
        info: { key: 'path.info.queued', params: { id: e.id, from: e.from || '<>', to: e.recipients.map((r) => r.address).join(', ') } },
        details: { facts: [['path.fact.queueId', e.id], ['path.fact.from', e.from || '<>'], ['path.fact.to', e.recipients.map((r) => r.address).join(', ')]] },
      });
    }
    e.history.forEach((h, i) => out.push(...attemptSteps(domain, e, h, i)));
    // Recipients given up without a 5xx of their own: returned to the sender (lifetime over, or the instructor's "return to sender").
    const bouncedInHistory = new Set(e.history.filter((h) => h.result === 'bounced').flatMap((h) => h.recipients));
    const returned = e.recipients.filter((r) => r.status === 'bounced' && !bouncedInHistory.has(r.address));
    if (returned.length) {
      const notice = input.notices?.find((n) => n.kind === 'failure');
      out.push({
        key: `returned/${base}`,
        kind: 'returned',
        category: 'notice',
        time: returned[0].doneAt ?? e.history[e.history.length - 1]?.time ?? e.arrival,
        at: domain,
        from: domain,
        to: senderNode(e.from),
        outcome: 'fail',
        title: { key: 'path.step.returned', params: { sender: e.from || '<>' } },
        info: { key: 'path.info.returned', params: { rcpts: returned.map((r) => r.address).join(', ') } },
        said: returned[0].lastError,
        details: { facts: returned.map((r) => [r.address, r.lastError ?? ''] as [string, string]), notice: notice?.key },
      });
    }
    if (e.warned) {
      const ev = events.find((x) => x.type === 'queue.delay-notice' && x.source === domain && x.data.id === e.id);
      const notice = input.notices?.find((n) => n.kind === 'delay');
      out.push({
        key: `warned/${base}`,
        kind: 'delay-notice',
        category: 'notice',
        time: ev?.time ?? e.history[e.history.length - 1]?.time ?? e.arrival,
        at: domain,
        from: domain,
        to: senderNode(e.from),
        outcome: 'wait',
        title: { key: 'path.step.delayNotice', params: { sender: e.from || '<>' } },
        info: { key: 'path.info.delayNotice', params: {} },
        details: { facts: [['path.fact.queueId', e.id]], notice: notice?.key },
      });
    }
    const pending = e.recipients.filter((r) => r.status === 'pending');
    if (live && pending.length) {
      const next = pending.map((r) => r.nextAttempt).filter((x): x is string => !!x).sort()[0];
      out.push({
        key: `waiting/${base}`,
        kind: e.held ? 'held' : 'waiting',
        category: 'queue',
        time: new Date(Math.max(now, Date.parse(e.history[e.history.length - 1]?.time ?? e.arrival))).toISOString(),
        at: domain,
        from: domain,
        to: domain,
        outcome: 'wait',
        title: { key: e.held ? 'path.step.held' : 'path.step.waiting', params: { domain } },
        info: next && !e.held ? { key: 'path.info.waiting', params: { next, rcpts: pending.map((r) => r.address).join(', ') } } : { key: 'path.info.waitingRcpts', params: { rcpts: pending.map((r) => r.address).join(', ') } },
        details: { facts: pending.map((r) => [r.address, r.lastError ?? ''] as [string, string]) },
      });
    }
    return out;
  }

  function attemptSteps(domain: string, e: QueueEntryView, h: AttemptView, index: number): PathStep[] {
    const out: PathStep[] = [];
    const base = `${domain}/${e.id}/${index}`;
    // The administrator's records (postsuper -e, -d): no delivery was tried.
    const admin = !h.host && !h.mx && !h.transcript ? (/^expired by the administrator/.test(h.detail) ? 'returned' : /^deleted from the queue/.test(h.detail) ? 'deleted' : null) : null;
    if (admin) {
      const notice = input.notices?.find((n) => n.kind === 'failure');
      out.push({
        key: `${admin}/${base}`,
        kind: admin,
        category: admin === 'returned' ? 'notice' : 'queue',
        time: h.time,
        at: domain,
        from: domain,
        to: admin === 'returned' ? senderNode(e.from) : domain,
        outcome: 'fail',
        title: admin === 'returned' ? { key: 'path.step.returned', params: { sender: e.from || '<>' } } : { key: 'path.step.deleted', params: { domain } },
        info: { key: admin === 'returned' ? 'path.info.returned' : 'path.info.deleted', params: { rcpts: h.recipients.join(', ') } },
        said: h.detail,
        details: { facts: [['path.fact.rcpts', h.recipients.join(', ')]], notice: admin === 'returned' ? notice?.key : undefined },
      });
      return out;
    }
    const local = h.recipients.every((a) => e.recipients.find((r) => r.address === a)?.local);
    if (local) {
      for (const a of h.recipients) {
        const user = a.slice(0, a.lastIndexOf('@'));
        if (h.result === 'delivered') {
          const where = localDelivery(h.detail);
          const line = input.mboxLines?.get(`${domain}/${where?.user ?? user}/${e.id}`);
          mailboxes.push({ domain, user: where?.user ?? user, uid: where?.uid, queueId: e.id });
          out.push({
            key: `mbox/${base}/${a}`,
            kind: 'mailbox',
            category: 'mailbox',
            time: h.time,
            at: domain,
            from: domain,
            to: domain,
            outcome: 'ok',
            title: { key: 'path.step.mailbox', params: { user: where?.user ?? user } },
            info: { key: 'path.info.mailbox', params: { uid: where?.uid ?? '?' } },
            details: {
              mbox: { user: where?.user ?? user, domain, uid: where?.uid, path: line?.path, fromLine: line ? line.fromLine : null },
              facts: [['path.fact.account', a], ['path.fact.queueId', e.id]],
            },
          });
        } else {
          out.push({
            key: `local/${base}/${a}`,
            kind: h.result === 'bounced' ? 'bounced' : 'deferred',
            category: 'queue',
            time: h.time,
            at: domain,
            from: domain,
            to: domain,
            outcome: h.result === 'bounced' ? 'fail' : 'wait',
            title: { key: h.result === 'bounced' ? 'path.step.bouncedLocal' : 'path.step.deferredLocal', params: { rcpt: a } },
            said: h.detail,
            details: { facts: [['path.fact.account', a]] },
          });
        }
      }
      return out;
    }
    const remote = domainOf(h.recipients[0] ?? '');
    const ev = attemptEvent(events, domain, e.id, remote, h.time);
    const lookups: Lookup[] = Array.isArray(ev?.data.lookups) ? (ev!.data.lookups as Lookup[]) : dnsFromTranscript(h.transcript ?? []);
    if (!lookups.length && h.mx?.length) lookups.push({ type: 'MX', name: remote, answers: h.mx.map((m) => `${m.priority} ${m.exchange}`) });
    lookups.forEach((l, i) => {
      out.push({
        key: `dns/${base}/${i}`,
        kind: l.type === 'MX' ? 'dns-mx' : 'dns-a',
        category: 'dns',
        time: h.time,
        at: domain,
        from: domain,
        to: 'dns',
        outcome: l.error ? 'fail' : 'ok',
        title: { key: l.type === 'MX' ? 'path.step.dnsMx' : 'path.step.dnsA', params: { name: l.name } },
        info: l.error ? { key: 'path.info.dnsError', params: { error: l.error } } : { key: 'path.info.dns', params: { answers: l.answers.join(', ') || '-' } },
        details: { dns: { type: l.type, name: l.name, answers: l.answers, ms: l.ms, error: l.error }, facts: [] },
      });
    });
    const target = (h.host && hostToDomain.get(h.host.split('[')[0].toLowerCase())) ?? (labDomain(remote) ? remote : 'dns');
    const receipt = hopReceipts.get(`${domain}/${e.id}/${h.time}/${h.recipients.join(',')}`);
    const kind: StepKind = h.result === 'delivered' ? 'hop' : h.result === 'bounced' ? 'bounced' : 'deferred';
    const next = h.result === 'deferred' ? e.recipients.find((r) => h.recipients.includes(r.address))?.nextAttempt : undefined;
    out.push({
      key: `hop/${base}/${remote}`,
      kind,
      category: kind === 'hop' ? 'smtp' : 'queue',
      time: h.time,
      at: domain,
      from: domain,
      to: target,
      outcome: h.result === 'delivered' ? 'ok' : h.result === 'bounced' ? 'fail' : 'wait',
      title: { key: kind === 'hop' ? 'path.step.hop' : kind === 'bounced' ? 'path.step.bounced' : 'path.step.deferred', params: { from: domain, to: labDomain(remote) ? remote : remote || '?' } },
      info: receipt ? { key: 'path.info.hop', params: { id: receipt.queueId, domain: receipt.domain } } : undefined,
      said: h.detail,
      details: {
        transcript: h.transcript,
        received: receipt ? { domain: receipt.domain, queueId: receipt.queueId, transcript: receipt.transcript } : undefined,
        facts: [
          ['path.fact.rcpts', h.recipients.join(', ')],
          ...(h.host ? ([['path.fact.host', h.host]] as [string, string][]) : []),
          ...(h.tls ? ([['path.fact.tls', h.tls]] as [string, string][]) : []),
          ...(next ? ([['path.fact.next', next]] as [string, string][]) : []),
          ...(typeof ev?.data.blocked === 'string' ? ([['path.fact.blocked', ev.data.blocked]] as [string, string][]) : []),
        ],
      },
    });
    return out;
  }

  // In time order; steps at the same time keep the order they were made in (the DNS before its hop).
  const ordered = steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.time.localeCompare(b.s.time) || a.i - b.i);
  const copies = [...queues.values()].map((q) => ({ domain: q.domain, id: q.entry.id, live: q.live, notice: q.entry.notice }));
  return {
    id: input.id,
    messageId: first?.messageId ?? anyEntry?.messageId,
    subject: subjectItem?.subject ?? anyEntry?.subject,
    from: sender,
    recipients: [...queues.values()].sort((a, b) => a.entry.arrival.localeCompare(b.entry.arrival))[0]?.entry.recipients.map((r) => r.address) ?? [],
    copies,
    mailboxes,
    pending: [...queues.values()].some((q) => q.live && q.entry.recipients.some((r) => r.status === 'pending')),
    steps: ordered.map((x) => x.s),
  };
}

/** The Message-ID without <> (how the page compares ids). */
export const bareId = bare;
