/**
 * The numbered labs of this host that exist (some container of project
 * `mail-lab-NN`, running or not, a stack `mail-lab-NN` on the swarm, or a
 * running no-Docker lab N), for
 * `class status|down|run|cards`; and a small pool that works on several
 * labs at once, in lab order, with a bound on how many run together.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAX_LAB } from '../../services/core/src/labs';
import { repoRoot } from '../lab-docker';
import { runningLocalLab } from '../lab-target';
import { swarmLabs } from '../swarm/stack';

const run = promisify(execFile);

/** Labs 1 … 90 with containers (any state), or a running no-Docker lab. */
export async function existingLabs(): Promise<number[]> {
  const labs = new Set<number>();
  try {
    const { stdout } = await run('docker', ['ps', '-a', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.project"}}'], { timeout: 30_000 });
    for (const p of stdout.split('\n')) {
      const m = /^mail-lab-(\d\d)$/.exec(p.trim());
      if (m && Number(m[1]) >= 1 && Number(m[1]) <= MAX_LAB) labs.add(Number(m[1]));
    }
  } catch {
    // No Docker: only no-Docker labs.
  }
  // Labs deployed as stacks on the swarm this host manages (--engine swarm).
  for (const n of await swarmLabs()) if (n >= 1 && n <= MAX_LAB) labs.add(n);
  const dir = join(repoRoot(), '.lab-data', 'labs');
  if (existsSync(dir)) for (const d of readdirSync(dir)) if (/^\d\d$/.test(d) && Number(d) >= 1 && runningLocalLab(Number(d))) labs.add(Number(d));
  return [...labs].sort((a, b) => a - b);
}

/** Runs `fn` for every item, at most `limit` at a time; results in item order. */
export async function inPool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
