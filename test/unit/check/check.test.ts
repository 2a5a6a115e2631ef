/**
 * `npx mail-lab check` on a real no-Docker lab: students do the worksheets'
 * tasks with real clients (a raw socket typed at a person's pace, swaks,
 * Python's poplib and imaplib, dig), then the check reads the servers' own
 * records and says done / partly / not yet with the evidence. Also: the
 * self-check's own sessions are not counted, a student who did nothing
 * gets "not yet" everywhere, and the CLI (a real process) refuses bad
 * input with exit 2, naming what exists.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatherActivity } from '../../../services/core/src/check/gather';
import { buildRecords } from '../../../services/core/src/check/records';
import { checkStudents } from '../../../services/core/src/check/evaluate';
import { accountStudent, type Student } from '../../../services/core/src/check/student';
import { TASKS, type TaskResult } from '../../../services/core/src/check/tasks';
import { runScenarios } from '../../../scripts/scenario/runner';
import { eventually, LAB_YAML, startTestLab, type TestLab } from '../helpers/test-lab';
import { inbox, submit, withSubject } from '../faults/helpers';

jest.setTimeout(60_000);
const cli = join(__dirname, '../../../bin/mail-lab.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A person's pause between two commands (the check's threshold is 0.5 s). */
const PAUSE = 600;

let lab: TestLab;
let dir: string;
let labFile: string;

const port = (domain: string, kind: 'smtp' | 'submission' | 'pop3' | 'imap') => lab.config.domains.find((d) => d.name === domain)!.ports[kind];

/** Every task of `student` (the whole lab when omitted), as the check sees the records now. */
async function check(student?: Student): Promise<Record<string, TaskResult>> {
  const t = lab.target();
  const records = buildRecords(await gatherActivity({ lab: 0, config: lab.config, mail: (d) => t.mail(d), dns: () => t.dns() }));
  const [report] = checkStudents(records, [student ?? { kind: 'lab', lab: 0, label: 'lab 0' }]);
  return Object.fromEntries(report.results.map((r) => [r.task, r]));
}
const account = (a: string) => accountStudent(lab.config, 0, a);

/** A conversation typed line by line on a raw socket, waiting `pause` before each line; returns each reply's first line. */
async function typed(portNumber: number, lines: string[], end: RegExp, pause = PAUSE): Promise<string[]> {
  const s = new Socket();
  let buffer = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => (buffer += d));
  await new Promise<void>((resolve, reject) => s.once('error', reject).connect(portNumber, '127.0.0.1', resolve));
  const next = async (multi: boolean) => {
    await eventually('a reply', () => (multi ? /\r\n\.\r\n/.test(buffer) || /^-ERR/.test(buffer) : end.test(buffer)), 5000);
    const first = buffer.split('\r\n')[0];
    buffer = '';
    return first;
  };
  const replies = [await next(false)];
  for (const line of lines) {
    await sleep(pause);
    s.write(line + '\r\n');
    replies.push(await next(/^(LIST|RETR|TOP)\b/i.test(line) && !/^LIST \d/i.test(line)));
  }
  s.destroy();
  return replies;
}

/** A real program, run without blocking this process (the servers it talks to run here). */
function run(file: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function python(script: string): Promise<string> {
  const r = await run('python3', ['-c', script]);
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout;
}

/** The built CLI, a real process, against this lab (its ports in a lab.yaml of its own). */
function mailLab(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MAIL_LAB_CONFIG: labFile, MAIL_LAB_ADMIN_TOKEN: lab.adminToken, MAIL_LAB_LAB: '' } }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function labYaml(): string {
  let text = readFileSync(LAB_YAML, 'utf8');
  for (const d of lab.config.domains) {
    const ports = Object.entries(d.ports).map(([k, v]) => `${k}: ${v}`).join(', ');
    text = text.replace(new RegExp(`(- name: ${d.name.replace('.', '\\.')}\\n(?:.*\\n)*?    ports: )\\{[^}]*\\}`), `$1{ ${ports} }`);
  }
  return text.replace(/^( {2}hostPort: )\d+/m, `$1${lab.config.dns.hostPort}`).replace(/^( {2}adminPort: )\d+/m, `$1${lab.config.dns.adminPort}`);
}

