/**
 * `npx mail-lab check --all` for a class (issue 13's number: 30 students over
 * a day's journal, aim < 2 s). On the bench's own no-Docker lab
 * (bench/lab-copy.ts: separate processes, as `up --local` starts them) with
 * the lab definition's accounts plus siswa06 … siswaNN (the password of the
 * others), so the shared lab has `students` students:
 *
 * 1. a day's work, made for real over the wire: every student, `rounds`
 *    times, types an SMTP session on port 25 to the other domain's student,
 *    sends two messages through submission (one to the other domain), reads
 *    the INBOX over IMAP (SELECT, SEARCH, FETCH) and over POP3 (LIST, RETR);
 *    `concurrency` students at a time;
 * 2. the check, `repeats` times, the way `check --all` runs it
 *    (scripts/check/run.ts): the read of the lab's records over the admin
 *    APIs, the records built, every task's rule for every student; each part
 *    timed, and the total.
 *
 * Bounded: `students` ≤ 60, `rounds` ≤ 20, the traffic stops after
 * `maxSeconds`; every socket has a deadline. Nothing leaves 127.0.0.1.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { parseDocument } from 'yaml';
import { gatherActivity } from '../../services/core/src/check/gather';
import { checkStudents } from '../../services/core/src/check/evaluate';
import { buildRecords } from '../../services/core/src/check/records';
import { sharedLabStudents } from '../../services/core/src/check/student';
import { loadLabConfig, type LabConfig } from '../../services/core/src/config';
import { readAdminToken } from '../../services/core/src/admin/token';
import { repoRoot } from '../../scripts/lab-docker';
import { labTarget } from '../../scripts/lab-target';
import { labPorts, portFree, spawnLab, writeLabCopy, type SpawnedLab } from '../lab-copy';
import { quantile } from '../latency';
import { waitAllAnswer } from '../startup';

export interface CheckBenchOptions {
  students: number;
  rounds: number;
  concurrency: number;
  repeats: number;
  maxSeconds: number;
  log: (line: string) => void;
}

export interface CheckBenchResults {
  students: number;
  sessions: number;
  records: { sessions: number; messages: number; reads: number; dnsQueries: number };
  trafficSeconds: number;
  /** Per repeat, ms: the admin API reads, building the records, the rules for every student, the whole. */
  gatherMs: number[];
  buildMs: number[];
  rulesMs: number[];
  totalMs: number[];
  tasksDone: number;
  errors: string[];
}

const PASSWORD = 'rahasia123';
const DEADLINE_MS = 15_000;

/** The lab definition with siswa06 … siswaNN added to both domains (the password hash of siswa1). */
function withStudents(source: string, target: string, students: number): void {
  const doc = parseDocument(readFileSync(source, 'utf8'));
  const domains = doc.get('domains') as { items: { get(k: string): unknown }[] };
  for (const d of domains.items) {
    const accounts = d.get('accounts') as { items: { get(k: string): unknown }[]; add(v: unknown): void };
    const hash = accounts.items.find((a) => a.get('user') === 'siswa1')?.get('passwordHash');
    for (let i = 6; i <= students; i++) accounts.add(doc.createNode({ user: `siswa${String(i).padStart(2, '0')}`, name: `Siswa ${i}`, passwordHash: hash }));
  }
  writeFileSync(target, doc.toString());
}

/** The accounts the class uses: siswa1 … siswa5, then siswa06 …, `n` in all. */
const userOf = (i: number) => (i <= 5 ? `siswa${i}` : `siswa${String(i).padStart(2, '0')}`);

