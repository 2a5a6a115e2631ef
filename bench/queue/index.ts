/**
 * A big deferred queue (issue 15, growth): N messages waiting in
 * garudayaksa.com's queue for dadali.com, as after a long broken link.
 * Measures, on the bench's own no-Docker lab (separate processes, the
 * `real` profile so nothing is retried or warned about during the run):
 *
 * 1. the fill: the N messages written with the queue's own Spool (the same
 *    fsyncs as SMTP's 250, then the state of one failed attempt beside each,
 *    as a real deferred message has), before the domain starts;
 * 2. the start with N messages to recover, its memory and its idle CPU
 *    (a queue whose every pass scanned all N would show it here);
 * 3. new mail while the N wait: the cross-domain latency of fresh messages,
 *    beside the same with an empty queue (each attempt's end must cost
 *    O(log N), not a pass over the queue);
 * 4. `flush` (heal): how fast the N drain into dadali.com's mailboxes, the
 *    peak memory of both domains, and every Message-ID counted: nothing
 *    lost, nothing delivered twice.
 *
 * Bounded: N ≤ 200,000, the drain waits at most `maxDrainMs`.
 */
import { promises as fs, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { MAIL_API } from '../../services/core/src/admin/api';
import { loadLabConfig } from '../../services/core/src/config';
import { readAdminToken } from '../../services/core/src/admin/token';
import { Spool } from '../../services/mail-domain/src/queue/spool';
import type { QueueEntry } from '../../services/mail-domain/src/queue/types';
import { repoRoot } from '../../scripts/lab-docker';
import { labTarget } from '../../scripts/lab-target';
import { labPorts, portFree, spawnLab, writeLabCopy, type LabCopy, type SpawnedLab } from '../lab-copy';
import { measureLatency, quantile } from '../latency';
import { fileSource, MboxCounter } from '../mailbox-watch';
import { PeakSampler, sampleProcs } from '../memory';
import { waitAllAnswer } from '../startup';

export interface QueueBenchResults {
  messages: number;
  fillMs: number | null;
  startMs: number | null;
  idleRssKiB: Record<string, number>;
  /** Right after one full listing (`GET /queue`, what `mail-lab queue` asks): its time, its size, and the memory after it. */
  listing: { ms: number; bytes: number; rssKiB: Record<string, number> } | null;
  /** The same, after SETTLE_MS more of idling. */
  settledRssKiB: Record<string, number>;
  /** garudayaksa.com's CPU over 5 s of idling with the N queued, % of one core. */
  idleCpuPct: number | null;
  freshMedianMs: { emptyQueue: number | null; fullQueue: number | null };
  /**
   * `queueLeft`: still in garudayaksa.com's queue; `relayedLeft`: accepted by dadali.com, in its queue,
   * not in a mailbox yet; `lost`: none of these (counted only as what is in neither queue nor mailbox);
   * `finished`: every message was in a mailbox before `maxDrainMs`.
   */
  drain: { ms: number; perSec: number; delivered: number; distinct: number; lost: number; duplicated: number; queueLeft: number; relayedLeft: number; finished: boolean } | null;
  /**
   * CPU time (user + system) each service spent during the drain, per delivered message, in ms:
   * what a change costs or saves, readable on a busy machine where the rate is not.
   */
  drainCpuMsPerMessage: Record<string, number>;
  /** Of that, the kernel's part (system time: fsync, file creation, sockets). */
  drainSysMsPerMessage: Record<string, number>;
  peakRssKiB: Record<string, number>;
  errors: string[];
}

/** How long the queue idles before its settled memory is read. */
const SETTLE_MS = 45_000;
const USERS = ['siswa1', 'siswa2', 'siswa3', 'siswa4', 'siswa5'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The lab copy with the `real` profile: nothing is retried, warned about or returned while the
 * bench runs; and room in the queue for every message plus the fresh ones (lab.yaml's
 * maxQueueSize, 10,000, would answer 452 to the fresh mail of a bigger run).
 */
function queueLabCopy(dir: string, messages: number): LabCopy {
  const copy = writeLabCopy(join(repoRoot(), 'lab-scenarios', 'lab.yaml'), dir, 'bench', { maxQueueSize: Math.max(10_000, messages + 1000) });
  const doc = parseDocument(readFileSync(copy.file, 'utf8'));
  doc.set('profile', 'real');
  writeFileSync(copy.file, doc.toString());
  return { ...copy, config: loadLabConfig(copy.file).config };
}

function message(i: number, run: string, to: string): Buffer {
  const body = `Pesan ${i} menunggu jalur pulih.\n`.repeat(20);
  return Buffer.from(
    `From: Marsel Brain <mbrain@garudayaksa.com>\r\nTo: ${to}\r\nSubject: antre ${i}\r\nMessage-ID: <q${i}-${run}@bench.invalid>\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body.replace(/\n/g, '\r\n')}`,
  );
}

/** Writes N deferred entries into garudayaksa.com's spool, 32 at a time. */
async function fill(spoolDir: string, n: number, run: string, log: (l: string) => void): Promise<number> {
  const spool = new Spool(spoolDir);
  await spool.init();
  const t0 = performance.now();
  const now = new Date();
  const later = new Date(now.getTime() + 3_600_000).toISOString();
  let next = 0;
  let lastLog = t0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const to = `${USERS[i % USERS.length]}@dadali.com`;
      const msg = message(i, run, to);
      const detail = 'connection to dadali.com timed out (link broken)';
      const entry: QueueEntry = {
        id: `Q${run.toUpperCase()}${i.toString(36).toUpperCase().padStart(5, '0')}`,
        messageId: `<q${i}-${run}@bench.invalid>`,
        subject: `antre ${i}`,
        from: 'mbrain@garudayaksa.com',
        arrival: now.toISOString(),
        size: msg.length,
        recipients: [{ address: to, local: false, status: 'pending', attempts: 1, lastError: detail, detail, nextAttempt: later }],
        warned: false,
        held: false,
        history: [{ time: now.toISOString(), recipients: [to], result: 'deferred', detail }],
      };
      // As a real deferred message: the arrival's file, then the state its failed attempt wrote beside it.
      await spool.add({ ...entry, recipients: [{ address: to, local: false, status: 'pending', attempts: 0, nextAttempt: entry.arrival }], history: [] }, msg);
      await spool.update(entry);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`   filled ${i + 1} of ${n}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return performance.now() - t0;
}

/** CPU time (user + system) of a process, in ms. */
function cpuMs(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.sys;
}

/** User and system CPU time of a process, in ms. */
function cpuTimes(pid: number): { user: number; sys: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return { user: (Number(fields[11]) * 1000) / 100, sys: (Number(fields[12]) * 1000) / 100 };
}

async function start(copy: LabCopy, log: (l: string) => void): Promise<{ lab: SpawnedLab; ms: number }> {
  const lab = spawnLab(copy, join(__dirname, '..', '..'));
  try {
    const up = await waitAllAnswer(copy.config, lab.spawnedAt, 300_000);
    log(`   the lab answers after ${(up.allMs / 1000).toFixed(1)} s`);
    return { lab, ms: up.allMs };
  } catch (e) {
    await lab.stop();
    throw e;
  }
}

async function freshLatency(copy: LabCopy, run: string): Promise<number> {
  const [garuda, dadali] = copy.config.domains;
  const r = await measureLatency({ sender: garuda, recipient: `jpri@${dadali.name}`, mailbox: fileSource(join(copy.dir, dadali.name, 'mail', 'jpri')), count: 30, size: 2048, runId: run, maxMs: 60_000 });
  if (r.failures.length) throw new Error(`fresh mail: ${r.failures[0]}`);
  return quantile(r.samplesMs, 0.5);
}

/** Counts the bench's messages in dadali.com's five mailboxes by Message-ID. */
async function countDelivered(copy: LabCopy, run: string, n: number): Promise<{ delivered: number; distinct: number; lost: number; duplicated: number }> {
  const seen = new Map<number, number>();
  const re = new RegExp(`^Message-ID: <q(\\d+)-${run}@bench\\.invalid>`, 'gim');
  for (const u of USERS) {
    const text = await fs.readFile(join(copy.dir, 'dadali.com', 'mail', u), 'latin1').catch(() => '');
    for (const m of text.matchAll(re)) seen.set(Number(m[1]), (seen.get(Number(m[1])) ?? 0) + 1);
  }
  let delivered = 0;
  let duplicated = 0;
  for (const c of seen.values()) {
    delivered += c;
    if (c > 1) duplicated += c - 1;
  }
  return { delivered, distinct: seen.size, lost: n - seen.size, duplicated };
}

export async function runQueueBench(o: { messages?: number; maxDrainMs?: number; log: (l: string) => void }): Promise<QueueBenchResults> {
  const n = Math.min(o.messages ?? 20_000, 200_000);
  const log = o.log;
  const run = `r${Date.now().toString(36)}`;
  const dir = join('/tmp', `mail-lab-queue-bench-${process.pid}`);
  const results: QueueBenchResults = { messages: n, fillMs: null, startMs: null, idleRssKiB: {}, listing: null, settledRssKiB: {}, idleCpuPct: null, freshMedianMs: { emptyQueue: null, fullQueue: null }, drain: null, drainCpuMsPerMessage: {}, drainSysMsPerMessage: {}, peakRssKiB: {}, errors: [] };
  let lab: SpawnedLab | null = null;
  try {
    const copy = queueLabCopy(dir, n);
    const busy: number[] = [];
    for (const p of labPorts(copy.config)) if (!(await portFree(p))) busy.push(p);
    if (busy.length) throw new Error(`ports ${busy.join(', ')} are in use on 127.0.0.1 (another bench running?)`);

    log(`queue bench: 1. fresh mail with an empty queue`);
    lab = (await start(copy, log)).lab;
    results.freshMedianMs.emptyQueue = await freshLatency(copy, `${run}e`);
    await lab.stop();
    lab = null;

    log(`queue bench: 2. ${n} deferred messages written to garudayaksa.com's spool`);
    results.fillMs = await fill(join(dir, 'garudayaksa.com', 'queue'), n, run, log);

    log(`queue bench: 3. start with them, idle, fresh mail`);
    const started = await start(copy, log);
    lab = started.lab;
    results.startMs = started.ms;
    const pids = lab.pids;
    const target = labTarget(copy.config, 'local', { token: (await readAdminToken(lab.tokenFile)) ?? undefined });
    const garuda = target.mail('garudayaksa.com');
    const queued = (await garuda.call(MAIL_API.queueSummary)).size;
    if (queued !== n) results.errors.push(`garudayaksa.com recovered ${queued} of ${n} queued messages`);
    await sleep(1000);
    const cpu0 = cpuMs(pids['garudayaksa.com']);
    await sleep(5000);
    results.idleCpuPct = ((cpuMs(pids['garudayaksa.com']) - cpu0) / 5000) * 100;
    results.idleRssKiB = Object.fromEntries(sampleProcs(pids));
    const l0 = performance.now();
    const listed = await garuda.call(MAIL_API.queue);
    results.listing = { ms: performance.now() - l0, bytes: Buffer.byteLength(JSON.stringify(listed)), rssKiB: Object.fromEntries(sampleProcs(pids)) };
    // V8 gives back the start's garbage (the spool's JSON read back) only when its memory reducer
    // runs, some 20-30 s after the last busy moment: the queue sitting there is measured after that.
    await sleep(SETTLE_MS);
    results.settledRssKiB = Object.fromEntries(sampleProcs(pids));
    results.freshMedianMs.fullQueue = await freshLatency(copy, `${run}f`);

    log(`queue bench: 4. flush: ${n} messages drain into dadali.com`);
    const sampler = new PeakSampler(async () => sampleProcs(pids), 200);
    sampler.start(o.maxDrainMs ?? 900_000);
    const counters = USERS.map((u) => new MboxCounter(fileSource(join(copy.dir, 'dadali.com', 'mail', u))));
    const before = (await Promise.all(counters.map((c) => c.update()))).reduce((a, b) => a + b, 0);
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuTimes(pid)]));
    const t0 = performance.now();
    await garuda.call(MAIL_API.flush, {});
    const deadline = t0 + (o.maxDrainMs ?? 900_000);
    let got = 0;
    let lastLog = t0;
    while (performance.now() < deadline) {
      got = (await Promise.all(counters.map((c) => c.update()))).reduce((a, b) => a + b, 0) - before;
      if (got >= n) break;
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`   ${got} of ${n} delivered after ${((lastLog - t0) / 1000).toFixed(0)} s`);
      }
      await sleep(50);
    }
    const ms = performance.now() - t0;
    const cpuAfter = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuTimes(pid)]));
    const cpuSpent = Object.fromEntries(Object.keys(pids).map((name) => [name, cpuAfter[name].user + cpuAfter[name].sys - cpuBefore[name].user - cpuBefore[name].sys]));
    const sysSpent = Object.fromEntries(Object.keys(pids).map((name) => [name, cpuAfter[name].sys - cpuBefore[name].sys]));
    sampler.stop();
    await sampler.tick();
    results.peakRssKiB = Object.fromEntries(sampler.peakKiB);
    await sleep(500);
    const left = (await garuda.call(MAIL_API.queueSummary)).size;
    const relayedLeft = (await target.mail('dadali.com').call(MAIL_API.queueSummary)).size;
    const counted = await countDelivered(copy, run, n);
    // Not yet delivered when the time ran out is not lost: what is in neither queue nor a mailbox is.
    counted.lost = Math.max(0, n - counted.distinct - left - relayedLeft);
    results.drain = { ms, perSec: counted.distinct / (ms / 1000), ...counted, queueLeft: left, relayedLeft, finished: counted.distinct >= n };
    if (counted.distinct < n) results.errors.push(`the drain did not finish in ${((o.maxDrainMs ?? 900_000) / 1000).toFixed(0)} s (--max-drain-seconds): ${counted.distinct} of ${n} in the mailboxes, ${left} still in garudayaksa.com's queue, ${relayedLeft} in dadali.com's`);
    if (counted.distinct) results.drainCpuMsPerMessage = Object.fromEntries(Object.entries(cpuSpent).map(([name, c]) => [name, c / counted.distinct]));
    if (counted.distinct) results.drainSysMsPerMessage = Object.fromEntries(Object.entries(sysSpent).map(([name, c]) => [name, c / counted.distinct]));
    if (counted.lost || counted.duplicated) results.errors.push(`${counted.lost} lost (in no queue and no mailbox), ${counted.duplicated} delivered twice`);
  } catch (e) {
    results.errors.push((e as Error).message);
  } finally {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export function formatQueueReport(r: QueueBenchResults): string {
  const mib = (k?: number) => (k === undefined ? '?' : `${(k / 1024).toFixed(1)} MiB`);
  const ms = (x: number | null) => (x === null ? 'not measured' : `${x.toFixed(1)} ms`);
  const d = r.drain;
  return [
    `Big deferred queue (no-Docker lab copy, ${r.messages} messages waiting in garudayaksa.com for dadali.com)`,
    `   fill (the queue's own spool, fsynced): ${r.fillMs === null ? 'not measured' : `${(r.fillMs / 1000).toFixed(1)} s, ${(r.messages / (r.fillMs / 1000)).toFixed(0)} messages/s`}`,
    `   start with them: ${r.startMs === null ? 'not measured' : `${(r.startMs / 1000).toFixed(1)} s`}; idle: garudayaksa.com ${mib(r.idleRssKiB['garudayaksa.com'])} right after, ${mib(r.settledRssKiB['garudayaksa.com'])} after ${SETTLE_MS / 1000} s more (aim ≤ 300 MiB), CPU ${r.idleCpuPct === null ? '?' : r.idleCpuPct.toFixed(1)}% of a core`,
    `   one full listing (GET /queue, as \`mail-lab queue\` asks): ${r.listing ? `${(r.listing.ms / 1000).toFixed(1)} s, ${(r.listing.bytes / 2 ** 20).toFixed(1)} MiB of JSON; garudayaksa.com ${mib(r.listing.rssKiB['garudayaksa.com'])} after it` : 'not measured'}`,
    `   fresh mail across the domains, median: empty queue ${ms(r.freshMedianMs.emptyQueue)}, with the ${r.messages} waiting ${ms(r.freshMedianMs.fullQueue)}`,
    d
      ? `   flush → ${d.finished ? 'all delivered' : 'stopped by the time limit'}: ${(d.ms / 1000).toFixed(1)} s, ${d.perSec.toFixed(0)} messages/s (aim ≥ 500); ${d.distinct} delivered, ${d.lost} lost, ${d.duplicated} twice; ${d.queueLeft} left in garudayaksa.com's queue, ${d.relayedLeft} in dadali.com's`
      : '   flush: not measured',
    `   CPU per delivered message while draining: ${Object.entries(r.drainCpuMsPerMessage).map(([name, c]) => `${name} ${c.toFixed(2)} ms (kernel ${(r.drainSysMsPerMessage[name] ?? NaN).toFixed(2)})`).join(', ') || 'not measured'}`,
    `   peak memory while draining: garudayaksa.com ${mib(r.peakRssKiB['garudayaksa.com'])}, dadali.com ${mib(r.peakRssKiB['dadali.com'])}`,
    ...r.errors.map((e) => `   error: ${e}`),
  ].join('\n');
}
