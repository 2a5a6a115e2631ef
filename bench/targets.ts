/**
 * The lab under test, whichever way it runs. No-Docker (default): the
 * bench's own copy of the lab on shifted ports, spawned and stopped here,
 * mailboxes read as files, memory from /proc. Docker (`--docker`): the
 * compose lab on the contract ports, started with `npx mail-lab up
 * --no-build` (unless it already runs), mailboxes read from the volumes
 * when the host can see them (else through the admin API), memory from
 * `docker stats`; stopped at the end only if the bench started it.
 */
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadLabConfig, requireDomain, type LabConfig } from '../services/core/src/config';
import { probeLab } from '../scripts/readiness';
import { composeDown, composeFile, repoRoot } from '../scripts/lab-docker';
import { labTarget, runningLocalLab, type LabTarget } from '../scripts/lab-target';
import { MAIL_API } from '../services/core/src/admin/api';
import { readAdminToken } from '../services/core/src/admin/token';
import { labPorts, portFree, spawnLab, writeLabCopy } from './lab-copy';
import { adminSource, fileSource, type MboxSource } from './mailbox-watch';
import { dockerStats, sampleProcs } from './memory';
import { dockerUp, waitAllAnswer, type StartupResult } from './startup';

export interface LabUnderTest {
  mode: 'local' | 'docker';
  config: LabConfig;
  /** null when the lab was already running (Docker mode). */
  startup: StartupResult | null;
  /** Memory per service, KiB. */
  memory(): Promise<Map<string, number>>;
  /** How memory is measured, for the report. */
  memoryHow: string;
  /** The INBOX of a user. */
  mailbox(domain: string, user: string): Promise<MboxSource>;
  queueEmpty(domain: string): Promise<boolean>;
  notes: string[];
  stop(): Promise<void>;
}

const queueEmpty = (target: LabTarget) => async (domain: string) => (await target.mail(domain).call(MAIL_API.queueSummary)).size === 0;

export async function startLocalTarget(o: { dir: string; distRoot: string; offset: number | 'bench'; profileDir?: string; log: (l: string) => void }): Promise<LabUnderTest> {
  const copy = writeLabCopy(join(repoRoot(), 'lab-scenarios', 'lab.yaml'), o.dir, o.offset);
  const busy: number[] = [];
  for (const p of labPorts(copy.config)) if (!(await portFree(p))) busy.push(p);
  if (busy.length) throw new Error(`ports ${busy.join(', ')} are in use on 127.0.0.1; choose another offset with --port-offset`);
  o.log(`   lab copy: ${copy.file} (host ports ${o.offset === 'bench' ? "in the bench's block 30025-31995" : `+ ${o.offset}`}), data and logs in ${o.dir}`);
  const lab = spawnLab(copy, o.distRoot, o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []);
  let startup: StartupResult;
  try {
    startup = await waitAllAnswer(copy.config, lab.spawnedAt);
  } catch (e) {
    await lab.stop();
    throw e;
  }
  o.log(`   PIDs: ${Object.entries(lab.pids).map(([n, p]) => `${n} ${p}`).join(', ')}`);
  const target = labTarget(copy.config, 'local', { token: (await readAdminToken(lab.tokenFile)) ?? undefined });
  return {
    mode: 'local',
    config: copy.config,
    startup,
    memory: async () => sampleProcs(lab.pids),
    memoryHow: 'VmRSS from /proc/<pid>/status',
    mailbox: async (domain, user) => fileSource(join(copy.dir, domain, 'mail', user)),
    queueEmpty: queueEmpty(target),
    notes: [`service logs: ${lab.logsDir} (kept with --keep-data)`],
    stop: () => lab.stop(),
  };
}

function volumeMountpoint(volume: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('docker', ['volume', 'inspect', '--format', '{{.Mountpoint}}', volume], { timeout: 15_000 }, (err, stdout) => resolve(err ? null : stdout.trim() || null));
  });
}

export async function startDockerTarget(o: { log: (l: string) => void; keep: boolean }): Promise<LabUnderTest> {
  const repo = repoRoot();
  const config = loadLabConfig(join(repo, 'lab-scenarios', 'lab.yaml')).config;
  if (runningLocalLab()) throw new Error('a no-Docker lab (`mail-lab up --local`) holds the contract ports; the Docker measurement needs them');
  const already = (await probeLab(config, 1000)).some((p) => p.ok);
  let startup: StartupResult | null = null;
  if (already) o.log('   the Docker lab already answers: start-up is not measured, and the lab is left running');
  else {
    o.log('   npx mail-lab up --no-build');
    const t = performance.now();
    startup = await dockerUp(config, repo, o.log);
    o.log(`   up returned after ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const containers = ['dns', ...config.domains.map((d) => d.name)];
  const notes: string[] = [];
  const target = labTarget(config, 'docker');
  const names = new Map(containers.map((c) => [target.container(c), c]));
  return {
    mode: 'docker',
    config,
    startup,
    memoryHow: 'docker stats --no-stream (container memory usage)',
    async memory() {
      const stats = await dockerStats([...names.keys()]);
      return new Map([...stats].map(([name, kib]) => [names.get(name) ?? name, kib]));
    },
    async mailbox(domain, user) {
      const mount = await volumeMountpoint(`mail-lab_${domain.split('.')[0]}-data`);
      const path = mount ? join(mount, 'mail', user) : null;
      if (path && (await fs.access(path).then(() => true, () => false))) return fileSource(path);
      const note = `mailboxes of ${domain} read through its admin API (the volume is not readable from the host)`;
      if (!notes.includes(note)) notes.push(note);
      return adminSource(target, requireDomain(config, domain), user);
    },
    queueEmpty: queueEmpty(target),
    notes,
    async stop() {
      if (already || o.keep) return;
      o.log('   stopping the Docker lab the bench started (compose down -v: the bench filled its mailboxes)');
      await composeDown({ project: 'mail-lab', file: composeFile() }, { volumes: true }, (l) => o.log(`   ${l}`));
    },
  };
}
