/**
 * Fuzzing the lab DNS: the zone builder (services/dns/src/zones.ts) on random
 * lab definitions with random records, and the responder (respond.ts, with
 * answer.ts) on random and hand-made packets:
 * - buildZones never throws; every record lies in the closest lab zone of its
 *   name, names are lower case without a trailing dot, TXT strings fit in 255
 *   octets, a CNAME stands alone;
 * - respond never throws and its response always encodes; responses are
 *   dropped only for responses; REFUSED for a name outside the lab zones;
 *   authoritative NOERROR/NXDOMAIN inside; every record it returns is named
 *   inside a lab zone.
 */
import assert from 'node:assert/strict';
import DNS = require('dns2');
import fc from 'fast-check';
import YAML from 'yaml';
import { LabConfigError, parseLabConfig, type LabConfig } from '../../../services/core/src/config';
import { respond } from '../../../services/dns/src/respond';
import { buildZones, findZone, isWireName, normalizeName, type LabMode, type LabZones } from '../../../services/dns/src/zones';
import { fuzz, fuzzRuns, interestingBytes } from './fuzz-helpers';

const { Packet } = DNS;

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const hostname = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.'));

/** A lab definition (as data) with 1 to 3 domains, possibly nested, and random records. */
const labData = fc
  .record({
    names: fc.uniqueArray(hostname, { minLength: 1, maxLength: 3 }),
    nestSecond: fc.boolean(),
    ttl: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    dnsAddress: fc.ipV4(),
    addresses: fc.uniqueArray(fc.ipV4(), { minLength: 3, maxLength: 3 }),
    recordSeeds: fc.array(
      fc.record({
        domain: fc.nat(2),
        name: fc.oneof(
          fc.constantFrom('@', 'www', 'mail', 'ns', '', '.', 'a..b', ' x ', 'WWW', '*', 'x'.repeat(70), `${'y'.repeat(60)}.${'z'.repeat(60)}.${'w'.repeat(60)}.${'v'.repeat(60)}`, 'ü', '日本', 'a b'),
          label,
          hostname.map((h) => h + '.'),
          fc.string({ maxLength: 12 }),
        ),
        type: fc.constantFrom('A', 'TXT', 'CNAME'),
        a: fc.ipV4(),
        txt: fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', minLength: 200, maxLength: 600 }), fc.constant('x'.repeat(255) + 'é')),
        cname: fc.oneof(label, hostname),
      }),
      { maxLength: 6 },
    ),
    mx: fc.array(fc.record({ host: fc.oneof(hostname, fc.constant('mail')), preference: fc.integer({ min: 0, max: 65535 }) }), { maxLength: 2 }),
  })
  .map((s) => {
    const names = s.nestSecond && s.names.length > 1 ? [s.names[0], `sub.${s.names[0]}`, ...s.names.slice(2)] : s.names;
    const unique = [...new Set(names)];
    return {
      version: 1,
      profiles: { classroom: { retryInterval: '30s', warnAfter: '2m', returnAfter: '10m' } },
      dns: { address: s.dnsAddress, hostPort: 30053, ttl: s.ttl },
      domains: unique.map((name, i) => ({
        name,
        mailHost: `mail.${name}`,
        address: s.addresses[i],
        ports: { smtp: 31000 + i * 10, submission: 31001 + i * 10, pop3: 31002 + i * 10, imap: 31003 + i * 10, admin: 31004 + i * 10 },
        ...(i === 0 && s.mx.length ? { mx: s.mx.map((m) => ({ host: m.host === 'mail' ? `mail.${name}` : m.host, preference: m.preference })) } : {}),
        records: s.recordSeeds
          .filter((r) => r.domain % unique.length === i)
          .map((r) => ({ name: r.name, type: r.type, value: r.type === 'A' ? r.a : r.type === 'TXT' ? r.txt : r.cname })),
        accounts: [{ user: 'a', password: 'x' }],
      })),
    };
  });

/** Parses generated data; definitions the cross-checks refuse (e.g. a domain address equal to the DNS one) are skipped. */
function labFrom(data: unknown): LabConfig | null {
  try {
    return parseLabConfig(YAML.stringify(data), 'fuzz.yaml').config;
  } catch (e) {
    if (e instanceof LabConfigError) return null;
    throw e;
  }
}

const inside = (name: string, origin: string) => name === origin || name.endsWith('.' + origin);

