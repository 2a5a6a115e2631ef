/**
 * Addresses from the platform, for a lab on Docker Swarm (issue 14).
 *
 * Compose gives every lab container the fixed address of the lab definition
 * (`ipv4_address`); Swarm cannot (a task gets whatever its network's IPAM
 * hands out, and a new one when it is rescheduled). So on Swarm the services
 * learn the addresses from the platform: Docker's embedded DNS (127.0.0.11,
 * reachable in every container on a swarm network) answers `tasks.<service>`
 * with the addresses of the service's running tasks (`dns`, `client`,
 * `mail-<short>`, the stack file's service names). The lab DNS serves them in
 * the lab zones (the mail hosts' A and PTR records), the mail servers find
 * the lab DNS and their peers (for break/slow-link) the same way.
 *
 * The services turn this on with MAIL_LAB_DISCOVERY=swarm (the rendered stack
 * file sets it); Compose and the no-Docker lab never do.
 */
import { Resolver } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import type { LabConfig } from './config';
import type { Logger } from './logger';

/** Docker's embedded DNS, in every container attached to a user-defined or swarm network. */
export const EMBEDDED_DNS = '127.0.0.11';

/** Whether the addresses come from the platform (the stack file sets MAIL_LAB_DISCOVERY=swarm). */
export const swarmDiscovery = (env: NodeJS.ProcessEnv = process.env) => env.MAIL_LAB_DISCOVERY === 'swarm';

/** The stack's service of a lab host: `dns`, `client`, `mail-garudayaksa` (as scripts/swarm/render.ts names them). */
export const swarmServiceOf = (host: 'dns' | 'client' | { name: string }) => (typeof host === 'string' ? host : `mail-${host.name.split('.')[0]}`);

/** Looks up a service's task addresses; sorted, empty when none runs (yet). */
export type TaskLookup = (service: string) => Promise<string[]>;

/** The lookup through Docker's embedded DNS: `tasks.<service>`. */
export function embeddedTaskLookup(server = EMBEDDED_DNS, timeoutMs = 1000): TaskLookup {
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  r.setServers([server]);
  return async (service) => {
    try {
      return (await r.resolve4(`tasks.${service}`)).sort(byAddress);
    } catch {
      return [];
    }
  };
}

const byAddress = (a: string, b: string) => {
  const n = (s: string) => s.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
  return n(a) - n(b);
};

/** Whether `address` is in `subnet` (`172.29.163.0/24`). */
export function inSubnet(address: string, subnet: string): boolean {
  const [base, bitsText] = subnet.split('/');
  const bits = Number(bitsText ?? 32);
  const n = (s: string) => s.split('.').reduce((acc, x) => (acc * 256 + Number(x)) >>> 0, 0);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((n(address) & mask) >>> 0) === ((n(base) & mask) >>> 0);
}

/** The address of this container on the lab's backbone (the interface in `subnet`), or null. */
export function ownAddressIn(subnet: string, interfaces = networkInterfaces()): string | null {
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && inSubnet(a.address, subnet)) return a.address;
  }
  return null;
}

/** Where the lab's hosts are now: service -> address (missing: no task runs yet). */
export interface LabAddresses {
  dns?: string;
  client?: string;
  /** By domain name. */
  domains: Record<string, string>;
}

/** The first task address of a service, preferring one on the lab's backbone. */
function pick(addresses: string[], subnet: string | undefined): string | undefined {
  return (subnet ? addresses.find((a) => inSubnet(a, subnet)) : undefined) ?? addresses[0];
}

/** Asks the platform where every host of the lab is. */
export async function lookupLabAddresses(config: LabConfig, lookup: TaskLookup): Promise<LabAddresses> {
  const subnet = config.network?.subnet;
  const [dns, client, ...domains] = await Promise.all([lookup(swarmServiceOf('dns')), lookup(swarmServiceOf('client')), ...config.domains.map((d) => lookup(swarmServiceOf(d)))]);
  const found: LabAddresses = { dns: pick(dns, subnet), client: pick(client, subnet), domains: {} };
  config.domains.forEach((d, i) => {
    const a = pick(domains[i], subnet);
    if (a) found.domains[d.name] = a;
  });
  return found;
}

