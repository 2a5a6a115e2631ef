/**
 * `LinkControl` of the Docker lab: this mail container makes its own half of
 * the link faults with iptables and tc, run as copies of the binaries that
 * carry the file capability cap_net_admin (runner.ts, Dockerfile); the host
 * no longer needs `docker exec -u root`.
 *
 * - break: `OUTPUT -d <peer> -m comment --comment mail-lab-break-<peer> -j DROP`
 *   (the peer does the same on its side, so both directions time out).
 * - isolate: the chain of isolate-rules.ts, jumped to from INPUT.
 * - slow-link: shaping.ts (HTB + netem, or tbf + iptables statistic loss).
 *
 * The truth is read back from iptables and tc: a restarted container (fresh
 * network namespace) shows nothing cut. What slow-link was asked for is kept
 * in memory to report it, marked `stale` when the shaping is gone. Changes
 * run one at a time (the admin API may be called concurrently).
 */
import type { LinkChange, LinksView, PeerLink } from '../../../core/src/admin/api';
import { ApiError } from '../../../core/src/admin/errors';
import type { DomainConfig } from '../../../core/src/config';
import type { Logger } from '../../../core/src/logger';
import { ISOLATE_CHAIN, ISOLATE_COMMENT, ISOLATE_JUMP, isolationRules, parseRoutes, type Backbone } from './isolate-rules';
import { DEFAULT_LINK_TOOLS, execFileRunner, NetTools, type CommandRunner, type LinkTools } from './runner';
import { checkMade, deviceFor, hasComment, lossComment, rebuild, sameParams, slowInfo, type SlowMade, type SlowWanted } from './shaping';
import { checkPeer, type CutReason, type IsolationChange, type LinkControl, type SlowParams } from './types';

export const breakComment = (peer: string) => `mail-lab-break-${peer}`;
/** The break rule after -I/-C/-D. */
export const breakRule = (peer: DomainConfig) => ['OUTPUT', '-d', peer.address, '-m', 'comment', '--comment', breakComment(peer.name), '-j', 'DROP'];

export interface IptablesLinksOptions {
  self: DomainConfig;
  /** The other lab domains. */
  peers: DomainConfig[];
  /** Default: execFile. */
  run?: CommandRunner;
  /** Default: the image's capability binaries ({@link DEFAULT_LINK_TOOLS}). */
  tools?: Partial<LinkTools>;
  now?: () => Date;
  logger?: Logger;
}

export class IptablesLinks implements LinkControl {
  readonly method = 'iptables' as const;
  private readonly net: NetTools;
  private readonly now: () => Date;
  /** Serialises the changes. */
  private queue: Promise<unknown> = Promise.resolve();
  /** slow-link as asked and made, by peer. */
  private made: SlowMade[] = [];
  /** Every device shaping was ever put on (to clean up). */
  private readonly devices = new Set<string>();
  /** When isolation was turned on (or first seen on), and how (when made here). */
  private isolatedAt: Date | null = null;
  private isolatedHow: string | null = null;

  constructor(private readonly o: IptablesLinksOptions) {
    this.net = new NetTools(o.run ?? execFileRunner, { ...DEFAULT_LINK_TOOLS, ...o.tools });
    this.now = o.now ?? (() => new Date());
  }

