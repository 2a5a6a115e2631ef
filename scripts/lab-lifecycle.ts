/**
 * Starting and stopping one lab, Docker or no-Docker, as `up`/`down` and
 * `class up`/`class down` do it: refuse when one of the lab's host ports is
 * held by something else (naming the port, the lab and the process), render
 * the lab's compose file, start it, wait until every service answers.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { labHostPorts } from '../services/core/src/labs';
import { dockerTokenCacheFile } from './admin-token';
import { buildImages, composeDown, composePs, composeUp, detectCompose, dockerEngine, type LogFn } from './lab-docker';
import { prepareComposeLab } from './lab-files';
import type { SelectedLab } from './lab-select';
import { runningLocalLab } from './lab-target';
import { startLocalLab, stopLocalLab } from './local-lab';
import { waitForLab, type Probe } from './readiness';
import { stackExists, startSwarmLab, stopSwarmLab } from './swarm/stack';

const run = promisify(execFile);

/** A problem the user can fix (a port taken, no Docker): the CLI exits 2 with the message. */
export class LabStartError extends Error {
  override readonly name = 'LabStartError';
}

export interface StartOptions {
  local?: boolean;
  /** Build the image first (once for a class). @default true */
  build?: boolean;
  offline?: boolean;
  timeoutMs: number;
  log: LogFn;
}

export interface Started {
  elapsedMs: number;
  totalMs: number;
  probes: Probe[];
}

/** Who listens on a TCP port of this machine, when `ss` can tell: `docker-proxy (PID 1234)`. */
async function listener(port: number): Promise<string | null> {
  try {
    const { stdout } = await run('ss', ['-Hltnp', `sport = :${port}`], { timeout: 5000 });
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    return m ? `${m[1]} (PID ${m[2]})` : stdout.trim() ? 'another program' : null;
  } catch {
    return null;
  }
}

/** Can we bind the port on the address the lab publishes on? */
function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Every host port of the lab that something else holds, in words; empty when all are free. */
export async function takenPorts(sel: SelectedLab): Promise<string[]> {
  const host = process.env.MAIL_LAB_BIND && process.env.MAIL_LAB_BIND !== '0.0.0.0' ? process.env.MAIL_LAB_BIND : '127.0.0.1';
  const out: string[] = [];
  for (const { port, what } of labHostPorts(sel.config)) {
    if (await bindable(port, what.includes('admin') ? '127.0.0.1' : host)) continue;
    const who = await listener(port);
    out.push(`port ${port} (lab ${sel.n}, ${what}) is taken${who ? ` by ${who}` : ''}`);
  }
  return out;
}

/** Lab N's containers that run now (Docker). */
async function runningContainers(sel: SelectedLab): Promise<number> {
  return (await composePs(sel.project).catch(() => [])).filter((c) => c.state === 'running').length;
}

/** Starts lab `sel` (reusing it when it already runs) and waits until every service answers. */
export async function startLab(sel: SelectedLab, o: StartOptions): Promise<Started> {
  const started = Date.now();
  const { log } = o;
  if (o.local) {
    if (runningLocalLab(sel.n)) throw new LabStartError(`the no-Docker lab ${sel.n} is already running (\`npx mail-lab status${sel.n ? ` --lab ${sel.n}` : ''}\`)`);
    const taken = await takenPorts(sel);
    if (taken.length) throw new LabStartError(`nothing of lab ${sel.n} was started: ${taken.join('; ')}`);
    log(`starting lab ${sel.n} without Docker (plain Node processes on 127.0.0.1)`);
    await startLocalLab(sel.config, sel.file, log, sel.n);
  } else {
    const local = runningLocalLab(sel.n);
    if (local) throw new LabStartError(`a no-Docker lab ${sel.n} is running on its ports (PIDs ${Object.values(local.pids).join(', ')}); stop it first with \`npx mail-lab down${sel.n ? ` --lab ${sel.n}` : ''}\``);
    // Which Compose this host has (≈170 ms), found while the checks below run; a failure is told by the compose call itself.
    void detectCompose().catch(() => undefined);
    // Asked together: each is a docker CLI start (`docker info` alone takes ≈130 ms).
    const [engine, running] = await Promise.all([dockerEngine(), runningContainers(sel)]);
    if (!engine) throw new LabStartError('no Docker engine answers. Start one (as root: `bash scripts/docker-engine.sh`), or run the lab without Docker: `npx mail-lab up --local`');
    // Docker Swarm: a stack (scripts/swarm/stack.ts).
    if (sel.engine === 'swarm') return startSwarmLab(sel, o);
    // An engine outside a swarm has no stacks.
    if (engine.swarmActive && (await stackExists(sel.n))) throw new LabStartError(`lab ${sel.n} is deployed on this swarm (stack ${sel.project}); a lab number is used once: \`npx mail-lab down${sel.n ? ` --lab ${sel.n}` : ''}\` first, or pick another --lab`);
    // Ports held by something else; the lab's own running containers hold them rightly.
    if (!running) {
      const taken = await takenPorts(sel);
      if (taken.length) throw new LabStartError(`nothing of lab ${sel.n} was started: ${taken.join('; ')}`);
    }
    const lab = prepareComposeLab(sel.base, sel.n, sel.file);
    if (o.build ?? true) {
      log('building the images');
      await buildImages({ offline: o.offline ? true : 'auto', log: (l) => log('  ' + l), lab });
    }
    log(`starting lab ${sel.n} (compose project ${sel.project})`);
    await composeUp(lab, (l) => log('  ' + l));
  }
  log('waiting for every service to answer');
  const { elapsedMs, probes } = await waitForLab(sel.config, o.timeoutMs, log, o.local ? undefined : () => crashing(sel));
  return { elapsedMs, totalMs: Date.now() - started, probes };
}

/** A container of the lab that keeps restarting or has stopped, with the last lines of its log; null when none. */
async function crashing(sel: SelectedLab): Promise<string | null> {
  const bad = (await composePs(sel.project).catch(() => [])).find((c) => c.state === 'restarting' || (c.state === 'exited' && c.service !== 'client'));
  if (!bad) return null;
  const logs = await run('docker', ['logs', '--tail', '3', bad.name], { timeout: 10_000 }).then(
    (r) => (r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | '),
    () => '',
  );
  return `${bad.name} is ${bad.state === 'restarting' ? 'restarting again and again' : 'stopped'}${logs ? `; its last log lines: ${logs}` : ''} (\`docker logs ${bad.name}\`)`;
}

/** Stops lab `sel`, Docker or no-Docker; `volumes` also deletes its data. Returns what was stopped, in words. */
export async function stopLab(sel: SelectedLab, o: { volumes?: boolean; log: LogFn }): Promise<string> {
  if (runningLocalLab(sel.n)) {
    await stopLocalLab(o.log, o.volumes, sel.n);
    return `no-Docker lab ${sel.n} stopped`;
  }
  const engine = await dockerEngine();
  if (!engine) throw new LabStartError(`lab ${sel.n} is not running (no no-Docker lab ${sel.n}, and no Docker engine answers)`);
  // A stack of this lab number is taken down whether or not --engine swarm was given.
  if (sel.engine === 'swarm' || (engine.swarmActive && (await stackExists(sel.n)))) return stopSwarmLab(sel, o);
  const lab = prepareComposeLab(sel.base, sel.n, sel.file);
  await composeDown(lab, { volumes: o.volumes }, o.log);
  // The volumes held the admin token: the host's copy of it goes with them.
  if (o.volumes) rmSync(dockerTokenCacheFile(sel.n), { force: true });
  return `lab ${sel.n} stopped`;
}
