/**
 * The benchmark's own no-Docker lab: a copy of lab-scenarios/lab.yaml with
 * every host port moved out of the numbered labs' range (10025-29995, labs
 * 0-90; by default into the bench's own block 30025-31995, below the
 * kernel's ephemeral ports), so it never meets a lab of this host, data and
 * logs in a directory of its own under /tmp, and the three services spawned
 * exactly as scripts/local-lab.ts spawns them. Only the PIDs spawned here
 * are ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseDocument } from 'yaml';
import { loadLabConfig, type LabConfig } from '../services/core/src/config';
import { serviceProcessEnv } from '../scripts/local-lab';

export interface LabCopy {
  config: LabConfig;
  file: string;
  dir: string;
}

/**
 * The bench's port block: 10xxx -> 30xxx, 20xxx -> 31xxx (30025-31995), above every numbered lab
 * (10025-29995) and below the ephemeral ports (32768 up).
 */
export const benchPort = (p: number) => (p < 20000 ? p + 20000 : p + 11000);

/** Writes the lab definition with its host ports moved (`'bench'`: the bench's block; a number: + offset) to `<dir>/lab.yaml` and loads it. */
export function writeLabCopy(source: string, dir: string, offset: number | 'bench' = 'bench', limits: Record<string, number> = {}): LabCopy {
  const doc = parseDocument(readFileSync(source, 'utf8'));
  const move = (p: number) => (offset === 'bench' ? benchPort(p) : p + offset);
  const shift = (path: (string | number)[]) => doc.setIn(path, move(Number(doc.getIn(path))));
  shift(['dns', 'hostPort']);
  if (doc.hasIn(['dns', 'adminPort'])) shift(['dns', 'adminPort']);
  // A bench setting (e.g. the concurrency bench's connections per client), never lab.yaml itself.
  for (const [name, value] of Object.entries(limits)) doc.setIn(['limits', name], value);
  const domains = (doc.get('domains') as { items: unknown[] }).items.length;
  for (let i = 0; i < domains; i++) {
    for (const p of ['smtp', 'submission', 'pop3', 'imap', 'admin', 'smtps', 'imaps', 'pop3s']) if (doc.hasIn(['domains', i, 'ports', p])) shift(['domains', i, 'ports', p]);
  }
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, `# mail-lab bench: ${source} with every host port ${offset === 'bench' ? 'in the bench block (10xxx -> 30xxx, 20xxx -> 31xxx)' : `+ ${offset}`}\n${doc.toString()}`);
  return { config: loadLabConfig(file).config, file, dir };
}

/** Every host port of a lab definition (TCP; the DNS port is UDP and TCP). */
export function labPorts(config: LabConfig): number[] {
  return [config.dns.hostPort, config.dns.adminPort, ...config.domains.flatMap((d) => Object.values(d.ports).filter((p): p is number => p !== undefined))];
}

/** True when nothing listens on 127.0.0.1:port (TCP). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 (chosen by the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface SpawnedLab {
  /** PIDs by service: `dns`, then one per domain name. */
  pids: Record<string, number>;
  /** performance.now() just before the first spawn. */
  spawnedAt: number;
  logsDir: string;
  /** The lab copy's admin token file (made by the first service that starts). */
  tokenFile: string;
  stop(): Promise<void>;
}

/** Extra node flags for the spawned services from MAIL_LAB_BENCH_NODE_FLAGS (e.g. `--max-semi-space-size=2`), to measure V8 settings. */
export function benchNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.MAIL_LAB_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
}

/** Spawns dns and every mail domain from `distRoot` (the compiled tree), like `mail-lab up --local`; `nodeArgs` e.g. `--cpu-prof`, after those of MAIL_LAB_BENCH_NODE_FLAGS. */
export function spawnLab(copy: LabCopy, distRoot: string, nodeArgs: string[] = []): SpawnedLab {
  nodeArgs = [...benchNodeFlags(), ...nodeArgs];
  const logsDir = join(copy.dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const tokenFile = join(copy.dir, 'admin-token');
  const env = { ...process.env, MAIL_LAB_CONFIG: copy.file, MAIL_LAB_MODE: 'local', MAIL_LAB_ADMIN_TOKEN_FILE: tokenFile, ...serviceProcessEnv(), MALLOC_ARENA_MAX: '2' };
  const children: Record<string, ChildProcess> = {};
  const start = (name: string, script: string, extra: Record<string, string>) => {
    const out = openSync(join(logsDir, `${name}.log`), 'a');
    const child = spawn(process.execPath, [...nodeArgs, join(distRoot, script)], { env: { ...env, ...extra }, stdio: ['ignore', out, out] });
    closeSync(out);
    children[name] = child;
  };
  const spawnedAt = performance.now();
  start('dns', 'services/dns/src/main.js', { MAIL_LAB_DNS_PORT: String(copy.config.dns.hostPort), MAIL_LAB_DNS_HOST: '127.0.0.1', MAIL_LAB_DNS_ADMIN_PORT: String(copy.config.dns.adminPort) });
  for (const d of copy.config.domains) {
    start(d.name, 'services/mail-domain/src/main.js', { MAIL_LAB_DOMAIN: d.name, MAIL_LAB_DATA: join(copy.dir, d.name) });
  }
  const pids = Object.fromEntries(Object.entries(children).map(([n, c]) => [n, c.pid ?? -1]));
  return {
    pids,
    spawnedAt,
    logsDir,
    tokenFile,
    async stop() {
      const live = Object.values(children).filter((c) => c.exitCode === null && c.signalCode === null);
      await Promise.all(
        live.map(
          (c) =>
            new Promise<void>((resolve) => {
              const kill = setTimeout(() => c.kill('SIGKILL'), 8000);
              c.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
