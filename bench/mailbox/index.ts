/**
 * The mailbox benchmark (issue 3): how our IMAP and POP3 server reads a big
 * mailbox compared with Debian's Dovecot, in one run on one machine. A
 * generated mailbox of `messages` messages (default 10,000, varied sizes,
 * the same bytes for both) is served first by our mail domain, then by a
 * Dovecot instance of the benchmark's own; each gets the same IMAP FETCH of
 * three header fields for every message, three SEARCHes and a POP3 pass of
 * RETRs (see measure.ts). Servers run one after the other, never at once.
 * Everything lives under /tmp/mail-lab-mailbox-bench-<pid>-<run>/ (removed
 * at the end unless `keepData`); all traffic is on 127.0.0.1; every loop is
 * bounded by a count and every command by a deadline.
 *
 * `runMailboxBench(opts)` is used by `npm run bench` and by
 * `node dist/bench/mailbox/main.js`, which prints the table and writes
 * bench/results/mailbox.json.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { repoRoot } from '../../scripts/lab-docker';
import { ensureDovecot, prepareDovecot, type StartedDovecot } from './dovecot';
import { writeMailbox } from './generate';
import { measureServer, waitForImap, type ServerMeasurement } from './measure';
import { PeakSampler, treeRssKiB } from '../memory';
import { oursDataDir, startOurs, type StartedOurs } from './ours';
import { comparisons, formatMailboxReport, type MailboxBenchResult } from './report';

export { formatMailboxReport, type MailboxBenchResult } from './report';

export interface MailboxBenchOptions {
  /** Messages in the mailbox. @default 10000 (1 to 100,000) */
  messages?: number;
  /** Messages each POP3 pass retrieves. @default 2000 */
  pop3Messages?: number;
  /** Timed runs after the first of each IMAP command, and POP3 passes. @default 3 (1 to 10) */
  repeats?: number;
  /** Seed of the generated mailbox. @default 20261126 */
  seed?: number;
  /** Measure Dovecot too (installed with apt-get when missing). @default true */
  dovecot?: boolean;
  /** Keep the /tmp directory (mailbox, configs, logs). @default false */
  keepData?: boolean;
  /** Run our server with `node --cpu-prof`, profiles into this directory. */
  profileDir?: string;
  /** Deadline of any single command. @default 600000 */
  commandTimeoutMs?: number;
  /** The compiled tree. @default the `dist` directory this module runs from */
  distRoot?: string;
  /** Progress lines. @default stderr */
  log?: (line: string) => void;
}

