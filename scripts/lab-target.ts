/**
 * The running lab as the CLI and the scenario runner see it, whichever way
 * it was started: Docker (compose) or no-Docker (`up --local`, plain Node
 * processes on loopback). Both publish the same host ports (the contract in
 * the lab definition), so talking to the services is the same; only
 * breaking a link differs: iptables inside the two mail containers
 * (dockerode exec) or the sending servers' admin API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import Docker from 'dockerode';
import type { LabConfig, DomainConfig } from '../services/core/src/config';
import { requireDomain } from '../services/core/src/config';
import { repoRoot } from './lab-docker';

export type LabMode = 'docker' | 'local';

export interface LinkState {
  a: string;
  b: string;
  broken: boolean;
  how: string;
}

export interface LabTarget {
  mode: LabMode;
  config: LabConfig;
  /** JSON from a domain's admin API. */
  admin<T = unknown>(domain: string, path: string, method?: 'GET' | 'POST'): Promise<T>;
  breakLink(a: string, b: string): Promise<{ changed: boolean; how: string }>;
  healLink(a: string, b: string): Promise<{ changed: boolean; how: string }>;
  links(): Promise<LinkState[]>;
  /** Runs a command in a lab container as the container's own user, mail-lab (Docker mode only). */
  exec?(container: string, cmd: string[]): Promise<{ code: number; output: string }>;
  /** Runs iptables/tc for the link faults as root in a mail container (Docker mode only). */
  netExec?(container: string, cmd: string[]): Promise<{ code: number; output: string }>;
}

export const localStateFile = () => join(repoRoot(), '.lab-data', 'local.json');

export interface LocalState {
  pids: Record<string, number>;
  startedAt: string;
  config: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The no-Docker lab's state, if one is running. */
export function runningLocalLab(): LocalState | null {
  const file = localStateFile();
  if (!existsSync(file)) return null;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  return Object.values(state.pids).some(alive) ? state : null;
}

export const containerOf = (domain: string) => `mail-lab-${domain.split('.')[0]}`;

/**
 * JSON from a domain's admin API. node:http, not fetch(): fetch refuses
 * "bad ports" such as 10080 (the garudayaksa.com admin port).
 */
export function adminRequest<T>(d: DomainConfig, path: string, method: 'GET' | 'POST' = 'GET'): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: d.ports.admin, path, method, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: T & { error?: string };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { error?: string };
        } catch {
          return reject(new Error(`${d.name} admin answered HTTP ${res.statusCode} with something that is not JSON`));
        }
        if ((res.statusCode ?? 500) >= 400) return reject(new Error(body.error ?? `${d.name} admin answered HTTP ${res.statusCode}`));
        resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (e) =>
      reject(new Error(`cannot reach the admin interface of ${d.name} on 127.0.0.1:${d.ports.admin} (is the lab up? try \`npx mail-lab status\`): ${(e as NodeJS.ErrnoException).code ?? e.message}`)),
    );
    req.end();
  });
}

function checkPair(config: LabConfig, a: string, b: string): [DomainConfig, DomainConfig] {
  const da = requireDomain(config, a);
  const db = requireDomain(config, b);
  if (da.name === db.name) throw new Error(`a link joins two different domains; got ${a} twice`);
  return [da, db];
}

const pairs = (config: LabConfig) => config.domains.flatMap((a, i) => config.domains.slice(i + 1).map((b) => [a, b] as const));

function localTarget(config: LabConfig): LabTarget {
  const setLink = async (a: string, b: string, action: 'break' | 'heal') => {
    const [da, db] = checkPair(config, a, b);
    const r1 = await adminRequest<{ changed: boolean }>(da, `/links/${db.name}/${action}`, 'POST');
    const r2 = await adminRequest<{ changed: boolean }>(db, `/links/${da.name}/${action}`, 'POST');
    return { changed: r1.changed || r2.changed, how: 'outbound SMTP between the two servers is blocked in the servers (no-Docker mode)' };
  };
  return {
    mode: 'local',
    config,
    admin: (domain, path, method) => adminRequest(requireDomain(config, domain), path, method),
    breakLink: (a, b) => setLink(a, b, 'break'),
    healLink: (a, b) => setLink(a, b, 'heal'),
    async links() {
      const out: LinkState[] = [];
      for (const [a, b] of pairs(config)) {
        const { broken } = await adminRequest<{ broken: string[] }>(a, '/links');
        out.push({ a: a.name, b: b.name, broken: broken.includes(b.name), how: 'in-server block' });
      }
      return out;
    },
  };
}

function dockerTarget(config: LabConfig): LabTarget {
  const docker = new Docker();
  // Reading (mailbox files, the CA) runs as the container's own user: root in these containers
  // has no capabilities, so it could not read a file of mail-lab's with mode 0600 (issue 9).
  const execAs = async (user: string | undefined, container: string, cmd: string[]) => {
    const c = docker.getContainer(container);
    let e;
    try {
      e = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, ...(user ? { User: user } : {}) });
    } catch (err) {
      throw new Error(`cannot run a command in ${container} (is the lab up? \`npx mail-lab status\`): ${(err as Error).message}`);
    }
    const stream = await e.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      const out = { write: (b: Buffer) => chunks.push(Buffer.from(b)) } as unknown as NodeJS.WritableStream;
      docker.modem.demuxStream(stream, out, out);
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
    });
    const info = await e.inspect();
    return { code: info.ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') };
  };
  const exec = (container: string, cmd: string[]) => execAs(undefined, container, cmd);
  const netExec = (container: string, cmd: string[]) => execAs('root', container, cmd);
  const rule = (peer: DomainConfig) => ['OUTPUT', '-d', peer.address, '-m', 'comment', '--comment', `mail-lab-break-${peer.name}`, '-j', 'DROP'];
  const hasRule = async (from: DomainConfig, to: DomainConfig) => (await netExec(containerOf(from.name), ['iptables', '-w', '-C', ...rule(to)])).code === 0;
  const setRule = async (from: DomainConfig, to: DomainConfig, on: boolean) => {
    const present = await hasRule(from, to);
    if (present === on) return false;
    const r = await netExec(containerOf(from.name), ['iptables', '-w', on ? '-I' : '-D', ...rule(to)]);
    if (r.code !== 0) throw new Error(`iptables in ${containerOf(from.name)} failed: ${r.output.trim()}`);
    return true;
  };
  const how = 'iptables DROP between the two mail containers: connections time out';
  return {
    mode: 'docker',
    config,
    admin: (domain, path, method) => adminRequest(requireDomain(config, domain), path, method),
    async breakLink(a, b) {
      const [da, db] = checkPair(config, a, b);
      const c1 = await setRule(da, db, true);
      const c2 = await setRule(db, da, true);
      return { changed: c1 || c2, how };
    },
    async healLink(a, b) {
      const [da, db] = checkPair(config, a, b);
      const c1 = await setRule(da, db, false);
      const c2 = await setRule(db, da, false);
      return { changed: c1 || c2, how };
    },
    async links() {
      const out: LinkState[] = [];
      for (const [a, b] of pairs(config)) out.push({ a: a.name, b: b.name, broken: (await hasRule(a, b)) || (await hasRule(b, a)), how: 'iptables' });
      return out;
    },
    exec,
    netExec,
  };
}

/** The lab that is running: the no-Docker one if its processes are alive, else Docker. */
export function labTarget(config: LabConfig, mode?: LabMode): LabTarget {
  const m = mode ?? (runningLocalLab() ? 'local' : 'docker');
  return m === 'local' ? localTarget(config) : dockerTarget(config);
}
