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

/** `server` is `172.29.25.53` (Docker) or `127.0.0.1:10053` (no-Docker mode). */
export function labResolver(server: string, timeoutMs = 2000): LabResolver {
  const r = new Resolver({ timeout: timeoutMs, tries: 2 });
  r.setServers([server]);
  return {
    resolveMx: (domain) => r.resolveMx(domain),
    resolve4: (host) => r.resolve4(host),
    // Not r.reverse(): c-ares answers that from /etc/hosts first; a PTR query asks the lab DNS.
    reverse: (ip) => r.resolvePtr(ip.split('.').reverse().join('.') + '.in-addr.arpa'),
  };
}
