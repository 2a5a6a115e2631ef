/**
 * The admin API contract of the lab: every route of the mail domains'
 * admin API (container port 8080, host 10080/20080) and of the lab DNS's
 * (container 8053, host 10054), with the schema of its input and the type
 * of its answer. The servers register handlers for these route objects
 * (router.ts), the one client calls them (client.ts); docs/architecture.md
 * lists them with the event catalogue.
 *
 * These are the API's own types, apart from the spool's file format
 * (mail-domain/src/queue/types.ts): the queue maps its entries to them.
 * Every route but `GET /health` needs the lab's bearer token.
 */
import { z } from 'zod';
import { faultSpecSchema, type FaultSpec } from '../faults';
import type { ConfigProblem } from '../config';
import { route } from './route';

// ---------------------------------------------------------------------------
// shared shapes

export interface Health {
  ok: true;
  service: 'mail-domain' | 'dns';
  /** The mail domain (mail-domain only). */
  domain?: string;
  hostname?: string;
  /** docker: on the lab network; local: processes on loopback. */
  mode: 'docker' | 'local';
  uptimeMs: number;
}

/** A fault applied or cleared: did anything change, and what is in force now. */
export interface FaultChange {
  spec: FaultSpec;
  active: boolean;
  /** false: it already was so ("already …"). */
  changed: boolean;
  /** greylist: the delay in force. */
  delayMs?: number;
  /** reject: the reply in force. */
  code?: number;
  text?: string;
  /** How it was made, in words (isolate, slow-link), e.g. which iptables rules. */
  how?: string;
}

/** An active fault as a server lists it. */
export interface ActiveFault {
  kind: FaultSpec['kind'];
  /** What it applies to: a domain, an address, `a <-> b`, `lab DNS`. */
  target: string;
  /** In words, e.g. `delay 1m, 3 triplet(s) seen, 1 accepted`. */
  detail: string;
  since?: string;
  /** The spec that clears it. */
  spec: FaultSpec;
}

const empty = z.object({});
const domainParam = z.string().regex(/^[A-Za-z0-9.-]+$/, { error: 'a domain name' }).transform((s) => s.toLowerCase());
const queueId = z.string().regex(/^[A-Za-z0-9]{1,64}$/, { error: 'a queue id such as MWX8M5O2BB5926' });
const userParam = z.string().regex(/^[a-z0-9._+-]{1,64}$/, { error: 'a user name such as jpri' });
const clearSpec = z.union([faultSpecSchema, z.object({ kind: z.literal('all') })]);

// ---------------------------------------------------------------------------
// mail domain: queue

export type RecipientStatus = 'pending' | 'delivered' | 'bounced';

/** `mailq`-style view of a queued message. */
export interface QueueListing {
  id: string;
  size: number;
  arrival: string;
  ageMs: number;
  from: string;
  subject?: string;
  messageId?: string;
  recipients: { address: string; status: RecipientStatus; attempts: number; lastError?: string; nextAttempt?: string }[];
  attempts: number;
  lastError?: string;
  nextAttempt?: string;
  held: boolean;
  /** When the delay warning is due / was sent, and when the message will be returned. */
  warnAt: string;
  warned: boolean;
  returnAt: string;
}

/** The queue in three numbers (what the dashboard and `mail-lab class` show), without listing it. */
export interface QueueSummary {
  size: number;
  /** Held by the instructor (`hold`). */
  held: number;
  /** Tried at least once and still waiting. */
  deferred: number;
}

export interface AttemptView {
  time: string;
  recipients: string[];
  result: 'delivered' | 'deferred' | 'bounced';
  mx?: { exchange: string; priority: number }[];
  host?: string;
  tls?: string;
  detail: string;
  transcript?: string[];
}

/** One message with its whole history (also recently finished ones). */
export interface QueueEntryView {
  id: string;
  messageId?: string;
  subject?: string;
  from: string;
  arrival: string;
  size: number;
  recipients: { address: string; local: boolean; status: RecipientStatus; attempts: number; lastError?: string; nextAttempt?: string; doneAt?: string; detail?: string }[];
  warned: boolean;
  held: boolean;
  history: AttemptView[];
  notice?: 'delay' | 'failure';
  /** Still in the queue (false: finished, from the recent list). */
  queued: boolean;
}

