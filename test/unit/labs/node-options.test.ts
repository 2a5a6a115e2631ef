/**
 * The lab's services run with the same node options in both modes: the
 * image's NODE_OPTIONS (Dockerfile) and what `up --local` (and the benches'
 * lab copies) give the processes it spawns. A setting measured in one mode
 * and forgotten in the other would make the benches compare unlike labs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SERVICE_NODE_OPTIONS } from '../../../scripts/local-lab';

test("the Dockerfile's NODE_OPTIONS are the no-Docker lab's, and node accepts them", () => {
  const dockerfile = readFileSync(join(__dirname, '..', '..', '..', 'Dockerfile'), 'utf8');
  const env = /^\s*NODE_OPTIONS=(\S+)/m.exec(dockerfile);
  expect(env?.[1]).toBe(SERVICE_NODE_OPTIONS);
  // A flag node refuses in NODE_OPTIONS would stop every service at start.
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write("ok")'], { env: { ...process.env, NODE_OPTIONS: SERVICE_NODE_OPTIONS }, encoding: 'utf8' });
  expect([r.status, r.stdout, r.stderr]).toEqual([0, 'ok', '']);
});
