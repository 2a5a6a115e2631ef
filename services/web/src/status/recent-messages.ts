/**
 * The lab's recent messages as the web server saw them go by: every queue
 * and trace event of every lab followed (UpstreamHub.tap, so no follower is
 * kept alive for it), kept per lab in a bounded memory. The Message path
 * page asks it for the newest message of a lab (`/lab/N/path/latest`), the
 * list of recent ones, and the live events of one message: a queue attempt's
 * DNS questions with their lookup times (the trace keeps the answers, not
 * the times) and when delay and return notices went out (and as which
 * messages).
 */
import type { LabEvent } from '../../../core/src/admin/api';
import type { UpstreamHub } from '../live/upstream';

export interface RecentMessage {
  lab: number;
  /** The Message-ID (with <>) when it has one, else the first queue id: what the path page is asked for. */
  key: string;
  messageId?: string;
  subject?: string;
  from: string;
  recipients: string[];
  /** Its copies in the lab's queues (the sender's, then each relay's). */
  copies: { domain: string; id: string }[];
  /** When it was first queued. */
  time: string;
  /** A delivery status notification the lab made (delay or failure), not a user's message. */
  notice?: 'delay' | 'failure';
  /** The notices made about it: their keys (a notice is a message of its own). */
  notices: { kind: 'delay' | 'failure'; key: string }[];
}

interface LabMemory {
  messages: RecentMessage[];
  byId: Map<string, RecentMessage>;
  events: LabEvent[];
}

export interface RecentMessagesOptions {
  /** Messages kept per lab. @default 200 */
  messages?: number;
  /** Queue and trace events kept per lab (their small fields only). @default 1500 */
  events?: number;
}

/** The fields of an event kept (the rest, e.g. a transcript, is not). */
const KEPT = ['id', 'messageId', 'queueId', 'subject', 'from', 'recipients', 'recipient', 'notice', 'domain', 'lookups', 'blocked', 'local', 'user', 'protocol'];

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const bare = (id: string) => id.trim().replace(/^<|>$/g, '');
/** Within this of each other, a notice and the event of the message it is about belong together. */
const NOTICE_WINDOW_MS = 3000;

export class RecentMessages {
  private readonly labs = new Map<number, LabMemory>();
  private readonly untap: () => void;

  constructor(upstream: UpstreamHub, private readonly o: RecentMessagesOptions = {}) {
    this.untap = upstream.tap((lab, e) => this.add(lab, e));
  }

  close(): void {
    this.untap();
    this.labs.clear();
  }

  private memory(lab: number): LabMemory {
    let m = this.labs.get(lab);
    if (!m) {
      m = { messages: [], byId: new Map(), events: [] };
      this.labs.set(lab, m);
    }
    return m;
  }

  /** An event of lab `lab` (also called by tests). */
  add(lab: number, e: LabEvent): void {
    if (!e.type.startsWith('queue.') && !e.type.startsWith('trace.')) return;
    if (e.type === 'queue.flushed' || e.type === 'queue.profile') return;
    const m = this.memory(lab);
    // Only what the path page reads (a transcript stays behind the trace API): a class of busy labs stays small.
    const data: Record<string, unknown> = {};
    for (const k of KEPT) if (e.data[k] !== undefined) data[k] = e.data[k];
    e = { ...e, data };
    m.events.push(e);
    if (m.events.length > (this.o.events ?? 1500)) m.events.shift();
    if (e.type === 'queue.queued') this.queued(lab, m, e);
    else if (e.type === 'queue.delay-notice' || e.type === 'queue.returned' || e.type === 'queue.bounced') this.linkNotice(m, e);
  }

