/**
 * A lab's records as the check reads them (gather.ts fetches them from the
 * admin APIs): every session with its commands parsed (verb, argument, reply
 * code, when), whether it was typed by hand, whether it came from one of the
 * lab's own mail servers; the queue's messages; the POP3/IMAP reads; the DNS
 * questions a person asked (the lab's own lookups left out); and the
 * self-check runs, whose records are not a student's work.
 *
 * "Typed by hand": a person types one command, reads the reply, types the
 * next; a program (swaks, a mail program, the scenario runner) sends them
 * within milliseconds. A session counts as typed when it has at least three
 * commands and the middle pause between them is at least
 * {@link TYPED_PAUSE_MS}.
 */
import type { ActivityItem, ActivityMark, ActivityMessage, ActivityRead, ActivitySession, DnsQuery } from '../admin/api';
import type { LabConfig } from '../config';

/** The middle pause between commands above which a session was typed by a person. */
export const TYPED_PAUSE_MS = 500;
/** A self-check without its end mark (the runner was stopped) is taken to have lasted this long. */
export const OPEN_SELF_CHECK_MS = 15 * 60_000;

/** What gather.ts brings back from one lab. */
export interface LabActivity {
  lab: number;
  config: LabConfig;
  items: ActivityItem[];
  dns: DnsQuery[];
  /** Sources that could not be read, in words (the check goes on without them). */
  problems: string[];
}

export interface Cmd {
  /** ms after the connection opened. */
  at: number;
  /** Upper case: `MAIL`, `RCPT`, `RETR`, `FETCH` (IMAP without tag and UID); `[DATA]` for an SMTP message. */
  verb: string;
  /** The rest of the line (IMAP: after the verb). */
  arg: string;
  line: string;
  reply: string;
  /** SMTP 2xx/3xx, POP3 +OK, IMAP OK. */
  ok: boolean;
}

export interface Session extends ActivitySession {
  start: number;
  cmds: Cmd[];
  /** `user@domain` of the login, if any. */
  login?: string;
  /** MAIL FROM addresses of the session (lower case). */
  mailFrom: string[];
  /** One of the lab's mail servers talking to another (port 25, HELO a lab mail host). */
  labServer: boolean;
  /** The middle pause between commands, ms. */
  pauseMs: number;
  typed: boolean;
}

export interface SelfCheck {
  scenario: string;
  run: string;
  start: number;
  end: number;
  passed?: boolean;
}

export interface LabRecords {
  lab: number;
  config: LabConfig;
  sessions: Session[];
  /** Every message of the queues (notices included), oldest first. */
  messages: ActivityMessage[];
  reads: ActivityRead[];
  /** Questions people asked the lab DNS (not the servers' own lookups, not the self-checks'). */
  dns: DnsQuery[];
  selfChecks: SelfCheck[];
  byQueueId: Map<string, ActivityMessage>;
  problems: string[];
}

export interface RecordOptions {
  typedPauseMs?: number;
}

const median = (xs: number[]) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

/** Parses one command line of a protocol. */
export function parseCmd(protocol: ActivitySession['protocol'], c: { at: number; line: string; reply?: string }): Cmd {
  const reply = c.reply ?? '';
  let verb: string;
  let arg: string;
  if (protocol === 'imap') {
    const m = /^\S+\s+(?:UID\s+)?(\S+)\s*(.*)$/i.exec(c.line);
    verb = (m?.[1] ?? '').toUpperCase();
    arg = m?.[2] ?? '';
  } else if (protocol === 'smtp' && /^<\d+ bytes of DATA>$/.test(c.line)) {
    verb = '[DATA]';
    arg = c.line.replace(/\D/g, '');
  } else {
    const m = /^\s*(\S+)\s*(.*)$/.exec(c.line);
    verb = (m?.[1] ?? '').toUpperCase();
    arg = m?.[2] ?? '';
  }
  const ok = protocol === 'smtp' ? /^[23]\d\d\b/.test(reply) : protocol === 'pop3' ? reply.startsWith('+OK') : /^\S+ OK\b/i.test(reply);
  return { at: c.at, verb, arg, line: c.line, reply, ok };
}

/** `FROM:<a@b>` / `TO:<a@b>` → `a@b` (lower case), or null. */
export function envelopeAddress(arg: string): string | null {
  const m = /^(?:FROM|TO):\s*<([^>]*)>/i.exec(arg);
  return m ? m[1].toLowerCase() : null;
}

