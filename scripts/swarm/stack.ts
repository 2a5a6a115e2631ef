/**
 * A lab on Docker Swarm (issue 14): `up --engine swarm` deploys lab N as the
 * stack `mail-lab-NN` (swarm/render.ts) on the swarm this engine belongs to,
 * `down` removes it, `status` shows its tasks. Everything else (faults,
 * queues, trace, scenarios) goes through the published ports and admin APIs,
 * the same as for a compose lab; commands in a container find it by the
 * swarm's labels (lab-target.ts).
 *
 * What is refused, in words: an engine that is not in a swarm (with the
 * command that makes one), a worker node, a stack or compose lab with the
 * same number, a port something else holds; while the lab starts, a node
 * without the image is named, a host-mode port taken on a node is said, a
 * service that keeps failing is shown with its error and last log lines.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newAdminToken, readAdminToken } from '../../services/core/src/admin/token';
import { MAIL_API } from '../../services/core/src/admin/api';
import { AdminClient } from '../../services/core/src/admin/client';
import { inSubnet } from '../../services/core/src/swarm';
import { dockerTokenCacheFile, rememberDockerToken } from '../admin-token';
import { APP_IMAGE, buildImages, composePs, repoRoot, type LogFn } from '../lab-docker';
import { labDir, prepareComposeLab } from '../lab-files';
import { LabStartError, takenPorts, type Started, type StartOptions } from '../lab-lifecycle';
import type { SelectedLab } from '../lab-select';
import { waitForLab } from '../readiness';
import { mailService } from '../compose/render';
import { renderStack, stackName, swarmServiceName } from './render';
import { ensureLabCa } from '../../services/mail-domain/src/tls/pki';

const exec = promisify(execFile);

/** Runs docker; resolves with its output or rejects with its stderr in the message. */
async function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await exec('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

// ---------------------------------------------------------------------------
// the swarm

export interface SwarmInfo {
  /** `inactive`, `pending`, `active`, `error`, `locked`. */
  state: string;
  /** This node can deploy stacks (a manager). */
  manager: boolean;
  nodeId: string;
  nodes: number;
  error: string;
}

export async function swarmInfo(): Promise<SwarmInfo> {
  const s = JSON.parse(await docker(['info', '--format', '{{json .Swarm}}'], 15_000)) as { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; Nodes?: number; Error?: string };
  return { state: s.LocalNodeState ?? 'inactive', manager: !!s.ControlAvailable, nodeId: s.NodeID ?? '', nodes: s.Nodes ?? 0, error: s.Error ?? '' };
}

/** The swarm this engine manages, or a LabStartError that says what to run. */
export async function requireSwarm(): Promise<SwarmInfo> {
  const s = await swarmInfo();
  if (s.state === 'inactive')
    throw new LabStartError(
      'this Docker engine is not in a swarm, and `--engine swarm` deploys the lab on one. Make a single-node swarm here: ' +
        '`docker swarm init --advertise-addr 127.0.0.1` (`docker swarm leave --force` undoes it), or join this host to your swarm (`docker swarm join …`); ' +
        'or run the lab with Compose: leave out --engine swarm (docs/cluster.md)',
    );
  if (s.state !== 'active') throw new LabStartError(`this Docker engine's swarm is ${s.state}${s.error ? ` (${s.error})` : ''}; \`docker info\` says more`);
  if (!s.manager) throw new LabStartError('this node is a swarm worker: stacks are deployed from a manager node; run mail-lab there (`docker node ls` on a manager lists them)');
  return s;
}

/** Whether lab N's stack exists (false when this engine manages no swarm). */
export async function stackExists(n: number): Promise<boolean> {
  try {
    return (await docker(['service', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stackName(n)}`], 15_000)).trim() !== '';
  } catch {
    return false;
  }
}

/** The stacks of numbered labs that exist: lab numbers. */
export async function swarmLabs(): Promise<number[]> {
  try {
    const out = await docker(['service', 'ls', '--filter', 'label=com.docker.stack.namespace', '--format', '{{.Name}}'], 15_000);
    return [...new Set(out.split('\n').map((l) => /^mail-lab-(\d\d)_/.exec(l.trim())?.[1]).filter((x): x is string => !!x).map(Number))].sort((a, b) => a - b);
  } catch {
    return [];
  }
}

export interface SwarmTask {
  name: string;
  /** The service without the stack: `dns`, `mail-dadali`. */
  service: string;
  node: string;
  desired: string;
  current: string;
  error: string;
}

/** Every task of lab N's stack (also the failed ones the swarm keeps). */
export async function stackTasks(n: number): Promise<SwarmTask[]> {
  const out = await docker(['stack', 'ps', stackName(n), '--no-trunc', '--format', '{{json .}}'], 30_000);
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { Name: string; Node: string; DesiredState: string; CurrentState: string; Error: string })
    .map((t) => ({
      name: t.Name,
      service: t.Name.replace(/^\s*\\_\s*/, '').replace(`${stackName(n)}_`, '').replace(/\.\d+$/, ''),
      node: t.Node,
      desired: t.DesiredState,
      current: t.CurrentState,
      error: t.Error,
    }));
}

/** What keeps lab N from coming up, in words (null: nothing seen yet). Asked while `up` waits. */
export async function stackProblem(n: number): Promise<string | null> {
  let tasks: SwarmTask[];
  try {
    tasks = await stackTasks(n);
  } catch {
    return null;
  }
  const noImage = tasks.find((t) => /No such image|pull access denied|manifest unknown|not found: manifest/i.test(t.error));
  if (noImage)
    return (
      `node ${noImage.node || '(unknown)'} has no image ${APP_IMAGE} (task ${noImage.name}: ${noImage.error}). Every node needs it: ` +
      `\`docker save ${APP_IMAGE} | ssh ${noImage.node || 'NODE'} docker load\`, or a registry of your own (docs/cluster.md)`
    );
  const port = tasks.find((t) => t.desired === 'Running' && /host-mode port/i.test(t.error));
  if (port) return `task ${port.name} cannot be placed: ${port.error} (another program or lab holds one of lab ${n}'s ports on every node that could run it)`;
  for (const service of new Set(tasks.map((t) => t.service))) {
    const failed = tasks.filter((t) => t.service === service && /^(Failed|Rejected)/.test(t.current));
    if (failed.length >= 2) {
      const logs = await docker(['service', 'logs', '--tail', '3', '--no-task-ids', swarmServiceName(n, service)], 15_000).then(
        (o) => o.trim().split('\n').slice(-3).join(' | '),
        () => '',
      );
      return `service ${swarmServiceName(n, service)} keeps failing (${failed.length} tasks: ${failed[0].error || failed[0].current})${logs ? `; its last log lines: ${logs}` : ''} (\`docker service ps --no-trunc ${swarmServiceName(n, service)}\`)`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// up

/** The lab's admin token for the swarm secret: the one the host has for lab N, else a new one (kept 0600). */
async function stackToken(n: number): Promise<{ token: string; file: string }> {
  const file = dockerTokenCacheFile(n);
  const had = await readAdminToken(file).catch(() => null);
  const token = had ?? newAdminToken();
  if (!had) await rememberDockerToken(token, n);
  return { token, file };
}

/** Where the host keeps the lab CA of a lab on the swarm (made here, shipped to every node). */
export const swarmCaDir = (n: number) => join(labDir(n), 'swarm-ca');

/** How ports are published (MAIL_LAB_SWARM_PUBLISH: host, the default, or ingress). */
export function publishMode(env: NodeJS.ProcessEnv = process.env): 'host' | 'ingress' {
  const v = (env.MAIL_LAB_SWARM_PUBLISH ?? '').trim() || 'host';
  if (v !== 'host' && v !== 'ingress') throw new LabStartError(`MAIL_LAB_SWARM_PUBLISH must be host or ingress (got "${v}")`);
  return v;
}

/** Placement constraints by service (MAIL_LAB_SWARM_PLACEMENT, JSON: `{"mail-dadali":["node.role==worker"]}`). */
export function placementFrom(env: NodeJS.ProcessEnv = process.env): Record<string, string[]> {
  const text = (env.MAIL_LAB_SWARM_PLACEMENT ?? '').trim();
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((c) => Array.isArray(c) && c.every((x) => typeof x === 'string')))
    throw new LabStartError('MAIL_LAB_SWARM_PLACEMENT must be JSON: service -> list of placement constraints, e.g. {"mail-dadali":["node.role==worker"]}');
  return v as Record<string, string[]>;
}

/** Renders lab N's stack file into `.lab-data/labs/NN/stack.yml`. */
export async function prepareStack(sel: SelectedLab): Promise<{ file: string; token: string }> {
  const dir = labDir(sel.n);
  mkdirSync(dir, { recursive: true });
  const { token, file: tokenFile } = await stackToken(sel.n);
  // The lab CA, made once per lab on this host (down --volumes deletes it, like the lab-ca volume).
  const ca = await ensureLabCa(swarmCaDir(sel.n));
  const entryFile = join(repoRoot(), 'docker', 'swarm-entry.sh');
  const text = renderStack(sel.base, sel.n, {
    configFile: sel.file,
    configText: readFileSync(sel.file, 'utf8'),
    entryFile,
    entryText: readFileSync(entryFile, 'utf8'),
    tokenFile,
    token,
    caCertFile: ca.certFile,
    caCertText: ca.certPem,
    caKeyFile: join(ca.dir, 'ca.key'),
    publish: publishMode(),
    placement: placementFrom(),
  });
  const file = join(dir, 'stack.yml');
  writeFileSync(file, text);
  return { file, token };
}

/** Waits until the lab DNS answers every mail host with an address on the lab's overlay (it learned them). */
async function waitForAddresses(sel: SelectedLab, untilMs: number): Promise<void> {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([`127.0.0.1:${sel.config.dns.hostPort}`]);
  const subnet = sel.config.network?.subnet ?? '';
  let missing: string[] = [];
  do {
    missing = [];
    for (const d of sel.config.domains) {
      const a = await r.resolve4(d.mailHost).catch(() => [] as string[]);
      if (!a.some((x) => inSubnet(x, subnet) && x !== d.address)) missing.push(d.mailHost);
    }
    if (!missing.length) return;
    await new Promise((res) => setTimeout(res, 250));
  } while (Date.now() < untilMs);
  throw new LabStartError(`the lab DNS has not learned where ${missing.join(', ')} run (tasks.<service> in the swarm): \`docker service logs ${swarmServiceName(sel.n, 'dns')}\``);
}

/**
 * NET_ADMIN for the link faults: the stack file asks for it (`cap_add`, service API 1.41, engine
 * 20.10 and later). A CLI that dropped it gets `docker service update --cap-add`; an engine that
 * cannot give it is said plainly (the rest of the lab works, break/isolate/slow-link do not).
 */
async function ensureNetAdmin(sel: SelectedLab, token: string, log: LogFn): Promise<void> {
  for (const d of sel.config.domains) {
    const service = swarmServiceName(sel.n, mailService(d));
    const caps = await docker(['service', 'inspect', service, '--format', '{{json .Spec.TaskTemplate.ContainerSpec.CapabilityAdd}}'], 15_000).catch(() => 'null');
    if (!/NET_ADMIN/.test(caps)) {
      log(`${service} has no NET_ADMIN in its spec (this docker CLI left cap_add out): adding it with docker service update --cap-add`);
      await docker(['service', 'update', '--detach', '--cap-add', 'CAP_NET_ADMIN', service], 60_000).catch((e: Error) =>
        log(`  cannot: ${e.message.split('\n')[0]}. Without NET_ADMIN the link faults (break, isolate, slow-link) of ${d.name} answer an error; the rest of the lab works (docs/cluster.md)`),
      );
    }
    const links = await new AdminClient({ who: d.name, port: d.ports.admin, token, timeoutMs: 5000 }).call(MAIL_API.links).then(
      () => null,
      (e: Error) => e.message,
    );
    if (links) log(`warning: ${d.name} cannot read its iptables rules (${links}); break, isolate and slow-link will not work there`);
  }
}

/** Deploys lab `sel` as a stack and waits until every service answers. */
export async function startSwarmLab(sel: SelectedLab, o: StartOptions): Promise<Started> {
  const started = Date.now();
  const { log } = o;
  const swarm = await requireSwarm();
  const stack = stackName(sel.n);
  if (await stackExists(sel.n))
    throw new LabStartError(`lab ${sel.n} is already deployed on this swarm as stack ${stack} (\`npx mail-lab status --engine swarm${sel.n ? ` --lab ${sel.n}` : ''}\`; take it down: \`npx mail-lab down --engine swarm${sel.n ? ` --lab ${sel.n}` : ''}\`)`);
  const compose = (await composePs(sel.project).catch(() => [])).filter((c) => c.service);
  if (compose.length) throw new LabStartError(`lab ${sel.n} runs with Compose on this host (project ${sel.project}); a lab number is used once: \`npx mail-lab down${sel.n ? ` --lab ${sel.n}` : ''}\` first, or pick another --lab`);
  const taken = await takenPorts(sel);
  if (taken.length) throw new LabStartError(`nothing of lab ${sel.n} was deployed: ${taken.join('; ')}`);
  if (o.build ?? true) {
    log('building the image (this node; the other nodes need it too: docs/cluster.md)');
    await buildImages({ offline: o.offline ? true : 'auto', log: (l) => log('  ' + l), lab: prepareComposeLab(sel.base, sel.n, sel.file) });
  }
  if (!existsSync(join(repoRoot(), 'docker', 'swarm-entry.sh'))) throw new LabStartError('docker/swarm-entry.sh is missing from this checkout');
  const { file, token } = await prepareStack(sel);
  log(`deploying lab ${sel.n} as stack ${stack} on a swarm of ${swarm.nodes} node(s)`);
  try {
    const out = await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', file, stack], 120_000);
    for (const l of out.split('\n')) if (l.trim()) log('  ' + l.trim());
  } catch (e) {
    throw new LabStartError(`docker stack deploy refused lab ${sel.n}: ${(e as Error).message}`);
  }
  const deployed = Date.now();
  log('waiting for every service to answer');
  const { probes } = await waitForLab(sel.config, o.timeoutMs, log, () => stackProblem(sel.n));
  await waitForAddresses(sel, deployed + o.timeoutMs);
  const elapsedMs = Date.now() - deployed;
  await ensureNetAdmin(sel, token, log);
  return { elapsedMs, totalMs: Date.now() - started, probes };
}

// ---------------------------------------------------------------------------
// down

async function waitGone(list: () => Promise<string>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await list().catch(() => '')).trim()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Removes lab N's stack (and with `volumes` its volumes on this node and the host's copy of its token). */
export async function stopSwarmLab(sel: SelectedLab, o: { volumes?: boolean; log: LogFn }): Promise<string> {
  const stack = stackName(sel.n);
  const swarm = await swarmInfo().catch(() => null);
  if (!(await stackExists(sel.n))) {
    if (swarm?.state !== 'active') throw new LabStartError(`lab ${sel.n} is not deployed: this Docker engine is not in a swarm`);
    if (!o.volumes) return `lab ${sel.n} is not deployed on this swarm; nothing to stop`;
  } else {
    o.log(`removing stack ${stack}`);
    await docker(['stack', 'rm', stack], 60_000);
  }
  // stack rm returns at once; the containers and the network go afterwards. A new deploy of the
  // same lab right away would find the old network still there.
  const containers = () => docker(['ps', '-a', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`], 15_000);
  if (!(await waitGone(containers, 60_000))) o.log(`some containers of ${stack} are still there after 60 s (\`docker ps -a --filter label=com.docker.stack.namespace=${stack}\`)`);
  await waitGone(() => docker(['network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`], 15_000), 30_000);
  if (o.volumes) {
    const vols = (await docker(['volume', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`], 15_000).catch(() => '')).split('\n').filter(Boolean);
    if (vols.length) await docker(['volume', 'rm', ...vols], 60_000);
    o.log(`deleted ${vols.length} volume(s) of ${stack} on this node${swarm && swarm.nodes > 1 ? `; on the other nodes: \`docker volume ls --filter label=com.docker.stack.namespace=${stack}\` and \`docker volume rm\` there` : ''}`);
    rmSync(dockerTokenCacheFile(sel.n), { force: true });
    rmSync(swarmCaDir(sel.n), { recursive: true, force: true });
  }
  return `lab ${sel.n} (stack ${stack}) stopped`;
}

/** One line per service for `status`: where its task runs and in which state. */
export async function swarmStatusLines(n: number): Promise<string[]> {
  const tasks = (await stackTasks(n).catch(() => [])).filter((t) => t.desired === 'Running');
  return tasks.map((t) => `${t.service.padEnd(18)} node ${t.node || '-'}: ${t.current}${t.error ? ` (${t.error})` : ''}`);
}
