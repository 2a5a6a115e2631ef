/**
 * IMAP subscriptions in the mailbox store (store/subscriptions.ts): the
 * defaults, SUBSCRIBE / UNSUBSCRIBE kept across a restart, and the file
 * written as a state file: mode 0600 whatever the umask, replaced whole
 * (no temp file left behind).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMailStore } from '../../../services/mail-domain/src/store/mbox-store';
import { STATE_MODE } from '../../../services/mail-domain/src/store/paths';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-subs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function open() {
  const s = createMailStore({ dataDir: dir, users: ['jpri'] });
  await s.init();
  return s;
}

test('a new account is subscribed to INBOX and the special-use folders', async () => {
  const s = await open();
  expect(await s.subscriptions('jpri')).toEqual(['INBOX', 'Sent', 'Drafts', 'Trash']);
  await expect(s.subscriptions('nobody')).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
});

test('SUBSCRIBE and UNSUBSCRIBE are kept (sorted) across a restart, in a 0600 file replaced whole', async () => {
  const old = process.umask(0o000);
  try {
    const s = await open();
    await s.setSubscribed('jpri', 'Arsip', true);
    await s.setSubscribed('jpri', 'Drafts', false);
    await s.setSubscribed('jpri', 'inbox', true);
  } finally {
    process.umask(old);
  }
  const file = join(dir, 'state', 'jpri', 'subscriptions.json');
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(['Arsip', 'INBOX', 'Sent', 'Trash']);
  expect(statSync(file).mode & 0o777).toBe(STATE_MODE);
  expect(readdirSync(join(dir, 'state', 'jpri')).filter((f) => f.includes('.tmp'))).toEqual([]);
  expect(await (await open()).subscriptions('jpri')).toEqual(['Arsip', 'INBOX', 'Sent', 'Trash']);
});