export interface QueueProfileInfo {
  name: string;
  retryInterval: number;
  warnAfter: number;
  returnAfter: number;
  /** Every profile this server knows (from the lab definition it started with). */
  available: string[];
}

export interface SetProfileResult {
  previous: string;
  profile: QueueProfileInfo;
  changed: boolean;
  queued: number;
  rescheduled: number;
}

export const QUEUE_ACTIONS = ['hold', 'release', 'delete', 'expire'] as const;

// ---------------------------------------------------------------------------
// mail domain: trace, mailboxes

export type TraceItem =
  | { kind: 'smtp-in'; time: string; domain: string; queueId: string; messageId?: string; subject?: string; port: number; peer: string; helo?: string; user?: string; transcript: string[] }
  | { kind: 'queue'; time: string; domain: string; queueId: string; messageId?: string; entry: QueueEntryView; live?: boolean }
  | { kind: 'retrieved'; time: string; domain: string; messageId?: string; protocol: 'pop3' | 'imap'; user: string; folder: string; uid: number };

export interface MailboxFile {
  /** Path inside the server (container or host), as a student would `cat` it. */
  path: string;
  /** The file's text (latin1, exactly as stored). */
  text: string;
}

export interface MailboxMessage {
  uid: number;
  size: number;
  date: string;
  flags: string[];
  /** The header section, CRLF line ends. */
  headers: string;
}

// ---------------------------------------------------------------------------
// mail domain: activity (what `npx mail-lab check` reads: trace/sessions.ts and the journal)

/** One command of a session: when (ms after the connection opened), the line (secrets masked), the first line of the reply. */
export interface ActivityCommand {
  at: number;
  line: string;
  reply?: string;
}

/** An SMTP, POP3 or IMAP session as the server recorded it when it ended. */
export interface ActivitySession {
  kind: 'session';
  time: string;
  end: string;
  domain: string;
  protocol: 'smtp' | 'pop3' | 'imap';
  /** The service's standard port: 25, 587, 465 (SMTP), 110, 995 (POP3), 143, 993 (IMAP). */
  port: number;
  peer: string;
  /** The account logged in (local user name). */
  user?: string;
  helo?: string;
  commands: ActivityCommand[];
  /** Commands beyond the recorded ones, counted only. */
  omitted?: number;
  /** SMTP: the messages accepted in the session. */
  messages?: { queueId: string; messageId?: string; subject?: string; hops: number; attachments?: { mime: number; uuencode: number } }[];
}

/** A message of the queue (finished, from the journal, or still queued), without transcripts. */
export interface ActivityMessage {
  kind: 'message';
  /** Arrival. */
  time: string;
  domain: string;
  queueId: string;
  messageId?: string;
  subject?: string;
  /** Envelope sender; empty for the queue's own notices (delay warning, returned mail: Message-ID `<queue id.delay|failure.…>`). */
  from: string;
  warned: boolean;
  /** Still in the queue. */
  queued: boolean;
  recipients: { address: string; local: boolean; status: RecipientStatus; doneAt?: string; detail?: string; lastError?: string }[];
  /** Each delivery attempt: result, words, the MX hosts it used. */
  attempts: { time: string; result: 'delivered' | 'deferred' | 'bounced'; detail: string; mx?: string[] }[];
}

/** A message read over POP3 or IMAP (trace/reads.ts). */
export interface ActivityRead {
  kind: 'retrieved';
  time: string;
  domain: string;
  messageId?: string;
  protocol: 'pop3' | 'imap';
  user: string;
  folder: string;
  uid: number;
}

/** A self-check started or ended (the scenario runner says so): its records are not a student's work. */
export interface ActivityMark {
  kind: 'mark';
  time: string;
  domain: string;
  label: 'self-check';
  scenario: string;
  run: string;
  phase: 'start' | 'end';
  passed?: boolean;
}

export type ActivityItem = ActivitySession | ActivityMessage | ActivityRead | ActivityMark;