  private get self(): string {
    return this.o.self.name;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private listing(chain: 'INPUT' | 'OUTPUT'): Promise<string> {
    return this.net.must('iptables', ['-S', chain]);
  }

  // -------------------------------------------------------------------------
  // view

  view(): Promise<LinksView> {
    return this.serial(async () => {
      const output = await this.listing('OUTPUT');
      const isolated = await this.readIsolated();
      const stale = await checkMade(this.net, this.made);
      const names = [...new Set([...this.o.peers.map((p) => p.name).filter((n) => n !== this.self), ...this.made.map((m) => m.peer.name)])];
      const peers: PeerLink[] = names.map((domain) => {
        const m = this.made.find((x) => x.peer.name === domain);
        return { domain, cut: hasComment(output, breakComment(domain)), peerIsolated: false, ...(m ? { slow: slowInfo(m, stale.has(domain)) } : {}) };
      });
      return { domain: this.self, method: this.method, peers, isolated: isolated ? { since: isolated.toISOString(), how: this.isolatedHow ?? this.howIsolated(null) } : null };
    });
  }

  // -------------------------------------------------------------------------
  // break

  private howCut(peer: DomainConfig): string {
    return `iptables in the container of ${this.self}: OUTPUT DROP to ${peer.address} (${peer.name}); connections to it time out`;
  }

  private async isCut(peer: DomainConfig): Promise<boolean> {
    return hasComment(await this.listing('OUTPUT'), breakComment(peer.name));
  }

  /** In Docker the isolated domain drops the traffic in its own container: nothing to do here. */
  private peerIsolationAnswer(peer: DomainConfig): LinkChange {
    return {
      domain: this.self,
      peer: peer.name,
      changed: false,
      how: `nothing to do in ${this.self}: in the Docker lab ${peer.name}'s own container drops the backbone traffic when it is isolated`,
    };
  }

  async cut(peer: DomainConfig, reason: CutReason): Promise<LinkChange> {
    checkPeer(this.o.self, peer);
    if (reason === 'isolate') return this.peerIsolationAnswer(peer);
    return this.serial(async () => {
      const changed = !(await this.isCut(peer));
      if (changed) {
        await this.net.must('iptables', ['-I', ...breakRule(peer)]);
        this.o.logger?.info(`link to ${peer.name} cut (fault link): iptables DROP to ${peer.address}`);
      }
      return { domain: this.self, peer: peer.name, changed, how: this.howCut(peer) };
    });
  }

  async restore(peer: DomainConfig, reason: CutReason): Promise<LinkChange> {
    checkPeer(this.o.self, peer);
    if (reason === 'isolate') return this.peerIsolationAnswer(peer);
    return this.serial(async () => {
      let changed = false;
      // Every copy (a half-done earlier attempt may have left two).
      for (let i = 0; i < 10 && (await this.isCut(peer)); i++) {
        await this.net.must('iptables', ['-D', ...breakRule(peer)]);
        changed = true;
      }
      if (changed) this.o.logger?.info(`link to ${peer.name} restored: iptables DROP to ${peer.address} removed`);
      return { domain: this.self, peer: peer.name, changed, how: `iptables in the container of ${this.self}: no DROP to ${peer.address} (${peer.name})` };
    });
  }

  // -------------------------------------------------------------------------
  // isolate

  private async readIsolated(): Promise<Date | null> {
    const on = hasComment(await this.listing('INPUT'), ISOLATE_COMMENT);
    if (!on) {
      this.isolatedAt = null;
      this.isolatedHow = null;
    } else this.isolatedAt ??= this.now(); // on, but not by this process: since it was first seen
    return this.isolatedAt;
  }

  private howIsolated(net: Backbone | null): string {
    return net
      ? `iptables in the container of ${this.self}: DROP of everything arriving from ${net.subnet} except from the gateway ${net.gateway} (the host's published ports)`
      : `iptables in the container of ${this.self}: chain ${ISOLATE_CHAIN} drops what arrives from the backbone except from its gateway (the host's published ports)`;
  }

  /** The backbone from `ip -4 route show`: the subnet of this container's address and the default gateway. */
  async backbone(): Promise<Backbone> {
    const r = await this.net.try('ip', ['-4', 'route', 'show']);
    const net = r.code === 0 ? parseRoutes(r.stdout, this.o.self.address) : null;
    if (!net) throw new ApiError(500, 'failed', `cannot find the backbone subnet and gateway (\`ip -4 route\` said: ${(r.stdout + r.stderr).trim() || `exit status ${r.code}`})`);
    return net;
  }

  isolate(on: boolean): Promise<IsolationChange> {
    return this.serial(async () => {
      if (((await this.readIsolated()) !== null) === on) return { changed: false, how: '' };
      if (!on) {
        for (let i = 0; i < 10 && hasComment(await this.listing('INPUT'), ISOLATE_COMMENT); i++) await this.net.must('iptables', ['-D', ...ISOLATE_JUMP]);
        await this.net.try('iptables', ['-F', ISOLATE_CHAIN]);
        await this.net.try('iptables', ['-X', ISOLATE_CHAIN]);
        this.isolatedAt = null;
        this.isolatedHow = null;
        this.o.logger?.info(`fault cleared: isolate (${this.self} is back on the lab backbone)`);
        return { changed: true, how: `iptables in the container of ${this.self}: chain ${ISOLATE_CHAIN} removed` };
      }
      const net = await this.backbone();
      await this.net.try('iptables', ['-N', ISOLATE_CHAIN]); // may be left over from a half-done attempt: flushed next
      await this.net.must('iptables', ['-F', ISOLATE_CHAIN]);
      for (const rule of isolationRules(net)) await this.net.must('iptables', rule);
      await this.net.must('iptables', ['-I', ...ISOLATE_JUMP]);
      this.isolatedAt = this.now();
      const how = this.howIsolated(net);
      this.isolatedHow = how;
      this.o.logger?.info(`fault applied: isolate (${how})`);
      return { changed: true, how };
    });
  }

  // -------------------------------------------------------------------------
  // slow-link

  private wanted(): SlowWanted[] {
    return this.made.map((m) => ({ peer: m.peer, params: m.params, since: m.since }));
  }

  /** Rebuilds the shaping for `wanted`; on failure tries to put back what was there, else removes it all, and rethrows. */
  private async remake(wanted: SlowWanted[]): Promise<void> {
    const before = this.wanted();
    try {
      this.made = await rebuild(this.net, this.devices, wanted);
    } catch (e) {
      try {
        this.made = await rebuild(this.net, this.devices, before);
      } catch {
        this.made = [];
        await rebuild(this.net, this.devices, []).catch(() => undefined);
      }
      throw e;
    } finally {
      for (const m of this.made) this.devices.add(m.dev);
    }
  }

  private howSlow(peer: DomainConfig, m: SlowMade): string {
    return [`tc/iptables in the container of ${this.self}, only for traffic to ${peer.address} (${peer.name})`, ...m.methods, ...m.missing].join('; ');
  }

  async slow(peer: DomainConfig, params: SlowParams): Promise<LinkChange> {
    checkPeer(this.o.self, peer);
    if (params.rate === undefined && params.delayMs === undefined && params.loss === undefined) throw new ApiError(400, 'bad-argument', 'slow-link needs a rate, a delay or a loss', 'rate');
    return this.serial(async () => {
      const mine = this.made.find((m) => m.peer.name === peer.name);
      if (mine && sameParams(mine.params, params) && !(await checkMade(this.net, [mine])).has(peer.name)) {
        return { domain: this.self, peer: peer.name, changed: false, how: this.howSlow(peer, mine), slow: slowInfo(mine) };
      }
      const before = this.wanted();
      // In place when the peer was slowed already (its class stays), else added.
      const entry = { peer, params, since: mine && sameParams(mine.params, params) ? mine.since : this.now() }; // same params: a stale one remade
      const wanted = mine ? before.map((w) => (w.peer.name === peer.name ? entry : w)) : [...before, entry];
      await this.remake(wanted);
      const made = this.made.find((m) => m.peer.name === peer.name)!;
      if (!made.methods.length) {
        // Only a delay was asked for and this kernel cannot make one: put back what was there, say so.
        const missing = made.missing.join('; ');
        await this.remake(before);
        throw new ApiError(400, 'unsupported', `${missing}; nothing was applied (--rate and --loss work without netem)`);
      }
      this.o.logger?.info(`link to ${peer.name} slowed (fault slow-link): ${[...made.methods, ...made.missing].join('; ')}`);
      return { domain: this.self, peer: peer.name, changed: true, how: this.howSlow(peer, made), slow: slowInfo(made) };
    });
  }

  async unslow(peer: DomainConfig): Promise<LinkChange> {
    checkPeer(this.o.self, peer);
    return this.serial(async () => {
      const mine = this.made.find((m) => m.peer.name === peer.name);
      const how = `tc/iptables in the container of ${this.self}: no shaping for ${peer.address} (${peer.name})`;
      if (mine) {
        await this.remake(this.wanted().filter((w) => w.peer.name !== peer.name));
        this.o.logger?.info(`link to ${peer.name} no longer slowed`);
        return { domain: this.self, peer: peer.name, changed: true, how };
      }
      // Nothing asked for by this process; leftovers of an earlier one are removed all the same.
      const leftover = hasComment(await this.listing('OUTPUT'), lossComment(peer.name));
      if (leftover) {
        this.devices.add(await deviceFor(this.net, peer.address));
        await this.remake(this.wanted());
      }
      return { domain: this.self, peer: peer.name, changed: leftover, how };
    });
  }
}