/** A line-by-line session on a raw socket: send each line, wait for the reply that ends it. */
async function dialogue(port: number, steps: { send?: string; done: RegExp }[]): Promise<void> {
  const socket = new Socket();
  socket.setTimeout(DEADLINE_MS);
  let buffer = '';
  let waiting: { re: RegExp; resolve: () => void; reject: (e: Error) => void } | null = null;
  const check = () => {
    if (waiting && waiting.re.test(buffer)) {
      const w = waiting;
      waiting = null;
      buffer = '';
      w.resolve();
    }
  };
  socket.on('data', (c: Buffer) => {
    buffer += c.toString('latin1');
    check();
  });
  const fail = (e: Error) => waiting?.reject(e);
  socket.on('timeout', () => fail(new Error(`no answer on port ${port} within ${DEADLINE_MS} ms`)));
  socket.on('error', fail);
  socket.on('close', () => fail(new Error(`port ${port} closed the connection`)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1');
  });
  try {
    for (const s of steps) {
      await new Promise<void>((resolve, reject) => {
        waiting = { re: s.done, resolve, reject };
        if (s.send !== undefined) socket.write(s.send + '\r\n');
        check();
      });
    }
  } finally {
    socket.destroy();
  }
}

/** One student's share of the day, once. */
async function studentRound(config: LabConfig, i: number, round: number): Promise<number> {
  const [garuda, dadali] = config.domains;
  const user = userOf(i);
  const smtpEnd = /^\d{3} [^\r\n]*\r\n$/m;
  // 1. SMTP typed by hand on port 25 of dadali.com, to the same student there.
  await dialogue(dadali.ports.smtp, [
    { done: /^220 /m },
    { send: `HELO pc-${user}`, done: smtpEnd },
    { send: `MAIL FROM:<${user}@garudayaksa.com>`, done: smtpEnd },
    { send: `RCPT TO:<${user}@dadali.com>`, done: smtpEnd },
    { send: 'DATA', done: /^354 /m },
    { send: `Subject: Halo ${round}\r\n\r\nDiketik sendiri.\r\n.`, done: smtpEnd },
    { send: 'QUIT', done: /^221 /m },
  ]);
  // 2. Two messages through submission, one to the other domain.
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: garuda.ports.submission, secure: false, ignoreTLS: true, auth: { user: `${user}@garudayaksa.com`, pass: PASSWORD }, socketTimeout: DEADLINE_MS });
  try {
    await t.sendMail({ from: `${user}@garudayaksa.com`, to: `${user}@dadali.com`, subject: `Antar-domain ${round}`, text: 'Halo dari garudayaksa.com.' });
    await t.sendMail({ from: `${user}@garudayaksa.com`, to: `${user}@garudayaksa.com`, subject: `Catatan ${round}`, text: 'Untuk diri sendiri.' });
  } finally {
    t.close();
  }
  // 3. IMAP: SELECT, SEARCH, FETCH.
  const imapEnd = (tag: string) => new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm');
  await dialogue(garuda.ports.imap, [
    { done: /^\* OK/m },
    { send: `a1 LOGIN ${user} ${PASSWORD}`, done: imapEnd('a1') },
    { send: 'a2 SELECT INBOX', done: imapEnd('a2') },
    { send: 'a3 SEARCH SUBJECT "Catatan"', done: imapEnd('a3') },
    { send: 'a4 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])', done: imapEnd('a4') },
    { send: 'a5 LOGOUT', done: imapEnd('a5') },
  ]);
  // 4. POP3 on the other domain: LIST, RETR 1 (nothing deleted).
  const popEnd = /^(\+OK|-ERR)[^\r\n]*\r\n/m;
  const multi = /(^-ERR[^\r\n]*\r\n|\r\n\.\r\n)/m;
  await dialogue(dadali.ports.pop3, [
    { done: popEnd },
    { send: `USER ${user}`, done: popEnd },
    { send: `PASS ${PASSWORD}`, done: popEnd },
    { send: 'LIST', done: multi },
    { send: 'RETR 1', done: multi },
    { send: 'QUIT', done: popEnd },
  ]);
  return 4;
}

