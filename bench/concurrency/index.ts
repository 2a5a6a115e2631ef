/**
 * Messages under concurrent load (issue 5): `clients` SMTP sessions, half
 * on each domain's submission port (587, AUTH PLAIN as one of the domain's
 * users), each sending `perClient` messages one after another, every
 * message to one user picked at random among both domains' users (so about
 * half are relayed by the queue to the other domain), with a unique
 * X-Load-Id and a random size. Meanwhile POP3 and IMAP readers drain or
 * watch some of the mailboxes (readers.ts). When both queues are empty,
 * the readers make a last pass and every mailbox is read once more, from
 * its mbox file and through IMAP. Counted: sent, acknowledged (250 after
 * DATA), refused (with the server's reasons), delivered (the id found in
 * the addressed mailbox, or taken out of it by a reader), lost
 * (acknowledged, never delivered), duplicated (an id more than once in the
 * same mailbox), misdelivered, corrupted (body checksum). Peak RSS of each
 * service process is sampled throughout. Runs on a no-Docker copy of the
 * lab (bench/lab-copy.ts) on shifted loopback ports in its own /tmp dir;
 * everything is bounded by `maxMs`.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadLabConfig, type DomainConfig, type LabConfig } from '../../services/core/src/config';
import { repoRoot } from '../../scripts/lab-docker';
import { labTarget, type LabTarget } from '../../scripts/lab-target';
import { MAIL_API } from '../../services/core/src/admin/api';
import { readAdminToken } from '../../services/core/src/admin/token';
import { benchNodeFlags, labPorts, portFree, spawnLab, writeLabCopy, type SpawnedLab } from '../lab-copy';
import { PeakSampler, procMemory, sampleProcs } from '../memory';
import { SmtpClient, SmtpReplyError } from '../smtp-client';
import { waitAllAnswer } from '../startup';
import { loadMessage, recognise, splitMbox, type FoundMessage } from './message';
import { fetchHeaders, imapClient, startImapReader, startPop3Reader, type Reader } from './readers';

export interface ConcurrencyOptions {
  clients?: number;
  perClient?: number;
  minSize?: number;
  maxSize?: number;
  /** Hard limit for the whole run after start-up (send, drain, last passes, final read), ms. */
  maxMs?: number;
  keepData?: boolean;
  log: (line: string) => void;
  /** The compiled tree (dist/). */
  distRoot: string;
}

export interface ServiceMemory {
  idleKiB: number;
  /** Highest of the 200 ms samples. */
  peakKiB: number;
  /** VmHWM at the end: the kernel's own high-water mark of RSS (catches peaks between samples). */
  hwmKiB: number;
  endKiB: number;
}

export interface ConcurrencyResults {
  date: string;
  host: { node: string; cpus: number; kernel: string };
  settings: { clients: number; perClient: number; minSize: number; maxSize: number; maxMs: number; nodeFlags: string[]; mallocEnv: string[] };
  /** Limits the lab copy ran with, and any raised by the bench (lab.yaml is never changed). */
  limits: { maxConnectionsPerClient: number; raisedFrom?: number };
  counts: {
    planned: number;
    sent: number;
    acknowledged: number;
    refused: number;
    /** The connection failed during the transaction: the outcome is unknown to the client. */
    noAnswer: number;
    /** Never attempted (a client gave up or the time ran out). */
    notSent: number;
    delivered: number;
    lost: number;
    duplicated: number;
    misdelivered: number;
    corrupted: number;
    /** Not acknowledged (refused or no answer) but found in a mailbox anyway. */
    deliveredUnacknowledged: number;
    /** Bounces/notices found in the mailboxes (none expected). */
    dsns: number;
  };
  deliveredBy: { pop3: number; imapExpunge: number; mailbox: number };
  refusedReasons: Record<string, number>;
  connectErrors: Record<string, number>;
  examples: { lost: string[]; duplicated: string[]; misdelivered: string[]; corrupted: string[] };
  timing: { sendMs: number; drainMs: number | null; acceptedPerSec: number; deliveredPerSec: number | null };
  /** Messages in each domain's queue (admin GET /queue, once a second): the most at once. */
  queuePeak: Record<string, number>;
  readerSummary: { kind: string; mailbox: string; sessions: number; seen: number; removed: number; unconfirmed: number; announced: number; errors: number; firstErrors: string[] }[];
  finalRead: { mailbox: string; mboxFile: number; imap: number | null; agree: boolean }[];
  memory: Record<string, ServiceMemory>;
  timedOut: boolean;
  ok: boolean;
  errors: string[];
  notes: string[];
}

