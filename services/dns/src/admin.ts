/**
 * The lab DNS's admin interface: a small HTTP/JSON API through which the lab
 * CLI (`npx mail-lab fault dns-down|dns-servfail …`, `status`) applies and
 * clears the DNS faults of faults.ts while the server keeps running.
 * main.ts starts it when MAIL_LAB_DNS_ADMIN_PORT is set (8053 in the
 * container, published on the host as `dns.adminPort`, 10054 by default).
 *
 *   GET  /health                             ok
 *   GET  /faults                             the active faults
 *   POST /faults/dns-down                    stop answering (queries time out)
 *   POST /faults/dns-down/clear              answer again
 *   POST /faults/dns-servfail/:domain        SERVFAIL for names in one lab domain
 *   POST /faults/dns-servfail/:domain/clear  answer that domain again
 *   POST /faults/clear                       clear every DNS fault
 *
 * Changing answers `{ changed: false }` when the fault already was in that
 * state, so the CLI can say "already …" instead of failing.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from '../../core/src/logger';
import type { DnsFaults } from './faults';

export interface DnsAdminOptions {
  faults: DnsFaults;
  logger: Logger;
  /** Address to bind. @default '0.0.0.0' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

export interface StartedDnsAdmin {
  port: number;
  server: Server;
  close(): Promise<void>;
}

type Handler = (m: RegExpExecArray) => unknown;

class BadRequest extends Error {}

export function createDnsAdminServer(faults: DnsFaults, logger: Logger): Server {
  const log = logger.child('admin');
  const servfail = (domain: string, on: boolean) => {
    let changed: boolean;
    try {
      changed = faults.setServfail(domain, on);
    } catch (e) {
      throw new BadRequest((e as Error).message);
    }
    if (changed) log.info(on ? `fault applied: dns-servfail ${domain} (names in ${domain} get SERVFAIL)` : `fault cleared: dns-servfail ${domain}`);
    return { kind: 'dns-servfail', domain: domain.toLowerCase(), active: on, changed };
  };
  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/health$/, () => ({ ok: true, service: 'dns' })],
    ['GET', /^\/faults$/, () => ({ faults: faults.list(), domains: faults.domains() })],
    [
      'POST',
      /^\/faults\/dns-down(\/clear)?$/,
      (m) => {
        const on = !m[1];
        const changed = faults.setDown(on);
        if (changed) log.info(on ? 'fault applied: dns-down (queries are logged and dropped; resolvers time out)' : 'fault cleared: dns-down (answering again)');
        return { kind: 'dns-down', active: on, changed };
      },
    ],
    ['POST', /^\/faults\/dns-servfail\/([A-Za-z0-9.-]+)(\/clear)?$/, (m) => servfail(m[1], !m[2])],
    [
      'POST',
      /^\/faults\/clear$/,
      () => {
        const cleared = faults.clearAll();
        if (cleared) log.info(`all DNS faults cleared (${cleared})`);
        return { cleared };
      },
    ],
  ];
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dns-admin');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const route = routes.find(([method, re]) => method === req.method && re.test(url.pathname));
    if (!route) return send(404, { error: `no such DNS admin endpoint: ${req.method} ${url.pathname}` });
    try {
      send(200, route[2](route[1].exec(url.pathname)!));
    } catch (e) {
      send(e instanceof BadRequest ? 400 : 500, { error: (e as Error).message });
    }
  });
}

export function startDnsAdmin(o: DnsAdminOptions): Promise<StartedDnsAdmin> {
  const server = createDnsAdminServer(o.faults, o.logger);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : o.port,
        server,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
