/** `node dist/bench/queue/main.js [--messages 20000]`: the big deferred queue's numbers alone (bench/queue). */
import { parseArgs } from 'node:util';
import { formatQueueReport, runQueueBench } from './index';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, 'max-drain-seconds': { type: 'string', default: '900' } } });
const messages = Number(values.messages);
const maxDrain = Number(values['max-drain-seconds']);
if (!Number.isInteger(messages) || messages < 1 || messages > 200_000) {
  process.stderr.write('--messages must be a whole number from 1 to 200000\n');
  process.exit(2);
}
if (!Number.isInteger(maxDrain) || maxDrain < 1 || maxDrain > 3600) {
  process.stderr.write('--max-drain-seconds must be a whole number from 1 to 3600\n');
  process.exit(2);
}
runQueueBench({ messages, maxDrainMs: maxDrain * 1000, log: (l) => process.stderr.write(l + '\n') }).then(
  (r) => {
    process.stdout.write(formatQueueReport(r) + '\n');
    process.exit(r.errors.length ? 1 : 0);
  },
  (e: Error) => {
    process.stderr.write(`queue bench failed: ${e.message}\n`);
    process.exit(2);
  },
);
