/**
 * mx-lookup, read from the lab DNS's query log: the questions a person
 * asked (records.ts leaves the servers' own lookups and the self-checks
 * out). Done: an MX question about a lab domain and an A question about a
 * mail host, the two questions a sending server asks.
 */
import type { DnsQuery } from '../../admin/api';
import { done, notYet, partly, type Rule } from '../rule';
import { clock, type Words } from '../words';

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');
const told = (q: DnsQuery, w: Words) =>
  w.t(
    `${q.type} ${bare(q.name)} at ${clock(q.time)} from ${q.client} (${q.transport}): ${q.rcode === 'NOERROR' ? q.answers.join(', ') || '(no data)' : q.rcode}`,
    `${q.type} ${bare(q.name)} pukul ${clock(q.time)} dari ${q.client} (${q.transport}): ${q.rcode === 'NOERROR' ? q.answers.join(', ') || '(tanpa data)' : q.rcode}`,
  );

export const mxLookup: Rule = (v, w) => {
  const domains = v.records.config.domains.map((d) => d.name);
  const hosts = v.records.config.domains.flatMap((d) => [d.mailHost, ...d.mx.map((m) => m.host)]).map(bare);
  const mx = v.dns.find((q) => q.type === 'MX' && q.rcode === 'NOERROR' && domains.includes(bare(q.name)) && q.answers.length);
  const a = v.dns.find((q) => q.type === 'A' && q.rcode === 'NOERROR' && hosts.includes(bare(q.name)));
  const others = v.dns.filter((q) => q !== mx && q !== a);
  const also = others.length
    ? [w.t('also asked: ', 'juga ditanyakan: ') + `${[...new Set(others.map((q) => `${q.type} ${bare(q.name)} (${q.rcode})`))].slice(0, 6).join(', ')}${others.length > 6 ? ', …' : ''}`]
    : [];
  const evidence = [...(mx ? [told(mx, w)] : []), ...(a ? [told(a, w)] : [])];
  const missing = [
    ...(mx ? [] : [w.t('an MX question about a lab domain (dig @127.0.0.1 -p 10053 MX dadali.com)', 'pertanyaan MX tentang domain lab (dig @127.0.0.1 -p 10053 MX dadali.com)')]),
    ...(a ? [] : [w.t('an A question about its mail host (dig … A mail.dadali.com)', 'pertanyaan A tentang host surat domain itu (dig … A mail.dadali.com)')]),
  ];
  if (!evidence.length) return also.length ? partly(also, missing) : notYet(missing);
  return missing.length ? partly([...evidence, ...also], missing) : done([...evidence, ...also]);
};
