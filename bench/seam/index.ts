/**
 * The seam's numbers (issue 10), on a no-Docker copy of the lab on shifted
 * loopback ports (bench/lab-copy.ts), every service its own process:
 *
 * 1. append → event: messages to jpri@dadali.com on dadali's port 25 while
 *    an /events client follows dadali.com; for each `mailbox.append` the
 *    time from the event's own timestamp (taken by the server when the
 *    append is done) to its arrival at the client. Median and p95 (ms,
 *    server and client share the host's clock).
 * 2. memory of the dadali.com process: idle, with 100 event clients
 *    attached, and after 200 deliveries streamed to all 100.
 * 3. `GET /queue` with 10,000 queued messages: the link garudayaksa.com →
 *    dadali.com cut, 10,000 messages sent to garudayaksa's port 25, then
 *    the typed client's round trip for the whole queue (median of 5) and
 *    the answer's size.
 * Everything is bounded in count and time; nothing leaves 127.0.0.1.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { MAIL_API } from '../../services/core/src/admin/api';
import { followEvents } from '../../services/core/src/admin/event-stream';
import { readAdminToken } from '../../services/core/src/admin/token';
import { repoRoot } from '../../scripts/lab-docker';
import { labTarget, type LabTarget } from '../../scripts/lab-target';
import { labPorts, portFree, spawnLab, writeLabCopy, type SpawnedLab } from '../lab-copy';
import { quantile } from '../latency';
import { procMemory } from '../memory';
import { waitAllAnswer } from '../startup';

export interface SeamResults {
  appendToEvent: { samples: number; medianMs: number; p95Ms: number; maxMs: number } | null;
  memory: { idleKiB: number; with100ClientsKiB: number; after200DeliveriesKiB: number; clients: number } | null;
  queue: { queued: number; fillSeconds: number; roundTripMedianMs: number; roundTripsMs: number[]; bytes: number } | null;
  errors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function send(port: number, count: number, to: string, tag: string, connections: number, deadline: number, auth?: { user: string; pass: string }): Promise<number> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: connections, maxMessages: Infinity, auth });
  let sent = 0;
  try {
    const one = async (i: number) => {
      if (Date.now() > deadline) return;
      await t.sendMail({ from: auth?.user ?? 'bench@garudayaksa.com', to, subject: `${tag} ${i}`, text: 'seam bench\n' });
      sent++;
    };
    for (let i = 0; i < count; i += connections * 4) await Promise.all(Array.from({ length: Math.min(connections * 4, count - i) }, (_, k) => one(i + k)));
  } finally {
    t.close();
  }
  return sent;
}

async function appendToEvent(target: LabTarget, port: number, r: SeamResults, log: (l: string) => void): Promise<void> {
  const delays: number[] = [];
  const stop = new AbortController();
  const follow = followEvents(target.mail('dadali.com'), { types: ['mailbox.append'], onEvent: (e) => delays.push(Date.now() - Date.parse(e.time)), signal: stop.signal });
  await sleep(500);
  const count = 200;
  log(`seam: ${count} messages to jpri@dadali.com, one at a time, an /events client following`);
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < count && Date.now() < deadline; i++) await t.sendMail({ from: 'bench@garudayaksa.com', to: 'jpri@dadali.com', subject: `append ${i}`, text: 'x\n' });
  t.close();
  const until = Date.now() + 10_000;
  while (delays.length < count && Date.now() < until) await sleep(50);
  stop.abort();
  await follow;
  r.appendToEvent = { samples: delays.length, medianMs: quantile(delays, 0.5), p95Ms: quantile(delays, 0.95), maxMs: Math.max(...delays) };
}

async function memoryWithClients(target: LabTarget, lab: SpawnedLab, port: number, r: SeamResults, log: (l: string) => void): Promise<void> {
  const pid = lab.pids['dadali.com'];
  const rss = () => procMemory(pid)?.rssKiB ?? NaN;
  const idleKiB = rss();
  const stop = new AbortController();
  let received = 0;
  const clients = 100;
  log(`seam: ${clients} event clients on dadali.com`);
  const follows = Array.from({ length: clients }, () => followEvents(target.mail('dadali.com'), { onEvent: () => received++, signal: stop.signal }));
  await sleep(2000);
  const with100ClientsKiB = rss();
  await send(port, 200, 'siswa1@dadali.com', 'mem', 4, Date.now() + 60_000);
  const until = Date.now() + 15_000;
  while (received < clients * 200 && Date.now() < until) await sleep(100);
  const after200DeliveriesKiB = rss();
  stop.abort();
  await Promise.all(follows);
  r.memory = { idleKiB, with100ClientsKiB, after200DeliveriesKiB, clients };
}

async function bigQueue(target: LabTarget, submissionPort: number, r: SeamResults, log: (l: string) => void): Promise<void> {
  const want = 10_000;
  await target.mail('garudayaksa.com').call(MAIL_API.cutLink, { peer: 'dadali.com' });
  log(`seam: ${want} messages into garudayaksa.com's queue behind a cut link`);
  const t0 = performance.now();
  await send(submissionPort, want, 'jpri@dadali.com', 'antre', 10, Date.now() + 240_000, { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' });
  const fillSeconds = (performance.now() - t0) / 1000;
  const times: number[] = [];
  let bytes = 0;
  let queued = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const q = await target.mail('garudayaksa.com').call(MAIL_API.queue);
    times.push(Math.round((performance.now() - t) * 10) / 10);
    queued = q.length;
    bytes = Buffer.byteLength(JSON.stringify(q));
  }
  r.queue = { queued, fillSeconds: Math.round(fillSeconds * 10) / 10, roundTripMedianMs: quantile(times, 0.5), roundTripsMs: times, bytes };
}

export async function runSeamBench(o: { log: (l: string) => void; distRoot: string }): Promise<SeamResults> {
  const r: SeamResults = { appendToEvent: null, memory: null, queue: null, errors: [] };
  const dir = join('/tmp', `mail-lab-seam-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  let lab: SpawnedLab | null = null;
  try {
    const copy = writeLabCopy(join(repoRoot(), 'lab-scenarios', 'lab.yaml'), dir, 'bench', { maxQueueSize: 20_000, maxConnectionsPerClient: 200 });
    if (!(await Promise.all(labPorts(copy.config).map(portFree))).every(Boolean)) throw new Error("the bench's ports (30025-31995) are in use on 127.0.0.1 (another bench still running?)");
    lab = spawnLab(copy, o.distRoot);
    await waitAllAnswer(copy.config, lab.spawnedAt);
    const target = labTarget(copy.config, 'local', { token: (await readAdminToken(lab.tokenFile)) ?? undefined });
    const port = (d: string) => copy!.config.domains.find((x) => x.name === d)!.ports.smtp;
    for (const step of [() => appendToEvent(target, port('dadali.com'), r, o.log), () => memoryWithClients(target, lab!, port('dadali.com'), r, o.log), () => bigQueue(target, copy!.config.domains.find((x) => x.name === 'garudayaksa.com')!.ports.submission, r, o.log)]) {
      await step().catch((e: Error) => r.errors.push(e.message));
    }
  } catch (e) {
    r.errors.push((e as Error).message);
  } finally {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

export function formatSeamReport(r: SeamResults): string {
  const out = ['## The seam: live events and the admin API (no-Docker lab copy)'];
  if (r.appendToEvent) {
    const a = r.appendToEvent;
    out.push(`- mailbox append → event at an /events client: median ${a.medianMs} ms, p95 ${a.p95Ms} ms, max ${a.maxMs} ms (${a.samples} appends; aim ≤ 20 ms ${a.medianMs <= 20 ? '✓' : '✗'})`);
  }
  if (r.memory) {
    const m = r.memory;
    out.push(`- dadali.com process RSS: idle ${mib(m.idleKiB)}, with ${m.clients} event clients ${mib(m.with100ClientsKiB)}, after 200 deliveries streamed to them ${mib(m.after200DeliveriesKiB)}`);
  }
  if (r.queue) {
    const q = r.queue;
    out.push(`- GET /queue with ${q.queued} queued messages: median ${q.roundTripMedianMs} ms (${q.roundTripsMs.join(', ')} ms), ${(q.bytes / 1e6).toFixed(1)} MB of JSON; filling the queue took ${q.fillSeconds} s`);
  }
  for (const e of r.errors) out.push(`- ERROR: ${e}`);
  return out.join('\n');
}