  private queued(lab: number, m: LabMemory, e: LabEvent): void {
    const id = str(e.data.id);
    if (!id) return;
    const messageId = str(e.data.messageId);
    const known = messageId ? m.byId.get(bare(messageId)) : undefined;
    if (known) {
      // A relayed copy: the same message, one more queue.
      if (!known.copies.some((c) => c.id === id)) known.copies.push({ domain: e.source, id });
      m.byId.set(id, known);
      return;
    }
    const notice = e.data.notice === 'delay' || e.data.notice === 'failure' ? e.data.notice : undefined;
    const msg: RecentMessage = {
      lab,
      key: messageId ?? id,
      messageId,
      subject: str(e.data.subject),
      from: str(e.data.from) ?? '',
      recipients: Array.isArray(e.data.recipients) ? e.data.recipients.filter((r): r is string => typeof r === 'string') : [],
      copies: [{ domain: e.source, id }],
      time: e.time,
      notice,
      notices: [],
    };
    m.messages.push(msg);
    m.byId.set(id, msg);
    if (messageId) m.byId.set(bare(messageId), msg);
    while (m.messages.length > (this.o.messages ?? 200)) {
      const old = m.messages.shift()!;
      for (const c of old.copies) if (m.byId.get(c.id) === old) m.byId.delete(c.id);
      if (old.messageId && m.byId.get(bare(old.messageId)) === old) m.byId.delete(bare(old.messageId));
    }
    if (notice) this.linkNotice(m, e);
  }

  /**
   * A notice is queued just before (delay) or just after (return, bounce) the event of the message
   * it is about, on the same server: whichever comes second links the two.
   */
  private linkNotice(m: LabMemory, e: LabEvent): void {
    const t = Date.parse(e.time);
    const near = (x: LabEvent) => x !== e && x.source === e.source && Math.abs(Date.parse(x.time) - t) <= NOTICE_WINDOW_MS;
    const isNotice = e.type === 'queue.queued';
    for (let i = m.events.length - 1; i >= 0; i--) {
      const x = m.events[i];
      if (Date.parse(x.time) < t - NOTICE_WINDOW_MS) break;
      if (!near(x)) continue;
      const noticeEvent = isNotice ? e : x.type === 'queue.queued' && x.data.notice ? x : undefined;
      const aboutEvent = isNotice ? (['queue.delay-notice', 'queue.returned', 'queue.bounced'].includes(x.type) ? x : undefined) : e;
      if (!noticeEvent || !aboutEvent) continue;
      const kind = noticeEvent.data.notice === 'delay' ? 'delay' : 'failure';
      if ((kind === 'delay') !== (aboutEvent.type === 'queue.delay-notice')) continue;
      const about = m.byId.get(str(aboutEvent.data.id) ?? '');
      const notice = m.byId.get(str(noticeEvent.data.id) ?? '');
      if (about && notice && about !== notice && !about.notices.some((n) => n.key === notice.key)) about.notices.push({ kind, key: notice.key });
      return;
    }
  }

  /** The newest message of the lab (a notice too: it is mail going through the lab). */
  latest(lab: number): RecentMessage | undefined {
    const m = this.labs.get(lab);
    return m?.messages[m.messages.length - 1];
  }

  /** The lab's recent messages, newest first. */
  list(lab: number, limit = 20): RecentMessage[] {
    return [...(this.labs.get(lab)?.messages ?? [])].reverse().slice(0, limit);
  }

  /** A message by its Message-ID (with or without <>) or one of its queue ids. */
  find(lab: number, id: string): RecentMessage | undefined {
    return this.labs.get(lab)?.byId.get(bare(id));
  }

  /** The remembered events of a message (by its Message-ID and queue ids), oldest first. */
  eventsOf(lab: number, id: string, queueIds: string[] = []): LabEvent[] {
    const m = this.labs.get(lab);
    if (!m) return [];
    const msg = m.byId.get(bare(id));
    const ids = new Set([bare(id), ...queueIds, ...(msg?.copies.map((c) => c.id) ?? [])]);
    const wanted = msg?.messageId ? bare(msg.messageId) : bare(id);
    return m.events.filter((e) => {
      const qid = str(e.data.id) ?? str(e.data.queueId);
      const mid = str(e.data.messageId);
      return (qid !== undefined && ids.has(qid)) || (mid !== undefined && bare(mid) === wanted);
    });
  }
}
