/**
 * The benchmark's results as data (written to bench/results/latest.json)
 * and as the printed report: every number with its unit, and each aim
 * next to it with ✓ or ✗.
 */
import type { StartupResult } from './startup';
import type { LoadResult } from './load';

export interface ServiceMemory {
  idleKiB: number;
  peakKiB: number;
  endKiB: number;
}

export interface BenchResults {
  mode: 'local' | 'docker';
  date: string;
  host: { node: string; cpus: number; kernel: string };
  settings: { latencyCount: number; clients: number; total: number; maxLoadMs: number; size: number; portOffset?: number | 'bench' };
  startup: StartupResult | null;
  latency: { samplesMs: number[]; medianMs: number; p90Ms: number; minMs: number; maxMs: number; failures: string[] } | null;
  ours: LoadResult | null;
  postfix: ({ version: string; port: number; idleRssKiB: number; peakRssKiB: number } & { load: LoadResult | null }) | { error: string } | null;
  ratio: { deliveredPerSec: number; acceptedPerSec: number } | null;
  memory: Record<string, ServiceMemory>;
  memoryHow: string;
  errors: string[];
  notes: string[];
}

export const AIMS = { startupMs: 10_000, latencyMedianMs: 200, ratio: 0.5, rssMiB: 100 };

const mark = (ok: boolean) => (ok ? '✓' : '✗');
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const msec = (ms: number) => `${ms.toFixed(1)} ms`;
const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MB` : 'n/a');
const rate = (r: number) => `${r.toFixed(1)} msg/s`;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - [...s].length));

function loadLines(l: LoadResult, indent: string): string[] {
  const out = [
    `${indent}accepted  ${l.accepted} in ${sec(l.acceptMs)} = ${rate(l.acceptedPerSec)}${l.failed ? `  (${l.failed} refused or failed: ${l.errors[0] ?? ''})` : ''}`,
    `${indent}delivered ${l.delivered} in ${sec(l.deliverMs)} = ${rate(l.deliveredPerSec)}${l.drained ? '' : '  (NOT drained: some accepted messages never reached a mailbox)'}`,
  ];
  return out;
}

export function formatReport(r: BenchResults): string {
  const out: string[] = [];
  const s = r.settings;
  out.push(`mail-lab benchmark: ${r.mode === 'docker' ? 'Docker lab' : `no-Docker lab (own copy, host ports ${s.portOffset === 'bench' || s.portOffset === undefined ? 'in the bench block 30025-31995' : `+ ${s.portOffset}`})`}, ${r.date}`);
  out.push(`host: node ${r.host.node}, ${r.host.cpus} CPUs, Linux ${r.host.kernel}`);
  out.push('');

  out.push(r.mode === 'docker' ? '1. Start-up: `npx mail-lab up --no-build` until every service answers (waitForLab)' : '1. Start-up: spawn of dns + 2 mail domains until every service answers');
  if (r.startup) {
    out.push(`   all answering after ${sec(r.startup.allMs)}   aim < ${AIMS.startupMs / 1000} s ${mark(r.startup.allMs < AIMS.startupMs)}`);
    if (r.startup.commandMs !== undefined) out.push(`   (the up command itself returned after ${sec(r.startup.commandMs)})`);
    const slowest = Object.entries(r.startup.perService).sort((a, b) => b[1] - a[1]);
    if (slowest.length) out.push(`   slowest to answer: ${slowest.slice(0, 4).map(([n, t]) => `${n} ${sec(t)}`).join(', ')}${slowest.length > 4 ? ', …' : ''}`);
  } else out.push('   not measured (the lab was already running)');
  out.push('');

  out.push(`2. Delivery latency, garudayaksa.com → dadali.com: 250 to mbrain's submission until the message is in jpri's mbox (N=${s.latencyCount}, one at a time)`);
  if (r.latency && r.latency.samplesMs.length) {
    const l = r.latency;
    out.push(`   median ${msec(l.medianMs)}   aim < ${AIMS.latencyMedianMs} ms ${mark(l.medianMs < AIMS.latencyMedianMs)}`);
    out.push(`   p90 ${msec(l.p90Ms)}, min ${msec(l.minMs)}, max ${msec(l.maxMs)}, ${l.samplesMs.length} messages${l.failures.length ? `, ${l.failures.length} failed: ${l.failures[0]}` : ''}`);
  } else out.push(`   not measured${r.latency?.failures.length ? `: ${r.latency.failures[0]}` : ''}`);
  out.push('');

  out.push(`3. Local delivery under load, mail-lab: ${s.clients} clients on port 25 (no AUTH) → siswa1..5@garudayaksa.com, ${s.size}-octet messages, up to ${s.total} or ${s.maxLoadMs / 1000} s`);
  if (r.ours) out.push(...loadLines(r.ours, '   '));
  else out.push('   not measured');
  out.push('');

  out.push('4. The same load against Debian Postfix (own instance on 127.0.0.1, virtual(8) mbox delivery)');
  if (r.postfix && 'error' in r.postfix) out.push(`   not measured: ${r.postfix.error}`);
  else if (r.postfix?.load) {
    out.push(`   Postfix ${r.postfix.version} on port ${r.postfix.port}`);
    out.push(...loadLines(r.postfix.load, '   '));
    out.push(`   Postfix memory (master + all its processes): idle ${mib(r.postfix.idleRssKiB)}, peak ${mib(r.postfix.peakRssKiB)}`);
  } else out.push('   not measured');
  if (r.ratio) {
    out.push(`   mail-lab / Postfix, delivered/s: ${r.ratio.deliveredPerSec.toFixed(2)}x   aim ≥ ${AIMS.ratio}x ${mark(r.ratio.deliveredPerSec >= AIMS.ratio)}`);
    out.push(`   mail-lab / Postfix, accepted/s:  ${r.ratio.acceptedPerSec.toFixed(2)}x`);
  }
  out.push('');

  out.push(`5. Memory per service (${r.memoryHow})   aim < ${AIMS.rssMiB} MB each`);
  const rows = [['service', 'idle', 'peak in 2.+3.', 'end of load', ''], ...Object.entries(r.memory).map(([n, m]) => [n, mib(m.idleKiB), mib(m.peakKiB), mib(m.endKiB), mark(Math.max(m.idleKiB, m.peakKiB, m.endKiB) < AIMS.rssMiB * 1024)])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => [...row[i]].length)) + 2);
  for (const row of rows) out.push('   ' + row.map((c, i) => pad(c, widths[i])).join('').trimEnd());

  if (r.errors.length || r.notes.length) out.push('');
  for (const e of r.errors) out.push(`error: ${e}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
