/**
 * A mail domain's admin API (the contract: MAIL_API in
 * services/core/src/admin/api.ts), assembled from its rooms: the queue
 * (queue-routes.ts), mailboxes and traces (mailbox-routes.ts), faults
 * (fault-routes.ts), links (link-routes.ts) and what students did
 * (activity-routes.ts). Served on container port
 * 8080, published on the host's loopback only (10080, 20080); every route
 * but `GET /health` needs the lab's admin token. In front of it, and the
 * only other thing answered without the token: the autoconfig file for mail
 * programs (autoconfig/http.ts, {@link createAdminServer}). Used by the lab CLI, the
 * scenario runner, the bench and the tests through the one typed client
 * (services/core/src/admin/client.ts).
 */
import { createServer, type Server } from 'node:http';
import { MAIL_API } from '../../../core/src/admin/api';
import { AdminRouter } from '../../../core/src/admin/router';
import type { EventHub } from '../../../core/src/admin/events';
import type { LabConfig } from '../../../core/src/config';
import type { Logger } from '../../../core/src/logger';
import type { MailFaults } from '../faults/state';
import type { OutboundQueue } from '../queue/queue';
import type { MboxMailStore } from '../store/mbox-store';
import type { TraceJournal } from '../trace/journal';
import type { LinkControl } from '../links/types';
import { faultRoutes } from './fault-routes';
import { linkRoutes } from './link-routes';
import { mailboxRoutes } from './mailbox-routes';
import { queueRoutes } from './queue-routes';
import { studentRoutes } from './student-routes';
import { caRoutes } from './ca-routes';
import { classRoutes } from './class-routes';
import type { RunningLab } from '../running-lab';
import type { Reloader } from '../reload';
import { activityRoutes } from './activity-routes';
import type { StudentPasswords } from '../students';
import type { AccountDirectory } from '../accounts';
import { autoconfigHandler } from '../autoconfig/http';

export interface AdminOptions {
  config: LabConfig;
  domain: string;
  hostname: string;
  mode: 'docker' | 'local';
  queue: OutboundQueue;
  store: MboxMailStore;
  faults: MailFaults;
  links: LinkControl;
  logger: Logger;
  startedAt: Date;
  trace?: TraceJournal;
  /** The lab's admin token; null only in tests of the routes themselves. */
  token: string | null;
  /** The domain's live events (GET /events). */
  events: EventHub;
  /** Generated student accounts and their passwords (students.ts). */
  students: StudentPasswords;
  accounts: AccountDirectory;
  /** The lab CA directory when the servers offer TLS (GET /ca reads its public certificate). */
  caDir?: string;
  /** The lab definition it runs (reset, seed and reload: class-routes.ts). */
  lab: RunningLab;
  /** How it takes a changed definition (`npx mail-lab reload`); without it reload is unsupported. */
  reloader?: Reloader;
  now?: () => Date;
}

export function createAdminRouter(o: AdminOptions): AdminRouter {
  const log = o.logger.child('admin');
  const router = new AdminRouter({ service: o.domain, token: o.token, logger: log });
  router.on(MAIL_API.health, () => ({ ok: true as const, service: 'mail-domain' as const, domain: o.domain, hostname: o.hostname, mode: o.mode, uptimeMs: Date.now() - o.startedAt.getTime() }));
  queueRoutes(router, { domain: o.domain, queue: o.queue, logger: log });
  mailboxRoutes(router, { domain: o.domain, store: o.store, queue: o.queue, trace: o.trace });
  faultRoutes(router, { domain: o.domain, config: o.config, faults: o.faults, links: o.links, events: o.events });
  linkRoutes(router, { domain: o.domain, config: o.config, links: o.links, events: o.events });
  studentRoutes(router, { domain: o.domain, students: o.students, accounts: o.accounts });
  caRoutes(router, { domain: o.domain, caDir: o.caDir });
  classRoutes(router, { lab: o.lab, accounts: o.accounts, students: o.students, store: o.store, queue: o.queue, events: o.events, logger: log, reloader: o.reloader, hostname: o.hostname, maxMessageSize: o.config.limits.maxMessageSize + 64 * 1024, now: o.now });
  activityRoutes(router, { domain: o.domain, queue: o.queue, trace: o.trace });
  router.stream(MAIL_API.events, o.events.handler());
  return router;
}

/**
 * The admin port's HTTP server: the autoconfig paths (GET/HEAD only, no
 * token: what a mail program fetches) answered first, every other request
 * by the admin router with its token check.
 */
export function createAdminServer(o: AdminOptions): Server {
  const router = createAdminRouter(o);
  const autoconfig = autoconfigHandler({ config: o.config, domain: o.domain, view: 'host', tls: o.caDir !== undefined, logger: o.logger });
  return createServer((req, res) => {
    if (!autoconfig(req, res)) router.handle(req, res);
  });
}
