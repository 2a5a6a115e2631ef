/**
 * A whole lab in the test process: the lab DNS and both mail domains of
 * lab-scenarios/lab.yaml in no-Docker mode, on free loopback ports, with a
 * fresh data directory and short queue timings. Real sockets, real files.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabConfig, type LabConfig } from '../../../services/core/src/config';
import { parseDuration } from '../../../services/core/src/duration';
import { createLogger, type Logger } from '../../../services/core/src/logger';
import { startDnsAdmin, type StartedDnsAdmin } from '../../../services/dns/src/admin';
import { startDnsServer, type StartedDnsServer } from '../../../services/dns/src/server';
import { DnsLab } from '../../../services/dns/src/reload';
import { startMailDomain, type StartedMailDomain } from '../../../services/mail-domain/src/domain';
import { labResolver } from '../../../services/mail-domain/src/resolver';
import { newAdminToken } from '../../../services/core/src/admin/token';
import { labTarget, type LabTarget } from '../../../scripts/lab-target';

export const LAB_YAML = join(__dirname, '../../../lab-scenarios/lab.yaml');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestLab {
  config: LabConfig;
  dns: StartedDnsServer;
  /** The lab DNS's admin API (faults dns-down, dns-servfail) on a free port, as `config.dns.adminPort`. */
  dnsAdmin: StartedDnsAdmin;
  domains: Record<string, StartedMailDomain>;
  dataDir: string;
  lines: string[];
  logger: Logger;
  /** The admin token of this lab's admin APIs. */
  adminToken: string;
  /** The lab as the CLI code sees it (no-Docker mode, this lab's token). */
  target(): LabTarget;
  /** `from`'s side of the link to `to` cut (as `break` does on each side) or restored. */
  cut(from: string, to: string): Promise<void>;
  restore(from: string, to: string): Promise<void>;
  stopDomain(name: string): Promise<void>;
  startDomain(name: string): Promise<StartedMailDomain>;
  close(): Promise<void>;
}

export interface TestLabOptions {
  timing?: { retryInterval?: string; warnAfter?: string; returnAfter?: string; connectTimeout?: string };
  limits?: Record<string, number | string>;
  /** Print the servers' log lines (debugging). */
  verbose?: boolean;
  /** Where the domains keep their data (default: a new temp directory). */
  dataDir?: string;
  /** TLS from a lab CA in `<dataDir>/ca` (STARTTLS/STLS, implicit-TLS ports); `{ requireTls: true }` also refuses plain logins. */
  tls?: boolean | { requireTls?: boolean };
  /** Changes to lab.yaml's text before it is parsed (e.g. generated student accounts). */
  edit?: (yaml: string) => string;
  /** Shorter timings for profiles of lab.yaml (e.g. `demo`), so a test need not wait as long as a class does. */
  profiles?: Record<string, { retryInterval: string; warnAfter: string; returnAfter: string }>;
}

