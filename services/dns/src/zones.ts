/**
 * The lab's authoritative DNS data, built from the typed lab definition.
 *
 * `buildZones(config, mode)` is a pure function: for every lab domain it makes
 * a forward zone (SOA, NS, MX, the mail host's A record and the domain's extra
 * `records`), and for the backbone it makes the reverse zones (PTR records
 * under in-addr.arpa). `answer.ts` answers questions from this data and
 * `server.ts` puts it on the wire; nothing here knows about sockets or dns2.
 *
 * Each domain also gets what a mail program uses to set itself up: RFC 6186
 * SRV records (`_submission._tcp`, `_imap._tcp`, `_pop3._tcp` and the
 * implicit-TLS `_submissions._tcp` (RFC 8314 §5.1), `_imaps._tcp`,
 * `_pop3s._tcp`) pointing at the mail host, and an A record for
 * `autoconfig.<domain>`, the host Thunderbird asks for its configuration file
 * (services/core/src/autoconfig.ts). Names the definition's own `records`
 * already use are left to the definition.
 *
 * Modes: `docker` answers each host's backbone address; `local` (no Docker,
 * every service on loopback) answers 127.0.0.1 for every lab host. The reverse
 * zones keep the backbone addresses in both modes (so `dig -x 172.29.25.10`
 * teaches the same lesson), and both answer 1.0.0.127.in-addr.arpa → localhost
 * (RFC 6303: 127.in-addr.arpa is served locally everywhere), so a service
 * that looks up its loopback peer (the containers' own health checks, every
 * connection in the no-Docker lab) gets an answer instead of REFUSED.
 *
 * Names are stored lower case, absolute, without the trailing dot.
 */
import type { DomainConfig, LabConfig } from '../../core/src/config';

export type LabMode = 'docker' | 'local';

export type RecordData =
  | { type: 'A'; address: string }
  | { type: 'NS'; host: string }
  | { type: 'CNAME'; target: string }
  | { type: 'PTR'; target: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'TXT'; text: string[] }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };

export interface ResourceRecord {
  /** Owner name: lower case, absolute, no trailing dot. */
  name: string;
  ttl: number;
  data: RecordData;
}

export interface Zone {
  /** The zone apex, e.g. `dadali.com` or `25.29.172.in-addr.arpa`. */
  origin: string;
  soa: ResourceRecord;
  /** Owner name → its records (every RRset of that name). */
  nodes: Map<string, ResourceRecord[]>;
}

export interface LabZones {
  zones: Zone[];
  /** Things in the definition that DNS could not honour (logged at start). */
  warnings: string[];
}

export interface BuildZonesOptions {
  /** SOA serial (RFC 1035 §3.3.13). The server passes a date-based one. @default 1 */
  serial?: number;
}

/** SOA timers, RFC 1912 §2.2 ranges; there are no secondaries in the lab. */
const REFRESH = 3600;
const RETRY = 900;
const EXPIRE = 1_209_600;
const LOOPBACK = '127.0.0.1';

/** The mail services a client can find by SRV (RFC 6186 §3, RFC 8314 §5.1), with the lab's port key and container port. */
const MAIL_SRV = [
  { service: '_submission._tcp', port: 'submission', standard: 587, priority: 0 },
  { service: '_submissions._tcp', port: 'smtps', standard: 465, priority: 0 },
  // RFC 6186 §3.4: the priority tells a client that can do both which of IMAP and POP3 the domain prefers; IMAP here.
  { service: '_imap._tcp', port: 'imap', standard: 143, priority: 0 },
  { service: '_imaps._tcp', port: 'imaps', standard: 993, priority: 0 },
  { service: '_pop3._tcp', port: 'pop3', standard: 110, priority: 10 },
  { service: '_pop3s._tcp', port: 'pop3s', standard: 995, priority: 10 },
] as const;

/**
 * The SRV records of a domain's mail services. In Docker the mail host
 * listens on the standard ports of the lab network; without Docker every
 * service is on loopback at the lab's host ports, so those are the ports a
 * client in that lab must use. Implicit-TLS services only where the
 * definition gives them a port.
 */
export function mailServiceRecords(d: DomainConfig, mode: LabMode): { name: string; data: Extract<RecordData, { type: 'SRV' }> }[] {
  return MAIL_SRV.flatMap((s) => {
    const hostPort = d.ports[s.port];
    if (hostPort === undefined) return [];
    const port = mode === 'local' ? hostPort : s.standard;
    return [{ name: `${s.service}.${d.name}`, data: { type: 'SRV' as const, priority: s.priority, weight: 1, port, target: normalizeName(d.mailHost) } }];
  });
}

