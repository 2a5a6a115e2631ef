/** Real clients other than imapflow: Python's imaplib (a script) and curl's IMAP support. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NESTED } from './fixtures';
import { message, PASSWORD, startLab, type Lab } from './harness';

const run = promisify(execFile);
let lab: Lab;

beforeEach(async () => {
  lab = await startLab();
  await lab.store.append('mbrain', 'INBOX', NESTED);
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'Rapat', body: 'Rapat jam tiga\r\n' }));
});
afterEach(async () => lab.close());

test('Python imaplib: login, list, select, search, fetch, store, expunge, create/rename/delete', async () => {
  const script = join(__dirname, 'clients', 'imaplib_session.py');
  const { stdout } = await run('python3', [script, String(lab.port), 'mbrain', PASSWORD], { timeout: 20_000 }).catch((e: { stdout: string; stderr: string }) => {
    throw new Error(`imaplib script failed:\n${e.stdout}\n${e.stderr}`);
  });
  expect(stdout.trim().split('\n').filter((l) => !l.startsWith('ok '))).toEqual([]);
  expect(stdout).toContain('ok logout');
});

test('curl: list mailboxes, fetch ;UID=1, custom SEARCH ALL', async () => {
  const base = `imap://127.0.0.1:${lab.port}`;
  const curl = async (url: string, ...args: string[]) => (await run('curl', ['-sS', '--max-time', '10', '-u', `mbrain:${PASSWORD}`, ...args, url])).stdout;
  const list = await curl(`${base}/`);
  expect(list).toMatch(/\* LIST \(\\HasNoChildren\) "\/" "?INBOX"?/);
  expect(list).toMatch(/\\Trash\) "\/" "Trash"/);
  const fetched = await curl(`${base}/INBOX;UID=1`);
  expect(Buffer.from(fetched, 'utf8').equals(NESTED)).toBe(true);
  const search = await curl(`${base}/INBOX`, '-X', 'SEARCH ALL');
  expect(search).toMatch(/\* SEARCH 1 2/);
  const section = await curl(`${base}/INBOX;UID=2;SECTION=HEADER.FIELDS%20(SUBJECT)`);
  expect(section).toContain('Subject: Rapat');
});
