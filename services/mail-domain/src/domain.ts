/**
 * One mail domain, assembled: the mailbox store, the outbound queue, SMTP
 * (25 and 587), POP3, IMAP and the admin API, all in one process so that
 * every protocol sees the same mailboxes. main.ts starts it in a container;
 * the lab CLI starts it as a plain Node process for `up --local`; tests
 * start it in-process on free ports.
 *
 * With `caDir` the server gets a certificate from the lab CA there (made on
 * first start, shared by the domains): STARTTLS on SMTP and submission,
 * STLS on POP3, STARTTLS on IMAP, the implicit-TLS ports 465/993/995 when
 * `ports` names them, and outbound SMTP over STARTTLS verified by the CA.
 */
import type { Server } from 'node:net';
import { join } from 'node:path';
import type { LabConfig } from '../../core/src/config';
import { findDomain, requireDomain } from '../../core/src/config';
import type { Logger } from '../../core/src/logger';
import { createAccountDirectory } from './accounts';
import { StudentPasswords } from './students';
import { RunningLab } from './running-lab';
import { backupMx } from './backup-mx';
import type { Reloader } from './reload';
import { createAdminServer } from './admin/server';
import { createAutoconfigServer } from './autoconfig/http';
import { EventHub } from '../../core/src/admin/events';
import { publishDomainEvents } from './events';
import { IptablesLinks } from './links/iptables';
import { InServerLinks } from './links/in-server';
import { Reachability } from './links/reachability';
import type { LinkControl } from './links/types';
import { AuthThrottle, DEFAULT_AUTH_FAILURE_DELAY_MS } from './auth-throttle';
import { createImapServer } from './imap/server';
import { createPop3Server } from './pop3';
import { OutboundQueue } from './queue/queue';
import { labResolver, type LabResolver } from './resolver';
import { createSmtpServer } from './smtp/server';
import { createMailStore, type MboxMailStore } from './store/mbox-store';
import { MailFaults } from './faults/state';
import { forgetOnLinkChange, SmtpConnectionCache } from './queue/connection-cache';
import { TraceJournal } from './trace/journal';
import { recordingReads } from './trace/reads';
import { sessionRecording } from './trace/sessions';
import { ensureHostCertificate } from './tls/pki';
import { serverTls } from './tls/server-tls';

export interface ListenPorts {
  smtp: number;
  submission: number;
  pop3: number;
  imap: number;
  admin: number;
  /** Implicit TLS (only with `caDir`): submission 465, IMAPS 993, POP3S 995. */
  smtps?: number;
  imaps?: number;
  pop3s?: number;
  /** Docker lab only: port 80 for `autoconfig.<domain>` on the lab network (the mail programs' settings file). */
  autoconfig?: number;
}

export interface MailDomainOptions {
  config: LabConfig;
  domain: string;
  /** `docker`: lab network, remote SMTP on port 25. `local`: everything on loopback, remote SMTP on the other domain's host port. */
  mode: 'docker' | 'local';
  dataDir: string;
  host: string;
  ports: ListenPorts;
  /** The lab DNS server, e.g. `172.29.25.53` or `127.0.0.1:10053`. */
  dnsServer: string;
  logger: Logger;
  resolver?: LabResolver;
  now?: () => Date;
  /** Failed-login delay base of the throttle shared by SMTP AUTH, POP3 and IMAP (tests shorten it). */
  authFailureDelayMs?: number;
  /** The lab CA directory (shared by the domains); without it the servers offer no TLS. */
  caDir?: string;
  /** The lab's admin token (every admin route but /health needs it); null only in tests of the routes themselves. */
  adminToken: string | null;
  /** The link control (tests give one with their own command runner); by default from `mode`. */
  links?: LinkControl;
  /**
   * How this server takes a changed lab definition while it runs (`npx mail-lab reload`,
   * reload.ts): main.ts makes lab N of the text and keeps it beside the admin token; tests give
   * their own. Without it `POST /lab/reload` answers unsupported.
   */
  reloader?: Reloader;
  /** The definition as read, when `config` has the platform's addresses (Swarm); by default `config`. */
  defined?: LabConfig;
}

