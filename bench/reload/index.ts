/**
 * `npx mail-lab reload` under load (issue 13): how long a reload takes with
 * the lab idle and while mail flows, and whether any message is lost or
 * delivered twice across the reloads. On the bench's own no-Docker lab
 * (bench/lab-copy.ts: separate processes, as `up --local` starts them):
 *
 * 1. idle: `reloads` reloads in turn (an account, an alias and a second MX
 *    with relayDomains added, then taken away again), each timed from the
 *    CLI's side: the check of the text, the dry run on every service, the
 *    apply on every service (`total`), and the apply step alone (`apply`);
 * 2. under load: `messages` messages sent by `connections` SMTP sessions
 *    (half to garudayaksa.com's own students on port 25, half through
 *    submission to dadali.com, so the queue relays them), while the same
 *    reloads run one after the other; each timed the same way;
 * 3. every message counted in the mailbox files by its unique Subject:
 *    lost, delivered twice.
 *
 * Bounded: at most `messages` messages, the load stops after `maxSeconds`,
 * the wait for delivery after 120 s. Nothing leaves 127.0.0.1.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { parseDocument } from 'yaml';
import { MAIL_API } from '../../services/core/src/admin/api';
import { readAdminToken } from '../../services/core/src/admin/token';
import { repoRoot } from '../../scripts/lab-docker';
import { labTarget, type LabTarget } from '../../scripts/lab-target';
import { reloadLab } from '../../scripts/reload/reload';
import { labPorts, portFree, spawnLab, writeLabCopy, type LabCopy, type SpawnedLab } from '../lab-copy';
import { quantile } from '../latency';
import { waitAllAnswer } from '../startup';

export interface ReloadBenchOptions {
  messages: number;
  connections: number;
  reloads: number;
  maxSeconds: number;
  /** Host ports + this (default: the bench's own block). */
  portOffset?: number;
  log: (line: string) => void;
}

export interface Timings {
  count: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface ReloadBenchResults {
  idle: { total: Timings; apply: Timings } | null;
  underLoad: { total: Timings; apply: Timings } | null;
  sent: number;
  /** Found once / more than once / not at all in the mailbox files. */
  delivered: number;
  twice: number;
  lost: number;
  loadSeconds: number;
  deliverySeconds: number;
  errors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timings = (xs: number[]): Timings => ({ count: xs.length, medianMs: quantile(xs, 0.5), p95Ms: quantile(xs, 0.95), maxMs: Math.max(...xs) });

/** The lab copy's text and the same with an account, an alias, a second MX and its relayDomains (made with the YAML document, whatever the copy's layout). */
function versions(copy: LabCopy): string[] {
  const plain = readFileSync(copy.file, 'utf8');
  const doc = parseDocument(plain);
  const lab = doc.toJS() as { domains: { name: string; accounts: { user: string; passwordHash?: string }[] }[] };
  const g = lab.domains.findIndex((d) => d.name === 'garudayaksa.com');
  const d = lab.domains.findIndex((x) => x.name === 'dadali.com');
  const hash = lab.domains[g]?.accounts.find((a) => a.user === 'siswa1')?.passwordHash;
  if (g < 0 || d < 0 || !hash) throw new Error('could not make the changed definition (lab.yaml has no garudayaksa.com with siswa1, or no dadali.com)');
  doc.addIn(['domains', g, 'accounts'], doc.createNode({ user: 'siswa6', name: 'Siswa 6', passwordHash: hash }));
  doc.setIn(['domains', g, 'aliases', 'tu'], doc.createNode(['mbrain', 'siswa6']));
  doc.addIn(['domains', g, 'mx'], doc.createNode({ host: 'mail.dadali.com', preference: 20 }));
  doc.setIn(['domains', d, 'relayDomains'], doc.createNode(['garudayaksa.com']));
  return [doc.toString(), plain];
}

/** Reloads the versions in turn, `count` times (or until `until()`); the CLI's wall time and the apply step of each. */
async function reloads(t: LabTarget, copy: LabCopy, count: number, errors: string[], until: () => boolean = () => false): Promise<{ total: number[]; apply: number[] }> {
  const texts = versions(copy);
  const total: number[] = [];
  const apply: number[] = [];
  for (let i = 0; i < count && !until(); i++) {
    const t0 = performance.now();
    const r = await reloadLab(0, () => t, texts[i % 2], copy.file);
    total.push(performance.now() - t0);
    if (r.exit !== 0 || !r.changes.length) errors.push(`reload ${i + 1}: ${r.lines.join(' / ')}`);
    else apply.push(r.applyMs ?? 0);
  }
  return { total, apply };
}

interface Load {
  sent: number;
  subjects: Set<string>;
  done: Promise<void>;
  finished: boolean;
}

/** `messages` messages over `connections` sessions: even ones local on port 25, odd ones through submission to dadali.com. */
function startLoad(copy: LabCopy, o: ReloadBenchOptions, errors: string[]): Load {
  const g = copy.config.domains.find((d) => d.name === 'garudayaksa.com')!;
  const load: Load = { sent: 0, subjects: new Set(), done: Promise.resolve(), finished: false };
  const deadline = Date.now() + o.maxSeconds * 1000;
  let next = 0;
  const worker = async (w: number) => {
    const local = nodemailer.createTransport({ host: '127.0.0.1', port: g.ports.smtp, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity });
    const relay = nodemailer.createTransport({ host: '127.0.0.1', port: g.ports.submission, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
    try {
      while (next < o.messages && Date.now() < deadline) {
        const i = next++;
        const subject = `reload-bench ${i}`;
        try {
          if (i % 2) await relay.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject, text: 'reload bench\n' });
          else await local.sendMail({ from: 'jpri@dadali.com', to: `siswa${(i % 5) + 1}@garudayaksa.com`, subject, text: 'reload bench\n' });
          load.sent++;
          load.subjects.add(subject);
        } catch (e) {
          errors.push(`sender ${w}, message ${i}: ${(e as Error).message}`);
        }
      }
    } finally {
      local.close();
      relay.close();
    }
  };
  load.done = Promise.all(Array.from({ length: o.connections }, (_, w) => worker(w))).then(() => void (load.finished = true));
  return load;
}

/** How many times each subject is in the mailbox files. */
function countInMailboxes(copy: LabCopy): Map<string, number> {
  const seen = new Map<string, number>();
  const files = [...['siswa1', 'siswa2', 'siswa3', 'siswa4', 'siswa5'].map((u) => join(copy.dir, 'garudayaksa.com', 'mail', u)), join(copy.dir, 'dadali.com', 'mail', 'jpri')];
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'latin1');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^Subject: (reload-bench \d+)$/gm)) seen.set(m[1], (seen.get(m[1]) ?? 0) + 1);
  }
  return seen;
}