export const activityMarkInput = z.object({
  label: z.literal('self-check'),
  scenario: z.string().regex(/^[a-z0-9-]{1,64}$/, { error: 'a scenario name such as smtp-by-hand' }),
  run: z.string().regex(/^[A-Za-z0-9]{1,32}$/, { error: 'a run id of letters and digits' }),
  phase: z.enum(['start', 'end']),
  passed: z.boolean().optional(),
});

// ---------------------------------------------------------------------------
// mail domain: links (the link faults, made inside the container)

export interface SlowLinkInfo {
  rate?: string;
  delayMs?: number;
  loss?: number;
  since: string;
  /** How each part was made, e.g. `rate: tc tbf 64kbit on eth0 for 172.29.25.20 (this kernel has no netem)`. */
  methods: string[];
  /** What could not be made, said plainly. */
  missing: string[];
  /** The shaping is gone although asked for (a restarted network namespace). */
  stale?: boolean;
}

export interface PeerLink {
  /** The other lab domain. */
  domain: string;
  /** Cut by `break` (fault link). */
  cut: boolean;
  /** The other domain is isolated (no-Docker lab: this server treats it as unreachable). */
  peerIsolated: boolean;
  slow?: SlowLinkInfo;
}

export interface LinksView {
  domain: string;
  /** How links are controlled here: iptables/tc in the container, or in the server (no-Docker). */
  method: 'iptables' | 'in-server';
  peers: PeerLink[];
  /** This domain is cut off from the backbone (fault isolate). */
  isolated: { since: string; how: string } | null;
}

export interface LinkChange {
  domain: string;
  peer: string;
  changed: boolean;
  /** In words: how it was done. */
  how: string;
  slow?: SlowLinkInfo;
}

const linkReason = z.object({ peer: domainParam, reason: z.enum(['break', 'isolate']).default('break') });

// ---------------------------------------------------------------------------
// a new class and a changed lab (npx mail-lab reset, seed, reload: scripts/reset, seed, reload)

/** `POST /reset/mailboxes`: each account emptied (INBOX and special-use folders emptied, other folders deleted). */
export interface ResetMailboxesResult {
  users: { user: string; messages: number; folders: number }[];
  messages: number;
  folders: number;
}

/** `POST /reset/queue`: the messages dropped, and the queue profile put back to the lab definition's (null: it was in force). */
export interface ResetQueueResult {
  dropped: string[];
  profile: { previous: string; name: string } | null;
}

/** `POST /deliver`: the message queued for local delivery (a local submission, as Postfix's sendmail command makes one). */
export interface DeliverResult {
  id: string;
  /** The local mailboxes it goes to (aliases expanded). */
  recipients: string[];
}

/** A removed account that still has mail: refused unless `force`, and then its files stay where they are. */
export interface AccountWithMail {
  user: string;
  /** Messages in its INBOX and folders. */
  messages: number;
  /** Messages still waiting in the queue for it. */
  queued: number;
  /** Its files on this server (inside the container in a Docker lab). */
  paths: string[];
}

/** `POST /lab/reload`: one service's answer to a new lab definition. */
export interface ReloadAnswer {
  /** `garudayaksa.com`, `the lab DNS`. */
  service: string;
  /** Taken (false: a dry run, or refused for a reason below). */
  applied: boolean;
  /** The text is not a valid lab definition: every problem, with its place. */
  problems: ConfigProblem[];
  /** What changes, one line each (the same lines from every service). */
  changes: string[];
  /** Why it needs a restart instead (nothing is taken then). */
  needsRestart: string[];
  /** This domain's removed accounts that still have mail. */
  withMail: AccountWithMail[];
  /** Where it was kept for a restart of this service (reloaded-lab.json), or why it could not be. */
  kept?: { path?: string; error?: string };
  ms: number;
}

/** The definition's text (what the CLI read), the file it came from (for messages). */
export const reloadInput = z.object({
  text: z.string().min(1, { error: 'give the lab definition text' }).max(60_000, { error: 'a lab definition of at most 60000 characters' }),
  file: z.string().min(1).max(500).default('lab.yaml'),
  dryRun: z.boolean().default(false),
  force: z.boolean().default(false),
});