export interface StartedMailDomain {
  domain: string;
  hostname: string;
  store: MboxMailStore;
  queue: OutboundQueue;
  ports: ListenPorts;
  /** The instructor's faults (server-down, greylist, reject), also on the admin API. */
  faults: MailFaults;
  /** This server's side of the link faults (break, isolate, slow-link), also on the admin API. */
  links: LinkControl;
  /** The live events (GET /events). */
  events: EventHub;
  /** The lab definition it runs, as `npx mail-lab reload` may change it (running-lab.ts). */
  lab: RunningLab;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

const closeServer = (server: { close(cb: () => void): unknown }) => new Promise<void>((resolve) => server.close(() => resolve()));

export async function startMailDomain(o: MailDomainOptions): Promise<StartedMailDomain> {
  const d = requireDomain(o.config, o.domain);
  const lab = new RunningLab(d.name, o.config, o.defined);
  const log = o.logger;
  // Generated student accounts (`students:`): their passwords are made on the first start, hashes kept in the data.
  const students = new StudentPasswords(d, o.dataDir, log.child('students'));
  await students.init();
  const accounts = createAccountDirectory({ ...d, accounts: [...d.accounts, ...students.accounts()] });
  const store = createMailStore({ dataDir: o.dataDir, users: accounts.users(), maxMessageSize: o.config.limits.maxMessageSize + 64 * 1024, now: o.now });
  await store.init();
  const trace = new TraceJournal(o.dataDir);
  const tls = o.caDir
    ? serverTls(await ensureHostCertificate({ dir: o.caDir, host: d.mailHost, altNames: [d.address], logger: log.child('tls'), now: o.now }), o.config.tls?.requireTls ?? false)
    : undefined;
  const resolver = o.resolver ?? labResolver(o.dnsServer);
  // The link faults (break, isolate, slow-link): made in the network of the container (iptables and
  // tc, Docker lab), or by the queue treating a domain as unreachable (no-Docker lab).
  const peers = o.config.domains.filter((x) => x.name !== d.name);
  const reachability = new Reachability(o.now);
  // Sessions to other mail hosts kept open for the next message (Postfix's connection cache); closed whenever a link changes.
  const connectionCache = new SmtpConnectionCache();
  const links: LinkControl = forgetOnLinkChange(
    o.links ??
      (o.mode === 'docker'
        ? new IptablesLinks({ self: d, peers, now: o.now, logger: log.child('links') })
        : new InServerLinks({ self: d, peers, reachability, logger: log.child('links') })),
    connectionCache,
  );
  const portFor = (exchange: string) => (o.mode === 'local' ? (findDomain(lab.config, exchange)?.ports.smtp ?? 25) : 25);
  const queue = new OutboundQueue({
    domain: d.name,
    hostname: d.mailHost,
    spoolDir: join(o.dataDir, 'queue'),
    store,
    timing: o.config.timing,
    profile: o.config.profile,
    profiles: o.config.profiles,
    resolver,
    portFor,
    logger: log.child('queue'),
    now: o.now,
    trace,
    tls: tls ? { ca: tls.ca } : undefined,
    reachability: o.mode === 'local' ? reachability : undefined,
    connectionCache,
  });
  await queue.init();
  const faults = new MailFaults({ domain: d.name, logger: log.child('faults'), now: o.now });
  // One failed-login throttle for SMTP AUTH, POP3 and IMAP (and their TLS ports): a guesser who
  // switches protocol meets the same per-address and per-account delay.
  const throttle = new AuthThrottle({ baseDelayMs: o.authFailureDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS });
  const smtpCommon = {
    domain: d.name,
    hostname: d.mailHost,
    accounts,
    queue,
    limits: o.config.limits,
    vrfy: o.config.smtp.vrfy,
    greetDelayMs: o.config.smtp.greetDelay,
    expn: o.config.smtp.expn,
    localSenders: o.config.smtp.localSenders,
    reverse: (ip: string) => resolver.reverse(ip.replace(/^::ffff:/, '')),
    logger: log,
    now: o.now,
    trace,
    faults,
    connections: new Map<string, number>(),
    throttle,
    tls,
    // Backup MX for the domains of `relayDomains`, read from the running lab (a reload takes effect at once).
    backupMx: backupMx(() => lab.config, d.name),
  };
  const smtp = createSmtpServer({ ...smtpCommon, submission: false });
  const submission = createSmtpServer({ ...smtpCommon, submission: true });
  const smtps = tls && o.ports.smtps !== undefined ? createSmtpServer({ ...smtpCommon, submission: true, implicitTls: true }) : null;
  const limits = { maxLineLength: o.config.limits.maxLineLength, sessionIdle: o.config.limits.sessionIdle, imapMaxLiteral: o.config.limits.imapMaxLiteral };
  // Every POP3 and IMAP session's commands go to the trace journal (trace/sessions.ts; SMTP's: smtp/server.ts).
  const record = sessionRecording(trace, d.name, o.now);
  const pop3Options = { store: recordingReads(store, 'pop3', d.name, trace), accounts, hostname: d.mailHost, logger: log.child('pop3'), limits, authFailureDelayMs: o.authFailureDelayMs, throttle, tls, record };
  const pop3 = createPop3Server(pop3Options);
  const pop3s = tls && o.ports.pop3s !== undefined ? createPop3Server({ ...pop3Options, implicitTls: true }) : null;
  const imapOptions = { store: recordingReads(store, 'imap', d.name, trace), accounts, hostname: d.mailHost, logger: log.child('imap'), limits, tls, authFailureDelayMs: o.authFailureDelayMs, throttle, record };
  const imap = createImapServer(imapOptions);
  const imaps = tls && o.ports.imaps !== undefined ? createImapServer({ ...imapOptions, implicitTls: true }) : null;
  const events = new EventHub({ source: d.name, logger: log.child('events') });
  const unpublish = publishDomainEvents(events, { queue, store, trace });
  const admin = createAdminServer({ config: o.config, domain: d.name, hostname: d.mailHost, mode: o.mode, queue, store, faults, links, logger: log, startedAt: new Date(), trace, token: o.adminToken, events, students, accounts, caDir: o.caDir, lab, reloader: o.reloader, now: o.now });
  const autoconfig = o.ports.autoconfig !== undefined ? createAutoconfigServer({ config: o.config, domain: d.name, tls: tls !== undefined, logger: log }) : null;

  // A port that is taken fails the start: close what already listens, so nothing is left half-up.
  const opened: { close(cb: () => void): unknown }[] = [];
  const open = async (server: Server, port: number) => {
    const bound = await listen(server, port, o.host);
    opened.push(server);
    return bound;
  };
  let ports: ListenPorts;
  try {
    ports = {
      smtp: await open(smtp.server, o.ports.smtp),
      submission: await open(submission.server, o.ports.submission),
      pop3: await open(pop3, o.ports.pop3),
      imap: await open(imap, o.ports.imap),
      admin: await open(admin, o.ports.admin),
    };
    if (smtps) ports.smtps = await open(smtps.server, o.ports.smtps!);
    if (imaps) ports.imaps = await open(imaps, o.ports.imaps!);
    if (pop3s) ports.pop3s = await open(pop3s, o.ports.pop3s!);
    if (autoconfig) ports.autoconfig = await open(autoconfig, o.ports.autoconfig!);
  } catch (e) {
    await Promise.all(opened.map(closeServer));
    unpublish();
    events.close();
    await queue.close();
    await store.flush();
    throw e;
  }
  // server-down: port 25 stops listening (refused) and listens again on the same port; sessions
  // between two messages (another server's cached session) are ended with 421, as a stopped
  // daemon ends them; a message being sent finishes.
  faults.attachListener({
    stop: async () => {
      smtp.server.close();
      smtp.endIdleSessions('4.3.2 Service shutting down (the instructor stopped port 25)');
    },
    start: async () => void (await listen(smtp.server, ports.smtp, o.host)),
  }, {
    // server-down --all: every other mail port too (a mail program finds nothing listening); open sessions go on.
    stop: async () => {
      for (const [server] of otherListeners()) server.close();
    },
    start: async () => {
      for (const [server, port] of otherListeners()) await listen(server, port, o.host);
    },
  });
  function otherListeners(): [Server, number][] {
    const all: [Server | null | undefined, number | undefined][] = [
      [submission.server, ports.submission],
      [pop3, ports.pop3],
      [imap, ports.imap],
      [smtps?.server, ports.smtps],
      [imaps, ports.imaps],
      [pop3s, ports.pop3s],
    ];
    return all.filter((x): x is [Server, number] => !!x[0] && x[1] !== undefined);
  }
  log.info(`${d.name} ready`, { hostname: d.mailHost, ...ports });
  return {
    domain: d.name,
    hostname: d.mailHost,
    store,
    queue,
    ports,
    faults,
    links,
    events,
    lab,
    async close() {
      unpublish();
      events.close();
      await Promise.all([
        new Promise<void>((r) => smtp.close(() => r())),
        new Promise<void>((r) => submission.close(() => r())),
        closeServer(pop3),
        closeServer(imap),
        closeServer(admin),
        ...(smtps ? [new Promise<void>((r) => smtps.close(() => r()))] : []),
        ...[imaps, pop3s, autoconfig].filter((s) => s !== null).map((s) => closeServer(s)),
      ]);
      await queue.close();
      connectionCache.closeAll();
      await store.flush();
    },
  };
}
