/**
 * A mail domain in a lab on Docker Swarm (MAIL_LAB_DISCOVERY=swarm; issue 14).
 * The container has no fixed address, so what Compose gives by the lab
 * definition comes from the platform here (services/core/src/swarm.ts):
 *
 * - its own address: the interface on the lab's backbone (the overlay has the
 *   lab's subnet), for its certificate and for `isolate` (which backbone);
 * - the lab DNS: `tasks.dns` in Docker's embedded DNS, asked again every few
 *   seconds, so a DNS task that was rescheduled is found again;
 * - a peer for break and slow-link: `tasks.mail-<short>` at the moment of the
 *   fault (not through the lab DNS, so a dns-down fault does not stop a break),
 *   and the address a link was cut with is the one it is restored with.
 */
import type { LinkChange, LinksView } from '../../core/src/admin/api';
import { ApiError } from '../../core/src/admin/errors';
import type { DomainConfig, LabConfig } from '../../core/src/config';
import type { Logger } from '../../core/src/logger';
import { AddressWatcher, embeddedTaskLookup, inSubnet, ownAddressIn, swarmServiceOf, withAddresses, type TaskLookup } from '../../core/src/swarm';
import { IptablesLinks } from './links/iptables';
import type { CutReason, IsolationChange, LinkControl, SlowParams } from './links/types';
import { labResolver, type LabResolver } from './resolver';

/** Link faults with the peers' addresses asked of the platform (wraps the iptables links). */
export class DiscoveringLinks implements LinkControl {
  readonly method: LinksView['method'];
  /** The address each peer's cut or shaping was made with. */
  private readonly used = new Map<string, string>();

  constructor(
    private readonly inner: LinkControl,
    private readonly lookup: TaskLookup,
    private readonly subnet?: string,
  ) {
    this.method = inner.method;
  }

  /** The peer where its task is now. */
  private async now(peer: DomainConfig): Promise<DomainConfig> {
    const all = await this.lookup(swarmServiceOf(peer));
    const address = (this.subnet ? all.find((a) => inSubnet(a, this.subnet!)) : undefined) ?? all[0];
    if (!address) throw new ApiError(500, 'failed', `no task of ${peer.name} runs in the swarm now (tasks.${swarmServiceOf(peer)} has no address): start it, then try again`);
    return { ...peer, address };
  }

  /** The peer at the address a change was made with (else where it is now). */
  private async before(peer: DomainConfig): Promise<DomainConfig> {
    const address = this.used.get(peer.name);
    return address ? { ...peer, address } : this.now(peer);
  }

  view(): Promise<LinksView> {
    return this.inner.view();
  }

  async cut(peer: DomainConfig, reason: CutReason): Promise<LinkChange> {
    const at = await this.now(peer);
    const r = await this.inner.cut(at, reason);
    if (reason === 'break') this.used.set(peer.name, at.address);
    return r;
  }

  async restore(peer: DomainConfig, reason: CutReason): Promise<LinkChange> {
    return this.inner.restore(await this.before(peer), reason);
  }

  async slow(peer: DomainConfig, params: SlowParams): Promise<LinkChange> {
    const at = await this.now(peer);
    const r = await this.inner.slow(at, params);
    this.used.set(peer.name, at.address);
    return r;
  }

  async unslow(peer: DomainConfig): Promise<LinkChange> {
    return this.inner.unslow(await this.before(peer));
  }

  isolate(on: boolean): Promise<IsolationChange> {
    return this.inner.isolate(on);
  }
}

/** A LabResolver that asks the lab DNS wherever its task is now (`server()`); fails while there is none. */
export function followingResolver(server: () => string | undefined): LabResolver {
  let current: string | undefined;
  let r: LabResolver | undefined;
  const get = () => {
    const s = server();
    if (!s) throw Object.assign(new Error('the lab DNS has no task in the swarm yet (tasks.dns)'), { code: 'ECONNREFUSED' });
    if (s !== current || !r) {
      current = s;
      r = labResolver(s);
    }
    return r;
  };
  return {
    resolveMx: async (domain) => get().resolveMx(domain),
    resolve4: async (host) => get().resolve4(host),
    reverse: async (ip) => get().reverse(ip),
  };
}

export interface SwarmMailDomain {
  /** The lab with this domain's own address. */
  config: LabConfig;
  resolver: LabResolver;
  links: LinkControl;
  stop(): void;
}

/** Sets a mail domain up for the swarm: its address, the lab DNS, the link faults. */
export async function swarmMailDomain(config: LabConfig, domain: string, logger: Logger, lookup: TaskLookup = embeddedTaskLookup()): Promise<SwarmMailDomain> {
  const subnet = config.network?.subnet;
  let own: string | null = null;
  for (let i = 0; i < 50 && subnet && !(own = ownAddressIn(subnet)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!own) logger.warn(`no interface on the lab backbone ${subnet ?? '(no subnet)'}: using the definition's address`);
  const lab = own ? withAddresses(config, { domains: { [domain]: own } }) : config;
  const self = lab.domains.find((d) => d.name === domain)!;
  logger.info(`swarm: this host is ${self.mailHost} at ${self.address}; the lab DNS and the peers are found through tasks.<service> in Docker's embedded DNS`);
  const watcher = new AddressWatcher({ config, lookup, logger: logger.child('swarm') });
  const resolver = followingResolver(() => watcher.current()?.dns);
  await watcher.start();
  const peers = lab.domains.filter((d) => d.name !== domain);
  const links = new DiscoveringLinks(new IptablesLinks({ self, peers, logger: logger.child('links') }), lookup, subnet);
  return { config: lab, resolver, links, stop: () => watcher.stop() };
}
