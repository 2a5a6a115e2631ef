/**
 * The lab on Docker Swarm beside the same lab on Compose (issue 14), in one
 * run on this host, with the CLI a teacher uses (image built once first):
 *
 * - start-up: `up [--engine swarm] --no-build` until every service answers
 *   (the command returns then; on Swarm also once the lab DNS has learned the
 *   tasks' addresses), and the wall time of the command;
 * - cross-domain latency: the median (and p90) of N messages, 250 after DATA
 *   on garudayaksa.com's 587 to the message in jpri's mbox at dadali.com
 *   (bench/latency.ts, the mailbox read through the admin API);
 * - the scenarios cross-domain-delivery, mx-lookup and queue-retry: each one's
 *   time as the runner reports it;
 * - down --volumes: its wall time.
 *
 * Compose runs lab 66, Swarm lab 65 (a single-node swarm made with
 * `docker swarm init --advertise-addr 127.0.0.1` when the engine is in none,
 * left again at the end, docker_gwbridge removed). Loopback only; every step
 * has a time limit; both labs are taken down with their data.
 *
 *   node dist/bench/swarm/index.js [messages]     (default 30)
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadLabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';
import { buildImages, repoRoot } from '../../scripts/lab-docker';
import { prepareComposeLab } from '../../scripts/lab-files';
import { labTarget } from '../../scripts/lab-target';
import { measureLatency, quantile } from '../latency';
import { adminSource } from '../mailbox-watch';

const run = promisify(execFile);

const cli = (args: string[], timeoutMs: number) =>
  run(process.execPath, [join(repoRoot(), 'bin/mail-lab.js'), ...args], { cwd: repoRoot(), timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: (e.stdout ?? '') + (e.stderr ?? '') }),
  );

export const SCENARIOS = ['cross-domain-delivery', 'mx-lookup', 'queue-retry'] as const;

export interface EngineResult {
  engine: 'compose' | 'swarm';
  lab: number;
  /** `up` until every service answered (the command's own measure), s. */
  readySeconds: number | null;
  /** Wall time of the `up` command, s. */
  upSeconds: number | null;
  latency: { count: number; medianMs: number; p90Ms: number; minMs: number; maxMs: number } | null;
  /** Each scenario's time as the runner said it, s (null: it failed). */
  scenarios: Record<string, number | null>;
  downSeconds: number | null;
  errors: string[];
}

