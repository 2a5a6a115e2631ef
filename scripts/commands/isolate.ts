/**
 * Fault `isolate <domain>`: one mail domain cut off from the lab backbone
 * entirely (no DNS, no other domain, no client container), while the
 * instructor and the students on the host still reach it through its
 * published ports, so they can watch its queue fill up.
 *
 * Docker lab: iptables inside that domain's container (run as root through
 * `docker exec`, the container has NET_ADMIN) drops every packet arriving
 * from the backbone subnet except from the bridge gateway, which is where
 * the published-port traffic from the host comes from (docker-proxy, or the
 * host's NAT). Incoming only: what it sends still leaves but no answer comes
 * back, so, as with a pulled cable, its connections and DNS lookups time out
 * and connections to it time out too (dropping its outgoing packets would
 * give it an instant "operation not permitted" instead). The queues defer,
 * never bounce.
 *
 * No-Docker lab: there is no network between the domains, so the domain's
 * own queue treats every remote domain as unreachable (admin API
 * /faults/isolate) and the other domains' servers treat it as unreachable
 * (/faults/isolated-peer/<domain>), which is what the Docker rules do to
 * packets. Links cut with `break` are kept apart and stay as they are.
 */
import type { DomainConfig, LabConfig } from '../../services/core/src/config';
import { adminRequest, containerOf, type LabTarget } from '../lab-target';

type Exec = NonNullable<LabTarget['netExec']>;

const COMMENT = 'mail-lab-isolate';
const CHAIN_IN = 'MAIL-LAB-ISOLATE-IN';

/** The backbone as the container sees it: its subnet and the bridge gateway. */
export function parseRoutes(routes: string): { subnet: string; gateway: string } | null {
  const gateway = /^default via (\d+\.\d+\.\d+\.\d+)/m.exec(routes)?.[1];
  // e.g. "172.29.25.0/24 dev eth0 proto kernel scope link src 172.29.25.10"
  const subnet = /^(\d+\.\d+\.\d+\.\d+\/\d+) dev \S+ proto kernel/m.exec(routes)?.[1];
  return gateway && subnet ? { subnet, gateway } : null;
}

/** The chain's contents: the gateway (published ports) passes, the rest of the backbone is dropped. */
export function isolationRules(net: { subnet: string; gateway: string }): string[][] {
  return [
    ['-A', CHAIN_IN, '-s', net.gateway, '-j', 'RETURN'],
    ['-A', CHAIN_IN, '-s', net.subnet, '-j', 'DROP'],
  ];
}

/** The jump from INPUT (iptables takes one -s per rule, hence a chain of its own). */
const JUMPS = [['INPUT', '-m', 'comment', '--comment', COMMENT, '-j', CHAIN_IN]];

async function backbone(exec: Exec, container: string): Promise<{ subnet: string; gateway: string }> {
  const r = await exec(container, ['ip', '-4', 'route', 'show']);
  const net = r.code === 0 ? parseRoutes(r.output) : null;
  if (!net) throw new Error(`cannot find the backbone subnet and gateway in ${container} (\`ip -4 route\` said: ${r.output.trim() || `exit status ${r.code}`})`);
  return net;
}

/** Is the container's isolation on (its jumps present)? */
async function isIsolated(exec: Exec, container: string): Promise<boolean> {
  const r = await exec(container, ['iptables', '-w', '-S']);
  if (r.code !== 0) throw new Error(`iptables in ${container} failed: ${r.output.trim()}`);
  return r.output.includes(`--comment ${COMMENT}`);
}

async function dockerIsolation(exec: Exec, d: DomainConfig, on: boolean): Promise<{ changed: boolean; how: string }> {
  const container = containerOf(d.name);
  if ((await isIsolated(exec, container)) === on) return { changed: false, how: '' };
  const ipt = async (args: string[], mayFail = false) => {
    const r = await exec(container, ['iptables', '-w', ...args]);
    if (r.code !== 0 && !mayFail) throw new Error(`iptables ${args.join(' ')} in ${container} failed: ${r.output.trim()}`);
  };
  if (!on) {
    for (const j of JUMPS) await ipt(['-D', ...j], true);
    await ipt(['-F', CHAIN_IN], true);
    await ipt(['-X', CHAIN_IN], true);
    return { changed: true, how: `iptables in ${container}` };
  }
  const net = await backbone(exec, container);
  await ipt(['-N', CHAIN_IN], true); // may be left over from a half-done attempt: flushed next
  await ipt(['-F', CHAIN_IN]);
  for (const rule of isolationRules(net)) await ipt(rule);
  for (const j of JUMPS) await ipt(['-I', ...j]);
  return { changed: true, how: `iptables in ${container}: DROP of everything arriving from ${net.subnet} except from the gateway ${net.gateway} (the host's published ports)` };
}

async function localIsolation(config: LabConfig, d: DomainConfig, on: boolean): Promise<{ changed: boolean; how: string }> {
  const r = await adminRequest<{ changed: boolean }>(d, `/faults/isolate${on ? '' : '/clear'}`, 'POST');
  // The other servers treat it as unreachable; apart from their links (`break`), so each is cleared on its own.
  let peers = false;
  for (const peer of config.domains.filter((p) => p.name !== d.name)) peers = (await adminRequest<{ changed: boolean }>(peer, `/faults/isolated-peer/${d.name}${on ? '' : '/clear'}`, 'POST')).changed || peers;
  return {
    changed: r.changed || peers,
    how: `no-Docker lab: the queue of ${d.name} treats every remote domain as unreachable, the other servers treat ${d.name} so; students on this machine still reach its ports`,
  };
}

export async function setIsolation(target: LabTarget, d: DomainConfig, on: boolean): Promise<{ changed: boolean; how: string }> {
  return target.netExec ? dockerIsolation(target.netExec, d, on) : localIsolation(target.config, d, on);
}

/** Docker lab: the isolated domains (the no-Docker lab lists them with the domain's own faults). */
export async function listIsolated(exec: Exec, config: LabConfig): Promise<string[]> {
  const out: string[] = [];
  for (const d of config.domains) if (await isIsolated(exec, containerOf(d.name))) out.push(d.name);
  return out;
}
