/**
 * Memory of the measured services. No-Docker: VmRSS (and VmHWM, the
 * kernel's own high-water mark) from /proc/<pid>/status, sampled every
 * 200 ms while a phase runs. Docker: `docker stats --no-stream` for the lab
 * containers (each call takes about a second, so that is the sample rate).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';

export interface ProcMemory {
  rssKiB: number;
  hwmKiB: number;
}

/** VmRSS and VmHWM of a process, or null when it is gone. */
export function procMemory(pid: number): ProcMemory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  } catch {
    return null;
  }
}

/** A process and all its descendants (for Postfix: master and the daemons it forked). */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of parents.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Sum of VmRSS over a process tree, in KiB. */
export function treeRssKiB(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + (procMemory(pid)?.rssKiB ?? 0), 0);
}

/** Samples named measurements every `intervalMs` and keeps the peak of each (bounded: stops itself after `maxMs`). */
export class PeakSampler {
  readonly peakKiB = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly sample: () => Promise<Map<string, number>> | Map<string, number>,
    private readonly intervalMs = 200,
  ) {}

  start(maxMs: number): void {
    const until = Date.now() + maxMs;
    this.timer = setInterval(() => {
      if (Date.now() > until) return this.stop();
      void this.tick();
    }, this.intervalMs);
    void this.tick();
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const [name, kib] of await this.sample()) {
        if (Number.isFinite(kib)) this.peakKiB.set(name, Math.max(this.peakKiB.get(name) ?? 0, kib));
      }
    } catch {
      // a missed sample is not worth failing the run for
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** VmRSS of named processes, in KiB. */
export function sampleProcs(pids: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(pids).map(([name, pid]) => [name, procMemory(pid)?.rssKiB ?? NaN]));
}

const UNITS: Record<string, number> = { b: 1 / 1024, kib: 1, kb: 1000 / 1024, mib: 1024, mb: 1e6 / 1024, gib: 1024 ** 2, gb: 1e9 / 1024 };

/** Parses `docker stats --format '{{.Name}}\t{{.MemUsage}}'` output ("12.3MiB / 1.9GiB"): KiB per container. */
export function parseDockerStats(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const [name, usage] = line.split('\t');
    const m = /^([\d.]+)\s*([a-zA-Z]+)/.exec(usage?.trim() ?? '');
    if (name && m) out.set(name.trim(), Number(m[1]) * (UNITS[m[2].toLowerCase()] ?? NaN));
  }
  return out;
}

/** `docker stats --no-stream` memory use per container name, in KiB. */
export function dockerStats(containers: string[]): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    execFile('docker', ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}', ...containers], { timeout: 15_000 }, (err, stdout) =>
      err ? reject(err) : resolve(parseDockerStats(stdout)),
    );
  });
}
