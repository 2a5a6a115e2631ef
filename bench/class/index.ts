/**
 * A class on one host (issue 11), measured with the CLI a teacher uses
 * (images already built): `class up --count N` until every service of every
 * lab answers; the idle memory of all the labs together (the containers'
 * cgroup memory as `docker stats` reports it, plus the host RSS of any
 * docker-proxy processes) and per lab; the whole machine's idle CPU over
 * 30 s; `class run cross-domain-delivery queue-retry` in every lab (pass
 * counts, time); then takes labs 1 … N down with their data. Bounded: every step has a
 * time limit; nothing leaves the host.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../scripts/lab-docker';
import { parseDockerStats } from '../memory';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ClassBenchResults {
  labs: number;
  upSeconds: number | null;
  upOutputTail: string[];
  memory: { containersMiB: number; dockerProxyMiB: number; dockerProxies: number; totalMiB: number; perLabMiB: number } | null;
  idleCpuPercent: number | null;
  run: { passedLabs: number; seconds: number; summary: string } | null;
  errors: string[];
}

const cli = (args: string[], timeoutMs: number) =>
  run(process.execPath, [join(repoRoot(), 'bin/mail-lab.js'), ...args], { cwd: repoRoot(), timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: (e.stdout ?? '') + (e.stderr ?? '') }),
  );

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function memory(labs: number): Promise<ClassBenchResults['memory']> {
  const names = (await run('docker', ['ps', '--filter', 'label=com.docker.compose.project', '--format', '{{.Names}}'])).stdout.split('\n').filter((n) => /^mail-lab-\d\d-/.test(n));
  const stats = parseDockerStats((await run('docker', ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}', ...names], { timeout: 120_000 })).stdout);
  const containersKiB = [...stats.values()].reduce((a, b) => a + b, 0);
  const ps = (await run('ps', ['-eo', 'rss=,comm='])).stdout.split('\n').filter((l) => / docker-proxy$/.test(l));
  const proxyKiB = ps.reduce((a, l) => a + Number(l.trim().split(/\s+/)[0]), 0);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { containersMiB: mib(containersKiB), dockerProxyMiB: mib(proxyKiB), dockerProxies: ps.length, totalMiB: mib(containersKiB + proxyKiB), perLabMiB: mib((containersKiB + proxyKiB) / labs) };
}

export async function runClassBench(o: { labs: number; log: (l: string) => void }): Promise<ClassBenchResults> {
  const r: ClassBenchResults = { labs: o.labs, upSeconds: null, upOutputTail: [], memory: null, idleCpuPercent: null, run: null, errors: [] };
  try {
    o.log(`class bench: class up --count ${o.labs} --no-build`);
    const t0 = Date.now();
    const up = await cli(['class', 'up', '--count', String(o.labs), '--no-build'], 15 * 60_000);
    r.upSeconds = Math.round((Date.now() - t0) / 100) / 10;
    r.upOutputTail = up.out.trim().split('\n').slice(-3);
    if (up.code !== 0) r.errors.push(`class up: exit ${up.code}: ${r.upOutputTail.join(' | ')}`);
    o.log('class bench: 20 s to settle, then memory and 30 s of idle CPU');
    await sleep(20_000);
    r.memory = await memory(o.labs);
    const a = cpuTimes();
    await sleep(30_000);
    const b = cpuTimes();
    r.idleCpuPercent = Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 10;
    o.log('class bench: class run cross-domain-delivery queue-retry');
    const t1 = Date.now();
    const cr = await cli(['class', 'run', 'cross-domain-delivery', 'queue-retry'], 30 * 60_000);
    const summary = cr.out.trim().split('\n').pop() ?? '';
    r.run = { passedLabs: Number(/class run: (\d+) of/.exec(summary)?.[1] ?? 0), seconds: Math.round((Date.now() - t1) / 100) / 10, summary };
  } catch (e) {
    r.errors.push((e as Error).message);
  } finally {
    // Only the labs it started (labs 1 … N), with their data; other labs of this host stay.
    o.log(`class bench: down --lab 1 … ${o.labs} --volumes`);
    const labs = Array.from({ length: o.labs }, (_, i) => i + 1);
    for (let i = 0; i < labs.length; i += 4) await Promise.all(labs.slice(i, i + 4).map((n) => cli(['down', '--lab', String(n), '--volumes'], 5 * 60_000)));
  }
  return r;
}

export function formatClassReport(r: ClassBenchResults): string {
  const out = [`## A class of ${r.labs} labs on this host (Docker)`];
  if (r.upSeconds !== null) out.push(`- class up --count ${r.labs}: every service of every lab answered after ${r.upSeconds} s (aim ≤ 300 s ${r.upSeconds <= 300 ? '✓' : '✗'})`);
  if (r.memory) {
    const m = r.memory;
    out.push(`- idle memory: containers ${m.containersMiB} MiB + ${m.dockerProxies} docker-proxy processes ${m.dockerProxyMiB} MiB = ${m.totalMiB} MiB (aim ≤ 6144 MiB ${m.totalMiB <= 6144 ? '✓' : '✗'}); per lab ${m.perLabMiB} MiB (aim ≤ 150 MiB ${m.perLabMiB <= 150 ? '✓' : '✗'})`);
  }
  if (r.idleCpuPercent !== null) out.push(`- idle CPU of the whole machine with ${r.labs} labs: ${r.idleCpuPercent}% of all cores (aim ≤ 25% ${r.idleCpuPercent <= 25 ? '✓' : '✗'})`);
  if (r.run) out.push(`- class run cross-domain-delivery queue-retry: ${r.run.passedLabs} of ${r.labs} labs passed in ${r.run.seconds} s (${r.run.summary})`);
  for (const e of r.errors) out.push(`- ERROR: ${e}`);
  return out.join('\n');
}

if (require.main === module) {
  const labs = Number(process.argv[2] ?? 30);
  runClassBench({ labs, log: (l) => process.stderr.write(l + '\n') }).then((r) => {
    process.stdout.write(formatClassReport(r) + '\n' + JSON.stringify(r) + '\n');
    process.exitCode = r.errors.length ? 1 : 0;
  });
}
