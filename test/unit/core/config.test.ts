import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabConfig, LabConfigError, formatProblem } from '../../../services/core/src/config';
import { hashPassword, verifyPassword } from '../../../services/core/src/password';
import { parseDuration, formatDuration } from '../../../services/core/src/duration';

const LAB = join(__dirname, '../../../lab-scenarios/lab.yaml');
const text = readFileSync(LAB, 'utf8');

function problems(yaml: string): string[] {
  try {
    parseLabConfig(yaml, 'lab.yaml');
  } catch (e) {
    if (e instanceof LabConfigError) return e.problems.map(formatProblem);
    throw e;
  }
  return [];
}

test('the shipped lab definition follows the contract: domains, ports, accounts, aliases, hashed passwords', () => {
  const { config, warnings } = parseLabConfig(text, LAB);
  expect(warnings).toEqual([]);
  expect(config.domains.map((d) => [d.name, d.mailHost, d.ports])).toEqual([
    ['garudayaksa.com', 'mail.garudayaksa.com', { smtp: 10025, submission: 10587, pop3: 10110, imap: 10143, admin: 10080, smtps: 10465, imaps: 10993, pop3s: 10995 }],
    ['dadali.com', 'mail.dadali.com', { smtp: 20025, submission: 20587, pop3: 20110, imap: 20143, admin: 20080, smtps: 20465, imaps: 20993, pop3s: 20995 }],
  ]);
  expect(config.dns.hostPort).toBe(10053);
  expect(config.tls).toEqual({ requireTls: false });
  for (const d of config.domains) {
    expect(d.accounts.map((a) => a.user)).toEqual(expect.arrayContaining(['postmaster', 'siswa1', 'siswa2', 'siswa3', 'siswa4', 'siswa5']));
    expect(d.accounts.every((a) => a.passwordHash && !a.password)).toBe(true);
  }
  expect(config.domains[0].accounts[0]).toMatchObject({ user: 'mbrain', name: 'Marsel' });
  expect(config.domains[1].accounts[0]).toMatchObject({ user: 'jpri', name: 'Joko Priyono' });
  expect(config.domains[0].aliases.staff).toEqual(['mbrain', 'siswa1']);
  expect(config.profiles.real).toMatchObject({ retryInterval: 15 * 60_000, warnAfter: 4 * 3_600_000, returnAfter: 5 * 86_400_000 });
  expect(config.timing).toBe(config.profiles.classroom);
});

test('the shipped hashes check out against rahasia123, and nothing else', async () => {
  const { config } = parseLabConfig(text, LAB);
  const hash = config.domains[1].accounts[0].passwordHash!;
  expect(await verifyPassword('rahasia123', hash)).toBe(true);
  expect(await verifyPassword('rahasia124', hash)).toBe(false);
  expect(await verifyPassword('x', await hashPassword('x', 1024))).toBe(true);
});

test('every cross-check problem is reported at once, each with its line', () => {
  const broken = text
    .replace('address: 172.29.25.20', 'address: 172.29.25.10')
    .replace('profile: classroom', 'profile: cepat')
    .replace('staff: [jpri, siswa1]', 'staff: [jpri, siswa9]')
    .replace('smtp: 20025', 'smtp: 10025');
  const lines = text.split('\n');
  const lineOf = (needle: string, from = 0) => lines.findIndex((l, i) => i >= from && l.includes(needle)) + 1;
  const found = problems(broken);
  expect(found).toEqual(
    expect.arrayContaining([
      `lab.yaml:${lineOf('profile: classroom')}:10: error: profile: names profile "cepat", but profiles has only: ${Object.keys(parseLabConfig(text, LAB).config.profiles).join(', ')}`,
      expect.stringMatching(new RegExp(`^lab\\.yaml:${lineOf('address: 172.29.25.20')}:\\d+: error: domains\\[1\\]\\.address: 172\\.29\\.25\\.10 is already used by domains\\[0\\]$`)),
      expect.stringMatching(/^lab\.yaml:\d+:\d+: error: domains\[1\]\.ports\.smtp: port 10025 is already used by domains\[0\]\.ports\.smtp$/),
      expect.stringMatching(/^lab\.yaml:\d+:\d+: error: domains\[1\]\.aliases\.staff\[1\]: "siswa9" is not an account of dadali\.com$/),
    ]),
  );
  expect(found).toHaveLength(4);
});

