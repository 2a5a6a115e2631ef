/**
 * The POP3 server on a real socket against the real mbox store on a temp
 * directory, part 2: the maildrop lock ([IN-USE]), the login snapshot,
 * hang-ups, idle timeouts and server shutdown that commit nothing, the
 * growing delay after failed logins, APOP, and the wire transcript.
 */
import { readFileSync } from 'node:fs';
import type { AccountDirectory } from '../../../services/mail-domain/src/accounts';
import { eventually, makeAccounts, message, PASSWORD, startServer, tempStore, wire, type StartedServer, type TempStore } from './helpers';

let accounts: AccountDirectory;
let t: TempStore;
let srv: StartedServer;

beforeAll(async () => {
  accounts = await makeAccounts();
});
beforeEach(async () => {
  t = await tempStore();
  srv = await startServer(t.store, accounts);
});
afterEach(async () => {
  await srv.close();
  await t.cleanup();
});

const deliver = async (user: string, ...subjects: string[]) => {
  for (const s of subjects) await t.store.append(user, 'INBOX', message(s), { envelopeFrom: 'jpri@dadali.com' });
};

async function loggedIn(user = 'mbrain') {
  const c = await srv.connect();
  await c.line();
  expect(await c.login(user)).toMatch(/^\+OK /);
  return c;
}

