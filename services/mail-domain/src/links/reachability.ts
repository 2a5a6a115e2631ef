/**
 * No-Docker lab: the ONE owner of which remote domains the queue cannot
 * reach, and why. Per peer the set of reasons it is unreachable (`break`:
 * the link was cut; `isolate`: the peer is isolated) and whether this domain
 * itself is isolated (then every remote domain is unreachable). Clearing one
 * reason leaves the others as they were.
 *
 * The queue asks {@link Reachability.blockedReason} before each remote
 * delivery; the answer ends up in its "connection to X timed out (<reason>)".
 * Replaces queue.ts's string keys `*` and `isolated:<domain>`.
 */
import type { CutReason } from './types';

/** The words in the queue's "timed out (…)" message, as before. */
export const UNREACHABLE_BECAUSE = {
  break: 'link broken by the instructor',
  selfIsolated: 'cut off from the lab backbone by the instructor',
  peerIsolated: (peer: string) => `${peer} is cut off from the lab backbone by the instructor`,
} as const;

const norm = (domain: string) => domain.toLowerCase().replace(/\.$/, '');

export class Reachability {
  /** peer -> reason -> since. */
  private readonly cuts = new Map<string, Map<CutReason, Date>>();
  private isolatedAt: Date | null = null;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Peer unreachable for `reason`. Returns false when it already was for that reason. */
  cut(peer: string, reason: CutReason): boolean {
    const p = norm(peer);
    const reasons = this.cuts.get(p) ?? new Map<CutReason, Date>();
    if (reasons.has(reason)) return false;
    reasons.set(reason, this.now());
    this.cuts.set(p, reasons);
    return true;
  }

  /** Drops one reason. Returns false when the peer was not cut for it. */
  restore(peer: string, reason: CutReason): boolean {
    const p = norm(peer);
    const reasons = this.cuts.get(p);
    if (!reasons?.delete(reason)) return false;
    if (!reasons.size) this.cuts.delete(p);
    return true;
  }

  /** This domain isolated (every remote domain unreachable) or back. Returns false when it already was so. */
  setIsolated(on: boolean): boolean {
    if ((this.isolatedAt !== null) === on) return false;
    this.isolatedAt = on ? this.now() : null;
    return true;
  }

  isolatedSince(): Date | null {
    return this.isolatedAt;
  }

  /** When the peer was cut for `reason`, if it is. */
  cutSince(peer: string, reason: CutReason): Date | undefined {
    return this.cuts.get(norm(peer))?.get(reason);
  }

  /** The peers cut for `reason` (default `break`: what queue.ts's blockedDomains() listed). */
  cutPeers(reason: CutReason = 'break'): string[] {
    return [...this.cuts].filter(([, r]) => r.has(reason)).map(([p]) => p);
  }

  /** Every peer with at least one reason. */
  peers(): string[] {
    return [...this.cuts.keys()];
  }

  /** Why mail to `domain` cannot go out now, or null when it can. */
  blockedReason(domain: string): string | null {
    const d = norm(domain);
    const reasons = this.cuts.get(d);
    if (reasons?.has('break')) return UNREACHABLE_BECAUSE.break;
    if (this.isolatedAt) return UNREACHABLE_BECAUSE.selfIsolated;
    if (reasons?.has('isolate')) return UNREACHABLE_BECAUSE.peerIsolated(d);
    return null;
  }

  /** Forgets everything (fault clear all); returns how many cuts and isolations there were. */
  clear(): number {
    const n = [...this.cuts.values()].reduce((sum, r) => sum + r.size, 0) + (this.isolatedAt ? 1 : 0);
    this.cuts.clear();
    this.isolatedAt = null;
    return n;
  }
}