export async function runCheckBench(o: CheckBenchOptions): Promise<CheckBenchResults> {
  const dir = join('/tmp', `mail-lab-check-bench-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const errors: string[] = [];
  let lab: SpawnedLab | undefined;
  const r: CheckBenchResults = { students: o.students, sessions: 0, records: { sessions: 0, messages: 0, reads: 0, dnsQueries: 0 }, trafficSeconds: 0, gatherMs: [], buildMs: [], rulesMs: [], totalMs: [], tasksDone: 0, errors };
  try {
    const copy = writeLabCopy(join(repoRoot(), 'lab-scenarios', 'lab.yaml'), dir, 'bench');
    withStudents(copy.file, copy.file, o.students);
    const config = loadLabConfig(copy.file).config;
    const taken: number[] = [];
    for (const p of labPorts(config)) if (!(await portFree(p))) taken.push(p);
    if (taken.length) throw new Error(`ports taken, is another bench running? ${taken.join(', ')}`);
    lab = spawnLab({ ...copy, config }, join(repoRoot(), 'dist'));
    await waitAllAnswer(config, lab.spawnedAt);
    const token = await readAdminToken(lab.tokenFile);
    if (!token) throw new Error(`no admin token in ${lab.tokenFile}`);
    const target = labTarget(config, 'local', { token });

    o.log(`check bench: a day's work for ${o.students} students, ${o.rounds} round(s), ${o.concurrency} at a time`);
    const started = performance.now();
    const stopAt = Date.now() + o.maxSeconds * 1000;
    const jobs: [number, number][] = [];
    for (let round = 1; round <= o.rounds; round++) for (let i = 1; i <= o.students; i++) jobs.push([i, round]);
    let next = 0;
    let finished = 0;
    const worker = async () => {
      while (next < jobs.length && Date.now() < stopAt) {
        const [i, round] = jobs[next++];
        try {
          const n = await studentRound(config, i, round);
          r.sessions += n;
        } catch (e) {
          if (errors.length < 10) errors.push(`${userOf(i)} round ${round}: ${(e as Error).message}`);
        }
        if (++finished % 30 === 0) o.log(`  ${finished}/${jobs.length} student rounds`);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    r.trafficSeconds = (performance.now() - started) / 1000;
    // Let the queues finish relaying, so the records hold the deliveries too.
    await new Promise((res) => setTimeout(res, 3000));

    const students = sharedLabStudents(config, 0);
    for (let k = 0; k < o.repeats; k++) {
      const t0 = performance.now();
      const activity = await gatherActivity({ lab: 0, config, mail: (d) => target.mail(d), dns: () => target.dns() });
      const t1 = performance.now();
      const records = buildRecords(activity);
      const t2 = performance.now();
      const reports = checkStudents(records, students);
      const t3 = performance.now();
      r.gatherMs.push(t1 - t0);
      r.buildMs.push(t2 - t1);
      r.rulesMs.push(t3 - t2);
      r.totalMs.push(t3 - t0);
      r.records = { sessions: records.sessions.length, messages: records.messages.length, reads: records.reads.length, dnsQueries: records.dns.length };
      r.tasksDone = reports.reduce((n, s) => n + s.results.filter((x) => x.state === 'done').length, 0);
      if (k === 0) r.students = reports.length;
    }
  } finally {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

const ms = (xs: number[]) => (xs.length ? `median ${quantile(xs, 0.5).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms` : '-');

export function formatCheckReport(r: CheckBenchResults): string {
  const median = r.totalMs.length ? quantile(r.totalMs, 0.5) : NaN;
  return [
    `check --all: ${r.students} students, ${r.sessions} sessions made in ${r.trafficSeconds.toFixed(1)} s`,
    `  records: ${r.records.sessions} sessions, ${r.records.messages} messages, ${r.records.reads} reads, ${r.records.dnsQueries} DNS queries`,
    `  read over the admin APIs: ${ms(r.gatherMs)}`,
    `  records built:            ${ms(r.buildMs)}`,
    `  rules, every student:     ${ms(r.rulesMs)}`,
    `  whole check --all:        ${ms(r.totalMs)}  (aim < 2000 ms: ${median < 2000 ? 'met' : 'NOT met'})`,
    `  tasks done in all: ${r.tasksDone}`,
    ...r.errors.map((e) => `  error: ${e}`),
  ].join('\n');
}
