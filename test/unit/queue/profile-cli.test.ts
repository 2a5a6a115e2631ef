/**
 * `npx mail-lab queue-profile <domain> [profile]` (the built CLI, a real
 * process) against a lab in this test process: the CLI reads a lab.yaml
 * with this lab's ports (MAIL_LAB_CONFIG) and talks to the admin API.
 * Shows and switches the profile; `queue` shows it; bad arguments exit 2
 * saying what is allowed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startTestLab, type TestLab } from '../helpers/test-lab';
import { labYamlOf } from '../cli-lang/harness';

const cli = join(__dirname, '../../../bin/mail-lab.js');
let lab: TestLab;
let dir: string;
let labFile: string;

/** Runs the CLI without blocking this process (the servers it talks to run here). */
function mailLab(args: string[], file = labFile): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, MAIL_LAB_CONFIG: file, MAIL_LAB_ADMIN_TOKEN: lab.adminToken } }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** lab.yaml with this lab's host ports for both domains (and extra text appended to `profiles:`). */
function labYaml(extraProfile = ''): string {
  return labYamlOf(lab).replace(/^profiles:\n/m, `profiles:\n${extraProfile}`);
}

beforeAll(async () => {
  if (!existsSync(join(__dirname, '../../../dist/scripts/cli.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
  lab = await startTestLab();
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-profile-cli-'));
  labFile = join(dir, 'lab.yaml');
  writeFileSync(labFile, labYaml());
  expect(readFileSync(labFile, 'utf8')).toContain(`admin: ${lab.config.domains[0].ports.admin}`);
}, 30_000);
afterAll(async () => {
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
});

test('without a profile: the one in force and the ones there are', async () => {
  const r = await mailLab(['queue-profile', 'garudayaksa.com']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(
    'garudayaksa.com: queue profile test: retry every 1s, warn after 1h, return after 2h\n' +
      '  profiles: test, classroom, real, demo (switch: npx mail-lab queue-profile garudayaksa.com <profile>)\n',
  );
});

test('switch to demo: said, shown by queue, logged by=admin; the same again changes nothing', async () => {
  const r = await mailLab(['queue-profile', 'garudayaksa.com', 'demo']);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^garudayaksa\.com: queue profile test -> demo: retry every 10s, warn after 30s, return after 1m30s\n/);
  expect(lab.lines.some((l) => l.includes('queue profile test -> demo') && l.includes('by=admin'))).toBe(true);
  const q = await mailLab(['queue', 'garudayaksa.com']);
  expect(q.status).toBe(0);
  expect(q.stdout).toBe('queue profile demo: retry every 10s, warn after 30s, return after 1m30s\nmail queue of garudayaksa.com is empty\n');
  // The other domain keeps its own profile.
  expect((await mailLab(['queue-profile', 'dadali.com'])).stdout).toMatch(/^dadali\.com: queue profile test:/);
  const again = await mailLab(['queue-profile', 'garudayaksa.com', 'demo']);
  expect(again.stdout).toBe('garudayaksa.com already uses queue profile demo; nothing changed\n');
  const json = JSON.parse((await mailLab(['queue-profile', 'garudayaksa.com', '--json'])).stdout);
  expect(json).toMatchObject({ name: 'demo', retryInterval: 10_000, warnAfter: 30_000, returnAfter: 90_000 });
  expect((await mailLab(['queue-profile', 'garudayaksa.com', 'classroom'])).stdout).toMatch(/queue profile demo -> classroom: retry every 30s, warn after 2m, return after 10m/);
});

test('status shows each domain\'s queue profile', async () => {
  await mailLab(['queue-profile', 'dadali.com', 'real']);
  const r = await mailLab(['status']);
  expect(r.stdout).toContain('  queue garudayaksa.com: 0 message(s), queue profile classroom: retry every 30s, warn after 2m, return after 10m\n');
  expect(r.stdout).toContain('  queue dadali.com: 0 message(s), queue profile real: retry every 15m, warn after 4h, return after 5d\n');
  await mailLab(['queue-profile', 'dadali.com', 'test']);
}, 30_000);

test.each([
  [['queue-profile', 'garudayaksa.com', 'cepat'], /^mail-lab: unknown queue profile "cepat"; lab.yaml has: classroom, real, demo\n$/],
  [['queue-profile', 'contoh.com'], /^mail-lab: unknown domain "contoh.com"; the lab has: garudayaksa\.com, dadali\.com\n$/],
  [['queue-profile'], /error: missing required argument 'domain'[^]*Usage: mail-lab queue-profile \[options\] <domain> \[profile\]/],
  [['queue-profile', 'garudayaksa.com', 'demo', 'lagi'], /error: too many arguments for 'queue-profile'[^]*Usage: mail-lab queue-profile \[options\] <domain> \[profile\]/],
])('bad arguments %j: exit 2 and what is allowed', async (args, message) => {
  const r = await mailLab(args);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
});

test('a profile this lab.yaml has but the running server does not: the server refuses, exit 2 naming its profiles', async () => {
  const file = join(dir, 'lab-extra.yaml');
  writeFileSync(file, labYaml('  kilat: { retryInterval: 1s, warnAfter: 2s, returnAfter: 3s }\n'));
  const r = await mailLab(['queue-profile', 'garudayaksa.com', 'kilat'], file);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('mail-lab: garudayaksa.com: unknown queue profile "kilat"; the lab has: test, classroom, real, demo\n');
});

test('a lab that is not running: exit 1, saying it cannot reach the admin interface', async () => {
  const file = join(dir, 'lab-down.yaml');
  writeFileSync(file, labYaml().replace(`admin: ${lab.config.domains[0].ports.admin}`, `admin: ${await freePort()}`));
  const r = await mailLab(['queue-profile', 'garudayaksa.com', 'demo'], file);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^mail-lab: .*cannot reach the admin API of garudayaksa\.com on 127\.0\.0\.1:\d+ \(ECONNREFUSED\); is the lab up\?/);
});
