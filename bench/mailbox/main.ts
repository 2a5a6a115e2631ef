/**
 * `node dist/bench/mailbox/main.js [--messages N] [--pop3-messages N]
 * [--repeats N] [--seed N] [--no-dovecot] [--keep-data] [--profile DIR]`:
 * runs the mailbox benchmark alone, prints its table and writes
 * bench/results/mailbox.json (never committed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../scripts/lab-docker';
import { formatMailboxReport, runMailboxBench } from './index';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      'pop3-messages': { type: 'string' },
      repeats: { type: 'string' },
      seed: { type: 'string' },
      'no-dovecot': { type: 'boolean', default: false },
      'keep-data': { type: 'boolean', default: false },
      profile: { type: 'string' },
    },
  });
  const n = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await runMailboxBench({
    messages: n(values.messages),
    pop3Messages: n(values['pop3-messages']),
    repeats: n(values.repeats),
    seed: n(values.seed),
    dovecot: !values['no-dovecot'],
    keepData: values['keep-data'],
    profileDir: values.profile,
  });
  const outDir = join(repoRoot(), 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'mailbox.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write('\n' + formatMailboxReport(result) + '\n\nresults: bench/results/mailbox.json\n');
  return result.errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`mailbox bench failed: ${e.message}\n`);
    process.exit(2);
  },
);
