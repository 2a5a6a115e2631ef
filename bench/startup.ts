/**
 * Benchmark 1, start-up: from the moment the services are spawned (or
 * `mail-lab up --no-build` is run) until every service answers, with the
 * project's own readiness probes (scripts/readiness.ts: DNS answers SOA,
 * SMTP/submission/POP3/IMAP greet, admin /health). No-Docker mode polls
 * every 20 ms to see each service's own moment; Docker mode uses
 * `waitForLab` itself while `up` runs.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { LabConfig } from '../services/core/src/config';
import { probeLab, waitForLab } from '../scripts/readiness';

export interface StartupResult {
  /** Spawn (or `up`) to every probe passing, ms. */
  allMs: number;
  /** When each service first answered, ms after the start. */
  perService: Record<string, number>;
  /** Docker mode: wall time of the `up` command itself, ms. */
  commandMs?: number;
}

/** Polls every probe until all pass; `t0` is performance.now() at spawn. */
export async function waitAllAnswer(config: LabConfig, t0: number, timeoutMs = 30_000): Promise<StartupResult> {
  const perService: Record<string, number> = {};
  let last = '';
  while (performance.now() - t0 < timeoutMs) {
    const probes = await probeLab(config, 500);
    const at = performance.now() - t0;
    for (const p of probes) if (p.ok && perService[p.service] === undefined) perService[p.service] = at;
    const waiting = probes.filter((p) => !p.ok);
    if (!waiting.length) return { allMs: at, perService };
    last = waiting.map((p) => `${p.service} (${p.detail})`).join(', ');
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not every service answered within ${timeoutMs / 1000} s; still waiting for: ${last}`);
}

/**
 * Docker mode: runs `npx mail-lab up --no-build` from the repository root
 * and, at the same time, the project's `waitForLab`. The start-up time is
 * when `waitForLab` sees every service answer.
 */
export async function dockerUp(config: LabConfig, repo: string, log: (l: string) => void, timeoutMs = 180_000): Promise<StartupResult> {
  const t0 = performance.now();
  const up = new Promise<number>((resolve, reject) => {
    const child = spawn('npx', ['mail-lab', 'up', '--no-build'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const kill = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`npx mail-lab up --no-build exited with ${code}:\n${output.trim()}`));
    });
  });
  up.catch(() => undefined);
  const ready = waitForLab(config, timeoutMs, (l) => log(`   ${l.trim()}`)).then(() => performance.now() - t0);
  ready.catch(() => undefined);
  const first = await Promise.race([ready, up.then(() => ready)]);
  const commandMs = await up;
  return { allMs: first, perService: {}, commandMs };
}
