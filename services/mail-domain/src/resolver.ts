/**
 * DNS lookups through the lab DNS only (never the host's resolver): the
 * questions a mail domain asks (`LabResolver`: MX and A for outbound mail,
 * PTR for the Received header) and the one implementation that asks them.
 */
import { Resolver } from 'node:dns/promises';

export interface LabResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(host: string): Promise<string[]>;
  reverse(ip: string): Promise<string[]>;
}

/**
 * One question asked once at a time: callers asking the same question while
 * it is on its way share its answer (a queue draining with 20 deliveries to
 * one domain asks the lab DNS its MX once, not 20 times). Nothing is kept
 * after the answer arrives, so a DNS fault or a changed zone shows in the
 * very next lookup, as the DNS lessons need.
 */
export function sharedInFlight<T>(ask: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const pending = new Map<string, Promise<T>>();
  return (key) => {
    const known = pending.get(key);
    if (known) return known;
    const p = ask(key).finally(() => pending.delete(key));
    pending.set(key, p);
    return p;
  };
}

/** `server` is `172.29.25.53` (Docker) or `127.0.0.1:10053` (no-Docker mode). */
export function labResolver(server: string, timeoutMs = 2000): LabResolver {
  const r = new Resolver({ timeout: timeoutMs, tries: 2 });
  r.setServers([server]);
  const mx = sharedInFlight((domain) => r.resolveMx(domain));
  const a = sharedInFlight((host) => r.resolve4(host));
  return {
    // A copy per caller: the callers sort and filter what they get.
    resolveMx: async (domain) => (await mx(domain.toLowerCase())).map((m) => ({ ...m })),
    resolve4: async (host) => [...(await a(host.toLowerCase()))],
    // Not r.reverse(): c-ares answers that from /etc/hosts first; a PTR query asks the lab DNS.
    reverse: (ip) => r.resolvePtr(ip.split('.').reverse().join('.') + '.in-addr.arpa'),
  };
}