test('schema errors name the place and say what is allowed', () => {
  expect(problems(text.replace('maxHops: 30', 'maxHops: banyak'))).toEqual([expect.stringMatching(/^lab\.yaml:\d+:\d+: error: limits\.maxHops: invalid input: expected number, received string$/)]);
  expect(problems(text.replace('retryInterval: 15m', 'retryInterval: 15 menit'))).toEqual([expect.stringMatching(/profiles\.real\.retryInterval: is not a duration/)]);
  expect(problems('version: 1\nprofiles: [\n')).toEqual([expect.stringMatching(/^lab\.yaml:\d+:\d+: error: /)]);
  expect(problems(text.replace('version: 1', 'version: 1\nversion: 2'))[0]).toMatch(/^lab\.yaml:5:1: error: Map keys must be unique/);
  expect(problems(text.replace('    mailHost: mail.dadali.com', '    mailHost: mail.dadali.com\n    colour: blue'))[0]).toMatch(/domains\[1\]: unrecognized key: "colour"/);
});

test('smtp.localSenders: accept unless the lab says require-auth (the commented example in lab.yaml), and nothing else', () => {
  expect(parseLabConfig(text, LAB).config.smtp.localSenders).toBe('accept');
  const example = /^ {2}# localSenders: accept .*$/m;
  expect(text).toMatch(example);
  expect(parseLabConfig(text.replace(example, '  localSenders: require-auth'), LAB).config.smtp.localSenders).toBe('require-auth');
  expect(parseLabConfig(text.replace(/^smtp:\n( {2}.*\n)+/m, ''), LAB).config.smtp).toEqual({ vrfy: true, expn: true, localSenders: 'accept', greetDelay: 0 });
  expect(problems(text.replace(example, '  localSenders: refuse'))).toEqual([expect.stringMatching(/^lab\.yaml:\d+:\d+: error: smtp\.localSenders: .*"accept"\|"require-auth"/)]);
});

test('a plain password is accepted with a warning', () => {
  const { warnings } = parseLabConfig(text.replace(/passwordHash: "[^"]+" \}/, 'password: "rahasia123" }'), 'lab.yaml');
  expect(warnings.map(formatProblem)).toEqual([expect.stringMatching(/warning: domains\[0\]\.accounts\[0\]\.password: plain-text password/)]);
});

test('durations', () => {
  expect(parseDuration('1h30m')).toBe(5_400_000);
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('5 days')).toBeNull();
  expect(formatDuration(5 * 86_400_000)).toBe('5d');
  expect(formatDuration(90_000)).toBe('1m30s');
});

describe('mail-lab validate (no Docker)', () => {
  const cli = join(__dirname, '../../../bin/mail-lab.js');
  // The CLI runs from dist/, which `npm ci` (prepare) and `npm run build` make.
  beforeAll(() => {
    if (!existsSync(join(__dirname, '../../../dist/scripts/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  });

  test('a valid file: exit 0 and a summary', () => {
    const r = spawnSync(process.execPath, [cli, 'validate', LAB], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/valid\n  garudayaksa\.com: 7 accounts, 2 aliases, MX 10 mail\.garudayaksa\.com/);
  });

  test('a broken file: every problem with file:line, exit 2, nothing started', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, text.replace('profile: classroom', 'profile: cepat').replace('smtp: 20025', 'smtp: 10025'));
    const r = spawnSync(process.execPath, [cli, 'validate', file], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    const profileLine = text.split('\n').findIndex((l) => l.startsWith('profile: classroom')) + 1;
    expect(r.stderr).toContain(`${file}:${profileLine}:10: error: profile: names profile "cepat"`);
    expect(r.stderr).toMatch(/ports\.smtp: port 10025 is already used/);
    expect(r.stderr).toMatch(/2 problem\(s\); nothing was started/);
  });
});