const DOMAIN = 'dadali.com';
/** Issue 15: a 100,000-message INBOX (about 1.7 GB with the generator's mix; check `df -h /tmp`, the run keeps three copies). */
const MAX_MESSAGES = 100_000;
const USER = 'siswa1';
const PASSWORD = 'rahasia123';

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  return v;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function runMailboxBench(opts: MailboxBenchOptions = {}): Promise<MailboxBenchResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const settings = {
    messages: bounded('messages', opts.messages, 10_000, 1, MAX_MESSAGES),
    pop3Messages: bounded('pop3Messages', opts.pop3Messages, 2_000, 1, MAX_MESSAGES),
    repeats: bounded('repeats', opts.repeats, 3, 1, 10),
    seed: bounded('seed', opts.seed, 20261126, 0, 2 ** 31),
  };
  const commandTimeoutMs = opts.commandTimeoutMs ?? 600_000;
  const distRoot = opts.distRoot ?? join(__dirname, '..', '..');
  const dir = join('/tmp', `mail-lab-mailbox-bench-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  const errors: string[] = [];
  const notes: string[] = [];
  let ours: ServerMeasurement | null = null;
  let dovecot: (ServerMeasurement & { version: string }) | null = null;
  let running: StartedOurs | StartedDovecot | null = null;
  // Peak RSS of the server's process tree, sampled every 200 ms while it is measured (bounded by the command deadline).
  const measure = async (pid: number, imapPort: number, pop3Port: number, login: string): Promise<ServerMeasurement> => {
    const sampler = new PeakSampler(() => new Map([['server', treeRssKiB(pid)]]));
    sampler.start(commandTimeoutMs * 4);
    try {
      const m = await measureServer({ imapPort, pop3Port, login, password: PASSWORD, repeats: settings.repeats, pop3Messages: settings.pop3Messages, commandTimeoutMs, log });
      await sampler.tick();
      const peakRssMiB = (sampler.peakKiB.get('server') ?? NaN) / 1024;
      log(`     peak RSS ${peakRssMiB.toFixed(0)} MiB`);
      return { ...m, peakRssMiB };
    } finally {
      sampler.stop();
    }
  };

  log(`mailbox bench: generating ${settings.messages} messages (seed ${settings.seed}) in ${dir}`);
  const source = join(dir, 'mailbox.mbox');
  const generated = await writeMailbox(source, settings.messages, settings.seed);
  // Whatever way this process ends, the server it started goes with it.
  const killRunning = () => {
    if (running && running.pid > 0) {
      try {
        process.kill(running.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killRunning);
  const mailbox = generated;
  log(`   ${(generated.wireOctets / 1e6).toFixed(1)} MB, median message ${(generated.sizes.median / 1024).toFixed(1)} KB`);
  try {
    log('1. our mail domain (dist/services/mail-domain/src/main.js)');
    try {
      const data = oursDataDir(join(dir, 'ours'));
      mkdirSync(join(data, 'mail'), { recursive: true });
      copyFileSync(source, join(data, 'mail', USER));
      const ports = { smtp: await freePort(), submission: await freePort(), pop3: await freePort(), imap: await freePort(), admin: await freePort() };
      const started = startOurs({
        labYaml: join(repoRoot(), 'lab-scenarios', 'lab.yaml'),
        distRoot,
        dir: join(dir, 'ours'),
        domain: DOMAIN,
        ports,
        nodeArgs: opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [],
      });
      running = started;
      log(`   PID ${started.pid}, IMAP ${started.imapPort}, POP3 ${started.pop3Port}, log ${started.logFile}`);
      await waitForImap(started.imapPort, 30_000);
      ours = await measure(started.pid, started.imapPort, started.pop3Port, `${USER}@${DOMAIN}`);
    } catch (e) {
      errors.push(`ours: ${(e as Error).message}`);
    } finally {
      await running?.stop();
      running = null;
    }

    if (opts.dovecot === false) notes.push('Dovecot skipped');
    else {
      log('2. Dovecot (its own instance, mbox)');
      try {
        if (process.getuid?.() !== 0) throw new Error('needs root (its own instance serves mail files owned by nobody; Postfix in `npm run bench` needs root too)');
        await ensureDovecot(log);
        const prepared = await prepareDovecot({ dir: join(dir, 'dovecot'), user: USER, password: PASSWORD, imapPort: await freePort(), pop3Port: await freePort() });
        copyFileSync(source, prepared.inbox);
        const started = await prepared.start();
        running = started;
        log(`   ${started.version}, PID ${started.pid}, IMAP ${started.imapPort}, POP3 ${started.pop3Port}, log ${started.logFile}`);
        await waitForImap(started.imapPort, 30_000);
        dovecot = { ...(await measure(started.pid, started.imapPort, started.pop3Port, USER)), version: started.version };
      } catch (e) {
        errors.push(`Dovecot: ${(e as Error).message}`);
      } finally {
        await running?.stop();
        running = null;
      }
    }
  } finally {
    process.off('exit', killRunning);
    if (opts.keepData) notes.push(`data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  if (ours && dovecot) {
    for (const name of Object.keys(ours.search) as Array<keyof typeof ours.search>) {
      if (ours.search[name].hits !== dovecot.search[name].hits) notes.push(`SEARCH ${name}: ours found ${ours.search[name].hits}, Dovecot ${dovecot.search[name].hits}`);
    }
  }
  return {
    date: new Date().toISOString(),
    host: { node: process.versions.node, cpus: cpus().length, kernel: release() },
    settings,
    mailbox,
    ours,
    dovecot,
    comparisons: comparisons(ours, dovecot),
    errors,
    notes,
  };
}