function checkZones(lab: LabZones): void {
  for (const zone of lab.zones) {
    assert.ok(zone.nodes.get(zone.origin)?.includes(zone.soa), `${zone.origin}: SOA at the apex`);
    for (const [name, records] of zone.nodes) {
      assert.equal(name, normalizeName(name), 'names lower case, no trailing dot');
      assert.ok(inside(name, zone.origin), `${name} inside ${zone.origin}`);
      assert.equal(findZone(lab, name), zone, `${name} in its closest zone`);
      const cnames = records.filter((r) => r.data.type === 'CNAME');
      assert.ok(cnames.length === 0 || records.length === 1, `${name}: a CNAME stands alone`);
      for (const r of records) {
        assert.equal(r.name, name);
        assert.ok(isWireName(r.name), `${name}: a name DNS can carry`);
        if (r.data.type === 'TXT') for (const t of r.data.text) assert.ok(Buffer.byteLength(t, 'utf8') <= 255, 'TXT string of at most 255 octets');
      }
    }
  }
}

/** Every name the zones hold, a few in-zone names that do not exist, and their case variants. */
function namesOf(lab: LabZones): string[] {
  const names = lab.zones.flatMap((z) => [...z.nodes.keys(), `nx.${z.origin}`, `a.b.${z.origin}`]);
  return names.length ? names : ['dadali.com'];
}

const TYPES = [1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 251, 252, 255, 65535];

interface Query {
  id: number;
  qr: number;
  opcode: number;
  questions: Array<{ name: string; type: number; class: number }>;
  edns: number[];
}

const queryArb = (names: string[]): fc.Arbitrary<Query> =>
  fc.record({
    id: fc.integer({ min: 0, max: 0xffff }),
    qr: fc.constantFrom(0, 0, 0, 0, 1),
    opcode: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 15 })),
    questions: fc.array(
      fc.record({
        name: fc.oneof(
          { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...names), fc.boolean(), fc.boolean()).map(([n, upper, dot]) => (upper ? n.toUpperCase() : n) + (dot ? '.' : '')) },
          { weight: 2, arbitrary: fc.tuple(label, fc.constantFrom(...names)).map(([l, n]) => `${l}.${n}`) },
          { weight: 2, arbitrary: fc.oneof(hostname, fc.constantFrom('', '.', 'com', 'arpa', 'in-addr.arpa', 'example.org', 'localhost')) },
          { weight: 1, arbitrary: fc.array(fc.stringMatching(/^[\x21-\x2d\x2f-\x7e]{1,10}$/), { maxLength: 4 }).map((l) => l.join('.')) },
        ),
        type: fc.oneof(fc.constantFrom(...TYPES), fc.integer({ min: 1, max: 65535 })),
        class: fc.constantFrom(1, 1, 1, 3, 4, 254, 255),
      }),
      { maxLength: 2 },
    ).map((q) => (q.length === 0 ? [] : q)),
    edns: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
  });

function toRequest(q: Query): InstanceType<typeof Packet> {
  const p = new Packet();
  p.header.id = q.id;
  p.header.qr = q.qr === 1 ? 1 : 0;
  p.header.opcode = q.opcode;
  p.header.rd = 1;
  for (const x of q.questions) p.questions.push(new Packet.Question(x.name, x.type, x.class));
  for (const version of q.edns) {
    const opt = Packet.Resource.EDNS([], { udpPayloadSize: 1232 });
    p.additionals.push(Object.assign(opt, { version }));
  }
  return p;
}

/** What the server does with one datagram: parse it (dns2), respond, encode. */
function exchange(lab: LabZones, wire: Buffer): { request: InstanceType<typeof Packet>; response: InstanceType<typeof Packet> | null } | null {
  let request;
  try {
    request = Packet.parse(wire);
  } catch {
    return null; // the server logs and drops it (or answers FORMERR from the header)
  }
  const outcome = respond(lab, request);
  if (outcome.response) Packet.parse(outcome.response.toBuffer());
  return { request, response: outcome.response };
}

function checkResponse(lab: LabZones, request: InstanceType<typeof Packet>, response: InstanceType<typeof Packet> | null): void {
  assert.equal(response === null, request.header.qr === 1, 'only responses are dropped');
  if (!response) return;
  const h = response.header;
  assert.equal(h.id, request.header.id);
  assert.equal(h.qr, 1);
  assert.equal(h.ra, 0, 'no recursion, ever');
  const records = [...response.answers, ...response.authorities, ...response.additionals].filter((r) => r.type !== Packet.TYPE.EDNS);
  for (const r of records) assert.ok(findZone(lab, r.name), `record ${r.name} inside a lab zone`);
  const q = request.questions[0];
  const clean =
    request.errors.every((e) => e.section !== 'questions') &&
    request.header.qdcount === 1 &&
    request.questions.length === 1 &&
    request.header.opcode === 0 &&
    request.additionals.filter((r) => r?.type === Packet.TYPE.EDNS).length <= 1 &&
    request.additionals.every((r) => r?.type !== Packet.TYPE.EDNS || !r.version) &&
    (q.class === 1 || q.class === 255) &&
    q.type !== 251 &&
    q.type !== 252;
  if (!clean) {
    assert.equal(records.length, 0, 'nothing answered to a refused or malformed request');
    return;
  }
  if (!findZone(lab, q.name)) {
    assert.equal(h.rcode, Packet.RCODE.REFUSED, `REFUSED for ${q.name}`);
    assert.equal(h.aa, 0);
    assert.equal(records.length, 0);
  } else {
    assert.ok(h.rcode === Packet.RCODE.NOERROR || h.rcode === Packet.RCODE.NXDOMAIN, `rcode ${h.rcode} for ${q.name}`);
    assert.equal(h.aa, 1);
  }
}

