/**
 * `npx mail-lab check <account> --lang id`: the evidence and the missing
 * lines in Indonesian, not only the frame around them. The built CLI, a real
 * process, against a lab running in this test process (its ports in a
 * lab.yaml of its own): a student types an SMTP session by hand on port 25
 * (done), tries to relay through port 25 without logging in (refused: the
 * task is partly), asks the lab DNS with dig (mx-lookup), and the check says
 * so in Indonesian with no English word of its own left in those lines (nor
 * in any of the 19 tasks' lines); in English the same lines as always; the
 * JSON carries both (evidence / missing in English, evidenceId / missingId
 * in Indonesian).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskResult } from '../../../services/core/src/check/tasks';
import { eventually, startTestLab, type TestLab } from '../helpers/test-lab';
import { labYamlOf, runCli, type Run } from './harness';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let lab: TestLab;
let dir: string;
let labFile: string;


/** The built CLI against this lab (harness.ts). */
const mailLab = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCli(lab, labFile, args, env);

const labYaml = () => labYamlOf(lab);

/** A conversation on port 25 of `domain`, typed line by line with `pause` before each line; each reply's first line. */
async function typed(domain: string, lines: string[], pause: number): Promise<string[]> {
  const s = new Socket();
  let buffer = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => (buffer += d));
  await new Promise<void>((resolve, reject) => s.once('error', reject).connect(lab.config.domains.find((d) => d.name === domain)!.ports.smtp, '127.0.0.1', resolve));
  const next = async () => {
    await eventually('a reply', () => /(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(buffer), 5000);
    const first = buffer.split('\r\n')[0];
    buffer = '';
    return first;
  };
  const replies = [await next()];
  for (const line of lines) {
    await sleep(pause);
    s.write(line + '\r\n');
    replies.push(await next());
  }
  s.destroy();
  return replies;
}

/**
 * English words of the check's own sentences that must not be left in an Indonesian evidence or
 * missing line (lower case: the protocol's words, HELO, RCPT TO, QUIT, stay as they are).
 */
const ENGLISH = /\b(at|on|from|to|by|of|the|and|or|with|without|after|before|while|still|also|typed|sent|delivered|deferred|returned|refused|accepted|allowed|logged|queued|queue|message|messages|session|sessions|pauses?|between|commands|closest|mailbox|question|reading|asked|same|second|first|missing)\b/;
/** What the servers said, quoted in a line (`554 5.7.1 …: Relay access denied`), and quoted subjects: not the check's words. */
const withoutServerWords = (line: string) =>
  line
    .replace(/\b[245]\d\d [245]\.\d+\.\d+ [^()]*(\([^()]*\))?/g, '')
    .replace(/\(250 … queued as\)/g, '')
    .replace(/"[^"]*"/g, '');

