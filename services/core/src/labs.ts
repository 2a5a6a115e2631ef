/**
 * Numbered labs: several labs from one lab definition on one host, one per
 * student (issue 11). Lab 0 is the lab definition exactly (project
 * `mail-lab`, its backbone, its host ports). Lab N (1-90) is project
 * `mail-lab-NN`, backbone 172.29.(100+N).0/24 (every address keeps its host
 * part), and every host port + 100·N: lab 3 has garudayaksa SMTP on 10325,
 * the DNS on 10353. The lab DNS and the mail servers derive the same lab
 * from MAIL_LAB_LAB, so every lab mounts the same definition.
 */
import type { DomainConfig, LabConfig } from './config';

export const MAX_LAB = 90;
/** Host ports move by this much per lab number. */
export const PORT_STEP = 100;

export class LabNumberError extends Error {
  override readonly name = 'LabNumberError';
}

/** A lab number from the command line or the environment (`--lab 3`, MAIL_LAB_LAB=3). */
export function parseLabNumber(text: string | number | undefined, where = '--lab'): number {
  if (text === undefined || text === '') return 0;
  const s = String(text).trim();
  if (!/^\d+$/.test(s)) throw new LabNumberError(`${where} must be a lab number from 0 to ${MAX_LAB} (got "${text}")`);
  const n = Number(s);
  if (n > MAX_LAB) throw new LabNumberError(`${where} must be a lab number from 0 to ${MAX_LAB} (got ${n}): one host holds at most ${MAX_LAB} numbered labs`);
  return n;
}

/** The compose project of lab N: `mail-lab`, `mail-lab-03`. */
export const labProject = (n: number) => (n === 0 ? 'mail-lab' : `mail-lab-${String(n).padStart(2, '0')}`);

/** Lab N as a two-digit label for files and cards: `00`, `03`. */
export const labLabel = (n: number) => String(n).padStart(2, '0');

/** The /24 of an address: `172.29.25.10` -> `172.29.25`. */
const prefixOf = (address: string) => address.split('.').slice(0, 3).join('.');

/** The backbone of the lab definition: its `network.subnet`, else the /24 of the DNS address. */
export function baseSubnet(config: LabConfig): string {
  return config.network?.subnet ?? `${prefixOf(config.dns.address)}.0/24`;
}

/** The backbone of lab N: the definition's own for lab 0, 172.29.(100+N).0/24 otherwise. */
export function labSubnet(config: LabConfig, n: number): string {
  return n === 0 ? baseSubnet(config) : `172.29.${100 + n}.0/24`;
}

/** The gateway of a /24 backbone (its .1, where Docker's bridge sits). */
export const subnetGateway = (subnet: string) => `${subnet.split('/')[0].split('.').slice(0, 3).join('.')}.1`;

/**
 * Lab N of a lab definition: host ports + 100·N, every address of the
 * backbone moved into lab N's backbone. Lab 0 is the definition itself.
 * Throws when a port would pass 65535.
 */
export function deriveLab(config: LabConfig, n: number): LabConfig {
  if (n === 0) return config;
  const from = baseSubnet(config).split('/')[0].split('.').slice(0, 3).join('.');
  const to = labSubnet(config, n).split('/')[0].split('.').slice(0, 3).join('.');
  const move = (address: string) => (prefixOf(address) === from ? `${to}.${address.split('.')[3]}` : address);
  const shift = (port: number, what: string) => {
    const p = port + PORT_STEP * n;
    if (p > 65535) throw new LabNumberError(`lab ${n}: ${what} would be port ${p}, above 65535; use a lower lab number`);
    return p;
  };
  const domains: DomainConfig[] = config.domains.map((d) => ({
    ...d,
    address: move(d.address),
    ports: Object.fromEntries(Object.entries(d.ports).map(([k, v]) => [k, v === undefined ? v : shift(v, `${d.name} ${k}`)])) as DomainConfig['ports'],
    records: d.records.map((r) => (r.type === 'A' ? { ...r, value: move(r.value) } : r)),
  }));
  return {
    ...config,
    network: { subnet: labSubnet(config, n) },
    client: config.client ? { ...config.client, address: move(config.client.address) } : undefined,
    dns: { ...config.dns, address: move(config.dns.address), hostPort: shift(config.dns.hostPort, 'dns hostPort'), adminPort: shift(config.dns.adminPort, 'dns adminPort') },
    domains,
  };
}

/** Every host port of a lab (TCP; the DNS port is UDP and TCP too), with what it is. */
export function labHostPorts(config: LabConfig): { port: number; what: string }[] {
  return [
    { port: config.dns.hostPort, what: 'lab DNS' },
    { port: config.dns.adminPort, what: 'lab DNS admin API' },
    ...config.domains.flatMap((d) => Object.entries(d.ports).filter((e): e is [string, number] => e[1] !== undefined).map(([k, port]) => ({ port, what: `${d.name} ${k}` }))),
  ];
}
