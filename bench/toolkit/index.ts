/**
 * The instructor toolkit's numbers (issue 4): how long after `heal` the
 * queue delivers 100 messages that waited behind a broken link (aim: within
 * one retry interval plus 2 s, without a flush), and how long `trace` takes
 * when a domain's trace journal holds 10,000 messages (aim: under 1 s).
 * Runs an in-process copy of the lab (DNS + both domains, no-Docker mode)
 * on free loopback ports with the classroom queue profile.
 */
import { newAdminToken } from '../../services/core/src/admin/token';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { parseLabConfig } from '../../services/core/src/config';
import { formatDuration } from '../../services/core/src/duration';
import { createLogger } from '../../services/core/src/logger';
import { startDnsServer } from '../../services/dns/src/server';
import { startMailDomain, type StartedMailDomain } from '../../services/mail-domain/src/domain';
import { labResolver } from '../../services/mail-domain/src/resolver';
import { repoRoot } from '../../scripts/lab-docker';
import { labTarget } from '../../scripts/lab-target';
import { collectTrace } from '../../scripts/trace';
import { freePort } from '../lab-copy';

export interface ToolkitResults {
  retryIntervalMs: number;
  healToDeliveredMs: number | null;
  queued: number;
  traceMs: number | null;
  traceJournalMessages: number;
  traceItems: number;
  errors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runToolkitBench(opts: { log: (l: string) => void; messages?: number; journal?: number }): Promise<ToolkitResults> {
  const count = opts.messages ?? 100;
  const journalSize = opts.journal ?? 10_000;
  const file = join(repoRoot(), 'lab-scenarios', 'lab.yaml');
  const { config } = parseLabConfig(readFileSync(file, 'utf8'), file);
  for (const d of config.domains) d.ports = { smtp: await freePort(), submission: await freePort(), pop3: await freePort(), imap: await freePort(), admin: await freePort() };
  const logger = createLogger({ level: 'warn', write: () => undefined });
  const dataDir = mkdtempSync(join(tmpdir(), 'mail-lab-toolkit-bench-'));
  const dns = await startDnsServer({ config, mode: 'local', host: '127.0.0.1', port: 0, logger });
  config.dns = { ...config.dns, hostPort: dns.port };
  const domains: StartedMailDomain[] = [];
  const adminToken = newAdminToken();
  const results: ToolkitResults = { retryIntervalMs: config.timing.retryInterval, healToDeliveredMs: null, queued: count, traceMs: null, traceJournalMessages: journalSize, traceItems: 0, errors: [] };
  try {
    for (const d of config.domains) {
      domains.push(
        await startMailDomain({ config, domain: d.name, mode: 'local', dataDir: join(dataDir, d.name), host: '127.0.0.1', ports: d.ports, dnsServer: `127.0.0.1:${dns.port}`, resolver: labResolver(`127.0.0.1:${dns.port}`, 1000), logger, adminToken }),
      );
    }
    const [garuda, dadali] = domains;
    const g = config.domains[0];
    opts.log(`toolkit bench: ${count} messages queued behind a broken link, classroom retry every ${formatDuration(config.timing.retryInterval)}`);
    const dadaliConfig = config.domains.find((x) => x.name === dadali.domain)!;
    await garuda.links.cut(dadaliConfig, 'break');
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: g.ports.submission, secure: false, ignoreTLS: true, pool: true, maxConnections: 4, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const info = await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject: `antre ${i}`, text: 'Menunggu link pulih.\n', messageId: `<toolkit-${i}@bench.invalid>` });
      ids.push(/queued as (\S+)/.exec(info.response)![1]);
    }
    t.close();
    const deadline = Date.now() + 60_000;
    while (garuda.queue.list().filter((e) => e.attempts >= 1).length < count && Date.now() < deadline) await sleep(50);
    const healedAt = Date.now();
    await garuda.links.restore(dadaliConfig, 'break'); // heal; no flush: the queue's own schedule delivers
    const until = healedAt + config.timing.retryInterval + 60_000;
    while (Date.now() < until) {
      if ((await dadali.store.snapshot('jpri', 'INBOX')).messages.length >= count) {
        results.healToDeliveredMs = Date.now() - healedAt;
        break;
      }
      await sleep(20);
    }
    if (results.healToDeliveredMs === null) results.errors.push(`not all ${count} messages were delivered within the retry interval + 60 s`);

    // trace: pad dadali's journal to journalSize messages with events shaped like real ones.
    const journal = join(dataDir, dadali.domain, 'trace.jsonl');
    const sample = readFileSync(journal, 'utf8').split('\n').filter(Boolean).slice(0, 2);
    let pad = '';
    for (let i = count; i < journalSize; i++) {
      for (const line of sample) pad += line.replace(/toolkit-\d+@bench\.invalid/g, `toolkit-${i}@bench.invalid`) + '\n';
      if (pad.length > 4 << 20) {
        appendFileSync(journal, pad);
        pad = '';
      }
    }
    appendFileSync(journal, pad);
    const target = labTarget(config, 'local', { token: adminToken });
    const started = process.hrtime.bigint();
    const items = await collectTrace(target, '<toolkit-42@bench.invalid>');
    results.traceMs = Number(process.hrtime.bigint() - started) / 1e6;
    results.traceItems = items.length;
    if (items.length < 4) results.errors.push(`trace found only ${items.length} events for one message`);
  } catch (e) {
    results.errors.push((e as Error).message);
  } finally {
    for (const d of domains) await d.close();
    await dns.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}

export function formatToolkitReport(r: ToolkitResults): string {
  const aim = r.retryIntervalMs + 2000;
  const heal = r.healToDeliveredMs === null ? 'not measured' : `${(r.healToDeliveredMs / 1000).toFixed(2)} s   aim ≤ ${(aim / 1000).toFixed(0)} s (one retry interval + 2 s) ${r.healToDeliveredMs <= aim ? '✓' : '✗'}`;
  const trace = r.traceMs === null ? 'not measured' : `${r.traceMs.toFixed(0)} ms (${r.traceItems} events)   aim < 1 s ${r.traceMs < 1000 ? '✓' : '✗'}`;
  return [
    'Instructor toolkit (in-process lab copy, classroom profile)',
    `   heal → ${r.queued} queued messages all delivered (no flush): ${heal}`,
    `   trace <message-id> with ${r.traceJournalMessages} messages in the journal: ${trace}`,
    ...r.errors.map((e) => `   error: ${e}`),
  ].join('\n');
}