beforeAll(async () => {
  if (!existsSync(join(__dirname, '../../../dist/scripts/commands/check.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
  lab = await startTestLab();
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-check-id-'));
  labFile = join(dir, 'lab.yaml');
  writeFileSync(labFile, labYaml());
}, 30_000);
afterAll(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('check <account> --lang id: Indonesian evidence and missing lines; English unchanged; JSON with both', async () => {
  const tasks = ['--task', 'smtp-by-hand,open-relay-refused,simplest-mail-server'];
  // Nothing done yet: what is missing, in Indonesian (the tasks in the order asked).
  const before = await mailLab(['check', 'siswa1', ...tasks, '--lang', 'id']);
  expect(before.status).toBe(0);
  expect(before.stdout.split('\n')).toEqual([
    'siswa1 di lab 0: 0 dari 3 tugas selesai, 0 sebagian',
    '  smtp-by-hand: belum',
    '    kurang: sesi SMTP di port 25 yang diketik sendiri (telnet localhost 20025): HELO, MAIL FROM, RCPT TO, DATA, isi surat, baris yang hanya berisi "."',
    '  open-relay-refused: belum',
    '    kurang: relay yang ditolak di port 25: tanpa login, RCPT TO ke pengguna domain lain (554 5.7.1 Relay access denied)',
    '    kurang: relay yang sama diizinkan setelah login di port 587 (AUTH, lalu RCPT TO ke domain lain: 250)',
    '  simplest-mail-server: belum',
    '    kurang: dua surat yang diketik sendiri (telnet, port 25) ke satu kotak surat, membaca file-nya setelah setiap surat',
    '',
  ]);

  // siswa1 types a message to jpri by hand (a person's pace), then tries to relay to the other domain without logging in.
  const replies = await typed(
    'dadali.com',
    ['HELO pc-siswa', 'VRFY jpri', 'MAIL FROM:<siswa1@garudayaksa.com>', 'RCPT TO:<jpri@dadali.com>', 'DATA', 'From: siswa1@garudayaksa.com\r\nSubject: Makan siang\r\n\r\nPak Joko, bisakah kita makan siang?\r\n.', 'QUIT'],
    600,
  );
  const id = /queued as (\w+)/.exec(replies[6])![1];
  const relay = await typed('dadali.com', ['HELO pc-siswa', 'MAIL FROM:<siswa1@garudayaksa.com>', 'RCPT TO:<mbrain@garudayaksa.com>', 'QUIT'], 0);
  expect(relay[3]).toMatch(/^554 5\.7\.1 /);
  await eventually('delivered', async () => (await mailLab(['check', 'siswa1', '--task', 'simplest-mail-server'])).stdout.includes('appended'));

  const r = await mailLab(['check', 'siswa1', ...tasks, '--lang', 'id']);
  expect(r.status).toBe(0);
  const lines = r.stdout.trimEnd().split('\n');
  const t = '\\d\\d:\\d\\d:\\d\\d';
  expect(lines[0]).toBe('siswa1 di lab 0: 1 dari 3 tugas selesai, 2 sebagian');
  expect(lines.slice(1)).toEqual([
    expect.stringMatching(
      new RegExp(
        `^ {2}smtp-by-hand: selesai — HELO pc-siswa, MAIL FROM:<siswa1@garudayaksa\\.com>, RCPT TO:<jpri@dadali\\.com>, DATA diketik pukul ${t} di dadali\\.com port 25 dari 127\\.0\\.0\\.1; masuk antrian sebagai ${id} \\(diketik: jeda sekitar 0,\\d\\d detik antar-perintah\\)$`,
      ),
    ),
    '    juga diketik: VRFY jpri',
    expect.stringMatching(new RegExp(`^ {2}open-relay-refused: sebagian — port 25 dadali\\.com menolak RCPT TO:<mbrain@garudayaksa\\.com> pukul ${t}: 554 5\\.7\\.1 .*Relay access denied.* \\(dari 127\\.0\\.0\\.1, MAIL FROM:<siswa1@garudayaksa\\.com>\\)$`)),
    '    kurang: relay yang sama diizinkan setelah login di port 587 (AUTH, lalu RCPT TO ke domain lain: 250)',
    expect.stringMatching(new RegExp(`^ {2}simplest-mail-server: sebagian — 1 surat diketik sendiri ke jpri@dadali\\.com: ${t} \\(${id}, "Makan siang"\\), ditambahkan ke file kotak suratnya$`)),
    '    kurang: surat kedua ke kotak surat yang sama, untuk melihatnya ditambahkan di bawah surat pertama',
  ]);
  for (const l of lines.slice(1)) expect(withoutServerWords(l.replace(/^ +[a-z0-9-]+: (selesai|sebagian|belum) — /, ''))).not.toMatch(ENGLISH);

  // MAIL_LAB_LANG=id: the same lines.
  const env = await mailLab(['check', 'siswa1', ...tasks], { MAIL_LAB_LANG: 'id' });
  expect(env.stdout.replace(/\d\d:\d\d:\d\d|0,\d\d/g, '#')).toBe(r.stdout.replace(/\d\d:\d\d:\d\d|0,\d\d/g, '#'));

  // English as always.
  const en = (await mailLab(['check', 'siswa1', ...tasks])).stdout.trimEnd().split('\n');
  expect(en[0]).toBe('siswa1 in lab 0: 1 of 3 tasks done, 2 partly');
  expect(en).toContainEqual(
    expect.stringMatching(
      new RegExp(`^ {2}smtp-by-hand: done — HELO pc-siswa, MAIL FROM:<siswa1@garudayaksa\\.com>, RCPT TO:<jpri@dadali\\.com>, DATA typed at ${t} on dadali\\.com port 25 from 127\\.0\\.0\\.1; queued as ${id} \\(typed: pauses of about 0\\.\\d\\d s between commands\\)$`),
    ),
  );
  expect(en).toContain('    also typed: VRFY jpri');
  expect(en).toContain('    missing: the same relay allowed after logging in on port 587 (AUTH, then RCPT TO the other domain: 250)');

  // JSON: the English fields as they were, the Indonesian alongside, line for line.
  const json = JSON.parse((await mailLab(['check', 'siswa1', '--json', ...tasks, '--lang', 'id'])).stdout) as { tasks: TaskResult[] }[];
  const relayTask = json[0].tasks.find((x) => x.task === 'open-relay-refused')!;
  expect(relayTask.evidence[0]).toMatch(/^port 25 of dadali\.com refused RCPT TO:<mbrain@garudayaksa\.com> at /);
  expect(relayTask.evidenceId![0]).toMatch(/^port 25 dadali\.com menolak RCPT TO:<mbrain@garudayaksa\.com> pukul /);
  expect(relayTask.missing).toEqual(['the same relay allowed after logging in on port 587 (AUTH, then RCPT TO the other domain: 250)']);
  expect(relayTask.missingId).toEqual(['relay yang sama diizinkan setelah login di port 587 (AUTH, lalu RCPT TO ke domain lain: 250)']);
});

test('every task of the check in Indonesian: no English sentence of the check left in the evidence or missing lines', async () => {
  // mx-lookup by dig from the same address (siswa1's alone in this lab): its evidence too.
  const dig = (type: string, name: string) =>
    new Promise<string>((resolve) =>
      execFile('dig', ['@127.0.0.1', '-p', String(lab.config.dns.hostPort), '+short', '+time=2', '+tries=1', type, name], { encoding: 'utf8', timeout: 20_000 }, (_e, stdout) => resolve(stdout.trim())),
    );
  expect(await dig('MX', 'dadali.com')).toBe('10 mail.dadali.com.');
  expect(await dig('A', 'mail.dadali.com')).toBe('127.0.0.1');
  await dig('A', 'tidakada.dadali.com');
  const r = await mailLab(['check', 'siswa1', '--lang', 'id']);
  expect(r.status).toBe(0);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^siswa1 di lab 0: 2 dari 19 tugas selesai, \d+ sebagian$/);
  const t = '\\d\\d:\\d\\d:\\d\\d';
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ {2}mx-lookup: selesai — MX dadali\\.com pukul ${t} dari 127\\.0\\.0\\.1 \\(udp\\): 10 mail\\.dadali\\.com$`)));
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ {4}A mail\\.dadali\\.com pukul ${t} dari 127\\.0\\.0\\.1 \\(udp\\): 127\\.0\\.0\\.1$`)));
  expect(lines).toContain('    juga ditanyakan: A tidakada.dadali.com (NXDOMAIN)');
  expect(lines.filter((l) => l.startsWith('    kurang: ')).length).toBeGreaterThan(17);
  for (const l of lines.slice(1)) expect(withoutServerWords(l.replace(/^ +[a-z0-9-]+: (selesai|sebagian|belum)( — )?/, '').replace(/^ +kurang: /, ''))).not.toMatch(ENGLISH);
});
