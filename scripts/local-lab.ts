/**
 * The no-Docker lab (`mail-lab up --local`): the lab DNS and each mail
 * domain as plain Node processes on 127.0.0.1, on the same host ports as
 * the Docker lab (DNS on the lab's hostPort, 10053 by default). Data, the
 * lab CA (`.lab-data/ca/`) and logs go to `.lab-data/` in the repository; the PIDs to
 * `.lab-data/local.json`, so `down` ends exactly the processes `up` started.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LabConfig } from '../services/core/src/config';
import { repoRoot } from './lab-docker';
import { localStateFile, runningLocalLab, type LocalState } from './lab-target';
import { localAdminTokenFile } from './admin-token';

export async function startLocalLab(config: LabConfig, configFile: string, log: (l: string) => void): Promise<LocalState> {
  const existing = runningLocalLab();
  if (existing) throw new Error(`a no-Docker lab is already running (PIDs ${Object.values(existing.pids).join(', ')}); stop it with \`npx mail-lab down\``);
  const root = repoRoot();
  const dataRoot = join(root, '.lab-data');
  mkdirSync(join(dataRoot, 'logs'), { recursive: true });
  // glibc keeps one malloc arena per libuv thread; two arenas cut resident memory under load by ~10 MB.
  // The lab's admin token: made by the first service to start, read by the CLI (scripts/admin-token.ts).
  const env = { ...process.env, MAIL_LAB_CONFIG: resolve(configFile), MAIL_LAB_MODE: 'local', MAIL_LAB_ADMIN_TOKEN_FILE: localAdminTokenFile(), MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072' };
  const start = (name: string, script: string, extra: Record<string, string>) => {
    const out = openSync(join(dataRoot, 'logs', `${name}.log`), 'a');
    const child = spawn(process.execPath, [join(root, 'dist', script)], { env: { ...env, ...extra }, detached: true, stdio: ['ignore', out, out] });
    child.unref();
    log(`  started ${name} (PID ${child.pid}), log: .lab-data/logs/${name}.log`);
    return child.pid!;
  };
  const pids: Record<string, number> = {};
  pids.dns = start('dns', 'services/dns/src/main.js', { MAIL_LAB_DNS_PORT: String(config.dns.hostPort), MAIL_LAB_DNS_HOST: '127.0.0.1', MAIL_LAB_DNS_ADMIN_PORT: String(config.dns.adminPort) });
  for (const d of config.domains) {
    pids[d.name] = start(d.name, 'services/mail-domain/src/main.js', { MAIL_LAB_DOMAIN: d.name, MAIL_LAB_DATA: join(dataRoot, d.name), MAIL_LAB_CA: join(dataRoot, 'ca') });
  }
  const state: LocalState = { pids, startedAt: new Date().toISOString(), config: resolve(configFile) };
  writeFileSync(localStateFile(), JSON.stringify(state, null, 2));
  return state;
}

export async function stopLocalLab(log: (l: string) => void, removeData = false): Promise<boolean> {
  const state = runningLocalLab();
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
  rmSync(localStateFile(), { force: true });
  if (removeData) rmSync(join(repoRoot(), '.lab-data'), { recursive: true, force: true });
  return true;
}