const PASSWORD = 'rahasia123'; // every account of lab.yaml (its comments say so)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
/** Server replies grouped by reason: queue ids and numbers that differ per message are masked. */
const reasonOf = (e: unknown) =>
  e instanceof SmtpReplyError ? e.message.replace(/queued as \S+/g, 'queued as …').slice(0, 160) : ((e as Error).message ?? String(e)).replace(/\d{4,}/g, 'N').slice(0, 160);

/** Users who receive load (and the readers' mailboxes): every account but postmaster. */
const loadUsers = (d: DomainConfig) => d.accounts.map((a) => a.user).filter((u) => u !== 'postmaster');

/** The lab copy in the bench's port block (bench/lab-copy.ts), refusing when something holds one of its ports. */
async function pickOffset(source: string, dir: string, limits: Record<string, number>): Promise<ReturnType<typeof writeLabCopy>> {
  const copy = writeLabCopy(source, dir, 'bench', limits);
  const busy = (await Promise.all(labPorts(copy.config).map(async (p) => ((await portFree(p)) ? null : p)))).filter((p) => p !== null);
  if (busy.length) throw new Error(`the bench's ports ${busy.join(', ')} are in use on 127.0.0.1 (another bench still running?)`);
  return copy;
}

async function queueLength(target: LabTarget, d: DomainConfig): Promise<number> {
  return (await target.mail(d.name).call(MAIL_API.queueSummary)).size;
}

