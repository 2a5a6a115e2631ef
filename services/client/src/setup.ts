/**
 * `mail-lab-client setup <address>`: what a mail program such as Thunderbird
 * finds by itself when a student types only an address and a password, so
 * the class can see where "automatic set-up" gets its settings from:
 *
 * 1. the provider's configuration file (Mozilla's autoconfig, "clientConfig
 *    v1.1"), asked for where Thunderbird asks the provider first:
 *    `http://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>`,
 *    then `http://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`
 *    (or only the URL given with --autoconfig-url);
 * 2. the DNS SRV records of RFC 6186 (§3.1 `_submission._tcp`, §3.2
 *    `_imap._tcp`, `_imaps._tcp`, `_pop3._tcp`, `_pop3s._tcp`; RFC 8314
 *    §5.1 `_submissions._tcp`), where a target of "." means "not offered"
 *    (RFC 6186 §4 / RFC 2782).
 *
 * Nothing is logged in to and nothing is sent: it prints what it found and
 * which settings a mail program would take. Host names are resolved with the
 * lab DNS when one is given (--dns or MAIL_LAB_DNS), else the system's.
 */
import { Resolver, type SrvRecord } from 'node:dns';
import { get, type IncomingMessage } from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import { parseDocument, DomUtils } from 'htmlparser2';
import type { Element } from 'domhandler';
import { ClientError } from './errors';
import { domainOf, resolveHost } from './endpoint';

/** The SRV names of RFC 6186 (and RFC 8314 §5.1), in the order a reader expects them. */
export const SRV_SERVICES = ['_submission._tcp', '_submissions._tcp', '_imap._tcp', '_imaps._tcp', '_pop3._tcp', '_pop3s._tcp'] as const;

/** One server of the configuration file. */
export interface ConfigServer {
  direction: 'incoming' | 'outgoing';
  type: string;
  hostname: string;
  port: number;
  socketType: string;
  username: string;
  authentication: string;
  /** POP3 only: whether the provider asks the program to leave the mail on the server. */
  leaveMessagesOnServer?: boolean;
}

export interface AutoconfigAnswer {
  url: string;
  /** HTTP status, or the reason there was none. */
  status: number | string;
  servers: ConfigServer[];
}

export interface SrvAnswer {
  name: string;
  records: SrvRecord[];
  /** Why there are no records (NXDOMAIN, NODATA, no answer…). */
  error?: string;
}

export interface SetupOptions {
  /** Only this URL instead of Thunderbird's two places (e.g. the no-Docker lab's host door). */
  autoconfigUrl?: string;
  /** The lab DNS, `host:port`. */
  dnsServer?: string;
  timeoutMs: number;
}

/** The URLs a mail program asks for the configuration of `address`. */
export function autoconfigUrls(address: string, o: Pick<SetupOptions, 'autoconfigUrl'>): string[] {
  const q = `emailaddress=${encodeURIComponent(address)}`;
  if (o.autoconfigUrl) return [o.autoconfigUrl + (o.autoconfigUrl.includes('?') ? '&' : '?') + q];
  const domain = domainOf(address);
  return [`http://autoconfig.${domain}/mail/config-v1.1.xml?${q}`, `http://${domain}/.well-known/autoconfig/mail/config-v1.1.xml?${q}`];
}

const text = (e: Element, tag: string) => {
  const x = DomUtils.findOne((n) => n.name === tag, e.children, true);
  return x ? DomUtils.textContent(x).trim() : '';
};

/** The placeholders of a clientConfig file, filled in as the mail program does for `address`. */
export function fillPlaceholders(value: string, address: string): string {
  const at = address.lastIndexOf('@');
  return value.replace(/%EMAILADDRESS%/g, address).replace(/%EMAILLOCALPART%/g, address.slice(0, at)).replace(/%EMAILDOMAIN%/g, address.slice(at + 1));
}

/** The servers a clientConfig v1.1 document names, in its order. */
export function parseClientConfig(xml: string): ConfigServer[] {
  const doc = parseDocument(xml, { xmlMode: true });
  const servers = DomUtils.findAll((n) => n.name === 'incomingServer' || n.name === 'outgoingServer', doc.children);
  return servers.map((s) => {
    const leave = text(s, 'leaveMessagesOnServer');
    return {
      direction: s.name === 'incomingServer' ? 'incoming' : 'outgoing',
      type: s.attribs.type ?? '?',
      hostname: text(s, 'hostname'),
      port: Number(text(s, 'port')),
      socketType: text(s, 'socketType'),
      username: text(s, 'username'),
      authentication: text(s, 'authentication'),
      ...(leave ? { leaveMessagesOnServer: leave === 'true' } : {}),
    };
  });
}

/** A lookup for node:http that resolves with the lab DNS when one is given. */
function lookupVia(o: SetupOptions): LookupFunction {
  return (host, opts, callback) => {
    resolveHost({ host, timeoutMs: o.timeoutMs, dnsServer: o.dnsServer }).then(
      (address) => {
        const family = isIP(address) || 4;
        // With autoSelectFamily (Node 20's default for http) the caller asks for every address.
        if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
        else callback(null, address, family);
      },
      (e: Error) => callback(Object.assign(e, { code: 'ENOTFOUND' }) as NodeJS.ErrnoException, '', 4),
    );
  };
}

