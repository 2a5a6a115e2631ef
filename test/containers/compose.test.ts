/**
 * The committed docker-compose.yml (lab 0, rendered from lab.yaml) as a
 * user without the mail-lab CLI starts it: plain `docker compose up -d` in
 * the repository (the .env file names the project), checked by both
 * Compose v2 and v1, and a working lab that the CLI then finds and uses.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cli, eventually, root } from './helpers';

const run = promisify(execFile);
// The user's plain environment: no project, no lab number, the default bind.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MAIL_LAB_') && k !== 'COMPOSE_PROJECT_NAME'));

afterAll(async () => {
  await run('docker', ['compose', 'down', '-v', '--remove-orphans'], { cwd: root, env, timeout: 120_000 }).catch(() => undefined);
}, 180_000);

test('Compose v2 and v1 both accept the committed file', async () => {
  await run('docker', ['compose', 'config', '-q'], { cwd: root, env });
  await run('docker-compose', ['config', '-q'], { cwd: root, env });
  const { stdout } = await run('docker', ['compose', 'config', '--services'], { cwd: root, env });
  expect(stdout.trim().split('\n').sort()).toEqual(['client', 'dns', 'mail-dadali', 'mail-garudayaksa']);
}, 60_000);

test('plain `docker compose up -d` starts a working lab 0 (project mail-lab from .env) that the CLI finds', async () => {
  await run('docker', ['compose', 'up', '-d'], { cwd: root, env, timeout: 300_000 });
  const { stdout } = await run('docker', ['ps', '--filter', 'label=com.docker.compose.project=mail-lab', '--format', '{{.Names}}']);
  expect(stdout.trim().split('\n').sort()).toEqual(['mail-lab-client', 'mail-lab-dadali', 'mail-lab-dns', 'mail-lab-garudayaksa']);
  await eventually('every service answers', async () => (await cli(['status'])).code === 0, 60_000);
  const r = await cli(['scenario', 'cross-domain-delivery']);
  expect(r.out).toMatch(/^scenarios: 1 passed, 0 failed \(Docker lab\)$/m);
}, 420_000);
