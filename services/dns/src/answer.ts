/**
 * Answering one question from the lab zones: the authoritative part of the
 * RFC 1034 §4.3.2 algorithm, without referrals or recursion (the lab has
 * neither delegations nor a way out).
 *
 * - A name outside every lab zone: REFUSED, not authoritative. Nothing leaves
 *   the lab, so we never recurse and never hand out a referral.
 * - A name with no records and no descendants: NXDOMAIN, the zone's SOA in
 *   the authority section (RFC 2308 §2.1).
 * - A name that exists but has no records of the asked type: NODATA, i.e.
 *   NOERROR with an empty answer and the SOA in authority (RFC 2308 §2.2).
 *   An empty non-terminal (a name that only exists because a longer name
 *   below it does) exists too: NODATA, not NXDOMAIN (RFC 8020).
 * - A CNAME is followed while its target stays inside the lab zones; the
 *   rcode then describes the last name of the chain (RFC 6604 §2.1).
 * - MX and NS answers bring the targets' A records along in the additional
 *   section (RFC 1035 §3.3.9, §3.3.11), so one round trip finds a mail host;
 *   so do SRV answers (RFC 2782, "Usage rules": the targets' address records
 *   in the additional data).
 * - ANY: we answer with every RRset the name has. RFC 8482 lets a server
 *   choose; the lab is small, closed and authoritative-only (no amplification
 *   worth fearing), and `dig ANY dadali.com` showing the whole apex is a
 *   useful lesson.
 *
 * Pure: the same zones and question always give the same answer.
 */
import { findZone, normalizeName, type LabZones, type ResourceRecord, type Zone } from './zones';

export type AnswerRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface DnsAnswer {
  rcode: AnswerRcode;
  /** AA flag: set when a lab zone is authoritative for the question. */
  authoritative: boolean;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

/** CNAME chains longer than this are cut (and a loop is cut at once). */
const MAX_CHAIN = 8;

/** Whether a name exists in the zone: it owns records or is an empty non-terminal (RFC 8020). */
function nameExists(zone: Zone, name: string): boolean {
  if (zone.nodes.has(name)) return true;
  const suffix = '.' + name;
  for (const owner of zone.nodes.keys()) if (owner.endsWith(suffix)) return true;
  return false;
}

/**
 * The SOA for a negative answer. RFC 2308 §3: its TTL is the smaller of the
 * SOA's own TTL and its MINIMUM field.
 */
function negativeSoa(zone: Zone): ResourceRecord {
  const minimum = zone.soa.data.type === 'SOA' ? zone.soa.data.minimum : zone.soa.ttl;
  return { ...zone.soa, ttl: Math.min(zone.soa.ttl, minimum) };
}

/** A records of the MX/NS/SRV targets in `records`, skipping those already in the answer. */
function additionalFor(lab: LabZones, records: ResourceRecord[]): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const seen = new Set(records.filter((r) => r.data.type === 'A').map((r) => r.name));
  for (const r of records) {
    const target = r.data.type === 'MX' ? r.data.exchange : r.data.type === 'NS' ? r.data.host : r.data.type === 'SRV' ? r.data.target : undefined;
    if (!target || seen.has(target)) continue;
    seen.add(target);
    const node = findZone(lab, target)?.nodes.get(target) ?? [];
    out.push(...node.filter((x) => x.data.type === 'A'));
  }
  return out;
}

/**
 * Answers `qname`/`qtype` from the lab zones. `qtype` is the type's mnemonic
 * as dns2 names it (`A`, `MX`, `ANY`, `AAAA`, `TYPE65`…); types the lab never
 * holds simply find nothing, which gives NODATA.
 */
export function answerQuestion(lab: LabZones, qname: string, qtype: string): DnsAnswer {
  const type = qtype.toUpperCase();
  let name = normalizeName(qname);
  let zone = findZone(lab, name);
  if (!zone) return { rcode: 'REFUSED', authoritative: false, answers: [], authority: [], additional: [] };

  const answers: ResourceRecord[] = [];
  const visited = new Set<string>();
  for (;;) {
    visited.add(name);
    if (!nameExists(zone, name)) {
      return { rcode: 'NXDOMAIN', authoritative: true, answers, authority: [negativeSoa(zone)], additional: [] };
    }
    const node = zone.nodes.get(name) ?? [];
    const matching = type === 'ANY' ? node : node.filter((r) => r.data.type === type);
    if (matching.length) {
      answers.push(...matching);
      return { rcode: 'NOERROR', authoritative: true, answers, authority: [], additional: additionalFor(lab, answers) };
    }
    const cname = node.find((r) => r.data.type === 'CNAME');
    if (!cname || cname.data.type !== 'CNAME') {
      return { rcode: 'NOERROR', authoritative: true, answers, authority: [negativeSoa(zone)], additional: [] };
    }
    // RFC 1034 §4.3.2 step 3a: put the CNAME in the answer and restart with its target.
    answers.push(cname);
    const target = cname.data.target;
    const next = findZone(lab, target);
    // The target lies outside the lab (we do not recurse) or the chain loops
    // or runs too long: the CNAME alone is the answer (RFC 1034 §3.6.2).
    if (!next || visited.has(target) || visited.size >= MAX_CHAIN) {
      return { rcode: 'NOERROR', authoritative: true, answers, authority: [], additional: [] };
    }
    name = target;
    zone = next;
  }
}