const deliverInput = z.object({
  from: z.string().max(320),
  to: z.array(z.string().min(3).max(320)).min(1).max(100),
  /** The message, base64 (CRLF line ends). */
  message: z.string().min(1).max(60_000),
});

// ---------------------------------------------------------------------------
// the routes of a mail domain

export const MAIL_API = {
  health: route<Health>()('GET', '/health', empty),
  queue: route<QueueListing[]>()('GET', '/queue', empty),
  queueSummary: route<QueueSummary>()('GET', '/queue/summary', empty),
  queueProfile: route<QueueProfileInfo>()('GET', '/queue/profile', empty),
  setQueueProfile: route<SetProfileResult>()('POST', '/queue/profile/:name', z.object({ name: z.string().min(1).max(64) })),
  flush: route<{ flushed: string[] }>()('POST', '/queue/flush', z.object({ id: queueId.optional() })),
  queueEntry: route<QueueEntryView>()('GET', '/queue/:id', z.object({ id: queueId })),
  queueAction: route<{ id: string; result: 'held' | 'released' | 'already' | 'deleted' | 'expired' }>()('POST', '/queue/:id/:action', z.object({ id: queueId, action: z.enum(QUEUE_ACTIONS) })),
  trace: route<TraceItem[]>()('GET', '/trace', z.object({ id: z.string().min(1, { error: 'give the Message-ID or a queue id' }).max(998) })),
  mailbox: route<MailboxFile>()('GET', '/mailbox/:user', z.object({ user: userParam })),
  mailboxMessages: route<MailboxMessage[]>()('GET', '/mailbox/:user/messages', z.object({ user: userParam })),
  faults: route<{ domain: string; faults: ActiveFault[] }>()('GET', '/faults', empty),
  applyFault: route<FaultChange>()('POST', '/faults/apply', faultSpecSchema),
  clearFault: route<FaultChange | { cleared: number }>()('POST', '/faults/clear', clearSpec),
  links: route<LinksView>()('GET', '/links', empty),
  cutLink: route<LinkChange>()('POST', '/links/:peer/cut', linkReason),
  restoreLink: route<LinkChange>()('POST', '/links/:peer/restore', linkReason),
  slowLink: route<LinkChange>()(
    'POST',
    '/links/:peer/slow',
    z.object({ peer: domainParam, rate: z.string().optional(), delayMs: z.number().int().positive().optional(), loss: z.number().positive().lt(100).optional() }),
  ),
  clearSlowLink: route<LinkChange>()('POST', '/links/:peer/slow/clear', z.object({ peer: domainParam })),
  /** Empties accounts for a new class (`npx mail-lab reset --mailboxes`): all of them, or `users`. */
  resetMailboxes: route<ResetMailboxesResult>()('POST', '/reset/mailboxes', z.object({ users: z.array(userParam).optional() })),
  /** Drops every queued message and puts the lab definition's queue profile back (`npx mail-lab reset --queues`). */
  resetQueue: route<ResetQueueResult>()('POST', '/reset/queue', empty),
  /** Local delivery of a message to this domain's accounts through the queue (`npx mail-lab seed`). */
  deliver: route<DeliverResult>()('POST', '/deliver', deliverInput),
  /** A changed lab definition, taken without a restart (`npx mail-lab reload`); `dryRun` only says what it would do. */
  reload: route<ReloadAnswer>()('POST', '/lab/reload', reloadInput),
  events: route<never>()('GET', '/events', z.object({ types: z.string().optional() }), { stream: true }),
  /**
   * The generated student accounts' passwords for the cards: those not handed out yet (then
   * forgotten by the server: `password: null` the next time), or new ones for all (`renew`).
   */
  studentPasswords: route<{ accounts: StudentPassword[] }>()('POST', '/students/passwords', z.object({ renew: z.boolean().default(false) })),
  /** The lab CA certificate (public part only), for a mail program to trust; 404 `not-found` when this server has no TLS. */
  ca: route<LabCaCertificate>()('GET', '/ca', empty),
  /** Sessions, queue messages, reads and self-check marks from `since` on (default: all the journal holds), oldest first. */
  activity: route<ActivityItem[]>()('GET', '/activity', z.object({ since: z.iso.datetime({ error: 'an ISO time such as 2026-11-26T08:00:00Z' }).optional() })),
  /** Records a self-check's start or end in the journal (the scenario runner). */
  markActivity: route<{ recorded: true }>()('POST', '/activity/mark', activityMarkInput),
} as const;

