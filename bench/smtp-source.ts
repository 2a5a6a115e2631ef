/**
 * Throughput as users measure it (issue 15): Postfix's own load tool,
 * `smtp-source -m M -s S -l L` (a new connection per message), against
 * garudayaksa.com's port 25 (the Docker lab with `--docker`, else the
 * bench's no-Docker copy) and against Debian's Postfix on this host, in
 * the same run, with 10 and 20 sessions and 1 KB and 20 KB messages.
 * Accepted/s: M divided by smtp-source's wall time. Delivered/s: M divided
 * by the time until the M messages are counted in the mbox files. Every
 * run is bounded (M ≤ 10,000, 300 s each); traffic goes to 127.0.0.1 only.
 *
 *   node dist/bench/smtp-source.js [--docker] [--messages 2000]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from './lab-copy';
import { fileSource, MboxCounter, type MboxSource } from './mailbox-watch';
import { ensurePostfix, POSTFIX_DOMAIN, startPostfix } from './postfix';
import { startDockerTarget, startLocalTarget } from './targets';

interface Run {
  sessions: number;
  sizeKiB: number;
  acceptedPerSec: number;
  deliveredPerSec: number | null;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (l: string) => process.stderr.write(l + '\n');

function smtpSource(port: number, m: number, s: number, sizeBytes: number, to: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile('/usr/sbin/smtp-source', ['-m', String(m), '-s', String(s), '-l', String(sizeBytes), '-f', 'load@bench.invalid', '-t', to, `127.0.0.1:${port}`], { timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`smtp-source failed: ${(stderr || stdout || err.message).trim().split('\n').slice(-2).join(' | ')}`));
      else resolve(performance.now() - t0);
    });
  });
}

async function measure(port: number, mailbox: MboxSource, to: string, m: number, s: number, kib: number): Promise<Run> {
  const counter = new MboxCounter(mailbox);
  const before = await counter.update();
  const t0 = performance.now();
  try {
    const acceptMs = await smtpSource(port, m, s, kib * 1024, to);
    let deliveredMs: number | null = null;
    const until = t0 + 300_000;
    while (performance.now() < until) {
      if ((await counter.update()) - before >= m) {
        deliveredMs = performance.now() - t0;
        break;
      }
      await sleep(20);
    }
    return { sessions: s, sizeKiB: kib, acceptedPerSec: m / (acceptMs / 1000), deliveredPerSec: deliveredMs === null ? null : m / (deliveredMs / 1000) };
  } catch (e) {
    return { sessions: s, sizeKiB: kib, acceptedPerSec: 0, deliveredPerSec: null, error: (e as Error).message };
  }
}

const CASES = [
  [10, 1],
  [20, 1],
  [10, 20],
  [20, 20],
] as const;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { docker: { type: 'boolean', default: false }, messages: { type: 'string', default: '2000' } } });
  const m = Number(values.messages);
  if (!Number.isInteger(m) || m < 1 || m > 10_000) throw new Error('--messages must be a whole number from 1 to 10000');
  await ensurePostfix(log);
  const dir = join('/tmp', `mail-lab-smtp-source-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const ours: Run[] = [];
  const theirs: Run[] = [];
  let mode = '';
  try {
    const lab = values.docker ? await startDockerTarget({ log, keep: true }) : await startLocalTarget({ dir: join(dir, 'lab'), distRoot: join(__dirname, '..'), offset: 'bench', log });
    mode = lab.mode === 'docker' ? 'Docker lab, published port 25' : 'no-Docker lab copy';
    try {
      const garuda = lab.config.domains[0];
      const box = await lab.mailbox(garuda.name, 'siswa1');
      for (const [s, kib] of CASES) {
        log(`ours: smtp-source -m ${m} -s ${s} -l ${kib * 1024}`);
        ours.push(await measure(garuda.ports.smtp, box, `siswa1@${garuda.name}`, m, s, kib));
      }
    } finally {
      await lab.stop();
    }
    const pf = await startPostfix(join(dir, 'postfix'), await freePort(), ['siswa1']);
    try {
      await sleep(500);
      for (const [s, kib] of CASES) {
        log(`Postfix ${pf.version}: smtp-source -m ${m} -s ${s} -l ${kib * 1024}`);
        theirs.push(await measure(pf.port, fileSource(join(pf.mailDir, 'siswa1')), `siswa1@${POSTFIX_DOMAIN}`, m, s, kib));
      }
    } finally {
      await pf.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const f = (x: number | null) => (x === null ? '—' : x.toFixed(0));
  const lines = [`smtp-source, ${m} messages per run, a new connection per message (${mode} vs Debian's Postfix, same run)`, '   sessions  size    ours acc/s  deliv/s   Postfix acc/s  deliv/s   ratio (delivered)'];
  for (let i = 0; i < CASES.length; i++) {
    const a = ours[i];
    const b = theirs[i];
    const ratio = a.deliveredPerSec && b.deliveredPerSec ? (a.deliveredPerSec / b.deliveredPerSec).toFixed(2) + '×' : '—';
    lines.push(`   ${String(a.sessions).padEnd(8)}  ${(a.sizeKiB + ' KB').padEnd(6)}  ${f(a.acceptedPerSec).padStart(11)}  ${f(a.deliveredPerSec).padStart(7)}   ${f(b.acceptedPerSec).padStart(13)}  ${f(b.deliveredPerSec).padStart(7)}   ${ratio}`);
    for (const r of [a, b]) if (r.error) lines.push(`      error: ${r.error}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return [...ours, ...theirs].some((r) => r.error || r.deliveredPerSec === null) ? 1 : 0;
}

main().then(
  (c) => process.exit(c),
  (e: Error) => {
    log(`smtp-source bench failed: ${e.message}`);
    process.exit(2);
  },
);
