/**
 * A class sharing one lab (issue 11): generated student accounts
 * (`students:` in the lab definition, siswa01 …), each with its own
 * password made by the server at its first start, only the hash kept in
 * the domain's data; the passwords handed out once for the cards, renewed
 * on request (the old ones stop working), kept across a restart. Checked
 * with real clients (Python's poplib and imaplib, nodemailer's SMTP AUTH).
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { parseLabConfig } from '../../../services/core/src/config';
import { startTestLab, type TestLab } from '../helpers/test-lab';

const run = promisify(execFile);
let lab: TestLab;
let handedOut: string[] = [];

beforeAll(async () => {
  lab = await startTestLab({ edit: (t) => t.replace(/    # students: \{ prefix: siswa, count: 30 \}\n/, '    students: { prefix: siswa, count: 3 }\n') });
});
afterAll(() => lab.close());

const g = () => lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;
const pop3Login = (user: string, password: string) =>
  run('python3', ['-c', 'import poplib,sys\np=poplib.POP3("127.0.0.1",int(sys.argv[1]),timeout=10)\np.user(sys.argv[2]);print(p.pass_(sys.argv[3]).decode());p.quit()', String(g().ports.pop3), user, password]).then(
    (r) => r.stdout.trim(),
    (e: { stderr: string }) => e.stderr.trim().split('\n').pop()!,
  );

test('siswa01 … siswa03 exist with passwords handed out once; the data keeps only hashes, mode 0600', async () => {
  const c = lab.target().mail('garudayaksa.com');
  const first = await c.call(MAIL_API.studentPasswords, { renew: false });
  expect(first.accounts.map((a) => [a.address, a.name])).toEqual([
    ['siswa01@garudayaksa.com', 'Siswa 1'],
    ['siswa02@garudayaksa.com', 'Siswa 2'],
    ['siswa03@garudayaksa.com', 'Siswa 3'],
  ]);
  const passwords = first.accounts.map((a) => a.password!);
  handedOut = passwords;
  expect(passwords.every((p) => /^[a-hj-km-np-z2-9]{10}$/.test(p))).toBe(true);
  expect(new Set(passwords).size).toBe(3);
  expect(await pop3Login('siswa02', passwords[1])).toMatch(/^\+OK/);
  expect(await pop3Login('siswa02', passwords[0])).toMatch(/-ERR/);
  // The second time: nothing in the clear any more.
  expect((await c.call(MAIL_API.studentPasswords, { renew: false })).accounts.map((a) => a.password)).toEqual([null, null, null]);
  const file = join(lab.dataDir, 'garudayaksa.com', 'students.json');
  expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
  const text = readFileSync(file, 'utf8');
  for (const p of passwords) expect(text).not.toContain(p);
  // Mail to a generated account is delivered like to any other.
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: g().ports.submission, secure: false, ignoreTLS: true, auth: { user: 'siswa01@garudayaksa.com', pass: passwords[0] } });
  await t.sendMail({ from: 'siswa01@garudayaksa.com', to: 'siswa03@garudayaksa.com', subject: 'Halo teman', text: 'x\n' });
  t.close();
}, 60_000);

test('new passwords on request: the old ones stop working at once; a restart keeps the new ones', async () => {
  const c = lab.target().mail('garudayaksa.com');
  const renewed = (await c.call(MAIL_API.studentPasswords, { renew: true })).accounts.map((a) => a.password!);
  expect(renewed.every((p) => p.length === 10)).toBe(true);
  expect(await pop3Login('siswa03', renewed[2])).toMatch(/^\+OK/);
  expect(await pop3Login('siswa03', handedOut[2])).toMatch(/-ERR/);
  await lab.stopDomain('garudayaksa.com');
  await lab.startDomain('garudayaksa.com');
  expect(await pop3Login('siswa03', renewed[2])).toMatch(/^\+OK/);
  const imap = await run('python3', ['-c', 'import imaplib,sys\nm=imaplib.IMAP4("127.0.0.1",int(sys.argv[1]))\nprint(m.login(sys.argv[2],sys.argv[3])[0]);m.select();print(m.search(None,"SUBJECT",chr(34)+"Halo teman"+chr(34))[1][0].decode())', String(g().ports.imap), 'siswa03', renewed[2]]);
  expect(imap.stdout.trim().split('\n')).toEqual(['OK', '1']);
}, 60_000);

test('a generated account that clashes with a listed one is refused with its place', async () => {
  const text = readFileSync(join(__dirname, '../../../lab-scenarios/lab.yaml'), 'utf8').replace('    # students: { prefix: siswa, count: 30 }\n', '    students: { prefix: siswa, count: 3 }\n').replace('{ user: siswa5,', '{ user: siswa03,');
  expect(() => parseLabConfig(text, 'lab.yaml')).toThrow(/lab\.yaml:\d+:\d+: error: domains\[0\]\.students: the generated account siswa03@garudayaksa\.com is also in accounts/);
});