export async function runConcurrencyBench(o: ConcurrencyOptions): Promise<ConcurrencyResults> {
  const clients = o.clients ?? 50;
  const perClient = o.perClient ?? 200;
  const minSize = o.minSize ?? 500;
  const maxSize = o.maxSize ?? 20_480;
  const maxMs = o.maxMs ?? 240_000;
  const log = o.log;
  const source = join(repoRoot(), 'lab-scenarios', 'lab.yaml');
  const r: ConcurrencyResults = {
    date: new Date().toISOString(),
    host: { node: process.versions.node, cpus: cpus().length, kernel: release() },
    // The services inherit the bench's environment (lab-copy.ts sets MALLOC_ARENA_MAX=2 over it): glibc malloc tuning in it changes their RSS.
    settings: { clients, perClient, minSize, maxSize, maxMs, nodeFlags: benchNodeFlags(), mallocEnv: Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') && k !== 'MALLOC_ARENA_MAX').map(([k, v]) => `${k}=${v}`) },
    limits: { maxConnectionsPerClient: 0 },
    counts: { planned: clients * perClient, sent: 0, acknowledged: 0, refused: 0, noAnswer: 0, notSent: 0, delivered: 0, lost: 0, duplicated: 0, misdelivered: 0, corrupted: 0, deliveredUnacknowledged: 0, dsns: 0 },
    deliveredBy: { pop3: 0, imapExpunge: 0, mailbox: 0 },
    refusedReasons: {},
    connectErrors: {},
    examples: { lost: [], duplicated: [], misdelivered: [], corrupted: [] },
    timing: { sendMs: 0, drainMs: null, acceptedPerSec: 0, deliveredPerSec: null },
    queuePeak: {},
    readerSummary: [],
    finalRead: [],
    memory: {},
    timedOut: false,
    ok: false,
    errors: [],
    notes: [],
  };

  // SMTP connections from 127.0.0.1 per domain: its half of the clients, plus the other domain's queue relaying (8 at once) and a margin.
  const original = loadLabConfig(source).config.limits.maxConnectionsPerClient;
  const needed = Math.ceil(clients / 2) + 8 + 4;
  const limits: Record<string, number> = {};
  if (original < needed) {
    limits.maxConnectionsPerClient = needed;
    r.limits.raisedFrom = original;
    r.notes.push(`bench setting: limits.maxConnectionsPerClient raised from ${original} to ${needed} in the lab copy (all clients share 127.0.0.1); lab.yaml is unchanged`);
  }
  r.limits.maxConnectionsPerClient = limits.maxConnectionsPerClient ?? original;

  const dir = join('/tmp', `mail-lab-concurrency-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  let lab: SpawnedLab | null = null;
  const readers: Reader[] = [];
  try {
    const copy = await pickOffset(source, dir, limits);
    const config: LabConfig = copy.config;
    log(`concurrency: lab copy in ${dir} (the bench's port block, DNS on ${copy.config.dns.hostPort})${r.settings.nodeFlags.length ? `, node flags ${r.settings.nodeFlags.join(' ')}` : ''}`);
    lab = spawnLab(copy, o.distRoot);
    const spawned = lab;
    await waitAllAnswer(config, spawned.spawnedAt);
    log(`concurrency: PIDs ${Object.entries(spawned.pids).map(([n, p]) => `${n} ${p}`).join(', ')}`);
    const target = labTarget(config, 'local', { token: (await readAdminToken(spawned.tokenFile)) ?? undefined });
    await sleep(1000);
    const idle = sampleProcs(spawned.pids);
    const sampler = new PeakSampler(() => sampleProcs(spawned.pids), 200);
    sampler.start(maxMs + 60_000);
    const t0 = performance.now();
    const hardDeadline = Date.now() + maxMs;
    const remaining = () => hardDeadline - Date.now();

    const domains = config.domains;
    const mailboxes = domains.flatMap((d) => loadUsers(d).map((u) => `${u}@${d.name}`));
    const domainOf = (mailbox: string) => domains.find((d) => mailbox.endsWith('@' + d.name))!;

    // Readers: per domain, siswa1 by POP3 (RETR+DELE+QUIT), siswa2 by IMAP IDLE (watch), siswa3 by IMAP with EXPUNGE; the rest untouched until the end.
    for (const d of domains) {
      const at = (u: string) => ({ port: 0, user: `${u}@${d.name}`, password: PASSWORD, deadline: hardDeadline });
      readers.push(startPop3Reader({ ...at('siswa1'), port: d.ports.pop3 }));
      readers.push(startImapReader({ ...at('siswa2'), port: d.ports.imap, expunge: false }));
      readers.push(startImapReader({ ...at('siswa3'), port: d.ports.imap, expunge: true }));
    }

    // Queue lengths, once a second while sending.
    const queueLengths = async () => {
      const lengths = await Promise.all(domains.map((d) => queueLength(target, d).catch(() => -1)));
      domains.forEach((d, i) => (r.queuePeak[d.name] = Math.max(r.queuePeak[d.name] ?? 0, lengths[i])));
      return lengths;
    };
    let sendingDone = false; // true: the queue watch ends (the drain loop polls itself)
    const queueWatch = (async () => {
      while (!sendingDone && remaining() > 0) {
        await queueLengths();
        await sleep(1000);
      }
    })();

    // Senders.
    const expected = new Map<string, { mailbox: string; state: 'acked' | 'refused' | 'noanswer' }>();
    let lastAck = t0;
    const sender = async (w: number) => {
      const d = domains[w % domains.length];
      const users = loadUsers(d);
      const from = `${users[Math.floor(w / domains.length) % users.length]}@${d.name}`;
      let client: SmtpClient | null = null;
      let failures = 0;
      let i = 0;
      while (i < perClient && remaining() > 0) {
        if (!client) {
          try {
            client = await SmtpClient.connect(d.ports.submission, '127.0.0.1', 20_000);
            await client.ehlo(`load${w}.bench.invalid`);
            await client.authPlain(from, PASSWORD);
          } catch (e) {
            client?.close();
            client = null;
            bump(r.connectErrors, reasonOf(e));
            if (++failures > 10) break;
            await sleep(200 * failures);
            continue;
          }
        }
        const to = mailboxes[Math.floor(Math.random() * mailboxes.length)];
        const id = `c${w}-m${i}-${Date.now().toString(36)}`;
        const size = minSize + Math.floor(Math.random() * (maxSize - minSize + 1));
        const m = loadMessage({ id, from, to, size });
        i++;
        r.counts.sent++;
        try {
          const reply = await client.send(from, [to], m.wire);
          expected.set(id, { mailbox: to, state: 'acked' });
          r.counts.acknowledged++;
          lastAck = Math.max(lastAck, reply.at);
        } catch (e) {
          if (e instanceof SmtpReplyError) {
            expected.set(id, { mailbox: to, state: 'refused' });
            r.counts.refused++;
            bump(r.refusedReasons, reasonOf(e));
            const ok = await client.command('RSET', 250).then(() => true, () => false);
            if (ok) continue;
          } else {
            expected.set(id, { mailbox: to, state: 'noanswer' });
            r.counts.noAnswer++;
            bump(r.refusedReasons, `no answer: ${reasonOf(e)}`);
          }
          client.close();
          client = null;
          if (++failures > 10) break;
        }
      }
      await client?.quit();
    };
    log(`concurrency: ${clients} clients × ${perClient} messages (${minSize}–${maxSize} octets) on the submission ports of ${domains.map((d) => d.name).join(' and ')}, readers on siswa1 (POP3), siswa2 (IMAP IDLE), siswa3 (IMAP EXPUNGE)`);
    await Promise.all(Array.from({ length: clients }, (_, w) => sender(w)));
    sendingDone = true;
    r.counts.notSent = r.counts.planned - r.counts.sent;
    r.timing.sendMs = lastAck - t0;
    r.timing.acceptedPerSec = r.counts.acknowledged / (r.timing.sendMs / 1000);
    log(`concurrency: sent ${r.counts.sent}, acknowledged ${r.counts.acknowledged} in ${(r.timing.sendMs / 1000).toFixed(1)} s; waiting for both queues to empty`);

    // Drain: both queues empty twice in a row, within the hard limit (polled once a second: GET /queue lists every entry, which costs the server).
    let emptyChecks = 0;
    while (remaining() > 0) {
      const lengths = await queueLengths();
      emptyChecks = lengths.every((n) => n === 0) ? emptyChecks + 1 : 0;
      if (emptyChecks >= 2) {
        r.timing.drainMs = performance.now() - t0;
        break;
      }
      await sleep(emptyChecks ? 250 : 1000);
    }
    sendingDone = true;
    await queueWatch;
    if (r.timing.drainMs === null) {
      r.timedOut = true;
      r.errors.push(`the queues were not empty within ${maxMs / 1000} s (counts below are what had arrived by then)`);
    }

    // Last passes, then the final read of every mailbox: the file, and the same mailbox through IMAP.
    log(r.timedOut ? 'concurrency: out of time; the readers stop' : 'concurrency: queues empty; the readers make their last pass');
    await Promise.race([Promise.all(readers.map((x) => x.stop())), sleep(Math.max(5000, remaining() + 30_000))]);
    const found = new Map<string, { id: string; via: 'pop3' | 'imap-expunge' | 'mailbox'; m: FoundMessage }[]>(mailboxes.map((mb) => [mb, []]));
    const add = (mb: string, via: 'pop3' | 'imap-expunge' | 'mailbox', m: FoundMessage) => {
      if (m.dsn) r.counts.dsns++;
      if (!m.id) return;
      if (!found.has(mb)) found.set(mb, []);
      found.get(mb)!.push({ id: m.id, via, m });
    };
    for (const x of readers) for (const m of x.stats.removed) add(x.stats.mailbox, x.stats.kind === 'pop3' ? 'pop3' : 'imap-expunge', m);
    const allBoxes = domains.flatMap((d) => d.accounts.map((a) => `${a.user}@${d.name}`));
    for (const mb of allBoxes) {
      const [user, domain] = mb.split('@');
      let text = '';
      try {
        text = readFileSync(join(dir, domain, 'mail', user), 'latin1');
      } catch {
        // no mailbox file: nothing was delivered there
      }
      const inFile = splitMbox(text).map((t) => recognise(t));
      for (const m of inFile) add(mb, 'mailbox', m);
      let imap: number | null = null;
      const client = imapClient({ port: domainOf(mb).ports.imap, user: mb, password: PASSWORD, deadline: 0 });
      try {
        await client.connect();
        const box = await client.mailboxOpen('INBOX', { readOnly: true });
        imap = box.exists > 0 ? (await fetchHeaders(client, '1:*')).length : 0;
      } catch (e) {
        r.errors.push(`final IMAP read of ${mb}: ${(e as Error).message}`);
      } finally {
        await client.logout().catch(() => client.close());
      }
      r.finalRead.push({ mailbox: mb, mboxFile: inFile.length, imap, agree: imap === inFile.length });
      if (imap !== null && imap !== inFile.length && !r.timedOut) r.errors.push(`${mb}: the mbox file holds ${inFile.length} messages, IMAP shows ${imap}`);
    }

    // Tally.
    const deliveredIds = new Set<string>();
    for (const [mb, list] of found) {
      const perId = new Map<string, number>();
      for (const f of list) {
        perId.set(f.id, (perId.get(f.id) ?? 0) + 1);
        const want = expected.get(f.id);
        if (!want) continue;
        if (want.mailbox !== mb) {
          r.counts.misdelivered++;
          if (r.examples.misdelivered.length < 10) r.examples.misdelivered.push(`${f.id} for ${want.mailbox} found in ${mb}`);
          continue;
        }
        if (f.m.intact === false) {
          r.counts.corrupted++;
          if (r.examples.corrupted.length < 10) r.examples.corrupted.push(`${f.id} in ${mb} (${f.via})`);
        }
        if (perId.get(f.id) === 1) {
          if (want.state === 'acked') deliveredIds.add(f.id);
          else r.counts.deliveredUnacknowledged++;
          r.deliveredBy[f.via === 'pop3' ? 'pop3' : f.via === 'imap-expunge' ? 'imapExpunge' : 'mailbox']++;
        }
      }
      for (const [id, n] of perId) {
        if (n > 1 && expected.get(id)?.mailbox === mb) {
          r.counts.duplicated += n - 1;
          if (r.examples.duplicated.length < 10) r.examples.duplicated.push(`${id} ${n}× in ${mb} (${list.filter((f) => f.id === id).map((f) => f.via).join(', ')})`);
        }
      }
    }
    r.counts.delivered = deliveredIds.size;
    const unconfirmed = new Set(readers.flatMap((x) => x.stats.unconfirmed.map((m) => m.id)));
    for (const [id, want] of expected) {
      if (want.state !== 'acked' || deliveredIds.has(id)) continue;
      r.counts.lost++;
      if (r.examples.lost.length < 10) r.examples.lost.push(`${id} for ${want.mailbox}${unconfirmed.has(id) ? ' (a reader saw it in a session that failed before the server confirmed the removal)' : ''}`);
    }
    if (r.timing.drainMs !== null) r.timing.deliveredPerSec = r.counts.delivered / (r.timing.drainMs / 1000);

    for (const x of readers) {
      const s = x.stats;
      r.readerSummary.push({ kind: s.kind, mailbox: s.mailbox, sessions: s.sessions, seen: s.seen, removed: s.removed.length, unconfirmed: s.unconfirmed.length, announced: s.announced, errors: s.errors, firstErrors: s.firstErrors });
    }

    sampler.stop();
    await sampler.tick();
    for (const [name, pid] of Object.entries(spawned.pids)) {
      const end = procMemory(pid);
      r.memory[name] = { idleKiB: idle.get(name) ?? NaN, peakKiB: Math.max(sampler.peakKiB.get(name) ?? NaN, end?.rssKiB ?? 0), hwmKiB: end?.hwmKiB ?? NaN, endKiB: end?.rssKiB ?? NaN };
    }
    if (!r.readerSummary.every((s) => s.sessions > 0)) r.errors.push('a reader never completed a session');
  } catch (e) {
    r.errors.push((e as Error).message);
  } finally {
    await Promise.race([Promise.all(readers.map((x) => x.stop())), sleep(5000)]);
    await lab?.stop();
    if (o.keepData) r.notes.push(`data and service logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  const c = r.counts;
  r.ok = !r.timedOut && r.errors.length === 0 && c.lost === 0 && c.duplicated === 0 && c.misdelivered === 0 && c.corrupted === 0 && c.acknowledged > 0;
  return r;
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - [...s].length));
const padL = (s: string, n: number) => ' '.repeat(Math.max(0, n - [...s].length)) + s;
const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MB` : 'n/a');
const mark = (ok: boolean) => (ok ? '✓' : '✗');

function table(rows: string[][], indent = '   '): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => [...(row[i] ?? '')].length)) + 2);
  return rows.map((row) => indent + row.map((cell, i) => (i > 0 && /^[\d.,]+( MB)?$/.test(cell) ? padL(cell, widths[i] - 2) + '  ' : pad(cell, widths[i]))).join('').trimEnd());
}