describe('the maildrop lock and the session snapshot', () => {
  test('a second session gets [IN-USE]; it may log in once the first QUITs', async () => {
    await deliver('mbrain', 'satu');
    const a = await loggedIn();
    const b = await srv.connect();
    await b.line();
    expect(await b.login('mbrain')).toBe('-ERR [IN-USE] maildrop already locked');
    expect(await b.cmd('STAT')).toMatch(/^-ERR STAT is not allowed before login/);
    expect(await b.cmd('DELE 1')).toMatch(/^-ERR DELE is not allowed before login/);
    // Other users are not affected.
    const other = await srv.connect();
    await other.line();
    expect(await other.login('siswa2')).toMatch(/^\+OK/);
    expect(await a.cmd('QUIT')).toMatch(/^\+OK/);
    expect(await b.login('mbrain')).toMatch(/^\+OK mbrain's maildrop has 1 message /);
  });

  test('a dropped connection commits nothing and releases the lock', async () => {
    await deliver('mbrain', 'satu', 'dua');
    const before = readFileSync(t.store.mboxPath('mbrain', 'INBOX'));
    const a = await loggedIn();
    expect(await a.cmd('DELE 1')).toMatch(/^\+OK/);
    expect(await a.cmd('DELE 2')).toMatch(/^\+OK/);
    a.destroy();
    await eventually(() => srv.logger.lines.some((l) => l.includes('session ended without QUIT, nothing deleted')));
    const b = await loggedIn();
    expect(await b.cmd('STAT')).toMatch(/^\+OK 2 /);
    expect(readFileSync(t.store.mboxPath('mbrain', 'INBOX')).equals(before)).toBe(true);
  });

  test('mail delivered during a session appears in the next session, numbers stay stable', async () => {
    await deliver('mbrain', 'satu');
    const a = await loggedIn();
    expect(await a.cmd('STAT')).toMatch(/^\+OK 1 /);
    await deliver('mbrain', 'dua');
    expect(await a.cmd('STAT')).toMatch(/^\+OK 1 /);
    expect(await a.cmd('RETR 2')).toBe('-ERR no such message 2: the maildrop has messages 1 to 1');
    expect(await a.cmd('DELE 1')).toMatch(/^\+OK/);
    expect(await a.cmd('QUIT')).toMatch(/1 message deleted, 0 left/);
    const b = await loggedIn();
    expect(await b.cmd('STAT')).toMatch(/^\+OK 1 /);
    expect((await b.cmdMulti('RETR 1')).body).toContain('Subject: dua');
  });

  test('the idle timeout closes the session without UPDATE and releases the lock', async () => {
    const quick = await startServer(t.store, accounts, { limits: { maxLineLength: 512, sessionIdle: 300 } });
    try {
      await deliver('mbrain', 'satu');
      const a = await quick.connect();
      await a.line();
      expect(await a.login('mbrain')).toMatch(/^\+OK/);
      expect(await a.cmd('DELE 1')).toMatch(/^\+OK/);
      expect(await a.line()).toBe('-ERR idle for more than 300ms, closing the connection (nothing deleted)');
      await a.closed;
      const b = await quick.connect();
      await b.line();
      expect(await b.login('mbrain')).toMatch(/^\+OK mbrain's maildrop has 1 message /);
    } finally {
      await quick.close();
    }
  });

  test('closing the server ends open sessions without UPDATE', async () => {
    await deliver('mbrain', 'satu');
    const other = await startServer(t.store, accounts);
    const a = await other.connect();
    await a.line();
    expect(await a.login('mbrain')).toMatch(/^\+OK/);
    expect(await a.cmd('DELE 1')).toMatch(/^\+OK/);
    const b = await other.connect();
    await b.line();
    const closed = new Promise<void>((resolve) => other.server.close(() => resolve()));
    expect(await a.line()).toBe('-ERR [SYS/TEMP] server shutting down, nothing deleted');
    expect(await b.line()).toBe('-ERR [SYS/TEMP] server shutting down, nothing deleted');
    await closed;
    const c = await loggedIn();
    expect(await c.cmd('STAT')).toMatch(/^\+OK 1 /);
  });
});

describe('authentication', () => {
  test('a wrong password gets -ERR [AUTH] after a growing delay, then the connection is closed', async () => {
    const slow = await startServer(t.store, accounts, { authFailureDelayMs: 60 });
    try {
      const c = await slow.connect();
      await c.line();
      const timed = async (password: string) => {
        await c.cmd('USER mbrain');
        const start = Date.now();
        const reply = await c.cmd(`PASS ${password}`);
        return { reply, ms: Date.now() - start };
      };
      const first = await timed('salah1');
      expect(first.reply).toBe('-ERR [AUTH] authentication failed: wrong user name or password');
      expect(first.ms).toBeGreaterThanOrEqual(55);
      const second = await timed('salah2');
      expect(second.ms).toBeGreaterThanOrEqual(115);
      const third = await timed('salah3');
      expect(third.ms).toBeGreaterThanOrEqual(235);
      expect(third.reply).toBe('-ERR [AUTH] authentication failed: wrong user name or password; too many failures, closing the connection');
      await c.closed;

      // The same client address starts the next session at the capped delay...
      const d = await slow.connect();
      await d.line();
      await d.cmd('USER nobody');
      const start = Date.now();
      expect(await d.cmd('PASS x')).toMatch(/^-ERR \[AUTH\]/);
      expect(Date.now() - start).toBeGreaterThanOrEqual(235);
      // ...until it logs in successfully (as the account that was guessed: failures count per account too).
      expect(await d.login('mbrain')).toMatch(/^\+OK/);
      expect(await d.cmd('QUIT')).toMatch(/^\+OK/);
      const e = await slow.connect();
      await e.line();
      await e.cmd('USER mbrain');
      const again = Date.now();
      expect(await e.cmd('PASS wrong')).toMatch(/^-ERR \[AUTH\]/);
      expect(Date.now() - again).toBeLessThan(200);
    } finally {
      await slow.close();
    }
  });

  test('after a failed PASS the client must send USER again; unknown users look like wrong passwords', async () => {
    const c = await srv.connect();
    await c.line();
    expect(await c.cmd('USER nobody')).toBe('+OK send PASS for nobody');
    expect(await c.cmd(`PASS ${PASSWORD}`)).toBe('-ERR [AUTH] authentication failed: wrong user name or password');
    expect(await c.cmd(`PASS ${PASSWORD}`)).toBe('-ERR give USER before PASS');
    expect(await c.login('mbrain')).toMatch(/^\+OK/);
  });

  test('a password with spaces is taken whole', async () => {
    const c = await srv.connect();
    await c.line();
    await c.cmd('USER mbrain');
    expect(await c.cmd(`PASS ${PASSWORD} extra`)).toMatch(/^-ERR \[AUTH\]/);
  });

  test('APOP works for an account with a plain password, and only for it', async () => {
    const { createHash } = await import('node:crypto');
    await deliver('siswa1', 'satu');
    const c = await srv.connect();
    const stamp = /<[^>]+>/.exec(await c.line())![0];
    const digest = (secret: string) => createHash('md5').update(stamp + secret).digest('hex');
    expect(await c.cmd(`APOP siswa1 ${digest('wrong')}`)).toBe('-ERR [AUTH] authentication failed: wrong user name or digest');
    expect(await c.cmd(`APOP nobody ${digest(PASSWORD)}`)).toBe('-ERR [AUTH] authentication failed: wrong user name or digest');
    expect(await c.cmd(`APOP mbrain ${digest(PASSWORD)}`)).toBe('-ERR [AUTH] APOP is not available for this account');
    expect(await c.cmd(`APOP siswa1@lab.test ${digest(PASSWORD).toUpperCase()}`)).toMatch(/^\+OK siswa1's maildrop has 1 message /);

    // Each greeting has its own timestamp, so a captured digest is useless later.
    const d = await srv.connect();
    const otherStamp = /<[^>]+>/.exec(await d.line())![0];
    expect(otherStamp).not.toBe(stamp);
  });
});

describe('the wire transcript', () => {
  test('C:/S: lines with secrets masked and message bodies left out', async () => {
    await t.store.append('mbrain', 'INBOX', wire('Subject: rahasia\n\nisi pesan yang tidak boleh masuk log\n'));
    const c = await loggedIn();
    const size = (await t.store.snapshot('mbrain', 'INBOX')).messages[0].size;
    await c.cmdMulti('RETR 1');
    await c.cmdMulti('TOP 1 1');
    await c.cmd('APOP siswa1 0123456789abcdef0123456789abcdef');
    await c.cmd('QUIT');
    await c.closed;
    const log = srv.logger.lines.join('\n');
    expect(log).toContain('C: USER mbrain');
    expect(log).toContain('C: PASS ****');
    expect(log).toContain('C: APOP siswa1 ****');
    expect(log).toMatch(/S: \+OK mbrain's maildrop has 1 message/);
    expect(log).toContain(`S: +OK ${size} octets`);
    expect(log).toMatch(/S: \[message body, \d+ octets\]/);
    expect(log).toContain('S: +OK top of message 1 follows');
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain('0123456789abcdef');
    expect(log).not.toContain('tidak boleh');
    expect(log).toMatch(/ pop3 S: \+OK .*signing off/);
    expect(log).toMatch(/session=\d+ client=127\.0\.0\.1:\d+/);
  });
});
