/**
 * `node dist/bench/latency-only.js [--docker] [--count N]`: only the
 * cross-domain latency step of `npm run bench` (bench/latency.ts), for
 * quick before/after comparisons of one change.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureLatency, quantile } from './latency';
import { startDockerTarget, startLocalTarget } from './targets';

const { values: args } = parseArgs({ options: { docker: { type: 'boolean', default: false }, count: { type: 'string', default: '50' }, size: { type: 'string', default: '2048' } } });

async function main(): Promise<number> {
  const log = (l: string) => process.stderr.write(l + '\n');
  const dir = join('/tmp', `mail-lab-latency-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const lab = args.docker ? await startDockerTarget({ log, keep: true }) : await startLocalTarget({ dir, distRoot: join(__dirname, '..'), offset: 'bench', log });
  try {
    const [garuda, dadali] = lab.config.domains;
    const r = await measureLatency({ sender: garuda, recipient: `jpri@${dadali.name}`, mailbox: await lab.mailbox(dadali.name, 'jpri'), count: Number(args.count), size: Number(args.size), runId: `l${Date.now().toString(36)}` });
    const s = r.samplesMs;
    process.stdout.write(`latency (${lab.mode}): ${s.length} messages, median ${quantile(s, 0.5).toFixed(1)} ms, p90 ${quantile(s, 0.9).toFixed(1)} ms, min ${Math.min(...s).toFixed(1)}, max ${Math.max(...s).toFixed(1)}; failures ${r.failures.length}\n`);
    for (const f of r.failures) process.stdout.write(`  ${f}\n`);
    return r.failures.length ? 1 : 0;
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then((c) => process.exit(c), (e: Error) => { process.stderr.write(`latency bench failed: ${e.message}\n`); process.exit(2); });
