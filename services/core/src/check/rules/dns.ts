/**
 * mx-lookup, read from the lab DNS's query log: the questions a person
 * asked (records.ts leaves the servers' own lookups and the self-checks
 * out). Done: an MX question about a lab domain and an A question about a
 * mail host, the two questions a sending server asks.
 */
import type { DnsQuery } from '../../admin/api';
import { done, notYet, partly, type Rule } from '../rule';
import { clock } from '../words';

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');
const told = (q: DnsQuery) => `${q.type} ${bare(q.name)} at ${clock(q.time)} from ${q.client} (${q.transport}): ${q.rcode === 'NOERROR' ? q.answers.join(', ') || '(no data)' : q.rcode}`;

export const mxLookup: Rule = (v) => {
  const domains = v.records.config.domains.map((d) => d.name);
  const hosts = v.records.config.domains.flatMap((d) => [d.mailHost, ...d.mx.map((m) => m.host)]).map(bare);
  const mx = v.dns.find((q) => q.type === 'MX' && q.rcode === 'NOERROR' && domains.includes(bare(q.name)) && q.answers.length);
  const a = v.dns.find((q) => q.type === 'A' && q.rcode === 'NOERROR' && hosts.includes(bare(q.name)));
  const others = v.dns.filter((q) => q !== mx && q !== a);
  const also = others.length
    ? [`also asked: ${[...new Set(others.map((q) => `${q.type} ${bare(q.name)} (${q.rcode})`))].slice(0, 6).join(', ')}${others.length > 6 ? ', …' : ''}`]
    : [];
  const evidence = [...(mx ? [told(mx)] : []), ...(a ? [told(a)] : [])];
  const missing = [...(mx ? [] : ['an MX question about a lab domain (dig @127.0.0.1 -p 10053 MX dadali.com)']), ...(a ? [] : ['an A question about its mail host (dig … A mail.dadali.com)'])];
  if (!evidence.length) return also.length ? partly(also, missing) : notYet(missing);
  return missing.length ? partly([...evidence, ...also], missing) : done([...evidence, ...also]);
};
