/**
 * The POP3 server on a real socket against the real mbox store on a temp
 * directory, part 1: greeting and CAPA, every command of a full session,
 * UPDATE on QUIT (the mbox file shrinks), dot-stuffing and TOP, and bad
 * input of every kind (the session carries on), pipelining, over-long lines.
 */
import { readFileSync } from 'node:fs';
import type { AccountDirectory } from '../../../services/mail-domain/src/accounts';
import { HOST, makeAccounts, message, PASSWORD, startServer, tempStore, wire, type StartedServer, type TempStore } from './helpers';

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

describe('greeting and CAPA', () => {
  test('greeting carries the host name and an APOP timestamp', async () => {
    const c = await srv.connect();
    expect(await c.readUntil('\r\n')).toMatch(/^\+OK mail\.lab\.test POP3 server ready <\d+\.\d+\.[0-9a-f]+@mail\.lab\.test>\r\n$/);
  });

  test('no timestamp when no account could use APOP (all hashed, as in the shipped lab)', async () => {
    const hashedOnly = await startServer(t.store, await makeAccounts({ plain: false }));
    try {
      const c = await hashedOnly.connect();
      expect(await c.line()).toBe(`+OK ${HOST} POP3 server ready`);
      expect(await c.cmd(`APOP mbrain ${'0'.repeat(32)}`)).toBe('-ERR [AUTH] APOP is not offered by this server (use USER and PASS)');
    } finally {
      await hashedOnly.close();
    }
  });

  test('CAPA lists exactly what is supported, before and after login', async () => {
    const c = await srv.connect();
    await c.line();
    const expected = '+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nIMPLEMENTATION mail-lab\r\n.\r\n';
    c.write('CAPA\r\n');
    expect(await c.readUntil('\r\n.\r\n')).toBe(expected);
    expect(await c.login('mbrain')).toMatch(/^\+OK/);
    c.write('capa\r\n');
    expect(await c.readUntil('\r\n.\r\n')).toBe(expected);
  });
});

