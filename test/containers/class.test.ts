/**
 * A lab for every student on one host (issue 11), on real containers:
 * three labs from one lab definition with a roster, each with its own
 * ports, network and data; a message across the domains in each; a link
 * broken in lab 2 queues mail there while labs 1 and 3 deliver; the labs'
 * networks cannot reach each other; `class status`, `class run`, `class
 * cards`, `class down`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIL_API } from '../../services/core/src/admin/api';
import { loadLabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';
import { labTarget } from '../../scripts/lab-target';
import { cli, docker, eventually, root, submit } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'mail-lab-class-'));
const base = loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config;
const labOf = (n: number) => labTarget(deriveLab(base, n), 'docker', { lab: n });

beforeAll(async () => {
  writeFileSync(join(dir, 'kelas.csv'), "nama\nSiti Nur'aini\n\"Putu, Ayu\"\nBudi Santoso\n");
  const up = await cli(['class', 'up', '--roster', join(dir, 'kelas.csv')], 900_000);
  if (up.code !== 0) throw new Error(`class up failed:\n${up.out}`);
  console.log(up.out);
}, 900_000);

afterAll(async () => {
  await cli(['class', 'down', '--volumes']);
  rmSync(dir, { recursive: true, force: true });
}, 300_000);

const delivered = async (n: number, subject: string) =>
  (await labOf(n).mail('dadali.com').call(MAIL_API.mailboxMessages, { user: 'jpri' })).some((m) => m.headers.includes(`Subject: ${subject}\r\n`));

test('three labs, one per student: own ports, own networks, own data; status one line each', async () => {
  const status = await cli(['class', 'status']);
  expect(status.code).toBe(0);
  expect(status.out).toMatch(/^lab 01 \(Siti Nur'aini\) +services 18\/18 +links ok +queues 0\/0 +faults none$/m);
  expect(status.out).toMatch(/^lab 02 \(Putu, Ayu\) +services 18\/18/m);
  expect(status.out).toMatch(/^lab 03 \(Budi Santoso\) +services 18\/18/m);
  expect((await docker(['port', 'mail-lab-03-dadali', '25'])).trim()).toBe('127.0.0.1:20325');
  const nets = await docker(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', 'mail-lab-01_backbone', 'mail-lab-02_backbone', 'mail-lab-03_backbone']);
  expect(nets.trim().split('\n')).toEqual(['172.29.101.0/24', '172.29.102.0/24', '172.29.103.0/24']);
  // Each lab has its own CA and token.
  const tokens = await Promise.all([1, 2, 3].map((n) => labOf(n).token()));
  expect(new Set(tokens).size).toBe(3);
}, 120_000);

test('a break in lab 2 queues mail there while labs 1 and 3 deliver; heal + flush delivers it', async () => {
  expect((await cli(['break', 'garudayaksa.com', 'dadali.com', '--lab', '2'])).out).toContain('BROKEN');
  const subject = (n: number) => `Kelas ${n} ${Date.now()}`;
  const s = [1, 2, 3].map(subject);
  const ids = await Promise.all([1, 2, 3].map((n, i) => submit('mbrain@garudayaksa.com', 'jpri@dadali.com', s[i], 'Halo.\n', deriveLab(base, n).domains[0].ports.submission)));
  await eventually('delivered in labs 1 and 3', async () => (await delivered(1, s[0])) && (await delivered(3, s[2])), 60_000);
  const q2 = await eventually('queued in lab 2', async () => (await labOf(2).mail('garudayaksa.com').call(MAIL_API.queue)).find((e) => e.id === ids[1] && e.attempts >= 1), 60_000);
  expect(q2.lastError).toMatch(/timed out|EPERM|not permitted/i);
  expect(await delivered(2, s[1])).toBe(false);
  expect((await cli(['class', 'status'])).out).toMatch(/^lab 02 \(Putu, Ayu\) +services 18\/18 +links BROKEN +queues 1\/0/m);
  expect((await cli(['heal', 'garudayaksa.com', 'dadali.com', '--lab', '2'])).out).toContain('`npx mail-lab flush garudayaksa.com --lab 2`');
  expect((await cli(['flush', 'garudayaksa.com', '--lab', '2'])).code).toBe(0);
  await eventually('delivered in lab 2 after heal', () => delivered(2, s[1]), 60_000);
}, 240_000);

test("the labs' networks cannot reach each other", async () => {
  const probe = (from: string, to: string) => docker(['exec', from, 'sh', '-c', `nc -z -w 3 ${to} 25 && echo reached || echo unreachable`]);
  expect(await probe('mail-lab-01-client', '172.29.101.20')).toBe('reached\n');
  expect(await probe('mail-lab-01-client', '172.29.102.20')).toBe('unreachable\n');
  expect(await probe('mail-lab-03-dadali', '172.29.101.10')).toBe('unreachable\n');
}, 60_000);

test('class run: the same scenario in every lab, a line per lab and a total', async () => {
  const r = await cli(['class', 'run', 'cross-domain-delivery', 'queue-retry'], 900_000);
  console.log(r.out);
  expect(r.out).toMatch(/^lab 01 \(Siti Nur'aini\) +scenarios: 2 passed, 0 failed/m);
  expect(r.out).toMatch(/^lab 02 \(Putu, Ayu\) +scenarios: 2 passed, 0 failed/m);
  expect(r.out).toMatch(/^lab 03 \(Budi Santoso\) +scenarios: 2 passed, 0 failed/m);
  expect(r.out).toMatch(/^class run: 3 of 3 labs passed cross-domain-delivery, queue-retry/m);
  expect(r.code).toBe(0);
}, 900_000);

test('class cards: a card per student with its lab, ports, passwords and its own CA', async () => {
  const out = join(dir, 'cards');
  const r = await cli(['class', 'cards', '--out', out, '--host', '192.168.1.10']);
  expect(r.out).toMatch(/^3 card\(s\) in /m);
  const md = readFileSync(join(out, 'cards.md'), 'utf8');
  expect(md).toContain("## Lab 01 — Siti Nur'aini");
  expect(md).toContain('| SMTP (telnet, 25) | 10325 | 20325 |');
  expect(md).toContain('| jpri@dadali.com (Joko Priyono) | rahasia123 |');
  const fingerprints = [...md.matchAll(/ca-lab-0\d\.crt` \(SHA-256 ([0-9A-F:]+)\)/g)].map((m) => m[1]);
  expect(fingerprints).toHaveLength(3);
  expect(new Set(fingerprints).size).toBe(3);
  expect(readFileSync(join(out, 'ca-lab-02.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
}, 120_000);

test('bad input: --lab out of range, a port taken by something else (named), nothing of that lab started', async () => {
  expect(await cli(['status', '--lab', '91'])).toMatchObject({ code: 2, out: expect.stringContaining('--lab must be a lab number from 0 to 90 (got 91)') });
  expect(await cli(['up', '--lab', 'x'])).toMatchObject({ code: 2, out: expect.stringContaining('--lab must be a lab number from 0 to 90 (got "x")') });
  // Lab 4's garudayaksa SMTP port held by a process of ours.
  const { createServer } = await import('node:net');
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(10425, '127.0.0.1', () => r()));
  try {
    const r = await cli(['up', '--lab', '4', '--no-build']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/nothing of lab 4 was started: port 10425 \(lab 4, garudayaksa\.com smtp\) is taken by node \(PID \d+\)/);
    expect((await docker(['ps', '-a', '--filter', 'label=com.docker.compose.project=mail-lab-04', '--format', '{{.Names}}'])).trim()).toBe('');
  } finally {
    holder.close();
  }
}, 120_000);
