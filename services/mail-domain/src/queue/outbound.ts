/**
 * Remote delivery of one message to the recipients of one domain, the way
 * RFC 5321 section 5.1 describes it: look up the domain's MX records in the
 * lab DNS, try the hosts in preference order (the next one when a host
 * cannot be reached or answers 4xx before the recipients), fall back to the
 * domain's own A record when it has no MX (implicit MX), and give up at
 * once on a null MX (RFC 7505) or a domain that does not exist. Each
 * recipient ends delivered, deferred (try again later) or bounced (5xx).
 *
 * With the lab CA (`tls`), STARTTLS is used whenever the receiving server
 * offers it (opportunistic TLS), and its certificate must verify against
 * the lab CA for the MX host name; a server that does not offer STARTTLS
 * gets the message in plain text. The transcript says which it was.
 *
 * With a connection cache (`cache`, connection-cache.ts), a session that
 * just sent a message stays open for a moment and the next message to the
 * same host goes over it; the transcript says so.
 */
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { describeTlsSocket } from '../tls/server-tls';
import { bunyanAdapter, teeLogger, type Logger } from '../../../core/src/logger';
import { statusFromReply } from './dsn';
import type { LabResolver } from '../resolver';
import { testCrashPoint } from './test-crash';
import type { CachedSession, SmtpConnectionCache, TranscriptSink } from './connection-cache';

export type Outcome = { address: string; result: 'delivered' | 'deferred' | 'bounced'; detail: string; status: string; remoteMta?: string };

/** One DNS question the sender asked, its answer and how long it took (for the live events). */
export interface DnsLookup {
  type: 'MX' | 'A';
  name: string;
  answers: string[];
  ms: number;
  /** The resolver's error code, when it failed (ENOTFOUND, ETIMEOUT, …). */
  error?: string;
}

export interface RemoteDeliveryResult {
  outcomes: Outcome[];
  mx: { exchange: string; priority: number }[];
  /** The MX and A questions of this attempt, in order. */
  lookups: DnsLookup[];
  host?: string;
  /** The SMTP conversation(s) with the hosts tried, `C:` / `S:` lines. */
  transcript: string[];
  /** How the session with `host` was protected, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`, or `none`. */
  tls?: string;
}

export interface RemoteDeliveryOptions {
  domain: string;
  from: string;
  recipients: string[];
  message: Buffer;
  resolver: LabResolver;
  /** Port of the SMTP server at this address (25 on the lab network; per domain in local mode). */
  portFor: (exchange: string, ip: string) => number;
  heloName: string;
  connectTimeout: number;
  commandTimeout: number;
  logger: Logger;
  /** The lab CA (PEM): STARTTLS when offered, the peer verified against it. Without it: plain text only. */
  tls?: { ca: string };
  /**
   * The names this server is known by (its mail host): found among the MX hosts, it and every
   * less preferred one are left out (RFC 5321 5.1), so a backup MX passes mail on to the
   * better MX hosts and never to itself. By name only: in a no-Docker lab every host is 127.0.0.1.
   */
  selfNames?: readonly string[];
  /** Open sessions to reuse (and to leave the session in afterwards); without it every message opens its own. */
  cache?: SmtpConnectionCache;
}

class TemporaryError extends Error {}
class PermanentError extends Error {
  constructor(message: string, readonly status: string) {
    super(message);
  }
}

function dnsFailure(e: unknown, what: string): never {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code === 'ENOTFOUND') throw new PermanentError(`${what}: no such domain (NXDOMAIN)`, '5.1.2');
  if (code === 'EREFUSED') throw new PermanentError(`${what}: the lab DNS refuses it (not a lab domain; nothing leaves the lab)`, '5.1.2');
  throw new TemporaryError(`${what}: DNS lookup failed (${code || (e as Error).message})`);
}

