/**
 * The lab DNS's admin API (the contract: DNS_API in
 * services/core/src/admin/api.ts): the instructor's DNS faults (faults.ts)
 * applied and cleared while the server keeps running, the query log (the
 * last 100 to 1000, or all it holds from a time on) and the zones as served. main.ts starts it when MAIL_LAB_DNS_ADMIN_PORT is
 * set (8053 in the container, published on the host's loopback only as
 * `dns.adminPort`, 10054 by default). Every route but `GET /health` needs
 * the lab's admin token.
 *
 * Applying a fault that is on, or clearing one that is off, answers
 * `changed: false`, so the CLI can say "already …".
 */
import type { Server } from 'node:http';
import { DNS_API, type ActiveFault, type FaultChange } from '../../core/src/admin/api';
import { ApiError } from '../../core/src/admin/errors';
import { AdminRouter } from '../../core/src/admin/router';
import type { FaultSpec } from '../../core/src/faults';
import type { Logger } from '../../core/src/logger';
import type { DnsFaults } from './faults';
import type { StartedDnsServer } from './server';
import { EventHub } from '../../core/src/admin/events';
import { reloadUnsupported, type DnsLab } from './reload';

export interface DnsAdminOptions {
  faults: DnsFaults;
  /** The query log, the zones and the live queries (server.ts). */
  dns: Pick<StartedDnsServer, 'queries' | 'zones' | 'subscribe'>;
  logger: Logger;
  /** The lab's admin token (services/core/src/admin/token.ts); null only in tests of the routes themselves. */
  token: string | null;
  mode: 'docker' | 'local';
  /** Address to bind. @default '0.0.0.0' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The lab it serves, to take a changed definition (`npx mail-lab reload`, reload.ts); without it reload is unsupported. */
  lab?: DnsLab;
}

export interface StartedDnsAdmin {
  port: number;
  server: Server;
  router: AdminRouter;
  /** The live events (GET /events): every query, every fault change. */
  events: EventHub;
  close(): Promise<void>;
}

function listed(faults: DnsFaults): ActiveFault[] {
  return faults.list().map((f) =>
    f.kind === 'dns-down'
      ? { kind: f.kind, target: 'lab DNS', detail: 'not answering: queries are logged and dropped (time out)', since: f.since, spec: { kind: 'dns-down' } }
      : { kind: f.kind, target: f.domain!, detail: `SERVFAIL for every name in ${f.domain}`, since: f.since, spec: { kind: 'dns-servfail', domain: f.domain! } },
  );
}

/** Applies (on) or clears (off) one DNS fault. */
function setFault(faults: DnsFaults, log: Logger, spec: FaultSpec, on: boolean, events: EventHub): FaultChange {
  const r = changeFault(faults, log, spec, on);
  if (r.changed) events.publish(on ? 'fault.applied' : 'fault.cleared', { spec, target: 'lab DNS' });
  return r;
}

function changeFault(faults: DnsFaults, log: Logger, spec: FaultSpec, on: boolean): FaultChange {
  if (spec.kind === 'dns-down') {
    const changed = faults.setDown(on);
    if (changed) log.info(on ? 'fault applied: dns-down (queries are logged and dropped; resolvers time out)' : 'fault cleared: dns-down (answering again)');
    return { spec, active: on, changed };
  }
  if (spec.kind === 'dns-servfail') {
    let changed: boolean;
    try {
      changed = faults.setServfail(spec.domain, on);
    } catch (e) {
      throw new ApiError(400, 'unknown-domain', (e as Error).message);
    }
    if (changed) log.info(on ? `fault applied: dns-servfail ${spec.domain} (names in ${spec.domain} get SERVFAIL)` : `fault cleared: dns-servfail ${spec.domain}`);
    return { spec, active: on, changed };
  }
  throw new ApiError(400, 'unsupported', `${spec.kind} is not a fault of the lab DNS (it has dns-down and dns-servfail)`);
}

export function createDnsAdminRouter(o: Omit<DnsAdminOptions, 'host' | 'port'>, events: EventHub): AdminRouter {
  const log = o.logger.child('admin');
  const started = Date.now();
  return new AdminRouter({ service: 'the lab DNS', token: o.token, logger: log })
    .on(DNS_API.health, () => ({ ok: true as const, service: 'dns' as const, mode: o.mode, uptimeMs: Date.now() - started }))
    .on(DNS_API.faults, () => ({ faults: listed(o.faults), domains: o.faults.domains() }))
    .on(DNS_API.applyFault, (spec) => setFault(o.faults, log, spec, true, events))
    .on(DNS_API.clearFault, (spec) => {
      if (spec.kind !== 'all') return setFault(o.faults, log, spec, false, events);
      const before = listed(o.faults);
      const cleared = o.faults.clearAll();
      if (cleared) log.info(`all DNS faults cleared (${cleared})`);
      for (const f of before) events.publish('fault.cleared', { spec: f.spec, target: f.target });
      return { cleared };
    })
    .stream(DNS_API.events, events.handler())
    .on(DNS_API.queries, ({ limit }) => o.dns.queries().slice(-limit))
    // For `npx mail-lab check` (mx-lookup, dns-outage): everything still held, from `since` on.
    .on(DNS_API.queryHistory, ({ since }) => {
      const after = since ? new Date(since).toISOString() : '';
      return o.dns.queries().filter((q) => q.time >= after);
    })
    .on(DNS_API.zones, () => o.dns.zones())
    .on(DNS_API.reload, (req) => {
      if (!o.lab) throw reloadUnsupported();
      return o.lab.reload(req, log, events);
    });
}

export function startDnsAdmin(o: DnsAdminOptions): Promise<StartedDnsAdmin> {
  const events = new EventHub({ source: 'dns', logger: o.logger.child('events') });
  const unsubscribe = o.dns.subscribe((q) => events.publish('dns.query', { name: q.name, type: q.type, client: q.client, transport: q.transport, rcode: q.rcode, answers: q.answers, line: q.line }));
  const router = createDnsAdminRouter(o, events);
  const server = router.server();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : o.port,
        server,
        router,
        events,
        close: () => {
          unsubscribe();
          events.close();
          return new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}
