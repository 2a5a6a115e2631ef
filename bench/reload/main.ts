/** `node dist/bench/reload/main.js [--messages 2000] [--connections 8] [--reloads 10] [--max-seconds 60] [--port-offset N]`: reload under load (bench/reload). */
import { parseArgs } from 'node:util';
import { formatReloadReport, runReloadBench } from './index';
import { boundedInt, runBench } from '../main-args';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '8' },
    reloads: { type: 'string', default: '10' },
    'max-seconds': { type: 'string', default: '60' },
    'port-offset': { type: 'string' },
  },
});
const num = (name: keyof typeof values, min: number, max: number): number => boundedInt(values, name, min, max);
const options = {
  messages: num('messages', 1, 100_000),
  connections: num('connections', 1, 50),
  reloads: num('reloads', 1, 100),
  maxSeconds: num('max-seconds', 1, 600),
  portOffset: values['port-offset'] === undefined ? undefined : num('port-offset', 1, 40_000),
  log: (l: string) => process.stderr.write(l + '\n'),
};
runBench('reload', runReloadBench(options), formatReloadReport, (r) => r.errors.length > 0 || r.lost > 0 || r.twice > 0);
