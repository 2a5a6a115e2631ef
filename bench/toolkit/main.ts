/** `node dist/bench/toolkit/main.js`: the instructor toolkit's numbers alone. */
import { formatToolkitReport, runToolkitBench } from './index';

runToolkitBench({ log: (l) => process.stderr.write(l + '\n') }).then(
  (r) => {
    process.stdout.write(formatToolkitReport(r) + '\n');
    process.exit(r.errors.length ? 1 : 0);
  },
  (e: Error) => {
    process.stderr.write(`toolkit bench failed: ${e.message}\n`);
    process.exit(2);
  },
);
