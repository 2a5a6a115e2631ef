/**
 * Fault `isolate` in the Docker lab, as rules: a chain in the isolated
 * domain's container that drops every packet arriving from the backbone
 * subnet except from the bridge gateway (where the host's published-port
 * traffic comes from: docker-proxy or the host's NAT). Incoming only, on
 * purpose: what the domain sends still leaves but no answer comes back, so,
 * as with a pulled cable, its connections and DNS lookups time out and
 * connections to it time out too (dropping its outgoing packets would give
 * it an instant "operation not permitted" instead). The queues defer, never
 * bounce. The same rules as scripts/commands/isolate.ts made from the host.
 */

export const ISOLATE_COMMENT = 'mail-lab-isolate';
export const ISOLATE_CHAIN = 'MAIL-LAB-ISOLATE-IN';

export interface Backbone {
  /** e.g. 172.29.25.0/24 */
  subnet: string;
  /** e.g. 172.29.25.1 */
  gateway: string;
}

/**
 * The backbone as the container sees it in `ip -4 route show`: the default
 * gateway, and the subnet of the kernel route (the one whose source is
 * `ownAddress` when several interfaces have one, else the one on the
 * default route's interface, else the first).
 */
export function parseRoutes(routes: string, ownAddress?: string): Backbone | null {
  const def = /^default via (\d+\.\d+\.\d+\.\d+)(?:.*?\bdev (\S+))?/m.exec(routes);
  const gateway = def?.[1];
  // e.g. "172.29.25.0/24 dev eth0 proto kernel scope link src 172.29.25.10"
  const kernel = [...routes.matchAll(/^(\d+\.\d+\.\d+\.\d+\/\d+) dev (\S+) proto kernel.*?(?:\bsrc (\S+))?\s*$/gm)].map((m) => ({ subnet: m[1], dev: m[2], src: m[3] }));
  const chosen = kernel.find((k) => ownAddress && k.src === ownAddress) ?? kernel.find((k) => def?.[2] && k.dev === def[2]) ?? kernel[0];
  return gateway && chosen ? { subnet: chosen.subnet, gateway } : null;
}

/** The chain's contents: the gateway (published ports) passes, the rest of the backbone is dropped. */
export function isolationRules(net: Backbone): string[][] {
  return [
    ['-A', ISOLATE_CHAIN, '-s', net.gateway, '-j', 'RETURN'],
    ['-A', ISOLATE_CHAIN, '-s', net.subnet, '-j', 'DROP'],
  ];
}

/** The jump from INPUT (iptables takes one -s per rule, hence a chain of its own). */
export const ISOLATE_JUMP = ['INPUT', '-m', 'comment', '--comment', ISOLATE_COMMENT, '-j', ISOLATE_CHAIN];