/** Lower case, without the trailing dot: the form every lookup uses (RFC 4343: names compare case-insensitively). */
export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** `172.29.25.10` → `10.25.29.172.in-addr.arpa` (RFC 1035 §3.5). */
export function reverseName(address: string): string {
  return address.split('.').reverse().join('.') + '.in-addr.arpa';
}

/** The /24 reverse zone holding an address: `172.29.25.10` → `25.29.172.in-addr.arpa`. */
export function reverseZoneOf(address: string): string {
  return address.split('.').slice(0, 3).reverse().join('.') + '.in-addr.arpa';
}

function inZone(name: string, origin: string): boolean {
  return name === origin || name.endsWith('.' + origin);
}

/** The lab zone a name falls in (the closest enclosing one), if any. */
export function findZone(lab: LabZones, name: string): Zone | undefined {
  const n = normalizeName(name);
  let best: Zone | undefined;
  for (const z of lab.zones) {
    if (inZone(n, z.origin) && (!best || z.origin.length > best.origin.length)) best = z;
  }
  return best;
}

/** A name from the definition: `@` is the apex, a trailing dot makes it absolute, anything else is relative (zone-file rules). */
function ownerName(name: string, origin: string): string {
  const n = name.trim().toLowerCase();
  if (n === '@' || n === '') return origin;
  if (n.endsWith('.')) return n.slice(0, -1);
  return `${n}.${origin}`;
}

/**
 * Whether a name can go on the wire as it is (RFC 1035 §2.3.4): labels of 1
 * to 63 octets, one octet per character, at most 255 octets encoded. Record
 * names in the lab definition are free text; anything else would make dns2
 * fail to encode every answer that holds the record.
 */
export function isWireName(name: string): boolean {
  return name.length <= 253 && /^[\x00-\xff]+$/.test(name) && name.split('.').every((l) => l.length >= 1 && l.length <= 63);
}

/** Splits text into <character-string>s of at most 255 octets (RFC 1035 §3.3.14), never inside a character. */
export function splitTxt(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let size = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (size + n > 255) {
      parts.push(current);
      current = '';
      size = 0;
    }
    current += ch;
    size += n;
  }
  parts.push(current);
  return parts;
}

