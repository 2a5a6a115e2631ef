/**
 * "Does every service answer?" for `up` and `status`: the lab DNS answers an
 * SOA query, and each domain's SMTP, submission, POP3 and IMAP ports greet
 * (the implicit-TLS ports after a TLS handshake; the certificate is not
 * checked here, this only asks "does it answer") and its admin API says
 * healthy. Every probe goes to 127.0.0.1 only.
 */
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Resolver } from 'node:dns/promises';
import type { LabConfig } from '../services/core/src/config';
import { MAIL_API, DNS_API } from '../services/core/src/admin/api';
import { AdminClient } from '../services/core/src/admin/client';

/** `GET /health` needs no token: readiness asks before anyone has read it. */
const healthClient = (who: string, port: number, timeoutMs: number) => new AdminClient({ who, port, token: '', timeoutMs });

export interface Probe {
  service: string;
  target: string;
  ok: boolean;
  detail: string;
}

function greeting(port: number, timeoutMs: number, secure = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = secure ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : new Socket();
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no greeting'));
    }, timeoutMs);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      data += d;
      if (data.includes('\n')) {
        clearTimeout(timer);
        s.end();
        resolve(data.split('\r\n')[0]);
      }
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (!secure) s.connect(port, '127.0.0.1');
  });
}

export async function probeLab(config: LabConfig, timeoutMs = 2000): Promise<Probe[]> {
  const probes: Promise<Probe>[] = [];
  const dns = async (): Promise<Probe> => {
    const r = new Resolver({ timeout: timeoutMs, tries: 1 });
    r.setServers([`127.0.0.1:${config.dns.hostPort}`]);
    const d = config.domains[0];
    try {
      // SOA, a question no worksheet asks: `npx mail-lab check` tells this probe from a student's MX lookup.
      const soa = await r.resolveSoa(d.name);
      return { service: 'dns', target: `127.0.0.1:${config.dns.hostPort}`, ok: true, detail: `SOA ${d.name}: ${soa.nsname} serial ${soa.serial}` };
    } catch (e) {
      return { service: 'dns', target: `127.0.0.1:${config.dns.hostPort}`, ok: false, detail: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
    }
  };
  probes.push(dns());
  for (const d of config.domains) {
    const banners: [string, number | undefined, RegExp, boolean?][] = [
      ['smtp', d.ports.smtp, /^220 /],
      ['submission', d.ports.submission, /^220 /],
      ['pop3', d.ports.pop3, /^\+OK/],
      ['imap', d.ports.imap, /^\* (OK|PREAUTH)/],
      ['smtps', d.ports.smtps, /^220 /, true],
      ['pop3s', d.ports.pop3s, /^\+OK/, true],
      ['imaps', d.ports.imaps, /^\* (OK|PREAUTH)/, true],
    ];
    for (const [service, port, ok, secure] of banners) {
      if (port === undefined) continue;
      probes.push(
        greeting(port, timeoutMs, secure).then(
          (line) => ({ service: `${d.name} ${service}`, target: `127.0.0.1:${port}`, ok: ok.test(line), detail: line }),
          (e: Error) => ({ service: `${d.name} ${service}`, target: `127.0.0.1:${port}`, ok: false, detail: (e as NodeJS.ErrnoException).code ?? e.message }),
        ),
      );
    }
    probes.push(
      healthClient(d.name, d.ports.admin, timeoutMs)
        .call(MAIL_API.health)
        .then(
          (h) => ({ service: `${d.name} admin`, target: `127.0.0.1:${d.ports.admin}`, ok: true, detail: `healthy (${h.hostname})` }),
          (e: Error) => ({ service: `${d.name} admin`, target: `127.0.0.1:${d.ports.admin}`, ok: false, detail: /\((E[A-Z]+)\)/.exec(e.message)?.[1] ?? e.message }),
        ),
    );
  }
  probes.push(
    healthClient('the lab DNS', config.dns.adminPort, timeoutMs)
      .call(DNS_API.health)
      .then(
        () => ({ service: 'dns admin', target: `127.0.0.1:${config.dns.adminPort}`, ok: true, detail: 'healthy' }),
        (e: Error) => ({ service: 'dns admin', target: `127.0.0.1:${config.dns.adminPort}`, ok: false, detail: /\((E[A-Z]+)\)/.exec(e.message)?.[1] ?? e.message }),
      ),
  );
  return Promise.all(probes);
}

/** A lab that did not come up: said in words, no stack trace (the CLI exits 1). */
export class LabNotReadyError extends Error {
  override readonly name = 'LabNotReadyError';
}

/**
 * How often `broken` is asked, ms. Each question is two docker CLI starts
 * (≈0.3 s of CPU on a 2-core host), which a 100 ms poll would spend while the
 * containers' own Node processes are starting on the same cores: asked every
 * round, it made `up` about 0.4 s slower (issue 15 §0).
 */
const BROKEN_EVERY_MS = 1000;

/**
 * Polls until every probe passes; reports progress; throws naming what never
 * answered. `broken`, asked at most once a second while something does not
 * answer yet, ends the wait with its reason (e.g. a container that keeps
 * restarting).
 */
export async function waitForLab(config: LabConfig, timeoutMs: number, log: (line: string) => void, broken?: () => Promise<string | null>): Promise<{ elapsedMs: number; probes: Probe[] }> {
  const start = Date.now();
  let last: Probe[] = [];
  let reported = '';
  // The first question after a second: a container that fails at once is told then.
  let askedBroken = start;
  while (Date.now() - start < timeoutMs) {
    last = await probeLab(config, 1000);
    const waiting = last.filter((p) => !p.ok).map((p) => p.service);
    if (!waiting.length) return { elapsedMs: Date.now() - start, probes: last };
    if (broken && Date.now() - askedBroken >= BROKEN_EVERY_MS) {
      askedBroken = Date.now();
      const why = await broken();
      if (why) throw new LabNotReadyError(why);
    }
    const text = waiting.join(', ');
    if (text !== reported) {
      log(`  waiting for: ${text}`);
      reported = text;
    }
    // Every 100 ms: a round is a few loopback connections; `up` ends within 0.1 s of the last answer.
    await new Promise((r) => setTimeout(r, 100));
  }
  const failing = last.filter((p) => !p.ok).map((p) => `${p.service} (${p.target}: ${p.detail})`);
  throw new LabNotReadyError(`these services did not answer within ${Math.round(timeoutMs / 1000)} s: ${failing.join('; ')}`);
}
