/** `node dist/bench/hostile/main.js [--clients 10] [--total 1000] [--idle 500] [--big-mb 50] [--rcpts 10000] [--max-seconds 60]`: bad input under load (bench/hostile). */
import { parseArgs } from 'node:util';
import { formatHostileReport, runHostileBench } from './index';
import { boundedInt, runBench } from '../main-args';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10' },
    total: { type: 'string', default: '1000' },
    idle: { type: 'string', default: '500' },
    'big-mb': { type: 'string', default: '50' },
    rcpts: { type: 'string', default: '10000' },
    'max-seconds': { type: 'string', default: '60' },
  },
});
const num = (name: keyof typeof values, min: number, max: number): number => boundedInt(values, name, min, max);
const options = {
  clients: num('clients', 1, 50),
  total: num('total', 1, 20_000),
  idleConnections: num('idle', 0, 1000),
  bigMB: num('big-mb', 1, 200),
  rcpts: num('rcpts', 1, 20_000),
  maxSeconds: num('max-seconds', 5, 600),
  log: (l: string) => process.stderr.write(l + '\n'),
};
runBench('hostile', runHostileBench(options), formatHostileReport, (r) => r.errors.length > 0);
