/**
 * Presentation form of lab records, as `dig` and zone files print them
 * (RFC 1035 §5.1): the RDATA alone for the query log (`10 mail.dadali.com`)
 * and whole zone-file lines for the zone dump at start-up.
 */
import type { RecordData, ResourceRecord } from './zones';

/** Quotes a TXT <character-string>, escaping `"` and `\` (RFC 1035 §5.1). */
function quote(text: string): string {
  return '"' + text.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

/** RDATA in presentation form, names absolute with their trailing dot omitted for readability. */
export function rdataText(data: RecordData): string {
  switch (data.type) {
    case 'A':
      return data.address;
    case 'NS':
      return data.host;
    case 'CNAME':
    case 'PTR':
      return data.target;
    case 'MX':
      return `${data.preference} ${data.exchange}`;
    case 'SRV':
      return `${data.priority} ${data.weight} ${data.port} ${data.target}`;
    case 'TXT':
      return data.text.map(quote).join(' ');
    case 'SOA':
      return `${data.mname} ${data.rname} ${data.serial} ${data.refresh} ${data.retry} ${data.expire} ${data.minimum}`;
  }
}

/** One zone-file line: `mail.dadali.com. 60 IN A 172.29.25.20`. */
export function recordLine(r: ResourceRecord): string {
  const dot = (n: string) => n + '.';
  const d = r.data;
  let rdata: string;
  switch (d.type) {
    case 'NS':
      rdata = dot(d.host);
      break;
    case 'CNAME':
    case 'PTR':
      rdata = dot(d.target);
      break;
    case 'MX':
      rdata = `${d.preference} ${dot(d.exchange)}`;
      break;
    case 'SRV':
      rdata = `${d.priority} ${d.weight} ${d.port} ${dot(d.target)}`;
      break;
    case 'SOA':
      rdata = `${dot(d.mname)} ${dot(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
      break;
    default:
      rdata = rdataText(d);
  }
  return `${dot(r.name)} ${r.ttl} IN ${d.type} ${rdata}`;
}

/**
 * The answers of a response for the query log. Records of the asked type
 * show their RDATA alone; others (a CNAME on the way, everything under ANY)
 * are prefixed with their type: `CNAME mail.dadali.com, 172.29.25.20`.
 */
export function answersText(qtype: string, answers: ResourceRecord[]): string[] {
  return answers.map((r) => (r.data.type === qtype ? rdataText(r.data) : `${r.data.type} ${rdataText(r.data)}`));
}
