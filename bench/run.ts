/**
 * `npm run bench`: measures the lab and prints a report (see
 * bench/README.md for what each number means). By default it starts its
 * own no-Docker copy of the lab on shifted ports under /tmp; `--docker`
 * measures the compose lab instead. Every step is bounded in count and
 * time, and every connection goes to 127.0.0.1. Results also go to
 * bench/results/latest.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../scripts/lab-docker';
import { measureLatency, quantile } from './latency';
import { runLoad, type LoadOptions } from './load';
import { fileSource } from './mailbox-watch';
import { PeakSampler, treeRssKiB } from './memory';
import { ensurePostfix, POSTFIX_DOMAIN, startPostfix, type StartedPostfix } from './postfix';
import { formatReport, type BenchResults } from './report';
import { formatMailboxReport, runMailboxBench } from './mailbox';
import { formatToolkitReport, runToolkitBench } from './toolkit';
import { formatConcurrencyReport, runConcurrencyBench } from './concurrency';
import { formatSeamReport, runSeamBench } from './seam';
import { formatClassReport, runClassBench } from './class';
import { formatEventsReport, runEventsBench } from './events';
import { SmtpClient } from './smtp-client';
import { startDockerTarget, startLocalTarget, type LabUnderTest } from './targets';
import { freePort } from './lab-copy';

const { values: args } = parseArgs({
  options: {
    docker: { type: 'boolean', default: false },
    'keep-lab': { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    'no-postfix': { type: 'boolean', default: false },
    'latency-count': { type: 'string', default: '50' },
    clients: { type: 'string', default: '10' },
    total: { type: 'string', default: '2000' },
    'max-seconds': { type: 'string', default: '20' },
    size: { type: 'string', default: '2048' },
    'port-offset': { type: 'string' },
    profile: { type: 'string' },
    'no-concurrency': { type: 'boolean', default: false },
    'concurrency-clients': { type: 'string', default: '50' },
    'concurrency-messages': { type: 'string', default: '200' },
    class: { type: 'string' },
  },
});

const num = (name: keyof typeof args, min: number, max: number): number => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
  return v;
};

const log = (line: string) => process.stderr.write(line + '\n');
const USERS = ['siswa1', 'siswa2', 'siswa3', 'siswa4', 'siswa5'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForGreeting(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await (await SmtpClient.connect(port, '127.0.0.1', 2000)).quit();
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(100);
    }
  }
}

async function main(): Promise<number> {
  const settings = {
    latencyCount: num('latency-count', 1, 1000),
    clients: num('clients', 1, 100),
    total: num('total', 1, 100_000),
    maxLoadMs: num('max-seconds', 1, 300) * 1000,
    size: num('size', 300, 10_000_000),
    portOffset: args.docker || args['port-offset'] === undefined ? ('bench' as const) : num('port-offset', 1, 40_000),
  };
  const runId = `b${Date.now().toString(36)}`;
  const dir = join('/tmp', `mail-lab-bench-${process.pid}-${runId}`);
  mkdirSync(dir, { recursive: true });
  const results: BenchResults = {
    mode: args.docker ? 'docker' : 'local',
    date: new Date().toISOString(),
    host: { node: process.versions.node, cpus: cpus().length, kernel: release() },
    settings,
    startup: null,
    latency: null,
    ours: null,
    postfix: null,
    ratio: null,
    memory: {},
    memoryHow: '',
    errors: [],
    notes: [],
  };
  let target: LabUnderTest | null = null;
  let postfix: StartedPostfix | null = null;
  const cleanup = async () => {
    await postfix?.stop().catch((e: Error) => log(`could not stop Postfix: ${e.message}`));
    postfix = null;
    await target?.stop().catch((e: Error) => log(`could not stop the lab: ${e.message}`));
    target = null;
    if (!args['keep-data']) rmSync(dir, { recursive: true, force: true });
  };
  const interrupted = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    log(`1. starting the ${args.docker ? 'Docker' : 'no-Docker'} lab`);
    target = args.docker ? await startDockerTarget({ log, keep: args['keep-lab'] ?? false }) : await startLocalTarget({ dir, distRoot: join(__dirname, '..'), offset: settings.portOffset, profileDir: args.profile, log });
    const lab = target;
    results.startup = lab.startup;
    results.memoryHow = lab.memoryHow;
    await sleep(1000);
    const idle = await lab.memory().catch((e: Error) => {
      results.errors.push(`memory: ${e.message}`);
      return new Map<string, number>();
    });
    const sampler = new PeakSampler(() => lab.memory(), 200);
    sampler.start(5 * 60_000);
    const [garuda, dadali] = lab.config.domains;

    log(`2. latency: ${settings.latencyCount} messages mbrain@${garuda.name} → jpri@${dadali.name}`);
    try {
      const lat = await measureLatency({ sender: garuda, recipient: `jpri@${dadali.name}`, mailbox: await lab.mailbox(dadali.name, 'jpri'), count: settings.latencyCount, size: settings.size, runId });
      const s = lat.samplesMs;
      results.latency = { ...lat, medianMs: quantile(s, 0.5), p90Ms: quantile(s, 0.9), minMs: Math.min(...s), maxMs: Math.max(...s) };
    } catch (e) {
      results.errors.push(`latency: ${(e as Error).message}`);
    }

    const load = (port: number, recipients: string[], mailboxes: LoadOptions['mailboxes'], queueEmpty?: () => Promise<boolean>) =>
      runLoad({ port, recipients, from: 'load@bench.invalid', clients: settings.clients, total: settings.total, maxMs: settings.maxLoadMs, size: settings.size, runId, mailboxes, queueEmpty });

    log(`3. load: ${settings.clients} clients → port ${garuda.ports.smtp} (${garuda.name})`);
    try {
      const boxes = await Promise.all(USERS.map((u) => lab.mailbox(garuda.name, u)));
      results.ours = await load(garuda.ports.smtp, USERS.map((u) => `${u}@${garuda.name}`), boxes, () => lab.queueEmpty(garuda.name));
    } catch (e) {
      results.errors.push(`load on mail-lab: ${(e as Error).message}`);
    }
    sampler.stop();
    await sampler.tick();
    const end = await lab.memory().catch(() => new Map<string, number>());
    for (const [name, idleKiB] of idle) {
      results.memory[name] = { idleKiB, peakKiB: Math.max(sampler.peakKiB.get(name) ?? NaN, end.get(name) ?? 0), endKiB: end.get(name) ?? NaN };
    }

    results.notes.push(...lab.notes);
    // Nothing of ours may compete for the CPU while Postfix is measured (a queue that did not drain would).
    await lab.stop();
    target = null;

    if (args['no-postfix']) results.postfix = { error: 'skipped (--no-postfix)' };
    else {
      log('4. the same load against Postfix');
      try {
        await ensurePostfix(log);
        postfix = await startPostfix(join(dir, 'postfix'), await freePort(), USERS);
        const pf = postfix;
        await waitForGreeting(pf.port, 10_000);
        await sleep(500);
        const idleRss = treeRssKiB(pf.masterPid);
        const pfSampler = new PeakSampler(() => new Map([['postfix', treeRssKiB(pf.masterPid)]]), 200);
        pfSampler.start(5 * 60_000);
        const pfLoad = await load(pf.port, USERS.map((u) => `${u}@${POSTFIX_DOMAIN}`), USERS.map((u) => fileSource(join(pf.mailDir, u))));
        pfSampler.stop();
        results.postfix = { version: pf.version, port: pf.port, idleRssKiB: idleRss, peakRssKiB: pfSampler.peakKiB.get('postfix') ?? NaN, load: pfLoad };
        if (results.ours && pfLoad.deliveredPerSec > 0) {
          results.ratio = { deliveredPerSec: results.ours.deliveredPerSec / pfLoad.deliveredPerSec, acceptedPerSec: results.ours.acceptedPerSec / pfLoad.acceptedPerSec };
        }
      } catch (e) {
        results.postfix = { error: (e as Error).message };
      } finally {
        await postfix?.stop();
        postfix = null;
      }
    }
    if (args.docker) results.notes.push('Postfix runs on the host, the mail-lab services in containers: the ratio also carries the Docker network path');
  } catch (e) {
    results.errors.push((e as Error).message);
  } finally {
    if (args['keep-data']) results.notes.push(`data kept in ${dir}`);
    await cleanup();
  }

  const outDir = join(repoRoot(), 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write('\n' + formatReport(results) + '\n\nresults: bench/results/latest.json\n');
  const mailbox = await runMailboxBench({ log }); // reading a big mailbox, ours vs Dovecot (bench/mailbox)
  writeFileSync(join(outDir, 'mailbox.json'), JSON.stringify(mailbox, null, 2) + '\n');
  process.stdout.write('\n' + formatMailboxReport(mailbox) + '\n\nresults: bench/results/mailbox.json\n');
  const toolkit = await runToolkitBench({ log }); // heal → queued mail delivered, trace on 10,000 messages (bench/toolkit)
  writeFileSync(join(outDir, 'toolkit.json'), JSON.stringify(toolkit, null, 2) + '\n');
  process.stdout.write('\n' + formatToolkitReport(toolkit) + '\n\nresults: bench/results/toolkit.json\n');
  const seam = await runSeamBench({ log, distRoot: join(__dirname, '..') }); // live events and the admin API (bench/seam)
  const hub = await runEventsBench(); // the event hub alone: publish → client with 1 and 100 clients (bench/events.ts)
  writeFileSync(join(outDir, 'seam.json'), JSON.stringify({ ...seam, hub }, null, 2) + '\n');
  process.stdout.write('\n' + formatSeamReport(seam) + '\n' + formatEventsReport(hub) + '\n\nresults: bench/results/seam.json\n');
  let concurrencyOk = true;
  if (!args['no-concurrency']) {
    // messages under concurrent load, both domains, POP3/IMAP readers active: lost/duplicated counts and peak RSS (bench/concurrency)
    const concurrency = await runConcurrencyBench({ clients: num('concurrency-clients', 1, 200), perClient: num('concurrency-messages', 1, 10_000), log, distRoot: join(__dirname, '..') });
    writeFileSync(join(outDir, 'concurrency.json'), JSON.stringify(concurrency, null, 2) + '\n');
    process.stdout.write('\n' + formatConcurrencyReport(concurrency) + '\n\nresults: bench/results/concurrency.json\n');
    concurrencyOk = concurrency.ok;
  }
  let classOk = true;
  if (args.class !== undefined) {
    // A class of N Docker labs on this host (bench/class): up, idle memory and CPU, class run, down.
    const cls = await runClassBench({ labs: num('class', 1, 90), log });
    writeFileSync(join(outDir, 'class.json'), JSON.stringify(cls, null, 2) + '\n');
    process.stdout.write('\n' + formatClassReport(cls) + '\n\nresults: bench/results/class.json\n');
    classOk = !cls.errors.length;
  }
  return results.errors.length || mailbox.errors.length || toolkit.errors.length || seam.errors.length || !concurrencyOk || !classOk ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    log(`bench failed: ${e.message}`);
    process.exit(2);
  },
);
