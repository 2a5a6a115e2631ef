/**
 * The running lab as the CLI, the scenario runner, the bench and the tests
 * see it, whichever way it was started: Docker (compose) or no-Docker
 * (`up --local`, plain Node processes on loopback). Both publish the same
 * host ports (the contract in the lab definition), so talking to the
 * services is the same: the typed admin clients (one per mail domain, one
 * for the lab DNS) with the lab's admin token. Docker mode can also run a
 * command in a lab container (as the container's own user).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { AdminClient } from '../services/core/src/admin/client';
import type { LabConfig } from '../services/core/src/config';
import { requireDomain } from '../services/core/src/config';
import { cachedDockerToken, dockerAdminToken, localAdminToken, rememberDockerToken, type ContainerExec } from './admin-token';
import { containerName, mailService, shortName } from './compose/render';
import { labProject } from '../services/core/src/labs';
import { labDir, localDataRoot } from './lab-files';

export type LabMode = 'docker' | 'local';

export interface LabTarget {
  mode: LabMode;
  /** The lab number (0 … 90). */
  lab: number;
  /** Lab N of the definition: its addresses and host ports. */
  config: LabConfig;
  /** The container of a service of this lab: `dns`, `client`, or a domain (`dadali.com`). */
  container(service: string): string;
  /** The typed client of a mail domain's admin API (host port `ports.admin`). */
  mail(domain: string): AdminClient;
  /** The typed client of the lab DNS's admin API (host port `dns.adminPort`). */
  dns(): AdminClient;
  /** The lab's admin token. */
  token(): Promise<string>;
  /** Runs a command in a lab container as the container's own user, mail-lab (Docker mode only). */
  exec?: ContainerExec;
}

/** The no-Docker lab N's process list: `.lab-data/local.json` (lab 0), `.lab-data/labs/NN/local.json`. */
export const localStateFile = (n = 0) => (n === 0 ? join(localDataRoot(0), 'local.json') : join(labDir(n), 'local.json'));

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

/** The no-Docker lab N's state, if it is running. */
export function runningLocalLab(n = 0): LocalState | null {
  const file = localStateFile(n);
  if (!existsSync(file)) return null;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  return Object.values(state.pids).some(alive) ? state : null;
}


/**
 * Runs commands in the lab's containers through the Docker API. A container
 * is found by its labels, not by its name: compose's (project and service),
 * else Docker Swarm's (stack namespace and service `<stack>_<service>`, the
 * lab on Swarm: only the tasks on this node); `service(name)` tells which
 * service a name of `container()` is.
 */
function dockerExec(project: string, service: (name: string) => string): { exec: ContainerExec } {
  // Loaded here, when a command first runs something in a container: ≈120 ms of every command's start.
  const Dockerode: typeof Docker = require('dockerode');
  const docker = new Dockerode();
  const ids = new Map<string, string>();
  /** The running container of a service of this lab, by its labels. */
  const find = async (name: string): Promise<string> => {
    const cached = ids.get(name);
    if (cached) return cached;
    // A swarm task carries the compose labels of the image it runs (compose built it): not a compose container.
    const compose = (await docker.listContainers({ filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service(name)}`] } })).filter((c) => !c.Labels?.['com.docker.swarm.service.name']);
    const found = compose.length ? compose : await docker.listContainers({ filters: { label: [`com.docker.stack.namespace=${project}`, `com.docker.swarm.service.name=${project}_${service(name)}`] } });
    if (!found.length) throw Object.assign(new Error(`no such container: ${name} (no running container of service ${service(name)} in compose project ${project}, nor a task of ${project}_${service(name)} on this swarm node)`), { statusCode: 404 });
    ids.set(name, found[0].Id);
    return found[0].Id;
  };
  // As mail-lab, the containers' own user (on Swarm the container starts as root for its entry
  // script, so it is named): root in these containers has no capabilities, so it could not read a
  // file of mail-lab's with mode 0600 (the token); the host never execs as root.
  const exec = async (container: string, cmd: string[]) => {
    let e;
    try {
      e = await docker.getContainer(await find(container)).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: 'mail-lab' });
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
  return { exec };
}

export interface LabTargetOptions {
  /** The admin token, when the caller has it (a test lab); else it is looked up for the mode. */
  token?: string;
  /** The lab number `config` is lab N of (containers, token and state files). @default 0 */
  lab?: number;
}

/** The lab that is running: the no-Docker one if its processes are alive, else Docker. */
export function labTarget(config: LabConfig, mode?: LabMode, options: LabTargetOptions = {}): LabTarget {
  const n = options.lab ?? 0;
  const m = mode ?? (runningLocalLab(n) ? 'local' : 'docker');
  // `dns`, `client`, a domain (`dadali.com`) or its short name (`dadali`, as scenario files write it).
  const short = (service: string) => (service.includes('.') ? shortName({ name: service }) : service);
  const container = (service: string) => containerName(n, short(service));
  // Container name -> compose service: dns, client, mail-<short> (compose/render.ts).
  const composeService = (name: string) => {
    const s = name.slice(labProject(n).length + 1);
    return s === 'dns' || s === 'client' ? s : mailService({ name: s });
  };
  const execs = m === 'docker' ? dockerExec(labProject(n), composeService) : undefined;
  let token: Promise<string> | undefined;
  /** Docker: the token read in a lab container (and kept on the host for the next command). */
  const fromVolume = async () => {
    const t = await dockerAdminToken(execs!.exec, [container('dns'), ...config.domains.map((d) => container(d.name))], n);
    await rememberDockerToken(t, n).catch(() => undefined);
    return t;
  };
  const getToken = () => {
    token ??= options.token
      ? Promise.resolve(options.token)
      : m === 'local'
        ? localAdminToken(n)
        : cachedDockerToken(n).then((cached) => cached ?? fromVolume());
    // A failed lookup is tried again next time (the lab may be starting).
    token.catch(() => (token = undefined));
    return token;
  };
  // A 401 with the host's copy: the lab was made anew (new volume, new token); read it again.
  const refreshToken = m === 'docker' && !options.token && !process.env.MAIL_LAB_ADMIN_TOKEN ? async () => (token = fromVolume()) : undefined;
  const clients = new Map<string, AdminClient>();
  const client = (key: string, who: string, port: number) => {
    let c = clients.get(key);
    if (!c) clients.set(key, (c = new AdminClient({ who, port, token: getToken, refreshToken })));
    return c;
  };
  return {
    mode: m,
    lab: n,
    container,
    config,
    mail: (domain) => {
      const d = requireDomain(config, domain);
      return client(d.name, d.name, d.ports.admin);
    },
    dns: () => client('dns', 'the lab DNS', config.dns.adminPort),
    token: getToken,
    ...(execs ?? {}),
  };
}
