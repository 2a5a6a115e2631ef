/**
 * `node dist/bench/concurrency/main.js`: messages under concurrent load
 * alone (also part of `npm run bench`). Options, all bounded:
 * `--clients 50 --messages 200 --min-size 500 --max-size 20480
 * --max-seconds 240 --keep-data`. Extra node flags for the lab's services:
 * MAIL_LAB_BENCH_NODE_FLAGS="--max-semi-space-size=2". Writes
 * bench/results/concurrency.json; exit code 1 when anything was lost,
 * duplicated, misdelivered or corrupted, or the run timed out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../scripts/lab-docker';
import { formatConcurrencyReport, runConcurrencyBench } from './index';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    messages: { type: 'string', default: '200' },
    'min-size': { type: 'string', default: '500' },
    'max-size': { type: 'string', default: '20480' },
    'max-seconds': { type: 'string', default: '240' },
    'keep-data': { type: 'boolean', default: false },
    out: { type: 'string', default: 'concurrency.json' },
  },
});

const num = (name: 'clients' | 'messages' | 'min-size' | 'max-size' | 'max-seconds', min: number, max: number): number => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
  return v;
};

async function main(): Promise<number> {
  const minSize = num('min-size', 300, 1_000_000);
  const r = await runConcurrencyBench({
    clients: num('clients', 1, 200),
    perClient: num('messages', 1, 10_000),
    minSize,
    maxSize: num('max-size', minSize, 5_000_000),
    maxMs: num('max-seconds', 10, 1800) * 1000,
    keepData: args['keep-data'],
    log: (l) => process.stderr.write(l + '\n'),
    distRoot: join(__dirname, '..', '..'),
  });
  const outDir = join(repoRoot(), 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, (args.out ?? 'concurrency.json').replace(/[/\\]/g, '_'));
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  process.stdout.write(formatConcurrencyReport(r) + `\n\nresults: bench/results/${file.split('/').pop()}\n`);
  return r.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`concurrency bench failed: ${e.message}\n`);
    process.exit(2);
  },
);