/** MX hosts in the order to try them (RFC 5321 5.1). */
export async function lookupMx(resolver: LabResolver, domain: string): Promise<{ exchange: string; priority: number }[]> {
  let records: { exchange: string; priority: number }[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (e) {
    // NOERROR without MX records: the domain itself is the implicit MX (RFC 5321 5.1).
    if ((e as NodeJS.ErrnoException).code === 'ENODATA') return [{ exchange: domain, priority: 0 }];
    dnsFailure(e, `MX lookup for ${domain}`);
  }
  if (records.length === 0) return [{ exchange: domain, priority: 0 }];
  if (records.length === 1 && (records[0].exchange === '' || records[0].exchange === '.')) {
    throw new PermanentError(`${domain} does not accept mail (null MX, RFC 7505)`, '5.1.10');
  }
  return [...records].sort((a, b) => a.priority - b.priority);
}

/**
 * RFC 5321 5.1: "The relay host MUST then inspect the list for any of the names or addresses
 * by which it might be known in mail transactions. If a matching record is found, all records
 * at that preference level and higher-numbered ones MUST be discarded from consideration."
 */
export function withoutSelf(mx: { exchange: string; priority: number }[], selfNames: readonly string[]): { hosts: { exchange: string; priority: number }[]; self?: { exchange: string; priority: number } } {
  const names = new Set(selfNames.map((n) => n.toLowerCase().replace(/\.$/, '')));
  const self = mx.find((m) => names.has(m.exchange.toLowerCase().replace(/\.$/, '')));
  return self ? { hosts: mx.filter((m) => m.priority < self.priority), self } : { hosts: mx };
}

function send(conn: SMTPConnection, envelope: { from: string; to: string[] }, message: Buffer): Promise<SMTPConnection.SentMessageInfo> {
  return new Promise((resolve, reject) => conn.send(envelope, message, (err, info) => (err ? reject(err) : resolve(info))));
}

type SmtpError = Error & { responseCode?: number; response?: string; recipient?: string; rejectedErrors?: SmtpError[]; code?: string; originalCode?: string };

export async function deliverRemote(o: RemoteDeliveryOptions): Promise<RemoteDeliveryResult> {
  const transcript: string[] = [];
  const lookups: DnsLookup[] = [];
  const result = await attemptRemote({ ...o, resolver: timedResolver(o.resolver, lookups) }, transcript);
  return { ...result, lookups, transcript };
}

/** The resolver, with every MX and A question recorded in `lookups` with its answer and time. */
function timedResolver(r: LabResolver, lookups: DnsLookup[]): LabResolver {
  const timed = async <T>(type: DnsLookup['type'], name: string, ask: () => Promise<T[]>, show: (x: T) => string): Promise<T[]> => {
    const t0 = performance.now();
    try {
      const answer = await ask();
      lookups.push({ type, name, answers: answer.map(show), ms: Math.round((performance.now() - t0) * 10) / 10 });
      return answer;
    } catch (e) {
      lookups.push({ type, name, answers: [], ms: Math.round((performance.now() - t0) * 10) / 10, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      throw e;
    }
  };
  return {
    resolveMx: (domain) => timed('MX', domain, () => r.resolveMx(domain), (m) => `${m.priority} ${m.exchange}`),
    resolve4: (host) => timed('A', host, () => r.resolve4(host), (a) => a),
    reverse: (ip) => r.reverse(ip),
  };
}

async function attemptRemote(o: RemoteDeliveryOptions, transcript: string[]): Promise<Omit<RemoteDeliveryResult, 'transcript' | 'lookups'>> {
  const log = o.logger;
  let mx: { exchange: string; priority: number }[] = [];
  const all = (result: Outcome['result'], detail: string, status: string): Outcome[] =>
    o.recipients.map((address) => ({ address, result, detail, status }));
  try {
    mx = await lookupMx(o.resolver, o.domain);
  } catch (e) {
    if (e instanceof PermanentError) return { outcomes: all('bounced', e.message, e.status), mx };
    return { outcomes: all('deferred', (e as Error).message, '4.4.3'), mx };
  }
  log.info(`MX ${o.domain} -> ${mx.map((m) => `${m.priority} ${m.exchange}`).join(', ')}`);
  transcript.push(`DNS: MX ${o.domain} -> ${mx.map((m) => `${m.priority} ${m.exchange}`).join(', ')}`);
  const tryHosts = withoutSelf(mx, o.selfNames ?? []);
  if (tryHosts.self) {
    const { self } = tryHosts;
    if (!tryHosts.hosts.length) {
      // RFC 5321 5.1: "If there are no records left at that point, it is an error condition, and the message MUST be returned as undeliverable."
      const detail = `mail for ${o.domain} loops back to myself: ${self.exchange} (this server) is its best MX, but ${o.domain} is not delivered here (RFC 5321 5.1)`;
      transcript.push(`MX: ${detail}`);
      return { outcomes: all('bounced', detail, '5.4.6'), mx };
    }
    transcript.push(`MX: ${self.exchange} is this server: it and every MX of preference ${self.priority} or more are left out (RFC 5321 5.1); trying ${tryHosts.hosts.map((m) => m.exchange).join(', ')}`);
  }
  let lastError = 'no MX host could be tried';
  for (const { exchange } of tryHosts.hosts) {
    let ips: string[];
    try {
      ips = await o.resolver.resolve4(exchange);
    } catch (e) {
      lastError = `A lookup for ${exchange} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
      continue;
    }
    transcript.push(`DNS: A ${exchange} -> ${ips.join(', ')}`);
    for (const ip of ips) {
      const port = o.portFor(exchange, ip);
      const host = `${exchange}[${ip}]:${port}`;
      const key = `${exchange} ${ip}:${port}`;
      let session: CachedSession | null = null;
      try {
        session = (await reuse(o, key, host, transcript)) ?? (await open(o, exchange, ip, port, host, transcript));
        const conn = session.conn;
        const info = await send(conn, { from: o.from, to: o.recipients }, o.message).catch((e: SmtpError) => {
          // Every recipient refused: report each with its own reply.
          if (e.rejectedErrors && e.rejectedErrors.length === o.recipients.length) return { accepted: [], rejected: o.recipients, rejectedErrors: e.rejectedErrors, response: '' };
          throw e;
        });
        // Test only (MAIL_LAB_TEST_CRASH): die between the remote 250 and the queue recording it; see test-crash.ts.
        if (info.accepted.length) testCrashPoint('after-remote-250');
        session.messages++;
        if (o.cache) o.cache.give(key, session);
        else conn.quit();
        const tls = session.tls;
        const rejected = new Map<string, SmtpError>(((info.rejectedErrors ?? []) as SmtpError[]).map((r) => [String(r.recipient).toLowerCase(), r]));
        const outcomes = o.recipients.map((address): Outcome => {
          const r = rejected.get(address.toLowerCase());
          if (!r) return { address, result: 'delivered', detail: `${host} said: ${String(info.response).trim()}`, status: '2.0.0', remoteMta: exchange };
          const reply = String(r.response ?? r.message).trim();
          const permanent = (r.responseCode ?? 450) >= 500;
          return { address, result: permanent ? 'bounced' : 'deferred', detail: `${host} said: ${reply}`, status: statusFromReply(reply, permanent ? 5 : 4), remoteMta: exchange };
        });
        return { outcomes, mx, host, tls };
      } catch (e) {
        session?.conn.close();
        const err = e as SmtpError;
        const reply = err.response ? String(err.response).trim() : '';
        if (reply && (err.responseCode ?? 0) >= 500) {
          // A 5xx to MAIL FROM or DATA is the destination's final word for every recipient.
          return { outcomes: all('bounced', `${host} said: ${reply}`, statusFromReply(reply, 5)).map((x) => ({ ...x, remoteMta: exchange })), mx, host, tls: session?.tls ?? 'none' };
        }
        lastError = reply ? `${host} said: ${reply}` : `${host}: ${describeConnectionError(err, exchange)}`;
        log.warn(`delivery to ${host} failed, trying the next host if any`, { error: lastError });
      }
    }
  }
  return { outcomes: all('deferred', lastError, '4.4.1'), mx };
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** A cached session to this host, now writing into this attempt's transcript, or null. */
async function reuse(o: RemoteDeliveryOptions, key: string, host: string, transcript: string[]): Promise<CachedSession | null> {
  const session = (await o.cache?.take(key)) ?? null;
  if (!session) return null;
  session.sink.lines = transcript;
  session.sink.logger = o.logger.child('smtp-out', { host });
  transcript.push(`connection reused: the session to ${host} opened at ${clock(session.openedAt)} is still open (message ${session.messages + 1} on it, after RSET); TLS: ${session.tls}`);
  return session;
}

/** A new session: TCP, greeting, EHLO, STARTTLS when offered (the lab CA checks the certificate), EHLO again. */
async function open(o: RemoteDeliveryOptions, exchange: string, ip: string, port: number, host: string, transcript: string[]): Promise<CachedSession> {
  const sink: TranscriptSink = { lines: transcript, logger: o.logger.child('smtp-out', { host }) };
  const conn = new SMTPConnection({
    host: ip,
    port,
    name: o.heloName,
    connectionTimeout: o.connectTimeout,
    greetingTimeout: o.commandTimeout,
    socketTimeout: o.commandTimeout,
    ...(o.tls ? { ignoreTLS: false, opportunisticTLS: true, tls: { ca: [o.tls.ca], servername: exchange, minVersion: 'TLSv1.2' } } : { ignoreTLS: true }),
    allowInternalNetworkInterfaces: true,
    debug: true,
    logger: bunyanAdapter(
      // The sink is read at every line: a reused session writes into the attempt using it now.
      teeLogger({ info: (m, f) => sink.logger.info(m, f), warn: (m, f) => sink.logger.warn(m, f), error: (m, f) => sink.logger.error(m, f), debug: (m, f) => sink.logger.debug(m, f), child: (n, f) => sink.logger.child(n, f) }, (line) => sink.lines.length < 400 && sink.lines.push(line)),
      'debug',
      { messageLines: 20 },
    ),
  } as SMTPConnection.Options);
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => resolve());
    });
  } catch (e) {
    conn.close();
    throw e;
  }
  // Errors after this surface through the command callbacks; a stray one must not crash the process.
  conn.on('error', () => undefined);
  const tls = conn.secure ? describeTlsSocket((conn as unknown as { _socket: TLSSocket })._socket) : 'none';
  transcript.push(
    conn.secure
      ? `TLS: ${tls}; the certificate of ${exchange} verified against the lab CA`
      : `TLS: none (${o.tls ? `${exchange} did not offer STARTTLS` : 'this server has no lab CA'}): the message goes in plain text`,
  );
  return { conn, sink, tls, openedAt: Date.now(), messages: 0 };
}

/** TLS errors from Node (certificate checks) and nodemailer (STARTTLS). */
const TLS_ERROR = /^(ETLS|ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

function describeConnectionError(err: SmtpError, exchange: string): string {
  // nodemailer reports a failed certificate check as ESOCKET, keeping Node's code as originalCode.
  if (TLS_ERROR.test(err.code ?? '') || TLS_ERROR.test(err.originalCode ?? '')) {
    return `TLS failed: ${err.message} (the certificate of ${exchange} must be signed by the lab CA and name ${exchange}); nothing was sent`;
  }
  // nodemailer wraps socket errors as ESOCKET, keeping the system's code as originalCode.
  switch (err.code === 'ESOCKET' && err.originalCode ? err.originalCode : err.code) {
    case 'ETIMEDOUT':
      return 'connection timed out (is the link between the domains broken?)';
    case 'ECONNREFUSED':
      return 'connection refused (is the receiving server running?)';
    case 'ECONNECTION':
      return `connection failed: ${err.message}`;
    default:
      return err.message;
  }
}
