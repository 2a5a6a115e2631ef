/**
 * One DNS message in, one DNS message out: checks the request (RFC 1035
 * §4.1.1 header, RFC 6891 EDNS), answers it with `answer.ts` and encodes the
 * answer as a dns2 packet. Transport-free, so UDP and TCP share it and tests
 * can call it with hand-made packets.
 *
 * The question is echoed as asked (RFC 1035 §4.1.1), case included. dns2
 * compresses names case-insensitively, so owner names and RDATA names that
 * share a suffix with the question come back in the asker's case (`dig
 * MAIL.DADALI.COM` shows `ns.DADALI.COM.` in the SOA): harmless, since names
 * compare case-insensitively (RFC 4343).
 */
import DNS = require('dns2');
import { answerQuestion, type DnsAnswer } from './answer';
import { answersText } from './present';
import type { LabZones, ResourceRecord } from './zones';

type Packet = DNS.Packet;
type Resource = DNS.Packet.Resource;
const { Packet } = DNS;

/**
 * SRV targets go on the wire uncompressed: RFC 2782 ("Target": "name
 * compression is not to be used for this field") and RFC 3597 §4 (no
 * compression inside the RDATA of types newer than RFC 1035). dns2 3.1.1
 * would compress it like any name, so its SRV encoder is replaced here, the
 * one place that puts lab records on the wire; its decoder stays.
 */
interface NameWriter {
  write(value: number, bits: number): void;
  names?: unknown;
}
const SRV_CODEC = (Packet.Resource as unknown as Record<string, { encode: (record: Record<string, unknown>, writer: NameWriter) => void }>).SRV;
SRV_CODEC.encode = (record, writer) => {
  writer.write(record.priority as number, 16);
  writer.write(record.weight as number, 16);
  writer.write(record.port as number, 16);
  const names = writer.names;
  // Without its table of names dns2 writes every label in full (and records none for later pointers).
  writer.names = undefined;
  try {
    (Packet as unknown as { Name: { encode(name: string, w: NameWriter): void } }).Name.encode(record.target as string, writer);
  } finally {
    writer.names = names;
  }
};

/** Payload size we advertise in our OPT record: the DNS Flag Day 2020 value. */
const EDNS_PAYLOAD = 1232;
/** Code → mnemonic; the first name wins, so 16 reads BADVERS (its meaning here), not BADSIG. */
const RCODE_NAME: Record<number, string> = Object.fromEntries(Object.entries(Packet.RCODE).reverse().map(([k, v]) => [v, k]));
const CLASS_NAME: Record<number, string> = Object.fromEntries(Object.entries(Packet.CLASS).map(([k, v]) => [v, k]));
/** Zone transfers are not offered: a lab client gets REFUSED, as from a server that allows none. */
const TRANSFER_TYPES = new Set([251 /* IXFR */, 252 /* AXFR */]);

export interface Outcome {
  /** What to send back; null means drop silently (e.g. the message was itself a response). */
  response: Packet | null;
  /** The question as asked (original case), or empty when there was none. */
  name: string;
  type: string;
  rcode: string;
  /** Answer section in presentation form. */
  answers: string[];
  /** Why a request was refused or rejected before the zones were consulted. */
  note?: string;
}

function toResource(r: ResourceRecord): Resource {
  const base = { name: r.name, ttl: r.ttl, class: Packet.CLASS.IN };
  const d = r.data;
  const T = Packet.TYPE;
  let rr: object;
  switch (d.type) {
    case 'A':
      rr = { type: T.A, address: d.address };
      break;
    case 'NS':
      rr = { type: T.NS, ns: d.host };
      break;
    case 'CNAME':
      rr = { type: T.CNAME, domain: d.target };
      break;
    case 'PTR':
      rr = { type: T.PTR, domain: d.target };
      break;
    case 'MX':
      rr = { type: T.MX, exchange: d.exchange, priority: d.preference };
      break;
    case 'SRV':
      rr = { type: T.SRV, priority: d.priority, weight: d.weight, port: d.port, target: d.target };
      break;
    case 'TXT':
      // dns2 writes each string's length in one octet without checking;
      // zones.ts already split them into <= 255-octet pieces.
      rr = { type: T.TXT, data: d.text };
      break;
    case 'SOA':
      rr = { type: T.SOA, primary: d.mname, admin: d.rname, serial: d.serial, refresh: d.refresh, retry: d.retry, expiration: d.expire, minimum: d.minimum };
      break;
  }
  return new Packet.Resource({ ...base, ...rr });
}

function reject(request: Packet, rcode: number, note: string, withOpt: boolean): Outcome {
  const response = Packet.createResponseFromRequest(request);
  response.header.rcode = rcode;
  if (withOpt || rcode > 15) response.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: EDNS_PAYLOAD }));
  const q = request.questions[0];
  return { response, name: q?.name ?? '', type: q ? Packet.typeName(q.type) : '', rcode: RCODE_NAME[rcode] ?? String(rcode), answers: [], note };
}

/** Builds the response to one parsed request. */
export function respond(lab: LabZones, request: Packet): Outcome {
  const h = request.header;
  if (h.qr) return { response: null, name: '', type: '', rcode: '', answers: [], note: 'a response, not a query; dropped' };
  const opts = request.additionals.filter((r) => r && r.type === Packet.TYPE.EDNS);
  const hasOpt = opts.length > 0;

  // RFC 1035 §4.1.1 FORMERR; RFC 9619: a query carries exactly one question.
  const questionErrors = request.errors.filter((e) => e.section === 'questions');
  if (questionErrors.length || h.qdcount !== 1 || request.questions.length !== 1) {
    return reject(request, Packet.RCODE.FORMERR, questionErrors[0]?.message ?? `QDCOUNT is ${h.qdcount}, expected 1`, hasOpt);
  }
  // RFC 6891 §6.1.1: more than one OPT record is a format error.
  if (opts.length > 1) return reject(request, Packet.RCODE.FORMERR, 'more than one OPT record', true);
  // RFC 6891 §6.1.3: we speak EDNS version 0 only.
  if (hasOpt && (opts[0].version ?? 0) > 0) return reject(request, Packet.RCODE.BADVERS, `EDNS version ${opts[0].version}`, true);
  if (h.opcode !== 0) return reject(request, Packet.RCODE.NOTIMP, `opcode ${h.opcode} is not QUERY`, hasOpt);

  const q = request.questions[0];
  const type = Packet.typeName(q.type);
  if (q.class !== Packet.CLASS.IN && q.class !== Packet.CLASS.ANY) {
    return reject(request, Packet.RCODE.REFUSED, `class ${CLASS_NAME[q.class] ?? q.class} is not IN`, hasOpt);
  }
  if (TRANSFER_TYPES.has(q.type)) return reject(request, Packet.RCODE.REFUSED, 'zone transfers are not offered', hasOpt);

  const answer: DnsAnswer = answerQuestion(lab, q.name, type);
  const response = Packet.createResponseFromRequest(request);
  response.header.aa = answer.authoritative ? 1 : 0;
  response.header.ra = 0; // RFC 1035 §4.1.1: no recursion available, ever.
  response.header.rcode = Packet.RCODE[answer.rcode];
  response.answers = answer.answers.map(toResource);
  response.authorities = answer.authority.map(toResource);
  response.additionals = answer.additional.map(toResource);
  // RFC 6891 §7: answer an EDNS query with an OPT of our own.
  if (hasOpt) response.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: EDNS_PAYLOAD }));
  return { response, name: q.name, type, rcode: answer.rcode, answers: answersText(type, answer.answers) };
}