function session(s: ActivitySession, config: LabConfig, typedPauseMs: number): Session {
  const cmds = s.commands.map((c) => parseCmd(s.protocol, c));
  const gaps = cmds.slice(1).map((c, i) => c.at - cmds[i].at);
  const pauseMs = median(gaps);
  const hosts = new Set(config.domains.map((d) => d.mailHost.toLowerCase()));
  const addresses = new Set(config.domains.map((d) => d.address));
  const mailFrom = cmds.filter((c) => c.verb === 'MAIL').map((c) => envelopeAddress(c.arg)).filter((a): a is string => !!a);
  return {
    ...s,
    start: Date.parse(s.time),
    cmds,
    login: s.user ? `${s.user.toLowerCase()}@${s.domain}` : undefined,
    mailFrom,
    labServer: s.protocol === 'smtp' && s.port === 25 && (hosts.has((s.helo ?? '').toLowerCase()) || addresses.has(s.peer)),
    pauseMs,
    typed: cmds.length >= 3 && pauseMs >= typedPauseMs,
  };
}

function selfChecks(marks: ActivityMark[]): SelfCheck[] {
  const runs = new Map<string, SelfCheck>();
  for (const m of marks) {
    const key = `${m.scenario}\0${m.run}`;
    const t = Date.parse(m.time);
    const r = runs.get(key) ?? { scenario: m.scenario, run: m.run, start: Infinity, end: -Infinity };
    if (m.phase === 'start') r.start = Math.min(r.start, t);
    else {
      r.end = Math.max(r.end, t);
      if (m.passed !== undefined) r.passed = r.passed === false ? false : m.passed;
    }
    runs.set(key, r);
  }
  return [...runs.values()]
    .map((r) => ({ ...r, start: Number.isFinite(r.start) ? r.start : r.end, end: Number.isFinite(r.end) ? r.end : r.start + OPEN_SELF_CHECK_MS }))
    .sort((a, b) => a.start - b.start);
}

/**
 * The lab's own DNS questions: reverse lookups (PTR, the Received header), SOA (the readiness
 * probe of `up`/`status`), anything from a mail server's address (Docker), and, without Docker
 * where every client is 127.0.0.1, an MX or A question about a destination right when the queue
 * made a delivery attempt there (within 15 s after it started).
 */
function labOwnQuery(q: DnsQuery, config: LabConfig, attempts: { t: number; names: Set<string> }[]): boolean {
  if (q.type === 'PTR' || q.type === 'SOA') return true;
  if (config.domains.some((d) => d.address === q.client)) return true;
  if (q.type !== 'MX' && q.type !== 'A' && q.type !== 'AAAA') return false;
  const t = Date.parse(q.time);
  const name = q.name.toLowerCase().replace(/\.$/, '');
  return attempts.some((a) => t >= a.t - 1000 && t <= a.t + 15_000 && a.names.has(name));
}

export function buildRecords(activity: LabActivity, options: RecordOptions = {}): LabRecords {
  const { config } = activity;
  const typedPauseMs = options.typedPauseMs ?? TYPED_PAUSE_MS;
  const checks = selfChecks(activity.items.filter((i): i is ActivityMark => i.kind === 'mark'));
  const inSelfCheck = (t: number) => checks.some((c) => t >= c.start && t <= c.end);
  const byTime = <T extends { time: string }>(xs: T[]) => xs.sort((a, b) => a.time.localeCompare(b.time));
  const messages = byTime(activity.items.filter((i): i is ActivityMessage => i.kind === 'message'));
  // The queue's delivery attempts: when, and which names it had to look up (the domain, its MX hosts).
  const attempts = messages.flatMap((m) => {
    const domains = m.recipients.filter((r) => !r.local).map((r) => r.address.split('@')[1] ?? '');
    return m.attempts.map((a) => ({ t: Date.parse(a.time), names: new Set([...domains, ...(a.mx ?? [])].map((n) => n.toLowerCase())) }));
  });
  return {
    lab: activity.lab,
    config,
    sessions: byTime(activity.items.filter((i): i is ActivitySession => i.kind === 'session'))
      .map((s) => session(s, config, typedPauseMs))
      .filter((s) => !inSelfCheck(s.start)),
    messages: messages.filter((m) => !inSelfCheck(Date.parse(m.time))),
    reads: byTime(activity.items.filter((i): i is ActivityRead => i.kind === 'retrieved')).filter((r) => !inSelfCheck(Date.parse(r.time))),
    dns: [...activity.dns].sort((a, b) => a.time.localeCompare(b.time)).filter((q) => !inSelfCheck(Date.parse(q.time)) && !labOwnQuery(q, config, attempts)),
    selfChecks: checks,
    byQueueId: new Map(messages.map((m) => [`${m.domain}\0${m.queueId}`, m])),
    problems: activity.problems,
  };
}

/** The queue's record of a message a session handed over. */
export const messageOf = (r: LabRecords, domain: string, queueId: string) => r.byQueueId.get(`${domain}\0${queueId}`);