export interface SwarmBenchResults {
  madeSwarm: boolean;
  messages: number;
  compose: EngineResult;
  swarm: EngineResult;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

async function measure(engine: 'compose' | 'swarm', n: number, messages: number, log: (l: string) => void): Promise<EngineResult> {
  const r: EngineResult = { engine, lab: n, readySeconds: null, upSeconds: null, latency: null, scenarios: {}, downSeconds: null, errors: [] };
  const sel = [...(engine === 'swarm' ? ['--engine', 'swarm'] : []), '--lab', String(n)];
  try {
    log(`${engine}: up --no-build ${sel.join(' ')}`);
    const t0 = Date.now();
    const up = await cli(['up', '--no-build', ...sel], 300_000);
    r.upSeconds = seconds(Date.now() - t0);
    if (up.code !== 0) throw new Error(`up: exit ${up.code}: ${up.out.trim().split('\n').slice(-3).join(' | ')}`);
    r.readySeconds = Number(/every service answered ([\d.]+) s after start/.exec(up.out)?.[1] ?? NaN);
    const config = deriveLab(loadLabConfig(join(repoRoot(), 'lab-scenarios/lab.yaml')).config, n);
    const target = labTarget(config, 'docker', { lab: n });
    const garuda = config.domains.find((d) => d.name === 'garudayaksa.com')!;
    const dadali = config.domains.find((d) => d.name === 'dadali.com')!;
    log(`${engine}: latency, ${messages} messages`);
    const lat = await measureLatency({ sender: garuda, recipient: `jpri@${dadali.name}`, mailbox: adminSource(target, dadali, 'jpri'), count: messages, size: 2048, runId: `swarm-bench-${engine}-${Date.now().toString(36)}`, maxMs: 120_000 });
    if (lat.failures.length) r.errors.push(...lat.failures.map((f) => `latency: ${f}`));
    const s = lat.samplesMs;
    if (s.length) r.latency = { count: s.length, medianMs: Math.round(quantile(s, 0.5) * 10) / 10, p90Ms: Math.round(quantile(s, 0.9) * 10) / 10, minMs: Math.round(Math.min(...s) * 10) / 10, maxMs: Math.round(Math.max(...s) * 10) / 10 };
    log(`${engine}: scenarios ${SCENARIOS.join(' ')}`);
    const sc = await cli(['scenario', ...SCENARIOS, ...sel], 300_000);
    for (const name of SCENARIOS) {
      const m = new RegExp(`^== ${name}: passed \\(([\\d.]+) s\\)`, 'm').exec(sc.out);
      r.scenarios[name] = m ? Number(m[1]) : null;
      if (!m) r.errors.push(`scenario ${name} did not pass`);
    }
  } catch (e) {
    r.errors.push((e as Error).message);
  } finally {
    log(`${engine}: down --volumes ${sel.join(' ')}`);
    const t1 = Date.now();
    const down = await cli(['down', '--volumes', ...sel], 180_000);
    r.downSeconds = seconds(Date.now() - t1);
    if (down.code !== 0) r.errors.push(`down: ${down.out.trim().split('\n').pop()}`);
  }
  return r;
}

export async function runSwarmBench(o: { messages?: number; log: (l: string) => void; composeLab?: number; swarmLab?: number }): Promise<SwarmBenchResults> {
  const messages = Math.max(1, Math.min(200, o.messages ?? 30));
  const root = repoRoot();
  const base = loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config;
  o.log('image: built once for both engines');
  await buildImages({ offline: 'auto', log: (l) => o.log('  ' + l), lab: prepareComposeLab(base, o.composeLab ?? 66, join(root, 'lab-scenarios/lab.yaml')) });
  const state = (await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim();
  const madeSwarm = state === 'inactive';
  if (madeSwarm) {
    o.log('swarm: docker swarm init --advertise-addr 127.0.0.1 (left again at the end)');
    await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { timeout: 60_000 });
  }
  try {
    const compose = await measure('compose', o.composeLab ?? 66, messages, o.log);
    const swarm = await measure('swarm', o.swarmLab ?? 65, messages, o.log);
    return { madeSwarm, messages, compose, swarm };
  } finally {
    if (madeSwarm) {
      await run('docker', ['swarm', 'leave', '--force'], { timeout: 60_000 }).catch(() => undefined);
      await run('docker', ['network', 'rm', 'docker_gwbridge'], { timeout: 30_000 }).catch(() => undefined);
    }
  }
}

export function formatSwarmReport(r: SwarmBenchResults): string {
  const c = r.compose;
  const s = r.swarm;
  const v = (x: number | null | undefined, unit: string) => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${x} ${unit}`);
  const rows: [string, string, string][] = [
    ['up until every service answers', v(c.readySeconds, 's'), v(s.readySeconds, 's')],
    ['up, the whole command', v(c.upSeconds, 's'), v(s.upSeconds, 's')],
    [`cross-domain latency, median of ${r.messages}`, v(c.latency?.medianMs, 'ms'), v(s.latency?.medianMs, 'ms')],
    ['cross-domain latency, p90', v(c.latency?.p90Ms, 'ms'), v(s.latency?.p90Ms, 'ms')],
    ...SCENARIOS.map((n): [string, string, string] => [`scenario ${n}`, v(c.scenarios[n], 's'), v(s.scenarios[n], 's')]),
    ['down --volumes', v(c.downSeconds, 's'), v(s.downSeconds, 's')],
  ];
  const out = [`## The lab on Docker Swarm beside Compose (one host, single-node swarm${r.madeSwarm ? ' made for the run' : ''})`, '', `| | Compose (lab ${c.lab}) | Swarm (lab ${s.lab}) |`, '| --- | --- | --- |', ...rows.map((x) => `| ${x.join(' | ')} |`)];
  for (const e of [...c.errors.map((x) => `compose: ${x}`), ...s.errors.map((x) => `swarm: ${x}`)]) out.push(`- ERROR: ${e}`);
  return out.join('\n');
}

if (require.main === module) {
  const messages = Number(process.argv[2] ?? 30);
  runSwarmBench({ messages, log: (l) => process.stderr.write(l + '\n') }).then(
    (r) => {
      process.stdout.write(formatSwarmReport(r) + '\n' + JSON.stringify(r) + '\n');
      process.exitCode = r.compose.errors.length || r.swarm.errors.length ? 1 : 0;
    },
    (e: Error) => {
      process.stderr.write(`swarm bench: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
