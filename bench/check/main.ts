/** `node dist/bench/check/main.js [--students 30] [--rounds 3] [--concurrency 6] [--repeats 5] [--max-seconds 300]`: check --all for a class (bench/check). */
import { parseArgs } from 'node:util';
import { formatCheckReport, runCheckBench } from './index';
import { boundedInt, runBench } from '../main-args';

const { values } = parseArgs({
  options: {
    students: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '6' },
    repeats: { type: 'string', default: '5' },
    'max-seconds': { type: 'string', default: '300' },
  },
});
const num = (name: keyof typeof values, min: number, max: number): number => boundedInt(values, name, min, max);
const options = {
  students: num('students', 6, 60),
  rounds: num('rounds', 1, 20),
  concurrency: num('concurrency', 1, 30),
  repeats: num('repeats', 1, 20),
  maxSeconds: num('max-seconds', 10, 1800),
  log: (l: string) => process.stderr.write(l + '\n'),
};
runBench('check', runCheckBench(options), formatCheckReport, (r) => r.errors.length > 0);