function sameData(a: RecordData, b: RecordData): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function buildZones(config: LabConfig, mode: LabMode, options: BuildZonesOptions = {}): LabZones {
  const ttl = config.dns.ttl;
  const serial = options.serial ?? 1;
  const warnings: string[] = [];
  const lab: LabZones = { zones: [], warnings };
  const at = (address: string) => (mode === 'local' ? LOOPBACK : address);
  const primary = config.domains[0].name;

  const makeZone = (origin: string, nsZone: string): Zone => {
    const soa: ResourceRecord = {
      name: origin,
      ttl,
      data: {
        type: 'SOA',
        mname: `ns.${nsZone}`,
        rname: `hostmaster.${nsZone}`,
        serial,
        refresh: REFRESH,
        retry: RETRY,
        expire: EXPIRE,
        // RFC 2308 §4: MINIMUM is the negative-caching TTL.
        minimum: ttl,
      },
    };
    const zone: Zone = { origin, soa, nodes: new Map([[origin, [soa]]]) };
    lab.zones.push(zone);
    add(origin, { type: 'NS', host: `ns.${nsZone}` });
    return zone;
  };

  /** Adds a record to the lab zone holding `name`; duplicates collapse (RFC 2181 §5). */
  function add(name: string, data: RecordData): boolean {
    const zone = findZone(lab, name);
    if (!zone) return false;
    const list = zone.nodes.get(name) ?? [];
    if (!list.some((r) => sameData(r.data, data))) list.push({ name, ttl, data });
    zone.nodes.set(name, list);
    return true;
  }

  // Forward zones first, so that every in-lab name has somewhere to go.
  for (const d of config.domains) makeZone(d.name, d.name);

  for (const d of config.domains) {
    add(`ns.${d.name}`, { type: 'A', address: at(config.dns.address) });
    for (const mx of d.mx) add(d.name, { type: 'MX', preference: mx.preference, exchange: normalizeName(mx.host) });
    add(d.mailHost, { type: 'A', address: at(d.address) });
    d.records.forEach((r, i) => {
      const where = `domains ${d.name} records[${i}] (${r.name} ${r.type})`;
      const owner = ownerName(r.name, d.name);
      if (!r.name.endsWith('.') && r.name !== '@' && r.name.toLowerCase().endsWith(d.name)) {
        warnings.push(`${where}: relative names get the zone appended (${owner}); write "${r.name}." for an absolute name`);
      }
      if (!isWireName(owner)) {
        warnings.push(`${where}: ${JSON.stringify(owner)} is not a DNS name (labels of 1 to 63 characters, 253 in all); ignored`);
        return;
      }
      let data: RecordData;
      if (r.type === 'A') data = { type: 'A', address: at(r.value) };
      else if (r.type === 'TXT') data = { type: 'TXT', text: splitTxt(r.value) };
      // The schema forbids a trailing dot on values, so a value with a dot is
      // absolute; a single label is taken relative to the zone.
      else data = { type: 'CNAME', target: r.value.includes('.') ? normalizeName(r.value) : `${r.value}.${d.name}` };
      if (data.type === 'CNAME' && !isWireName(data.target)) {
        warnings.push(`${where}: the target ${data.target} is too long for DNS; ignored`);
        return;
      }
      if (!add(owner, data)) warnings.push(`${where}: ${owner} is outside every lab zone; ignored`);
    });
  }

  // What mail programs look up to set themselves up, unless the definition already uses the name.
  for (const d of config.domains) {
    const taken = (name: string) => (findZone(lab, name)?.nodes.get(name)?.length ?? 0) > 0;
    if (!taken(`autoconfig.${d.name}`)) add(`autoconfig.${d.name}`, { type: 'A', address: at(d.address) });
    for (const r of mailServiceRecords(d, mode)) if (!taken(r.name)) add(r.name, r.data);
  }

  // Reverse zones: one /24 per backbone subnet used by a lab host.
  const ptrs: [string, string][] = [
    ...config.domains.map((d): [string, string] => [d.address, d.mailHost]),
    [config.dns.address, `ns.${primary}`],
  ];
  for (const origin of new Set(ptrs.map(([a]) => reverseZoneOf(a)))) makeZone(origin, primary);
  makeZone(reverseZoneOf(LOOPBACK), primary);
  ptrs.push([LOOPBACK, 'localhost']);
  // Extra A records in a backbone subnet get a PTR too, unless the address already has one.
  for (const d of config.domains) {
    for (const r of d.records) if (r.type === 'A' && isWireName(ownerName(r.name, d.name))) ptrs.push([r.value, ownerName(r.name, d.name)]);
  }
  const named = new Set<string>();
  for (const [address, host] of ptrs) {
    if (named.has(address)) continue;
    if (add(reverseName(address), { type: 'PTR', target: host })) named.add(address);
  }

  checkZones(lab);
  return lab;
}

/** Consistency checks after building: CNAME exclusivity and MX/NS targets that resolve. */
function checkZones(lab: LabZones): void {
  for (const zone of lab.zones) {
    for (const [name, records] of zone.nodes) {
      const cnames = records.filter((r) => r.data.type === 'CNAME');
      if (!cnames.length) continue;
      // RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME cannot share its name with other data.
      if (cnames.length < records.length || cnames.length > 1) {
        const keep = cnames.length < records.length ? records.filter((r) => r.data.type !== 'CNAME') : [cnames[0]];
        lab.warnings.push(`${name}: a CNAME cannot coexist with other records at the same name; ${cnames.length < records.length ? 'the CNAME was dropped' : 'only the first CNAME was kept'}`);
        zone.nodes.set(name, keep);
      }
    }
  }
  for (const zone of lab.zones) {
    for (const records of zone.nodes.values()) {
      for (const r of records) {
        const target = r.data.type === 'MX' ? r.data.exchange : r.data.type === 'NS' ? r.data.host : r.data.type === 'SRV' ? r.data.target : undefined;
        if (!target || !findZone(lab, target)) continue;
        const node = findZone(lab, target)?.nodes.get(target) ?? [];
        if (!node.some((x) => x.data.type === 'A')) {
          // RFC 2181 §10.3: MX and NS targets must have address records, not aliases (RFC 2782: so must an SRV target).
          lab.warnings.push(`${r.name} ${r.data.type} ${target}: the target has no A record in the lab`);
        }
      }
    }
  }
}