/**
 * The lab definition with the addresses the platform gave (those not found
 * keep the definition's): every host's address, and every A record that named
 * a host's definition address (`www` A 172.29.25.10 follows the mail host).
 */
export function withAddresses(config: LabConfig, found: LabAddresses): LabConfig {
  const moved = new Map<string, string>();
  if (found.dns) moved.set(config.dns.address, found.dns);
  if (found.client && config.client) moved.set(config.client.address, found.client);
  for (const d of config.domains) if (found.domains[d.name]) moved.set(d.address, found.domains[d.name]);
  const move = (a: string) => moved.get(a) ?? a;
  return {
    ...config,
    dns: { ...config.dns, address: move(config.dns.address) },
    client: config.client ? { ...config.client, address: move(config.client.address) } : undefined,
    domains: config.domains.map((d) => ({
      ...d,
      address: move(d.address),
      records: d.records.map((r) => (r.type === 'A' ? { ...r, value: move(r.value) } : r)),
    })),
  };
}

/** `dns 172.29.163.4, mail.garudayaksa.com 172.29.163.6, …` (the missing ones said so). */
export function describeAddresses(config: LabConfig, found: LabAddresses): string {
  return [
    `dns ${found.dns ?? '(no task yet)'}`,
    ...config.domains.map((d) => `${d.mailHost} ${found.domains[d.name] ?? '(no task yet)'}`),
    ...(config.client || found.client ? [`client ${found.client ?? '(no task yet)'}`] : []),
  ].join(', ');
}

const same = (a: LabAddresses, b: LabAddresses) => JSON.stringify(a) === JSON.stringify(b);

export interface AddressWatcherOptions {
  /** The lab definition as lab N (its subnet is the overlay's). */
  config: LabConfig;
  lookup?: TaskLookup;
  /** Called with the lab as it is now, at the first answer and at every change. */
  onChange?: (found: LabAddresses) => void;
  logger?: Logger;
  /** How often to ask while a host is missing, and once all are there. @default 1000, 5000 */
  fastMs?: number;
  slowMs?: number;
}

/**
 * Asks the platform again and again (every second while a host has no task,
 * every 5 s once all have one) and reports every change: a task that was
 * rescheduled comes back with a new address within seconds.
 */
export class AddressWatcher {
  private timer: NodeJS.Timeout | undefined;
  private last: LabAddresses | undefined;
  private stopped = false;
  private readonly lookup: TaskLookup;

  constructor(private readonly o: AddressWatcherOptions) {
    this.lookup = o.lookup ?? embeddedTaskLookup();
  }

  /** The addresses as last seen. */
  current(): LabAddresses | undefined {
    return this.last;
  }

  private complete(f: LabAddresses): boolean {
    return !!f.dns && this.o.config.domains.every((d) => f.domains[d.name]);
  }

  /** Asks once now; reports a change. */
  async refresh(): Promise<LabAddresses> {
    const found = await lookupLabAddresses(this.o.config, this.lookup);
    if (!this.last || !same(found, this.last)) {
      this.last = found;
      this.o.logger?.info(`addresses from the swarm (tasks.<service> in Docker's embedded DNS): ${describeAddresses(this.o.config, found)}`);
      this.o.onChange?.(found);
    }
    return found;
  }

  /** Starts asking; resolves after the first answer. */
  async start(): Promise<void> {
    const tick = async () => {
      let found: LabAddresses | undefined;
      try {
        found = await this.refresh();
      } catch (e) {
        this.o.logger?.warn(`cannot ask the swarm for the lab's addresses: ${(e as Error).message}`);
      }
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick(), found && this.complete(found) ? (this.o.slowMs ?? 5000) : (this.o.fastMs ?? 1000));
      this.timer.unref();
    };
    await tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