function fetchText(url: string, o: SetupOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { lookup: lookupVia(o), timeout: o.timeoutMs }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // A configuration file is a few kilobytes; a big answer is not one.
        if (size > 1_000_000) req.destroy(new Error('answer larger than 1 MB'));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs / 1000}s`)));
    req.on('error', reject);
  });
}

/** Asks each place in turn; stops at the first that gives a configuration. */
export async function findAutoconfig(address: string, o: SetupOptions): Promise<AutoconfigAnswer[]> {
  const answers: AutoconfigAnswer[] = [];
  for (const url of autoconfigUrls(address, o)) {
    try {
      const r = await fetchText(url, o);
      const servers = r.status === 200 ? parseClientConfig(r.body).map((x) => ({ ...x, username: fillPlaceholders(x.username, address) })) : [];
      answers.push({ url, status: r.status, servers });
      if (servers.length) break;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
      const why = err.code === 'ECONNREFUSED' ? `nothing listens at ${err.address}:${err.port} (connection refused)` : err.message;
      answers.push({ url, status: why, servers: [] });
    }
  }
  return answers;
}

const DNS_WORDS: Record<string, string> = { ENOTFOUND: 'no such name (NXDOMAIN)', ENODATA: 'no SRV record (NODATA)', ETIMEOUT: 'no answer', ECONNREFUSED: 'no answer', EREFUSED: 'refused' };

/** The SRV records of RFC 6186 for `domain`. */
export async function findSrv(domain: string, o: SetupOptions): Promise<SrvAnswer[]> {
  const r = new Resolver({ timeout: Math.min(o.timeoutMs, 5000), tries: 2 });
  if (o.dnsServer) r.setServers([o.dnsServer]);
  return Promise.all(
    SRV_SERVICES.map(
      (service) =>
        new Promise<SrvAnswer>((resolve) => {
          const name = `${service}.${domain}`;
          r.resolveSrv(name, (e, records) => {
            if (e) resolve({ name, records: [], error: DNS_WORDS[e.code ?? ''] ?? e.code ?? e.message });
            else resolve({ name, records: [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight) });
          });
        }),
    ),
  );
}

const TYPE_NAMES: Record<string, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' };

function serverLine(s: ConfigServer): string {
  const what = `${s.direction === 'incoming' ? 'read with' : 'send with'} ${TYPE_NAMES[s.type] ?? s.type}`;
  const leave = s.leaveMessagesOnServer === undefined ? '' : s.leaveMessagesOnServer ? ', leave messages on the server' : ', delete them after download';
  return `   ${what.padEnd(15)} ${`${s.hostname}:${s.port}`.padEnd(28)} ${s.socketType}, user ${s.username}, ${s.authentication}${leave}`;
}

/** The report a student reads, and whether anything was found. */
export function formatSetup(address: string, auto: AutoconfigAnswer[], srv: SrvAnswer[]): { lines: string[]; found: boolean } {
  const lines = [`Settings for ${address}, looked up the way a mail program (Thunderbird) does it:`, '', '1. The configuration file of the provider (autoconfig):'];
  for (const a of auto) lines.push(`   GET ${a.url}  ->  ${typeof a.status === 'number' ? `${a.status}${a.status === 200 && !a.servers.length ? ' (not a configuration file)' : ''}` : a.status}`);
  const config = auto.find((a) => a.servers.length);
  if (config) for (const s of config.servers) lines.push(serverLine(s));
  else lines.push('   (no configuration file found)');
  lines.push('', '2. DNS SRV records (RFC 6186):');
  for (const s of srv) {
    if (!s.records.length) lines.push(`   ${s.name.padEnd(36)} ${s.error ?? 'no record'}`);
    for (const r of s.records) lines.push(`   ${s.name.padEnd(36)} SRV ${r.priority} ${r.weight} ${r.port} ${r.name === '' || r.name === '.' ? '. (not offered)' : r.name}`);
  }
  const incoming = config?.servers.find((s) => s.direction === 'incoming');
  const outgoing = config?.servers.find((s) => s.direction === 'outgoing');
  const srvOf = (service: string) => srv.find((s) => s.name.startsWith(service + '.'))?.records.find((r) => r.name !== '' && r.name !== '.');
  const srvIn = srvOf('_imap._tcp') ?? srvOf('_pop3._tcp');
  const srvOut = srvOf('_submission._tcp');
  lines.push('');
  if (incoming && outgoing) {
    lines.push(`A mail program takes the first of each: read with ${TYPE_NAMES[incoming.type] ?? incoming.type} at ${incoming.hostname}:${incoming.port} (${incoming.socketType}), send with SMTP at ${outgoing.hostname}:${outgoing.port} (${outgoing.socketType}), log in as ${incoming.username}.`);
  } else if (srvIn && srvOut) {
    lines.push(`Without a configuration file a mail program can use the SRV records: read at ${srvIn.name}:${srvIn.port}, send at ${srvOut.name}:${srvOut.port}.`);
  } else {
    lines.push('Nothing found: a mail program would have to be set up by hand (server names and ports from your teacher).');
  }
  return { lines, found: Boolean((incoming && outgoing) || (srvIn && srvOut)) };
}

/** Runs both lookups and prints the report; fails (exit 1) when nothing at all was found. */
export async function setup(address: string, o: SetupOptions, out: (line: string) => void): Promise<void> {
  const [auto, srv] = await Promise.all([findAutoconfig(address, o), findSrv(domainOf(address), o)]);
  const r = formatSetup(address, auto, srv);
  for (const l of r.lines) out(l);
  if (!r.found) throw new ClientError(`no mail settings found for ${address}`);
}
