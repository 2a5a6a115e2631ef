/**
 * `LinkControl` of the no-Docker lab (`up --local`: plain Node processes on
 * loopback, no network between the domains to cut or slow): a cut link or
 * an isolation is a block in this server's queue, kept by reachability.ts.
 * Mail to a blocked domain is deferred with "timed out", as a DROP would do.
 * slow-link cannot be made here: 400 `unsupported`, with the CLI's words.
 */
import type { LinkChange, LinksView, PeerLink } from '../../../core/src/admin/api';
import type { DomainConfig } from '../../../core/src/config';
import { ApiError } from '../../../core/src/admin/errors';
import type { Logger } from '../../../core/src/logger';
import type { Reachability } from './reachability';
import { checkPeer, type CutReason, type IsolationChange, type LinkControl, type SlowParams } from './types';

/** What slow-link answers in the no-Docker lab (as scripts/commands/fault-control.ts's needDocker). */
export const SLOW_LINK_NEEDS_DOCKER =
  'slow-link needs the Docker lab: it shapes traffic with tc and iptables inside the two mail containers, and the no-Docker lab has no network between the domains to slow down (use `npx mail-lab break` there, or start the Docker lab: `npx mail-lab down`, `npx mail-lab up`)';

export interface InServerLinksOptions {
  self: DomainConfig;
  /** The other lab domains (listed by view() even when nothing is cut). */
  peers: DomainConfig[];
  reachability: Reachability;
  logger?: Logger;
}

export class InServerLinks implements LinkControl {
  readonly method = 'in-server' as const;

  constructor(private readonly o: InServerLinksOptions) {}

  private howCut(peer: string, reason: CutReason): string {
    return reason === 'break'
      ? `no-Docker lab: this server (${this.o.self.name}) treats ${peer} as unreachable; mail to it waits in the queue (attempts time out)`
      : `no-Docker lab: ${peer} is isolated, so this server (${this.o.self.name}) treats it as unreachable; mail to it waits in the queue`;
  }

  async view(): Promise<LinksView> {
    const r = this.o.reachability;
    const names = [...new Set([...this.o.peers.map((p) => p.name).filter((n) => n !== this.o.self.name), ...r.peers()])];
    const peers: PeerLink[] = names.map((domain) => ({ domain, cut: r.cutSince(domain, 'break') !== undefined, peerIsolated: r.cutSince(domain, 'isolate') !== undefined }));
    const since = r.isolatedSince();
    return { domain: this.o.self.name, method: this.method, peers, isolated: since ? { since: since.toISOString(), how: this.howIsolated() } : null };
  }

  async cut(peer: DomainConfig, reason: CutReason): Promise<LinkChange> {
    checkPeer(this.o.self, peer);
    const changed = this.o.reachability.cut(peer.name, reason);
    if (changed) this.o.logger?.info(reason === 'break' ? `link to ${peer.name} cut (fault link): mail to it waits in the queue` : `${peer.name} is cut off from the lab backbone (fault isolate): mail to it waits in the queue`);
    return { domain: this.o.self.name, peer: peer.name, changed, how: this.howCut(peer.name, reason) };
  }

  async restore(peer: DomainConfig, reason: CutReason): Promise<LinkChange> {
    checkPeer(this.o.self, peer);
    const changed = this.o.reachability.restore(peer.name, reason);
    if (changed) this.o.logger?.info(reason === 'break' ? `link to ${peer.name} restored` : `${peer.name} is back on the lab backbone`);
    const still = this.o.reachability.blockedReason(peer.name);
    return { domain: this.o.self.name, peer: peer.name, changed, how: still ? `${peer.name} is still unreachable from here: ${still}` : `no-Docker lab: this server delivers to ${peer.name} again` };
  }

  async slow(_peer: DomainConfig, _params: SlowParams): Promise<LinkChange> {
    throw new ApiError(400, 'unsupported', SLOW_LINK_NEEDS_DOCKER);
  }

  async unslow(_peer: DomainConfig): Promise<LinkChange> {
    throw new ApiError(400, 'unsupported', SLOW_LINK_NEEDS_DOCKER);
  }

  private howIsolated(): string {
    return `no-Docker lab: the queue of ${this.o.self.name} treats every remote domain as unreachable; students on this machine still reach its ports`;
  }

  async isolate(on: boolean): Promise<IsolationChange> {
    const changed = this.o.reachability.setIsolated(on);
    if (!changed) return { changed, how: '' };
    this.o.logger?.info(on ? `fault applied: isolate (${this.o.self.name} is cut off from the lab backbone: every remote delivery times out)` : `fault cleared: isolate (${this.o.self.name} is back on the lab backbone)`);
    return { changed, how: on ? this.howIsolated() : `no-Docker lab: the queue of ${this.o.self.name} delivers to remote domains again` };
  }
}