describe('lab DNS', () => {
  test('buildZones on random lab definitions: consistent zones; every name answers with an encodable response', () => {
    fuzz(
      'dns buildZones',
      () =>
        fc.property(labData, fc.constantFrom<LabMode>('docker', 'local'), (data, mode) => {
          const config = labFrom(data);
          if (!config) return;
          const lab = buildZones(config, mode, { serial: 2026112601 });
          checkZones(lab);
          for (const name of namesOf(lab)) {
            const r = exchange(lab, toRequest({ id: 1, qr: 0, opcode: 0, questions: [{ name, type: 255, class: 1 }], edns: [] }).toBuffer());
            assert.ok(r);
            checkResponse(lab, r.request, r.response);
          }
        }),
      {
        numRuns: fuzzRuns(300, 1 / 8),
        examples: [
          // Record names that are not DNS names (a label over 63 octets, an empty label, a name over 255 octets,
          // characters above U+00FF): buildZones took them, then dns2 could not encode the answer (SERVFAIL);
          // they are now left out with a warning (zones.ts).
          [{ ...minimal(), domains: [{ ...minimal().domains[0], records: [{ name: 'x'.repeat(70), type: 'TXT', value: 'v' }] }] }, 'docker'],
          [{ ...minimal(), domains: [{ ...minimal().domains[0], records: [{ name: 'a..b', type: 'A', value: '10.0.0.9' }] }] }, 'local'],
          [{ ...minimal(), domains: [{ ...minimal().domains[0], records: [{ name: '日本', type: 'A', value: '10.0.0.9' }] }] }, 'docker'],
          [{ ...minimal(), domains: [{ ...minimal().domains[0], records: [{ name: `${'y'.repeat(60)}.${'z'.repeat(60)}.${'w'.repeat(60)}.${'v'.repeat(60)}`, type: 'TXT', value: 'v' }] }] }, 'docker'],
        ],
      },
    );
  });

  test('respond on random queries to random labs: never throws, REFUSED outside the lab, answers named inside it', () => {
    const labs = fc.tuple(labData, fc.constantFrom<LabMode>('docker', 'local')).map(([d, mode]) => {
      const config = labFrom(d);
      return config ? buildZones(config, mode) : buildZones(labFrom(minimal())!, mode);
    });
    fuzz(
      'dns respond',
      () =>
        fc.property(
          labs.chain((lab) => fc.tuple(fc.constant(lab), fc.array(queryArb(namesOf(lab)), { minLength: 1, maxLength: 5 }))),
          ([lab, queries]) => {
            for (const q of queries) {
              let wire: Buffer;
              try {
                wire = toRequest(q).toBuffer();
              } catch {
                continue; // a name dns2 cannot put on the wire cannot be asked either
              }
              const r = exchange(lab, wire);
              if (r) checkResponse(lab, r.request, r.response);
            }
          },
        ),
      { numRuns: fuzzRuns(300, 1 / 8) },
    );
  });

  test('respond on arbitrary datagrams and on mutated queries: whatever dns2 parses is answered without throwing', () => {
    const lab = buildZones(labFrom(minimal())!, 'docker');
    const query = toRequest({ id: 7, qr: 0, opcode: 0, questions: [{ name: 'mail.dadali.com', type: 15, class: 1 }], edns: [0] }).toBuffer();
    fuzz(
      'dns respond',
      () =>
        fc.property(
          fc.oneof(
            interestingBytes(80),
            fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(query.length)).map(([flips, cut]) => {
              const b = Buffer.from(query);
              for (const [at, v] of flips) b[at % b.length] = v;
              return b.subarray(0, Math.max(12, cut));
            }),
          ),
          (wire) => {
            const r = exchange(lab, wire);
            if (r) checkResponse(lab, r.request, r.response);
          },
        ),
      { numRuns: fuzzRuns(2000) },
    );
  });
});

function minimal() {
  return {
    version: 1,
    profiles: { classroom: { retryInterval: '30s', warnAfter: '2m', returnAfter: '10m' } },
    dns: { address: '10.0.0.53', hostPort: 30053, ttl: 60 },
    domains: [
      {
        name: 'dadali.com',
        mailHost: 'mail.dadali.com',
        address: '10.0.0.20',
        ports: { smtp: 31000, submission: 31001, pop3: 31002, imap: 31003, admin: 31004 },
        records: [] as Array<{ name: string; type: string; value: string }>,
        accounts: [{ user: 'a', password: 'x' }],
      },
    ],
  };
}