beforeAll(async () => {
  if (!existsSync(join(__dirname, '../../../dist/scripts/commands/check.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
  lab = await startTestLab();
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-check-'));
  labFile = join(dir, 'lab.yaml');
  writeFileSync(labFile, labYaml());
}, 30_000);
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('mx-lookup: dig asks the lab DNS for MX and A; the check shows both answers', async () => {
  const dig = async (type: string, name: string) => (await run('dig', ['@127.0.0.1', '-p', String(lab.config.dns.hostPort), '+short', '+time=2', '+tries=1', type, name])).stdout.trim();
  expect(await check()).toMatchObject({ 'mx-lookup': { state: 'not-yet' } });
  expect(await dig('MX', 'dadali.com')).toBe('10 mail.dadali.com.');
  let r = (await check())['mx-lookup'];
  expect(r.state).toBe('partly');
  expect(r.missing).toEqual([expect.stringMatching(/^an A question about its mail host/)]);
  expect(await dig('A', 'mail.dadali.com')).toBe('127.0.0.1');
  await dig('A', 'tidakada.dadali.com');
  r = (await check())['mx-lookup'];
  expect(r.state).toBe('done');
  expect(r.evidence[0]).toMatch(/^MX dadali\.com at \d\d:\d\d:\d\d from 127\.0\.0\.1 \(udp\): 10 mail\.dadali\.com$/);
  expect(r.evidence[1]).toMatch(/^A mail\.dadali\.com at \d\d:\d\d:\d\d from 127\.0\.0\.1 \(udp\): 127\.0\.0\.1$/);
  expect(r.evidence[2]).toBe('also asked: A tidakada.dadali.com (NXDOMAIN)');
});

test('smtp-by-hand: a session typed at a person’s pace is done, with the commands, the time and the queue id', async () => {
  const replies = await typed(
    port('dadali.com', 'smtp'),
    ['HELO pc-siswa', 'VRFY jpri', 'MAIL FROM:<siswa1@garudayaksa.com>', 'RCPT TO:<jpri@dadali.com>', 'DATA', 'From: siswa1@garudayaksa.com\r\nSubject: Makan siang\r\n\r\nPak Joko, bisakah kita makan siang?\r\n.', 'QUIT'],
    /\d{3} [^\r\n]*\r\n$/,
  );
  expect(replies[6]).toMatch(/^250 2\.6\.0 Ok: queued as \w+$/);
  const id = /queued as (\w+)/.exec(replies[6])![1];
  await eventually('delivered', async () => withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Makan siang').length === 1);
  for (const r of [(await check())['smtp-by-hand'], (await check(account('siswa1')))['smtp-by-hand']]) {
    expect(r.state).toBe('done');
    expect(r.evidence[0]).toMatch(
      new RegExp(`^HELO pc-siswa, MAIL FROM:<siswa1@garudayaksa\\.com>, RCPT TO:<jpri@dadali\\.com>, DATA typed at \\d\\d:\\d\\d:\\d\\d on dadali\\.com port 25 from 127\\.0\\.0\\.1; queued as ${id} \\(typed: pauses of about 0\\.\\d\\d s between commands\\)$`),
    );
    expect(r.evidence[1]).toBe('also typed: VRFY jpri');
  }
  // One typed message in jpri's mailbox: the simplest mail server needs a second one.
  const simplest = (await check())['simplest-mail-server'];
  expect(simplest.state).toBe('partly');
  expect(simplest.evidence[0]).toMatch(new RegExp(`^1 message typed by hand to jpri@dadali\\.com: \\d\\d:\\d\\d:\\d\\d \\(${id}, "Makan siang"\\)`));
});

test('the same session sent by a program (swaks) is only partly: the check says it was not typed', async () => {
  const r = await run('swaks', ['--server', `127.0.0.1:${port('dadali.com', 'smtp')}`, '--from', 'siswa2@garudayaksa.com', '--to', 'jpri@dadali.com', '--header', 'Subject: Dari program']);
  expect(r.stdout).toMatch(/queued as/);
  await eventually('delivered', async () => withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Dari program').length === 1);
  const res = (await check(account('siswa2')))['smtp-by-hand'];
  expect(res.state).toBe('partly');
  expect(res.evidence[0]).toMatch(/^closest: EHLO \S+, MAIL FROM:<siswa2@garudayaksa\.com>, RCPT TO:<jpri@dadali\.com>, DATA, <\d+ bytes of DATA>, QUIT at \d\d:\d\d:\d\d on dadali\.com port 25 from 127\.0\.0\.1$/);
  expect(res.missing).toEqual([expect.stringMatching(/^typing it by hand: that session was sent by a program \(pauses of 0\.\d\d s between commands\); type it in telnet or nc -C$/)]);
  // siswa1's typed session is not siswa2's: both came from 127.0.0.1, which is nobody's alone.
  expect((await check(account('siswa2')))['simplest-mail-server'].state).toBe('partly');
});

test('pop3-by-hand: USER, PASS (a wrong one first), STAT, LIST, RETR, DELE, RSET, QUIT typed; no password in the records', async () => {
  await submit(lab, 'mbrain@garudayaksa.com', ['siswa3@garudayaksa.com'], 'Jadwal ujian');
  await eventually('delivered', async () => withSubject(await inbox(lab, 'garudayaksa.com', 'siswa3'), 'Jadwal ujian').length === 1);
  const replies = await typed(port('garudayaksa.com', 'pop3'), ['USER siswa3', 'PASS salah', 'USER siswa3', 'PASS rahasia123', 'STAT', 'LIST', 'RETR 1', 'DELE 1', 'RSET', 'QUIT'], /\r\n$/);
  expect(replies[2]).toMatch(/^-ERR \[AUTH\]/);
  expect(replies[10]).toMatch(/signing off \(0 messages deleted, 1 left\)$/);
  const r = (await check(account('siswa3@garudayaksa.com')))['pop3-by-hand'];
  expect(r.state).toBe('done');
  expect(r.evidence).toEqual([
    expect.stringMatching(/^USER siswa3, PASS \*\*\*\*, USER siswa3, PASS \*\*\*\*, STAT, LIST, RETR 1, DELE 1, RSET, QUIT at \d\d:\d\d:\d\d on garudayaksa\.com port 110 from 127\.0\.0\.1 \(typed: pauses of about 0\.\d\d s between commands; a wrong password first\)$/),
    expect.stringMatching(/^QUIT: \+OK mail\.garudayaksa\.com POP3 server signing off \(0 messages deleted, 1 left\)$/),
  ]);
  // Nothing deleted at QUIT: the download task is not done by this session.
  expect((await check(account('siswa3@garudayaksa.com')))['pop3-download'].state).toBe('partly');
  const journal = readFileSync(join(lab.dataDir, 'garudayaksa.com', 'trace.jsonl'), 'utf8');
  expect(journal).toContain('"PASS ****"');
  expect(journal).not.toMatch(/rahasia123|salah/);
});

test('pop3-download with Python’s poplib: RETR, DELE, QUIT deleted a message; by a program, so not by hand', async () => {
  for (const s of ['Tugas satu', 'Tugas dua']) await submit(lab, 'jpri@dadali.com', ['siswa2@dadali.com'], s);
  await eventually('delivered', async () => (await inbox(lab, 'dadali.com', 'siswa2')).length === 2);
  await python(`import poplib
p = poplib.POP3('127.0.0.1', ${port('dadali.com', 'pop3')}, timeout=10)
p.user('siswa2'); p.pass_('rahasia123'); p.stat(); p.list(); p.retr(1); p.retr(2); p.dele(1); p.quit()`);
  const r = await check(account('siswa2@dadali.com'));
  expect(r['pop3-download'].state).toBe('done');
  expect(r['pop3-download'].evidence).toEqual([
    expect.stringMatching(/^siswa2@dadali\.com over POP3 at \d\d:\d\d:\d\d on dadali\.com port 110 from 127\.0\.0\.1: 2 RETRs, 1 DELE$/),
    'QUIT: +OK mail.dadali.com POP3 server signing off (1 message deleted, 1 left) (the mailbox file shrank)',
  ]);
  expect(r['pop3-by-hand'].state).toBe('partly');
  expect(r['pop3-by-hand'].missing).toEqual([expect.stringMatching(/^typing it by hand: that session was sent by a program/)]);
});

test('imap-folders-search with Python’s imaplib: SEARCH, CREATE, MOVE, then a second session sees the folder and deletes with STORE \\Deleted and EXPUNGE', async () => {
  for (const s of ['Rapat guru', 'Tugas jaringan']) await submit(lab, 'mbrain@garudayaksa.com', ['siswa4@garudayaksa.com'], s);
  await eventually('delivered', async () => (await inbox(lab, 'garudayaksa.com', 'siswa4')).length === 2);
  const imap = `import imaplib
i = imaplib.IMAP4('127.0.0.1', ${port('garudayaksa.com', 'imap')})
i.login('siswa4', 'rahasia123')`;
  await python(`${imap}
i.select('INBOX'); i.search(None, 'SUBJECT', '"rapat"'); i.create('Sekolah'); i._simple_command('MOVE', '2', 'Sekolah'); i.logout()`);
  let r = (await check(account('siswa4')))['imap-folders-search'];
  expect(r.state).toBe('partly');
  expect(r.missing).toEqual([
    'a message marked deleted (STORE … +FLAGS (\\Deleted))',
    'EXPUNGE, which removes the marked message from the server',
    'a second session ("the phone") after the CREATE that sees the folder (LIST, EXAMINE)',
  ]);
  await python(`${imap}
i.list(); i.select('Sekolah', readonly=True); i.fetch('1', '(BODY[TEXT])'); i.logout()`);
  r = (await check(account('siswa4')))['imap-folders-search'];
  expect(r.state).toBe('partly');
  expect(r.missing).toEqual(['a message marked deleted (STORE … +FLAGS (\\Deleted))', 'EXPUNGE, which removes the marked message from the server']);
  // Deleting on the server: mark, then EXPUNGE (the folder file loses the message).
  await python(`${imap}
i.select('Sekolah'); i.store('1', '+FLAGS', '(\\\\Deleted)'); i.expunge(); i.logout()`);
  r = (await check(account('siswa4')))['imap-folders-search'];
  expect(r.state).toBe('done');
  expect(r.evidence[0]).toMatch(/^siswa4@garudayaksa\.com over IMAP: \S+ SEARCH SUBJECT "rapat" at \d\d:\d\d:\d\d, \S+ CREATE Sekolah at \d\d:\d\d:\d\d, \S+ MOVE 2 Sekolah at \d\d:\d\d:\d\d, \S+ STORE 1 \+FLAGS \(\\Deleted\) at \d\d:\d\d:\d\d and \S+ EXPUNGE at \d\d:\d\d:\d\d$/);
  expect(r.evidence[1]).toMatch(/^a second session at \d\d:\d\d:\d\d saw the folders: \S+ LIST "" \*, \S+ EXAMINE Sekolah, \S+ FETCH 1 \(BODY\[TEXT\]\)$/);
});

test('queue-retry and returned-mail from the queue’s records: deferred on a cut link, then delivered; another one returned', async () => {
  await lab.cut('garudayaksa.com', 'dadali.com');
  const id = await submit(lab, 'siswa5@garudayaksa.com', ['siswa5@dadali.com'], 'Antrian');
  const q = lab.domains['garudayaksa.com'].queue;
  await eventually('deferred', () => q.list().find((e) => e.id === id && e.attempts >= 1));
  let r = await check(account('siswa5@garudayaksa.com'));
  expect(r['queue-retry'].state).toBe('partly');
  expect(r['queue-retry'].missing).toEqual(['its delivery once the link is back (heal, then wait for the retry or flush)']);
  const back = await submit(lab, 'siswa5@garudayaksa.com', ['jpri@dadali.com'], 'Kembali');
  await eventually('deferred', () => q.list().find((e) => e.id === back && e.attempts >= 1));
  await q.expire(back);
  await lab.restore('garudayaksa.com', 'dadali.com');
  q.flush();
  await eventually('delivered after heal', async () => withSubject(await inbox(lab, 'dadali.com', 'siswa5'), 'Antrian').length === 1);
  r = await check(account('siswa5@garudayaksa.com'));
  expect(r['queue-retry'].state).toBe('done');
  expect(r['queue-retry'].evidence[0]).toMatch(new RegExp(`^siswa5@garudayaksa\\.com → siswa5@dadali\\.com sent at \\d\\d:\\d\\d:\\d\\d, deferred \\d+ times? \\(.*link broken.*\\), delivered at \\d\\d:\\d\\d:\\d\\d after \\d+ attempts \\(queue ${id}\\)$`));
  expect(r['returned-mail'].state).toBe('done');
  expect(r['returned-mail'].evidence[0]).toMatch(new RegExp(`^siswa5@garudayaksa\\.com → jpri@dadali\\.com waited in the queue from .*returned by the administrator \\(expire\\) at \\d\\d:\\d\\d:\\d\\d \\(queue ${back}\\)$`));
  expect(r['returned-mail'].evidence[1]).toMatch(/^the report "Undelivered Mail Returned to Sender" was put in siswa5@garudayaksa\.com's mailbox at/);
  // A delivery from garudayaksa.com to dadali.com, but none back yet.
  expect(r['cross-domain-delivery']).toMatchObject({ state: 'partly', missing: ["a message from dadali.com to garudayaksa.com, sent logged in on dadali.com's submission port (587), delivered"] });
});

test('a self-check’s own sessions and DNS questions are not counted; the check says it ran and passed', async () => {
  const before = (await check())['mx-lookup'];
  const lines: string[] = [];
  expect([await runScenarios(lab.target(), ['mx-lookup'], (l) => lines.push(l)), lines]).toEqual([true, expect.anything()]);
  const after = (await check())['mx-lookup'];
  expect(after.state).toBe(before.state);
  expect(after.evidence).toEqual(before.evidence);
  expect(after.selfChecks).toEqual([{ time: expect.any(String), passed: true }]);
});

test('a student who did nothing: not yet, for every task', async () => {
  const r = await check(account('postmaster@dadali.com'));
  expect(Object.values(r).map((x) => x.state)).toEqual(Array(TASKS.length).fill('not-yet'));
  expect(r['smtp-by-hand'].missing).toEqual([expect.stringMatching(/^an SMTP session on port 25 typed by hand/)]);
});

describe('the CLI', () => {
  test('check <account>: one line per task with its evidence; --json; --all with CSV and HTML', async () => {
    let r = await mailLab(['check', 'siswa1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^siswa1 in lab 0: \d+ of 19 tasks done, \d+ partly$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}smtp-by-hand: done — HELO pc-siswa, MAIL FROM:<siswa1@garudayaksa\.com>, RCPT TO:<jpri@dadali\.com>, DATA typed at /));
    expect(lines).toContainEqual('  early-talker: not yet');
    expect(lines).toContainEqual('    missing: a command sent before the greeting while the greet-delay fault is on (421 You talk too soon)');

    r = await mailLab(['check', 'siswa3@garudayaksa.com', '--json', '--task', 'pop3-by-hand,mx-lookup']);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout) as { student: string; addresses: string[]; tasks: TaskResult[] }[];
    expect(json[0]).toMatchObject({ student: 'siswa3@garudayaksa.com', addresses: ['siswa3@garudayaksa.com'] });
    expect(json[0].tasks.map((t) => [t.task, t.state])).toEqual([['pop3-by-hand', 'done'], ['mx-lookup', 'not-yet']]);

    const csv = join(dir, 'kelas.csv');
    const html = join(dir, 'kelas.html');
    r = await mailLab(['check', '--all', '--csv', csv, '--html', html]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lab 0: 7 student account\(s\) × 19 tasks/);
    expect(r.stdout).toMatch(/\nsiswa1 {2,}\S/);
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\r\n');
    expect(rows[0]).toBe('lab,student,simplest-mail-server,smtp-by-hand,cross-domain-delivery,mx-lookup,open-relay-refused,mail-loop,queue-retry,returned-mail,delay-warning,dns-outage,greylisting,early-talker,pop3-by-hand,pop3-download,imap-folders-search,pop3-vs-imap,mail-client-setup,attachments,change-the-lab,done,partly,note');
    expect(rows).toHaveLength(8);
    expect(rows).toContainEqual(expect.stringMatching(/^0,siswa1,partly,done,/));
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script|<link|src=/);
    expect(page).toContain('<td class="name">siswa1</td>');
    expect(page).toContain('MAIL FROM:&lt;siswa1@garudayaksa.com&gt;');
  });

  test('bad input exits 2 and names what exists', async () => {
    let r = await mailLab(['check', 'budi']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mail-lab: no account "budi" in lab 0: its accounts are mbrain, postmaster, siswa1, siswa2, siswa3, siswa4, siswa5, jpri \(in garudayaksa\.com and dadali\.com\)/);
    r = await mailLab(['check', '--task', 'smtp-by-foot']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mail-lab: unknown task "smtp-by-foot"; the tasks are the worksheets: simplest-mail-server, smtp-by-hand,/);
    r = await mailLab(['check', '--since', 'kemarin']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--since takes a duration back from now (3h, 90m), a time today (08:00) or a date (2026-11-26), not "kemarin"');
    r = await mailLab(['check', 'siswa1', '--all']);
    expect(r).toMatchObject({ status: 2, stderr: 'mail-lab: give an account or --all, not both\n' });
    // The shipped lab definition (fixed ports): lab 77 of this test's copy, whose ports are random
    // free ones, could pass 65535 (+ 7700) and be refused for that instead.
    r = await mailLab(['--config', LAB_YAML, '--lab', '77', 'check']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mail-lab: lab 77 does not answer, so there are no records to check \(cannot reach the admin API of /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
