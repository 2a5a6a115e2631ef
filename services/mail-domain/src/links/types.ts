/**
 * The link faults as one mail server makes them on its own side, whichever
 * lab it runs in: `LinkControl`. The admin API (GET /links, POST
 * /links/:peer/cut|restore|slow|slow/clear, the isolate fault) calls it; the
 * lab CLI asks both servers of a pair, each does its half.
 *
 * - Docker lab: iptables/tc inside this container, run through copies of
 *   the binaries with a file capability (iptables.ts).
 * - No-Docker lab: there is no network between the domains; the queue
 *   treats a cut peer as unreachable (in-server.ts on reachability.ts).
 */
import type { DomainConfig } from '../../../core/src/config';
import type { LinkChange, LinksView } from '../../../core/src/admin/api';
import { ApiError } from '../../../core/src/admin/errors';

/**
 * Why a peer is unreachable: `break` (fault link) or `isolate` (the peer is
 * isolated; only the no-Docker lab acts on it, in Docker the isolated
 * domain's own container drops the traffic).
 */
export type CutReason = 'break' | 'isolate';

/** What slow-link asks for (the spec's fields; at least one of them). */
export interface SlowParams {
  /** tc rate, e.g. `64kbit`. */
  rate?: string;
  delayMs?: number;
  /** Percent, 0 < loss < 100. */
  loss?: number;
}

export interface IsolationChange {
  /** false: it already was so. */
  changed: boolean;
  /** In words: how it was done ('' when nothing changed). */
  how: string;
}

/** One server's side of the link faults. Every change is idempotent: doing it twice answers `changed: false`. */
export interface LinkControl {
  readonly method: LinksView['method'];
  /** What is in force now (Docker: read back from iptables/tc). */
  view(): Promise<LinksView>;
  /** Makes `peer` unreachable from here, for `reason`. */
  cut(peer: DomainConfig, reason: CutReason): Promise<LinkChange>;
  /** Undoes `cut` for that reason (another reason may keep it cut). */
  restore(peer: DomainConfig, reason: CutReason): Promise<LinkChange>;
  /** Slows the traffic to `peer` (replaces earlier shaping for it). No-Docker: throws 400 `unsupported`. */
  slow(peer: DomainConfig, params: SlowParams): Promise<LinkChange>;
  /** Removes the shaping to `peer`. No-Docker: throws 400 `unsupported`. */
  unslow(peer: DomainConfig): Promise<LinkChange>;
  /** This domain cut off from the lab backbone (fault isolate), or back. */
  isolate(on: boolean): Promise<IsolationChange>;
}

/** A link joins two different domains: 400 `bad-argument` (field `peer`) otherwise. */
export function checkPeer(self: DomainConfig, peer: DomainConfig): void {
  if (peer.name === self.name) throw new ApiError(400, 'bad-argument', `a link joins two different domains; ${peer.name} is this domain`, 'peer');
}
