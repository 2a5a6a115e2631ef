/**
 * Where to connect and as whom: completes bare user names with the home
 * domain, picks `mail.<domain>` and the standard port unless --server/--port
 * or the environment say otherwise, finds the password, and resolves the
 * host name (system resolver, or the lab DNS given as MAIL_LAB_DNS) with an
 * error that says which of "not in the lab DNS" and "the DNS is down" it was.
 */
import { promises as dns, Resolver } from 'node:dns';
import { isIP } from 'node:net';
import { notInDns, UnreachableError, UsageError, type Target } from './errors';
import type { Transcript } from './transcript';

/** The environment the client reads (main.ts passes process.env). */
export type Env = Record<string, string | undefined>;

export type Service = 'submission' | 'pop3' | 'imap';

export const STANDARD_PORTS: Record<Service, number> = { submission: 587, pop3: 110, imap: 143 };
const PORT_ENV: Record<Service, string> = {
  submission: 'MAIL_LAB_SUBMISSION_PORT',
  pop3: 'MAIL_LAB_POP3_PORT',
  imap: 'MAIL_LAB_IMAP_PORT',
};

/** Connection options shared by every command. */
export interface ConnectionOptions {
  server?: string;
  port?: number;
  password?: string;
  /** Seconds. @default 20 (or MAIL_LAB_TIMEOUT) */
  timeout?: number;
}

/** Everything needed to open one authenticated session. */
export interface Endpoint extends Target {
  /** The name the user gave or the default `mail.<domain>`; used in messages. */
  host: string;
  port: number;
  user: string;
  password: string;
  timeoutMs: number;
  /** A lab DNS server (`host:port`) to resolve names with instead of the system resolver. */
  dnsServer?: string;
  transcript?: Transcript;
}

const ADDRESS = /^[^\s@<>(),;:"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/;

/** `mbrain` → `mbrain@<MAIL_LAB_HOME_DOMAIN>`; a full address is checked and kept. */
export function fullAddress(address: string, env: Env): string {
  const a = address.trim();
  if (!a.includes('@')) {
    const home = env.MAIL_LAB_HOME_DOMAIN?.trim();
    if (!home) throw new UsageError(`"${a}" is not a full address; write it as user@domain (or set MAIL_LAB_HOME_DOMAIN)`);
    return `${a}@${home}`;
  }
  if (!ADDRESS.test(a)) throw new UsageError(`"${a}" is not an e-mail address (user@domain)`);
  return a;
}

/** `a@x.com, b@y.com` → both, completed. */
export function addressList(list: string[] | string | undefined, env: Env): string[] {
  const items = (Array.isArray(list) ? list : list === undefined ? [] : [list]).flatMap((s) => s.split(','));
  return items.map((s) => s.trim()).filter((s) => s !== '').map((s) => fullAddress(s, env));
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function parsePort(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 65535) throw new UsageError(`${what} must be a port number (1-65535), not "${text}"`);
  return n;
}

/** The endpoint of `service` for `user` from options, then environment, then the lab defaults. */
export function endpointFor(service: Service, user: string, o: ConnectionOptions, env: Env, transcript?: Transcript): Endpoint {
  const host = o.server ?? env.MAIL_LAB_SERVER ?? `mail.${domainOf(user)}`;
  const envPort = env[PORT_ENV[service]];
  const port = o.port ?? (envPort ? parsePort(envPort, PORT_ENV[service]) : STANDARD_PORTS[service]);
  const password = o.password ?? env.MAIL_LAB_PASSWORD;
  if (password === undefined || password === '') {
    throw new UsageError(`no password for ${user}: give it with --password or in the environment variable MAIL_LAB_PASSWORD`);
  }
  const seconds = o.timeout ?? (env.MAIL_LAB_TIMEOUT ? Number(env.MAIL_LAB_TIMEOUT) : 20);
  if (!(seconds > 0)) throw new UsageError(`the timeout must be a positive number of seconds, not "${env.MAIL_LAB_TIMEOUT}"`);
  return { host, port, user, password, timeoutMs: Math.round(seconds * 1000), dnsServer: env.MAIL_LAB_DNS || undefined, transcript };
}

const NOT_THERE = new Set(['ENOTFOUND', 'EREFUSED', 'ENODATA', 'ENONAME', 'EAI_NONAME', 'EAI_NODATA']);

async function viaLabDns(host: string, server: string, timeoutMs: number): Promise<string> {
  const r = new Resolver({ timeout: Math.min(timeoutMs, 5000), tries: 2 });
  r.setServers([server]);
  return new Promise((resolve, reject) => r.resolve4(host, (e, a) => (e ? reject(e) : resolve(a[0]))));
}

/**
 * The address to connect to for `e.host`. Errors: "not in the lab DNS" when
 * the DNS answered that the name does not exist (or refused: not a lab
 * zone), "the DNS does not answer" when nobody answered.
 */
export async function resolveHost(e: Pick<Endpoint, 'host' | 'timeoutMs' | 'dnsServer'>): Promise<string> {
  if (isIP(e.host)) return e.host;
  try {
    if (e.dnsServer) return await viaLabDns(e.host, e.dnsServer, e.timeoutMs);
    return (await dns.lookup(e.host, { family: 4 })).address;
  } catch (err) {
    let c = (err as { code?: string }).code ?? '';
    // getaddrinfo says EAI_AGAIN both for "the DNS refused" and "no DNS
    // answered"; ask the configured DNS directly to tell the two apart.
    if (!e.dnsServer && !NOT_THERE.has(c)) {
      c = await new dns.Resolver({ timeout: 2000, tries: 1 }).resolve4(e.host).then(
        () => c,
        (probe: { code?: string }) => probe.code ?? c,
      );
    }
    if (NOT_THERE.has(c)) throw notInDns(e.host);
    const via = e.dnsServer ? ` at ${e.dnsServer}` : '';
    throw new UnreachableError(`cannot look up ${e.host}: the DNS server${via} does not answer (is the lab DNS up?)`);
  }
}