export function formatConcurrencyReport(r: ConcurrencyResults): string {
  const s = r.settings;
  const c = r.counts;
  const out: string[] = [];
  out.push(`Messages under concurrent load: ${s.clients} clients × ${s.perClient} messages, submission (587, AUTH) on both domains, ${s.minSize}–${s.maxSize} octets, each to one random user of either domain`);
  out.push(`   readers while sending: POP3 RETR+DELE+QUIT on siswa1, IMAP IDLE on siswa2, IMAP FETCH+EXPUNGE on siswa3 (each domain); Node ${r.host.node}, ${r.host.cpus} CPUs${s.nodeFlags.length ? `, service node flags: ${s.nodeFlags.join(' ')}` : ''}${s.mallocEnv.length ? `, ${s.mallocEnv.join(' ')}` : ''}`);
  const by = r.deliveredBy;
  out.push(
    ...table([
      ['', 'messages', ''],
      ['sent', String(c.sent), c.notSent ? `(${c.notSent} of ${c.planned} never sent)` : `(of ${c.planned} planned)`],
      ['acknowledged', String(c.acknowledged), '250 after DATA'],
      ['refused', String(c.refused), Object.keys(r.refusedReasons).length ? '(reasons below)' : ''],
      ['no answer', String(c.noAnswer), 'connection failed mid-transaction: outcome unknown to the client'],
      ['delivered', String(c.delivered), `in the addressed mailbox: ${by.pop3} by POP3, ${by.imapExpunge} by IMAP EXPUNGE, ${by.mailbox} still in the mbox`],
      ['lost', String(c.lost), r.timedOut ? `acknowledged, not delivered when the time ran out (the queues were still delivering) ${mark(c.lost === 0)}` : `acknowledged, never delivered; must be 0 ${mark(c.lost === 0)}`],
      ['duplicated', String(c.duplicated), `extra copies in one mailbox; must be 0 ${mark(c.duplicated === 0)}`],
      ['misdelivered', String(c.misdelivered), `in another user's mailbox ${mark(c.misdelivered === 0)}`],
      ['corrupted', String(c.corrupted), `body checksum wrong ${mark(c.corrupted === 0)}`],
      ...(c.deliveredUnacknowledged ? [['delivered unacked', String(c.deliveredUnacknowledged), 'refused/no answer, yet delivered']] : []),
      ...(c.dsns ? [['bounces/notices', String(c.dsns), 'DSNs in the mailboxes (none expected)']] : []),
    ]),
  );
  const t = r.timing;
  out.push(
    `   accepted ${t.acceptedPerSec.toFixed(1)} msg/s (first send to last 250: ${(t.sendMs / 1000).toFixed(2)} s); ` +
      (t.drainMs !== null && t.deliveredPerSec !== null ? `delivered ${t.deliveredPerSec.toFixed(1)} msg/s (both queues empty after ${(t.drainMs / 1000).toFixed(2)} s)` : 'queues NOT drained'),
  );
  out.push(`   most messages queued at once: ${Object.entries(r.queuePeak).map(([d, n]) => `${d} ${n}`).join(', ')} (limits.maxQueueSize answers 452 beyond its value)`);
  for (const [reason, n] of Object.entries(r.refusedReasons)) out.push(`   refused ${n}×: ${reason}`);
  for (const [reason, n] of Object.entries(r.connectErrors)) out.push(`   connection/login failed ${n}×: ${reason}`);
  for (const [k, list] of Object.entries(r.examples)) for (const e of list) out.push(`   ${k}: ${e}`);
  out.push('');
  out.push('   readers');
  out.push(
    ...table(
      [
        ['reader', 'mailbox', 'sessions', 'seen', 'removed', 'errors', ''],
        ...r.readerSummary.map((x) => [x.kind, x.mailbox, String(x.sessions), String(x.seen), x.kind === 'imap-idle' ? '-' : String(x.removed), String(x.errors), [x.kind === 'imap-idle' ? `${x.announced} EXISTS announced` : '', x.unconfirmed ? `${x.unconfirmed} unconfirmed` : '', x.firstErrors[0] ?? ''].filter(Boolean).join('; ')]),
      ],
      '     ',
    ),
  );
  const disagree = r.finalRead.filter((f) => !f.agree);
  out.push(
    `   final read of ${r.finalRead.length} mailboxes: mbox file and IMAP agree on the message count ${disagree.length ? `✗ (${disagree.map((f) => `${f.mailbox}: file ${f.mboxFile}, IMAP ${f.imap ?? 'n/a'}`).join('; ')})${r.timedOut ? ', read while the queues were still delivering' : ''}` : '✓'}`,
  );
  out.push('');
  out.push('   memory per service (VmRSS from /proc, sampled every 200 ms; VmHWM = the kernel\'s high-water mark)   aim < 100 MB each');
  out.push(
    ...table(
      [['service', 'idle', 'peak', 'VmHWM', 'end', ''], ...Object.entries(r.memory).map(([n, m]) => [n, mib(m.idleKiB), mib(m.peakKiB), mib(m.hwmKiB), mib(m.endKiB), mark(Math.max(m.peakKiB, m.hwmKiB) < 100 * 1024)])],
      '     ',
    ),
  );
  if (r.limits.raisedFrom !== undefined || r.errors.length || r.notes.length) out.push('');
  for (const e of r.errors) out.push(`error: ${e}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push(`result: ${r.ok ? 'PASS' : 'FAIL'}${r.timedOut ? ' (timed out)' : ''}`);
  return out.join('\n');
}