describe('a full session', () => {
  test('STAT, LIST, UIDL, RETR, TOP, NOOP, DELE, RSET and QUIT; the mbox file shrinks', async () => {
    await deliver('mbrain', 'satu', 'dua', 'tiga');
    const snap = await t.store.snapshot('mbrain', 'INBOX');
    const sizes = snap.messages.map((m) => m.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const c = await srv.connect();
    await c.line();
    expect(await c.cmd('USER mbrain')).toBe('+OK send PASS for mbrain');
    expect(await c.cmd(`PASS ${PASSWORD}`)).toBe(`+OK mbrain's maildrop has 3 messages (${total} octets)`);
    expect(await c.cmd('STAT')).toBe(`+OK 3 ${total}`);
    expect(await c.cmdMulti('LIST')).toEqual({ status: `+OK 3 messages (${total} octets)`, body: `1 ${sizes[0]}\r\n2 ${sizes[1]}\r\n3 ${sizes[2]}\r\n.\r\n` });
    expect(await c.cmd('LIST 2')).toBe(`+OK 2 ${sizes[1]}`);
    const ids = snap.messages.map((m) => m.uniqueId);
    expect(await c.cmdMulti('UIDL')).toEqual({ status: '+OK unique-id listing follows', body: `1 ${ids[0]}\r\n2 ${ids[1]}\r\n3 ${ids[2]}\r\n.\r\n` });
    expect(await c.cmd('UIDL 3')).toBe(`+OK 3 ${ids[2]}`);

    const retr = await c.cmdMulti('RETR 1');
    expect(retr.status).toBe(`+OK ${sizes[0]} octets`);
    expect(retr.body).toBe(message('satu').toString('latin1') + '.\r\n');

    const top = await c.cmdMulti('TOP 2 0');
    expect(top.status).toBe('+OK top of message 2 follows');
    expect(top.body).toBe(`From: jpri@dadali.com\r\nTo: mbrain@lab.test\r\nSubject: dua\r\nMessage-ID: <dua@dadali.com>\r\n\r\n.\r\n`);

    expect(await c.cmd('NOOP')).toBe('+OK');
    expect(await c.cmd('DELE 1')).toBe('+OK message 1 deleted');
    expect(await c.cmd('STAT')).toBe(`+OK 2 ${total - sizes[0]}`);
    expect(await c.cmdMulti('LIST')).toEqual({ status: `+OK 2 messages (${total - sizes[0]} octets)`, body: `2 ${sizes[1]}\r\n3 ${sizes[2]}\r\n.\r\n` });
    expect(await c.cmdMulti('UIDL')).toEqual({ status: '+OK unique-id listing follows', body: `2 ${ids[1]}\r\n3 ${ids[2]}\r\n.\r\n` });
    expect(await c.cmd('RSET')).toBe(`+OK maildrop has 3 messages (${total} octets)`);
    expect(await c.cmd('DELE 1')).toBe('+OK message 1 deleted');
    expect(await c.cmd('DELE 3')).toBe('+OK message 3 deleted');

    const before = t.mboxSize('mbrain');
    expect(await c.cmd('QUIT')).toBe(`+OK ${HOST} POP3 server signing off (2 messages deleted, 1 left)`);
    await c.closed;
    expect(t.mboxSize('mbrain')).toBeLessThan(before);
    const file = readFileSync(t.store.mboxPath('mbrain', 'INBOX'), 'latin1');
    expect(file).toContain('Subject: dua');
    expect(file).not.toContain('Subject: satu');
    expect(file).not.toContain('Subject: tiga');

    // The next session numbers what is left from 1, and the lock is free again.
    const d = await loggedIn();
    expect(await d.cmd('STAT')).toBe(`+OK 1 ${sizes[1]}`);
    expect(await d.cmd('UIDL 1')).toBe(`+OK 1 ${ids[1]}`);
  });

  test('QUIT without deletions changes nothing; QUIT before login just signs off', async () => {
    await deliver('mbrain', 'satu');
    const before = readFileSync(t.store.mboxPath('mbrain', 'INBOX'));
    const c = await loggedIn();
    expect(await c.cmd('QUIT')).toBe(`+OK ${HOST} POP3 server signing off (0 messages deleted, 1 left)`);
    await c.closed;
    expect(readFileSync(t.store.mboxPath('mbrain', 'INBOX')).equals(before)).toBe(true);
    const d = await srv.connect();
    await d.line();
    expect(await d.cmd('QUIT')).toBe(`+OK ${HOST} POP3 server signing off`);
    await d.closed;
  });

  test('an empty maildrop, and logins given as user@domain in any case', async () => {
    const c = await srv.connect();
    await c.line();
    expect(await c.login('SISWA2@Lab.Test')).toBe("+OK siswa2's maildrop has 0 messages (0 octets)");
    expect(await c.cmd('STAT')).toBe('+OK 0 0');
    expect(await c.cmdMulti('LIST')).toEqual({ status: '+OK 0 messages (0 octets)', body: '.\r\n' });
    expect(await c.cmd('RETR 1')).toBe('-ERR no such message 1: the maildrop is empty');
  });

  test('commands are case-insensitive', async () => {
    await deliver('mbrain', 'satu');
    const c = await srv.connect();
    await c.line();
    expect(await c.cmd('user mbrain')).toMatch(/^\+OK/);
    expect(await c.cmd(`pAsS ${PASSWORD}`)).toMatch(/^\+OK/);
    expect(await c.cmd('stat')).toMatch(/^\+OK 1 /);
    expect((await c.cmdMulti('Retr 1')).status).toMatch(/^\+OK \d+ octets$/);
    expect(await c.cmd('dele 1')).toBe('+OK message 1 deleted');
    expect(await c.cmd('quit')).toMatch(/^\+OK .*1 message deleted/);
  });
});

describe('message content on the wire', () => {
  test('RETR dot-stuffs lines starting with "." and ends with CRLF . CRLF; TOP n gives header, blank line, n body lines', async () => {
    const body = '.hidden line\n..two dots\n.\nFrom the desk of Joko\n>From quoted\nnormal\n\n.last\n';
    await t.store.append('mbrain', 'INBOX', message('titik', body));
    const c = await loggedIn();
    c.write('RETR 1\r\n');
    const raw = await c.readUntil('\r\n.\r\n' + '');
    const header = 'From: jpri@dadali.com\r\nTo: mbrain@lab.test\r\nSubject: titik\r\nMessage-ID: <titik@dadali.com>\r\n\r\n';
    const stuffed = '..hidden line\r\n...two dots\r\n..\r\nFrom the desk of Joko\r\n>From quoted\r\nnormal\r\n\r\n..last\r\n.\r\n';
    expect(raw).toBe(`+OK ${message('titik', body).length} octets\r\n${header}${stuffed}`);
    expect(c.pending()).toBe('');

    expect((await c.cmdMulti('TOP 1 2')).body).toBe(`${header}..hidden line\r\n...two dots\r\n.\r\n`);
    expect((await c.cmdMulti('TOP 1 3')).body).toBe(`${header}..hidden line\r\n...two dots\r\n..\r\n.\r\n`);
    expect((await c.cmdMulti('TOP 1 1000')).body).toBe(header + stuffed);
  });

  test('a message without a final CRLF still ends in CRLF . CRLF', async () => {
    await t.store.append('mbrain', 'INBOX', Buffer.from('Subject: x\r\n\r\nno newline at the end'));
    const c = await loggedIn();
    expect((await c.cmdMulti('RETR 1')).body).toBe('Subject: x\r\n\r\nno newline at the end\r\n.\r\n');
  });
});

describe('errors keep the session going', () => {
  test('unknown commands, wrong state, bad arguments, bad message numbers', async () => {
    await deliver('mbrain', 'satu', 'dua');
    const c = await srv.connect();
    await c.line();
    const cases: [string, string][] = [
      ['HELO there', '-ERR unknown command "HELO"'],
      ['AUTH', '-ERR unknown command "AUTH"'],
      ['', '-ERR empty command'],
      ['STAT', '-ERR STAT is not allowed before login (use USER and PASS, or APOP)'],
      ['RETR 1', '-ERR RETR is not allowed before login (use USER and PASS, or APOP)'],
      ['PASS something', '-ERR give USER before PASS'],
      ['USER', '-ERR USER needs 1 argument: USER name'],
      ['USER a b', '-ERR too many arguments: USER name'],
      ['PASS', '-ERR PASS needs 1 argument: PASS password'],
      ['APOP mbrain', '-ERR APOP needs 2 arguments: APOP name digest'],
      ['APOP mbrain xyz', '-ERR APOP digest must be 32 hexadecimal digits (MD5 of timestamp and secret)'],
      ['QUIT now', '-ERR QUIT takes no arguments'],
    ];
    for (const [line, reply] of cases) expect([line, await c.cmd(line)]).toEqual([line, reply]);
    expect(await c.login('mbrain')).toMatch(/^\+OK/);
    const after: [string, string][] = [
      ['USER mbrain', '-ERR USER is not allowed after login (you are already logged in)'],
      ['PASS x', '-ERR PASS is not allowed after login (you are already logged in)'],
      ['STAT 1', '-ERR STAT takes no arguments'],
      ['NOOP x', '-ERR NOOP takes no arguments'],
      ['RETR', '-ERR RETR needs 1 argument: RETR msg'],
      ['RETR abc', '-ERR message number must be a number, not "abc"'],
      ['RETR -1', '-ERR message number must be a number, not "-1"'],
      ['RETR 0', '-ERR message number must be 1 or more (messages are numbered from 1)'],
      ['RETR 3', '-ERR no such message 3: the maildrop has messages 1 to 2'],
      ['RETR 99999999999', '-ERR message number 99999999999 is too large'],
      ['RETR 1 2', '-ERR too many arguments: RETR msg'],
      ['LIST x', '-ERR message number must be a number, not "x"'],
      ['LIST 7', '-ERR no such message 7: the maildrop has messages 1 to 2'],
      ['UIDL 7', '-ERR no such message 7: the maildrop has messages 1 to 2'],
      ['TOP 1', '-ERR TOP needs 2 arguments: TOP msg lines'],
      ['TOP 1 x', '-ERR line count must be a number, not "x"'],
      ['TOP 5 1', '-ERR no such message 5: the maildrop has messages 1 to 2'],
      ['DELE', '-ERR DELE needs 1 argument: DELE msg'],
      ['DELE 1', '+OK message 1 deleted'],
      ['DELE 1', '-ERR message 1 is already deleted'],
      ['RETR 1', '-ERR message 1 is already deleted'],
      ['TOP 1 0', '-ERR message 1 is already deleted'],
      ['LIST 1', '-ERR message 1 is already deleted'],
      ['UIDL 1', '-ERR message 1 is already deleted'],
      ['XYZZY', '-ERR unknown command "XYZZY"'],
    ];
    for (const [line, reply] of after) expect([line, await c.cmd(line)]).toEqual([line, reply]);
    expect(await c.cmd('STAT')).toMatch(/^\+OK 1 \d+$/);
  });

  test('an over-long line is refused without being buffered, and the session carries on', async () => {
    const c = await srv.connect();
    await c.line();
    expect(await c.cmd('NOOP ' + 'x'.repeat(600))).toBe('-ERR line too long (more than 512 octets), command ignored');
    // A megabyte without any line end: refused once, as soon as the limit is passed.
    c.write(Buffer.alloc(1024 * 1024, 0x61));
    expect(await c.line()).toBe('-ERR line too long (more than 512 octets), command ignored');
    c.write(Buffer.alloc(1024 * 1024, 0x61));
    c.write('still the same line\r\n');
    expect(await c.cmd('USER mbrain')).toBe('+OK send PASS for mbrain');
    expect(c.pending()).toBe('');
    // A line of exactly the limit is read (here: a long password, checked and refused).
    expect(await c.cmd('USER ' + 'm'.repeat(256))).toBe('-ERR argument too long (at most 255 characters)');
    expect(await c.cmd('USER mbrain')).toBe('+OK send PASS for mbrain');
    expect(await c.cmd(`PASS ${'p'.repeat(507)}`)).toBe('-ERR [AUTH] authentication failed: wrong user name or password');
    expect(await c.cmd(`PASS ${'p'.repeat(508)}`)).toBe('-ERR line too long (more than 512 octets), command ignored');
  });

  test('pipelined commands in one packet are answered in order', async () => {
    await deliver('mbrain', 'satu', 'dua');
    const c = await srv.connect();
    await c.line();
    c.write(`CAPA\r\nUSER mbrain\r\nPASS ${PASSWORD}\r\nSTAT\r\nLIST\r\nRETR 2\r\nBOGUS\r\nDELE 1\r\nUIDL 1\r\nQUIT\r\nNOOP\r\n`);
    expect((await c.readUntil('\r\n.\r\n')).startsWith('+OK capability list follows')).toBe(true);
    expect(await c.line()).toMatch(/^\+OK send PASS/);
    expect(await c.line()).toMatch(/^\+OK mbrain's maildrop has 2 messages/);
    expect(await c.line()).toMatch(/^\+OK 2 \d+$/);
    expect(await c.multi()).toMatch(/^\+OK 2 messages.*\r\n1 \d+\r\n2 \d+\r\n\.\r\n$/s);
    expect(await c.multi()).toMatch(/^\+OK \d+ octets\r\n.*Subject: dua\r\n.*\r\n\.\r\n$/s);
    expect(await c.line()).toBe('-ERR unknown command "BOGUS"');
    expect(await c.line()).toBe('+OK message 1 deleted');
    expect(await c.line()).toBe('-ERR message 1 is already deleted');
    expect(await c.line()).toMatch(/^\+OK .*signing off \(1 message deleted, 1 left\)$/);
    await c.closed;
    expect(c.pending()).toBe(''); // NOOP after QUIT is never answered
  });

  test('a flood of pipelined commands is answered completely and in order', async () => {
    await deliver('mbrain', 'satu');
    const c = await loggedIn();
    const n = 1000;
    c.write(Array.from({ length: n }, (_, i) => (i % 2 ? 'NOOP\r\n' : 'LIST 1\r\n')).join('') + 'QUIT\r\n');
    const replies: string[] = [];
    for (let i = 0; i < n; i++) replies.push(await c.line());
    // Odd positions answer NOOP, even ones LIST 1: any reply out of place shows up here.
    expect(replies.filter((r, i) => !(i % 2 ? r === '+OK' : /^\+OK 1 \d+$/.test(r)))).toEqual([]);
    expect(await c.line()).toMatch(/signing off/);
  });
});