export async function runReloadBench(o: ReloadBenchOptions): Promise<ReloadBenchResults> {
  const r: ReloadBenchResults = { idle: null, underLoad: null, sent: 0, delivered: 0, twice: 0, lost: 0, loadSeconds: 0, deliverySeconds: 0, errors: [] };
  const dir = join('/tmp', `mail-lab-bench-reload-${process.pid}`);
  const copy = writeLabCopy(join(repoRoot(), 'lab-scenarios', 'lab.yaml'), dir, o.portOffset ?? 'bench');
  const taken = [];
  for (const p of labPorts(copy.config)) if (!(await portFree(p))) taken.push(p);
  if (taken.length) throw new Error(`ports ${taken.join(', ')} are taken (another bench or lab?); try --port-offset`);
  let lab: SpawnedLab | undefined;
  try {
    lab = spawnLab(copy, join(repoRoot(), 'dist'));
    await waitAllAnswer(copy.config, lab.spawnedAt);
    const token = await readAdminToken(lab.tokenFile);
    if (!token) throw new Error(`no admin token in ${lab.tokenFile}`);
    const t = labTarget(copy.config, 'local', { token });

    o.log(`idle: ${o.reloads} reloads`);
    const idle = await reloads(t, copy, o.reloads, r.errors);
    if (idle.total.length) r.idle = { total: timings(idle.total), apply: timings(idle.apply) };

    o.log(`under load: ${o.messages} messages over ${o.connections} sessions, reloads until the load ends (at most ${o.reloads * 10})`);
    const t0 = performance.now();
    const load = startLoad(copy, o, r.errors);
    await sleep(200);
    const busy = await reloads(t, copy, o.reloads * 10, r.errors, () => load.finished);
    await load.done;
    r.loadSeconds = (performance.now() - t0) / 1000;
    if (busy.total.length) r.underLoad = { total: timings(busy.total), apply: timings(busy.apply) };
    r.sent = load.sent;

    o.log('waiting until both queues are empty and every message is counted');
    const until = Date.now() + 120_000;
    for (;;) {
      const queued = (await t.mail('garudayaksa.com').call(MAIL_API.queueSummary)).size + (await t.mail('dadali.com').call(MAIL_API.queueSummary)).size;
      const seen = countInMailboxes(copy);
      if ((queued === 0 && seen.size >= load.subjects.size) || Date.now() > until) break;
      await sleep(500);
    }
    r.deliverySeconds = (performance.now() - t0) / 1000;
    await sleep(1000); // a copy delivered twice would come right behind
    const seen = countInMailboxes(copy);
    for (const s of load.subjects) {
      const n = seen.get(s) ?? 0;
      if (n === 0) r.lost++;
      else r.delivered++;
      if (n > 1) r.twice++;
    }
  } finally {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

const ms = (t: Timings) => `median ${t.medianMs.toFixed(0)} ms, p95 ${t.p95Ms.toFixed(0)} ms, max ${t.maxMs.toFixed(0)} ms (${t.count} reloads)`;

export function formatReloadReport(r: ReloadBenchResults): string {
  const lines = ['reload (npx mail-lab reload): an account, an alias, a second MX added and taken away, in turn'];
  if (r.idle) lines.push(`  idle:       whole reload ${ms(r.idle.total)}; apply step ${ms(r.idle.apply)}`);
  if (r.underLoad) lines.push(`  under load: whole reload ${ms(r.underLoad.total)}; apply step ${ms(r.underLoad.apply)}`);
  lines.push(`  load: ${r.sent} message(s) accepted in ${r.loadSeconds.toFixed(1)} s (${(r.sent / Math.max(r.loadSeconds, 0.001)).toFixed(0)}/s), all delivered ${r.deliverySeconds.toFixed(1)} s after the first`);
  lines.push(`  counted in the mailbox files: ${r.delivered} delivered, ${r.lost} lost, ${r.twice} delivered twice`);
  for (const e of r.errors.slice(0, 10)) lines.push(`  error: ${e}`);
  if (r.errors.length > 10) lines.push(`  … ${r.errors.length - 10} more error(s)`);
  return lines.join('\n');
}
