/**
 * The no-Docker lab (`mail-lab up --local [--lab N]`): the lab DNS and each
 * mail domain as plain Node processes on 127.0.0.1, on the same host ports
 * as the Docker lab N (DNS on the lab's hostPort, 10053 for lab 0). Data,
 * the lab CA (`ca/`), the admin token and logs go to `.lab-data/` (lab 0) or
 * `.lab-data/labs/NN/`; the PIDs to `local.json` there, so `down` ends
 * exactly the processes `up` started.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { LabConfig } from '../services/core/src/config';
import { repoRoot } from './lab-docker';
import { localDataRoot } from './lab-files';
import { localStateFile, runningLocalLab, type LocalState } from './lab-target';
import { localAdminTokenFile } from './admin-token';

/**
 * The services' node options, as the Dockerfile's NODE_OPTIONS sets them for the containers (a
 * test checks the two agree): young generation semi-spaces of at most 8 MB (see the Dockerfile).
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=8';

/**
 * The environment every service process gets, as the Dockerfile's ENV gives the containers:
 * glibc malloc tuning and SERVICE_NODE_OPTIONS (a value the environment already has wins).
 * `up --local` and the benches' own copies of the lab run their services with it.
 */
export function serviceProcessEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2', MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? '131072', NODE_OPTIONS: env.NODE_OPTIONS ?? SERVICE_NODE_OPTIONS };
}

/** Starts lab `n` (`config` is lab n of `configFile`). */
export async function startLocalLab(config: LabConfig, configFile: string, log: (l: string) => void, n = 0): Promise<LocalState> {
  const existing = runningLocalLab(n);
  if (existing) throw new Error(`a no-Docker lab ${n} is already running (PIDs ${Object.values(existing.pids).join(', ')}); stop it with \`npx mail-lab down${n ? ` --lab ${n}` : ''}\``);
  const root = repoRoot();
  const dataRoot = localDataRoot(n);
  const shown = relative(root, dataRoot);
  mkdirSync(join(dataRoot, 'logs'), { recursive: true });
  // glibc keeps one malloc arena per libuv thread; two arenas cut resident memory under load by ~10 MB.
  // The lab's admin token: made by the first service to start, read by the CLI (scripts/admin-token.ts).
  const env = { ...process.env, MAIL_LAB_CONFIG: resolve(configFile), MAIL_LAB_LAB: String(n), MAIL_LAB_MODE: 'local', MAIL_LAB_ADMIN_TOKEN_FILE: localAdminTokenFile(n), ...serviceProcessEnv() };
  const start = (name: string, script: string, extra: Record<string, string>) => {
    const out = openSync(join(dataRoot, 'logs', `${name}.log`), 'a');
    const child = spawn(process.execPath, [join(root, 'dist', script)], { env: { ...env, ...extra }, detached: true, stdio: ['ignore', out, out] });
    child.unref();
    log(`  started ${name} (PID ${child.pid}), log: ${shown}/logs/${name}.log`);
    return child.pid!;
  };
  const pids: Record<string, number> = {};
  pids.dns = start('dns', 'services/dns/src/main.js', { MAIL_LAB_DNS_PORT: String(config.dns.hostPort), MAIL_LAB_DNS_HOST: '127.0.0.1', MAIL_LAB_DNS_ADMIN_PORT: String(config.dns.adminPort) });
  for (const d of config.domains) {
    pids[d.name] = start(d.name, 'services/mail-domain/src/main.js', { MAIL_LAB_DOMAIN: d.name, MAIL_LAB_DATA: join(dataRoot, d.name), MAIL_LAB_CA: join(dataRoot, 'ca') });
  }
  const state: LocalState = { pids, startedAt: new Date().toISOString(), config: resolve(configFile) };
  writeFileSync(localStateFile(n), JSON.stringify(state, null, 2));
  return state;
}

export async function stopLocalLab(log: (l: string) => void, removeData = false, n = 0): Promise<boolean> {
  const state = runningLocalLab(n);
  if (!state) return false;
  for (const [name, pid] of Object.entries(state.pids)) {
    try {
      process.kill(pid, 'SIGTERM');
      log(`  stopped ${name} (PID ${pid})`);
    } catch {
      log(`  ${name} (PID ${pid}) was not running`);
    }
  }
  const deadline = Date.now() + 8000;
  for (const pid of Object.values(state.pids)) {
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        break;
      }
    }
  }
  rmSync(localStateFile(n), { force: true });
  // Lab 0's data is .lab-data itself: without the labs/ of the other labs.
  if (removeData) {
    const root = localDataRoot(n);
    if (n === 0) for (const f of readdirSync(root)) if (f !== 'labs') rmSync(join(root, f), { recursive: true, force: true });
    if (n !== 0) rmSync(root, { recursive: true, force: true });
  }
  return true;
}