export interface LabCaCertificate {
  /** The CA certificate, PEM. */
  pem: string;
  /** SHA-256 fingerprint, `AB:CD:…` (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint256: string;
  subject: string;
  validTo: string;
}

export interface StudentPassword {
  address: string;
  name: string;
  /** In the clear, this once; null when it was handed out before. */
  password: string | null;
}

// ---------------------------------------------------------------------------
// the routes of the lab DNS

export interface DnsQuery {
  time: string;
  transport: 'udp' | 'tcp';
  client: string;
  clientPort: number;
  id: number;
  name: string;
  type: string;
  rcode: string;
  answers: string[];
  /** The log line written for this query. */
  line: string;
}

export interface DnsZoneView {
  zone: string;
  /** The records as served, in presentation form (`dadali.com. 300 IN MX 10 mail.dadali.com.`). */
  records: string[];
}

export const DNS_API = {
  health: route<Health>()('GET', '/health', empty),
  faults: route<{ faults: ActiveFault[]; domains: string[] }>()('GET', '/faults', empty),
  applyFault: route<FaultChange>()('POST', '/faults/apply', faultSpecSchema),
  clearFault: route<FaultChange | { cleared: number }>()('POST', '/faults/clear', clearSpec),
  queries: route<DnsQuery[]>()('GET', '/queries', z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) })),
  /** Every query the DNS still holds (the last 20 000, since it started) from `since` on, oldest first: for `npx mail-lab check`. */
  queryHistory: route<DnsQuery[]>()('GET', '/queries/history', z.object({ since: z.iso.datetime({ error: 'an ISO time such as 2026-11-26T08:00:00Z' }).optional() })),
  zones: route<DnsZoneView[]>()('GET', '/zones', empty),
  /** A changed lab definition: the zones served from now on (`npx mail-lab reload`). */
  reload: route<ReloadAnswer>()('POST', '/lab/reload', reloadInput),
  events: route<never>()('GET', '/events', z.object({ types: z.string().optional() }), { stream: true }),
} as const;

// ---------------------------------------------------------------------------
// the event catalogue (GET /events): each event's `type` and data

/** Every event has these; `id` is monotonic per server and resumes with Last-Event-ID. */
export interface LabEventBase {
  id: number;
  type: string;
  time: string;
  /** The mail domain, or `dns`. */
  source: string;
}

export type QueueEventType =
  | 'queue.queued'
  | 'queue.attempt'
  | 'queue.deferred'
  | 'queue.delivered'
  | 'queue.bounced'
  | 'queue.delay-notice'
  | 'queue.returned'
  | 'queue.held'
  | 'queue.released'
  | 'queue.deleted'
  | 'queue.expired'
  | 'queue.flushed'
  | 'queue.profile';
export type MailboxEventType = 'mailbox.append' | 'mailbox.expunge' | 'mailbox.rename' | 'mailbox.flags';
export type TraceEventType = 'trace.smtp-in' | 'trace.retrieved';
export type FaultEventType = 'fault.applied' | 'fault.cleared' | 'link.cut' | 'link.restored' | 'link.slowed' | 'link.unslowed';
export type DnsEventType = 'dns.query';
/** `lab.reloaded`: a new lab definition taken (changes); `lab.reset`: mailboxes or the queue emptied (what). */
export type LabChangeEventType = 'lab.reloaded' | 'lab.reset';
export type LabEventType = QueueEventType | MailboxEventType | TraceEventType | FaultEventType | DnsEventType | LabChangeEventType;

export interface LabEvent extends LabEventBase {
  type: LabEventType;
  data: Record<string, unknown>;
}