export async function startTestLab(options: TestLabOptions = {}): Promise<TestLab> {
  const t = { retryInterval: '1s', warnAfter: '1h', returnAfter: '2h', connectTimeout: '1s', ...options.timing };
  /** This test lab made of a lab definition's text (at start, and for `npx mail-lab reload`): the test profile and the options' overrides. */
  const fromText = (text: string, file: string): LabConfig => {
    const { config: c2 } = parseLabConfig(
      text.replace(/^profile: .*$/m, 'profile: test').replace(
        /^profiles:\n/m,
        `profiles:\n  test: { retryInterval: ${t.retryInterval}, warnAfter: ${t.warnAfter}, returnAfter: ${t.returnAfter}, connectTimeout: ${t.connectTimeout}, commandTimeout: 5s }\n`,
      ),
      file,
    );
    const made: LabConfig = { ...c2, limits: { ...c2.limits, ...(options.limits as object) } };
    if (options.tls) made.tls = { requireTls: typeof options.tls === 'object' && !!options.tls.requireTls };
    for (const [name, p] of Object.entries(options.profiles ?? {})) {
      if (!made.profiles[name]) throw new Error(`lab.yaml has no profile ${name}`);
      made.profiles = { ...made.profiles, [name]: { ...made.profiles[name], retryInterval: parseDuration(p.retryInterval)!, warnAfter: parseDuration(p.warnAfter)!, returnAfter: parseDuration(p.returnAfter)! } };
    }
    return made;
  };
  const lab: LabConfig = fromText((options.edit ?? ((x: string) => x))(readFileSync(LAB_YAML, 'utf8')), LAB_YAML);
  /** A reloaded definition in this lab's places: its ports (as lab N's come from its number). */
  const place = (text: string, file: string): LabConfig => {
    const next = fromText(text, file);
    return {
      ...next,
      dns: { ...next.dns, hostPort: lab.dns.hostPort, adminPort: lab.dns.adminPort },
      domains: next.domains.map((d) => ({ ...d, ports: lab.domains.find((x) => x.name === d.name)?.ports ?? d.ports })),
    };
  };
  const pickPorts = async (d: LabConfig['domains'][number]) => {
    d.ports = { smtp: await freePort(), submission: await freePort(), pop3: await freePort(), imap: await freePort(), admin: await freePort() };
    if (options.tls) Object.assign(d.ports, { smtps: await freePort(), imaps: await freePort(), pop3s: await freePort() });
  };
  for (const d of lab.domains) await pickPorts(d);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => (options.verbose ? console.log(l) : lines.push(l)) });
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mail-lab-test-'));
  const dns = await startDnsServer({ config: lab, mode: 'local', host: '127.0.0.1', port: 0, logger: logger.child('dns') });
  // Never the lab definition's fixed admin port (10054): a running Docker or no-Docker lab listens there.
  const adminToken = newAdminToken();
  const dnsLab = new DnsLab({ defined: lab, serve: (c) => dns.setConfig(c), place });
  const dnsAdmin = await startDnsAdmin({ faults: dns.faults, dns, logger: logger.child('dns'), token: adminToken, mode: 'local', host: '127.0.0.1', port: 0, lab: dnsLab });
  lab.dns = { ...lab.dns, hostPort: dns.port, adminPort: dnsAdmin.port };
  const domains: Record<string, StartedMailDomain> = {};
  const startDomain = async (name: string, attempt = 1): Promise<StartedMailDomain> => {
    const d = lab.domains.find((x) => x.name === name)!;
    try {
      domains[name] = await startDomainOnce(name, d);
    } catch (e) {
      // A "free" port can be taken by a parallel test worker before we listen: pick others.
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw e;
      await pickPorts(d);
      return startDomain(name, attempt + 1);
    }
    return domains[name];
  };
  const startDomainOnce = (name: string, d: LabConfig['domains'][number]) =>
    startMailDomain({
      config: lab,
      domain: name,
      mode: 'local',
      dataDir: join(dataDir, name),
      host: '127.0.0.1',
      ports: d.ports,
      dnsServer: `127.0.0.1:${dns.port}`,
      resolver: labResolver(`127.0.0.1:${dns.port}`, 500),
      logger: logger.child('mail', { domain: name }),
      authFailureDelayMs: 10,
      caDir: options.tls ? join(dataDir, 'ca') : undefined,
      adminToken,
      reloader: { place },
    });
  for (const d of lab.domains) await startDomain(d.name);
  return {
    config: lab,
    dns,
    dnsAdmin,
    domains,
    dataDir,
    lines,
    logger,
    adminToken,
    target: () => labTarget(lab, 'local', { token: adminToken }),
    cut: async (from, to) => void (await domains[from].links.cut(lab.domains.find((x) => x.name === to)!, 'break')),
    restore: async (from, to) => void (await domains[from].links.restore(lab.domains.find((x) => x.name === to)!, 'break')),
    startDomain,
    async stopDomain(name: string) {
      await domains[name].close();
      delete domains[name];
    },
    async close() {
      for (const d of Object.values(domains)) await d.close();
      await dnsAdmin.close();
      await dns.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw SMTP/POP3 conversation: send lines, read replies. */
export class Wire {
  private buffer = '';
  private waiters: (() => void)[] = [];
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => this.waiters.splice(0).forEach((w) => w()));
  }

  static connect(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      s.once('error', reject);
      s.connect(port, '127.0.0.1', () => resolve(new Wire(s)));
    });
  }

  /** Waits for a complete SMTP reply (last line `ddd `), returns all its lines joined by \n. */
  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-.*\r\n)*\d{3}(?: .*)?\r\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return m[0].trimEnd().replace(/\r\n/g, '\n');
      }
      if (this.socket.destroyed || Date.now() > deadline) throw new Error(`no complete reply; got: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async send(line: string): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }

  write(data: string): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Waits until `check` returns a truthy value (polling), or fails with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
