/**
 * The lab DNS server: dns2's UDP and TCP servers on one port, answering from
 * the zones built from the lab definition. Every query becomes one log line
 * (`query MX dadali.com from 172.29.25.10 -> NOERROR 10 mail.dadali.com`) and
 * an entry in a ring of the last 20 000 (a class's day: about 10 MB), which the
 * scenario runner reads to show students which DNS questions a sender asked and
 * `npx mail-lab check` reads to see who asked for an MX record.
 *
 * Used by services/dns/src/main.ts (the container) and by the lab CLI's
 * `up --local` (127.0.0.1:10053).
 *
 * dns2 quirks handled here:
 * - `DNSServer.listen()` with port 0 hands `{ port, address }` to
 *   net.Server, which ignores `address` (TCP binds `::`, every interface),
 *   and UDP and TCP each get a different random port; its `listening` promise
 *   never settles on a bind error. We drive dns2's UDPServer and TCPServer
 *   directly with our own bind/listen and error handling, and for port 0 bind
 *   UDP first, then TCP on the same port, retrying if that one is taken.
 * - Unparseable UDP datagrams surface as a `requestError` without the sender;
 *   a `message` listener placed before dns2's remembers who sent it.
 * - `response()` returns a promise that rejects when sending fails; we catch it.
 * - TCP connections idle for 10 s before dns2 closes them; `close()` destroys
 *   open connections so shutdown is immediate. dns2's TCP `send` returns
 *   nothing although its typings promise a promise. A TCP message that does
 *   not parse makes dns2 drop the connection (no FORMERR); over UDP we answer
 *   FORMERR whenever the 12-octet header was readable.
 */
import { isIPv6, type Socket } from 'node:net';
import type { RemoteInfo } from 'node:dgram';
import DNS = require('dns2');
import type { LabConfig } from '../../core/src/config';
import type { Logger } from '../../core/src/logger';
import { respond, type Outcome } from './respond';
import { recordLine } from './present';
import { buildZones, type LabMode } from './zones';
import { DnsFaults } from './faults';

export interface QueryLogEntry {
  /** ISO time the query was answered. */
  time: string;
  transport: 'udp' | 'tcp';
  /** The asking client's address and port. */
  client: string;
  clientPort: number;
  /** DNS message id. */
  id: number;
  /** The name as asked (original case). */
  name: string;
  /** Type mnemonic, e.g. `MX`. */
  type: string;
  /** Response code, e.g. `NOERROR`, `NXDOMAIN`, `REFUSED`, `FORMERR`. */
  rcode: string;
  /** Answer section in presentation form, e.g. `10 mail.dadali.com`. */
  answers: string[];
  /** The log line written for this query. */
  line: string;
}

export interface DnsServerOptions {
  config: LabConfig;
  /** `docker`: backbone addresses; `local`: 127.0.0.1 for every lab host. */
  mode: LabMode;
  /** Address to bind. @default '0.0.0.0' */
  host?: string;
  /** UDP and TCP port; 0 picks a free port that both get. */
  port: number;
  logger: Logger;
  /** Called for every answered query (errors thrown here are logged, not fatal). */
  onQuery?: (entry: QueryLogEntry) => void;
  /** The instructor's faults (dns-down, dns-servfail); a fresh, empty set by default. */
  faults?: DnsFaults;
  /** Queries kept in memory. @default RING_SIZE */
  keep?: number;
}

export interface StartedDnsServer {
  port: number;
  close(): Promise<void>;
  /** The last {@link RING_SIZE} queries (`keep`), oldest first. */
  queries(): QueryLogEntry[];
  /** The active faults; admin.ts changes them. */
  faults: DnsFaults;
  /** The zones as served: each zone's records as zone-file lines. */
  zones(): { zone: string; records: string[] }[];
  /** Serves the zones of `config` from now on (the lab on Swarm: the addresses learned from the platform). */
  setConfig(config: LabConfig): void;
  /** Calls `listener` for every answered query from now on (the live event stream); returns the unsubscribe. */
  subscribe(listener: (entry: QueryLogEntry) => void): () => void;
}

type Send = (response: DNS.Packet) => Promise<Buffer> | void;

/** Queries kept in memory (until the DNS restarts): a class of 30 over a day asks fewer. */
export const RING_SIZE = 20_000;
const PORT_ATTEMPTS = 20;

/** SOA serial in the usual YYYYMMDDnn form (RFC 1912 §2.2), from the start time. */
function dateSerial(now: Date): number {
  const ymd = now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
  return ymd * 100 + 1;
}

