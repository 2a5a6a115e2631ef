/**
 * The lab on Docker Swarm (issue 14), on a real single-node swarm: made here
 * with `docker swarm init --advertise-addr 127.0.0.1` when the engine is in
 * none, and left again afterwards (the engine is left as it was found). Lab 64
 * is deployed with `up --engine swarm`; the scenarios cross-domain-delivery,
 * mx-lookup and queue-retry (break and heal) run on it; the admin port, which
 * Swarm publishes on every interface, refuses a call without the token; the
 * lab DNS serves the addresses the swarm gave the tasks; bad input is said.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { MAIL_API } from '../../services/core/src/admin/api';
import { loadLabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';
import { labTarget } from '../../scripts/lab-target';
import { cli, docker, eventually, root, submit } from './helpers';

const N = 64;
const base = loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config;
const config = deriveLab(base, N);
const garudayaksa = config.domains.find((d) => d.name === 'garudayaksa.com')!;
const dadali = config.domains.find((d) => d.name === 'dadali.com')!;
const swarm = ['--engine', 'swarm', '--lab', String(N)];
/** Left for .ci/run's trap when this file made the swarm (so a killed run still leaves it). */
const marker = join(root, '.lab-data', 'swarm-made-by-tests');

const swarmState = async () => (await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim();
let madeSwarm = false;

const get = (port: number, path: string, token?: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });

beforeAll(async () => {
  if ((await swarmState()) === 'inactive') {
    // Bad input first, while there is no swarm: the message names the command to run.
    const refused = await cli(['up', ...swarm, '--no-build']);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/not in a swarm.*`docker swarm init --advertise-addr 127\.0\.0\.1`/);
    mkdirSync(join(root, '.lab-data'), { recursive: true });
    writeFileSync(marker, 'the container suite made this swarm (test/containers/swarm.test.ts); .ci/run leaves it\n');
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    madeSwarm = true;
  }
  const up = await cli(['up', ...swarm], 600_000);
  if (up.code !== 0) throw new Error(`up --engine swarm failed:\n${up.out}`);
  console.log(up.out.split('\n').filter((l) => /deploying|is up|stack/.test(l)).join('\n'));
}, 700_000);

afterAll(async () => {
  const down = await cli(['down', '--volumes', ...swarm], 180_000);
  if (down.code !== 0) console.log(down.out);
  // Leave the engine as it was found.
  if (madeSwarm) {
    await docker(['swarm', 'leave', '--force']).catch((e: Error) => console.log(`swarm leave: ${e.message}`));
    // swarm init made docker_gwbridge (the way into host-mode ports); leaving keeps it: remove it too.
    await docker(['network', 'rm', 'docker_gwbridge']).catch((e: Error) => console.log(`docker_gwbridge: ${e.message}`));
  }
  if (madeSwarm && existsSync(marker)) rmSync(marker);
}, 240_000);

test('the scenarios cross-domain-delivery, mx-lookup and queue-retry (break and heal) hold on the swarm', async () => {
  const r = await cli(['scenario', 'cross-domain-delivery', 'mx-lookup', 'queue-retry', ...swarm], 300_000);
  if (r.code !== 0) console.log(r.out);
  expect(r.out).toMatch(/scenarios: 3 passed, 0 failed/);
  expect(r.code).toBe(0);
}, 300_000);

test('the admin port, published on every interface by Swarm, refuses every call without the token (401)', async () => {
  // Host mode has no host address: the engine holds the port on 0.0.0.0.
  const ss = await import('node:child_process').then(({ execFileSync }) => execFileSync('ss', ['-Hltn', `sport = :${dadali.ports.admin}`], { encoding: 'utf8' }));
  expect(ss).toMatch(new RegExp(`(0\\.0\\.0\\.0|\\*|\\[::\\]):${dadali.ports.admin}\\b`));
  for (const port of [dadali.ports.admin, garudayaksa.ports.admin, config.dns.adminPort]) {
    const none = await get(port, port === config.dns.adminPort ? '/faults' : '/queue');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ code: 'unauthorized' });
    expect((await get(port, port === config.dns.adminPort ? '/faults' : '/queue', 'x'.repeat(43))).status).toBe(401);
    expect((await get(port, '/health')).status).toBe(200);
  }
  const t = labTarget(config, 'docker', { lab: N });
  expect((await get(dadali.ports.admin, '/queue', await t.token())).status).toBe(200);
}, 60_000);