function bindUdp(socket: DNS.UDPServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(server: DNS.TCPServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Binds UDP then TCP on the same port; for port 0, retries until a port is free for both. */
async function bindBoth(host: string, port: number): Promise<{ udp: DNS.UDPServer; tcp: DNS.TCPServer; port: number }> {
  const type = isIPv6(host) ? 'udp6' : 'udp4';
  for (let attempt = 1; ; attempt++) {
    const udp = new DNS.UDPServer({ type });
    await bindUdp(udp, port, host);
    const actual = udp.address().port;
    const tcp = new DNS.TCPServer();
    try {
      await listenTcp(tcp, actual, host);
      return { udp, tcp, port: actual };
    } catch (e) {
      udp.close();
      const code = (e as NodeJS.ErrnoException).code;
      if (port !== 0 || code !== 'EADDRINUSE' || attempt >= PORT_ATTEMPTS) throw e;
    }
  }
}

export async function startDnsServer(opts: DnsServerOptions): Promise<StartedDnsServer> {
  const { config, mode, logger } = opts;
  const host = opts.host ?? '0.0.0.0';
  let lab = buildZones(config, mode, { serial: dateSerial(new Date()) });
  for (const w of lab.warnings) logger.warn(`zone warning: ${w}`);
  for (const zone of lab.zones) {
    const count = [...zone.nodes.values()].reduce((n, rs) => n + rs.length, 0);
    logger.info(`zone ${zone.origin}: ${count} records`, { mode });
    for (const rs of zone.nodes.values()) for (const r of rs) logger.debug(recordLine(r));
  }

  const faults = opts.faults ?? new DnsFaults(config.domains.map((d) => d.name));
  const listeners = new Set<(entry: QueryLogEntry) => void>(opts.onQuery ? [opts.onQuery] : []);
  const ring: QueryLogEntry[] = [];
  let ringStart = 0;
  const keep = opts.keep ?? RING_SIZE;
  const remember = (entry: QueryLogEntry) => {
    if (ring.length < keep) ring.push(entry);
    else {
      ring[ringStart] = entry;
      ringStart = (ringStart + 1) % keep;
    }
  };

  const handle = (transport: 'udp' | 'tcp', client: string, clientPort: number, request: DNS.Packet, send: Send) => {
    let outcome: Outcome;
    try {
      outcome = respond(lab, request);
      outcome.response?.toBuffer(); // encode once here, so a bad record cannot fail inside dns2
    } catch (e) {
      // A bug or an unencodable record must not take the server down: SERVFAIL.
      const q = request.questions[0];
      outcome = {
        response: DNS.Packet.createErrorResponseFromRequest(request, DNS.Packet.RCODE.SERVFAIL),
        name: q?.name ?? '',
        type: q ? DNS.Packet.typeName(q.type) : '',
        rcode: 'SERVFAIL',
        answers: [],
        note: (e as Error).message,
      };
    }
    // Faults: still logged (the class sees the question arrive), then dropped or SERVFAIL.
    const fault = outcome.response ? faults.verdict(outcome.name) : null;
    if (fault) {
      const response = fault.action === 'servfail' ? DNS.Packet.createErrorResponseFromRequest(request, DNS.Packet.RCODE.SERVFAIL) : outcome.response;
      outcome = { ...outcome, response, rcode: fault.action === 'servfail' ? 'SERVFAIL' : 'DROPPED', answers: [], note: fault.reason };
    }
    if (!outcome.response) {
      logger.debug(`message from ${client} dropped: ${outcome.note}`, { transport });
      return;
    }
    const shown = outcome.answers.length ? ' ' + outcome.answers.join(', ') : outcome.rcode === 'NOERROR' ? ' (no data)' : '';
    const line = `query ${outcome.type || '?'} ${outcome.name || (outcome.type ? '.' : '(none)')} from ${client} -> ${outcome.rcode}${shown}`;
    const entry: QueryLogEntry = {
      time: new Date().toISOString(),
      transport,
      client,
      clientPort,
      id: request.header.id,
      name: outcome.name,
      type: outcome.type,
      rcode: outcome.rcode,
      answers: outcome.answers,
      line,
    };
    if (fault?.action !== 'drop') {
      try {
        Promise.resolve(send(outcome.response)).catch((e: Error) => logger.warn(`cannot answer ${client}: ${e.message}`, { transport }));
      } catch (e) {
        logger.warn(`cannot answer ${client}: ${(e as Error).message}`, { transport });
      }
    }
    logger.info(line, { transport, ...(outcome.note ? { note: outcome.note } : {}) });
    remember(entry);
    for (const l of listeners) {
      try {
        l(entry);
      } catch (e) {
        logger.warn(`query listener failed: ${(e as Error).message}`);
      }
    }
  };

  const { udp, tcp, port } = await bindBoth(host, opts.port);

  let lastSender: RemoteInfo | undefined;
  udp.prependListener('message', (_data: Buffer, rinfo: RemoteInfo) => {
    lastSender = rinfo;
  });
  udp.on('request', (request: DNS.Packet, send: Send, rinfo: RemoteInfo) => handle('udp', rinfo.address, rinfo.port, request, send));
  udp.on('requestError', (e: Error) =>
    logger.warn(`malformed message from ${lastSender?.address ?? 'unknown'} dropped: ${e.message}`, { transport: 'udp' }));
  udp.on('error', (e: Error) => logger.error(`udp socket error: ${e.message}`));

  const sockets = new Set<Socket>();
  tcp.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // dns2's TCP send returns nothing (its typings say a promise); handle() copes with both.
  tcp.on('request', (request: DNS.Packet, send: Send, socket: Socket) =>
    handle('tcp', socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0, request, send));
  tcp.on('requestError', (e: Error) => logger.warn(`tcp connection closed on error: ${e.message}`, { transport: 'tcp' }));
  tcp.on('error', (e: Error) => logger.error(`tcp server error: ${e.message}`));

  let closing: Promise<void> | undefined;
  let reloads = 0;
  return {
    port,
    faults,
    queries: () => [...ring.slice(ringStart), ...ring.slice(0, ringStart)],
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    zones: () => lab.zones.map((z) => ({ zone: z.origin, records: [...z.nodes.values()].flat().map(recordLine) })),
    setConfig(next) {
      // Swarm: the hosts' addresses as the platform gives them (core/src/swarm.ts); a new serial each time.
      lab = buildZones(next, mode, { serial: dateSerial(new Date()) + (++reloads % 99) });
    },
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => {
          tcp.close(() => resolve());
          for (const s of sockets) s.destroy();
        }),
      ]).then(() => logger.info('dns stopped'));
      return closing;
    },
  };
}