test('the lab DNS serves the addresses the swarm gave the tasks; the tasks have NET_ADMIN only where the link faults need it', async () => {
  const addressOf = async (service: string) => {
    const id = (await docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=mail-lab-${N}_${service}`])).trim().split('\n')[0];
    return { id, address: (await docker(['inspect', id, '--format', `{{(index .NetworkSettings.Networks "mail-lab-${N}_backbone").IPAddress}}`])).trim() };
  };
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${config.dns.hostPort}`]);
  for (const d of [garudayaksa, dadali]) {
    const { id, address } = await addressOf(`mail-${d.name.split('.')[0]}`);
    expect(address).toMatch(/^172\.29\.164\.\d+$/);
    expect(await r.resolve4(d.mailHost)).toEqual([address]);
    expect(await r.resolvePtr(address.split('.').reverse().join('.') + '.in-addr.arpa')).toEqual([d.mailHost]);
    expect(await docker(['inspect', id, '--format', '{{json .HostConfig.CapAdd}}'])).toMatch(/NET_ADMIN/);
    // The server itself runs as mail-lab with nothing but NET_ADMIN in its bounding set (swarm-entry.sh).
    const status = await docker(['exec', '-u', 'mail-lab', id, 'sh', '-c', 'grep -E "^(Uid|CapEff|CapBnd)" /proc/$(pgrep -u mail-lab -x node | head -1)/status']);
    expect(status).toMatch(/Uid:\s+999\s/);
    expect(status).toMatch(/CapEff:\s+0+\n/);
    expect(status).toMatch(/CapBnd:\s+0+1000\n/);
  }
  const client = await addressOf('client');
  expect(await docker(['exec', client.id, 'cat', '/etc/resolv.conf'])).toContain(`nameserver ${(await r.resolve4(`ns.${garudayaksa.name}`))[0]}`);
  expect(await docker(['inspect', client.id, '--format', '{{json .HostConfig.CapAdd}}'])).not.toMatch(/NET_ADMIN/);
}, 60_000);

test('a message through the published ports: delivered, the trace has both hops', async () => {
  const subject = `swarm ${Date.now()}`;
  const id = await submit('mbrain@garudayaksa.com', 'jpri@dadali.com', subject, 'Halo dari swarm.\n', garudayaksa.ports.submission);
  const t = labTarget(config, 'docker', { lab: N });
  await eventually('delivered', async () => (await t.mail('dadali.com').call(MAIL_API.mailboxMessages, { user: 'jpri' })).some((m) => m.headers.includes(`Subject: ${subject}\r\n`)), 30_000);
  const trace = await cli(['trace', id, '--brief', ...swarm]);
  expect(trace.code).toBe(0);
  expect(trace.out).toMatch(/mail\.dadali\.com/);
}, 60_000);

test('bad input: the same lab number again, on Compose or on the swarm, is refused in words', async () => {
  const again = await cli(['up', ...swarm, '--no-build']);
  expect(again.code).toBe(2);
  expect(again.out).toMatch(new RegExp(`lab ${N} is already deployed on this swarm as stack mail-lab-${N}`));
  const compose = await cli(['up', '--lab', String(N), '--no-build']);
  expect(compose.code).toBe(2);
  expect(compose.out).toMatch(new RegExp(`lab ${N} is deployed on this swarm \\(stack mail-lab-${N}\\)`));
  const engine = await cli(['status', '--engine', 'nomad', '--lab', String(N)]);
  expect(engine.code).toBe(2);
  expect(engine.out).toMatch(/--engine must be compose or swarm/);
  const status = await cli(['status', ...swarm]);
  expect(status.code).toBe(0);
  expect(status.out).toMatch(new RegExp(`mode: Docker Swarm \\(stack mail-lab-${N}\\)`));
  expect(status.out).toMatch(/task mail-dadali +node \S+: Running/);
}, 120_000);
