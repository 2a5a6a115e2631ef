/**
 * Regressions found by Dovecot's imaptest (docs/imap-compliance.md), each
 * replayed on a real socket: APPEND flag case, invalid modified UTF-7 names,
 * comment-only group members in ENVELOPE, address SEARCH through comments,
 * LSUB's \Noselect parents, keywords from another session announced before
 * FETCH, and the failed-login delay.
 */
import { message, RawClient, startLab, type Lab } from './harness';

let lab: Lab;
let c: RawClient;

afterEach(async () => {
  c?.close();
  await lab.close();
});

async function loggedIn(options: Parameters<typeof startLab>[0] = {}): Promise<void> {
  lab = await startLab(options);
  c = await RawClient.connect(lab.port);
  await c.login();
}

test('APPEND stores system flags in their canonical case: STATUS UNSEEN and SEARCH see \\seen as \\Seen', async () => {
  await loggedIn();
  const literal = (m: Buffer) => Buffer.concat([Buffer.from(`{${m.length}+}\r\n`), m, Buffer.from('\r\n')]);
  const m = message({ subject: 'flags' });
  expect(await c.command('a1', Buffer.concat([Buffer.from('APPEND INBOX (\\seen \\FLAGGED) '), literal(m)]))).toMatch(/^a1 OK \[APPENDUID/m);
  expect(await c.command('a2', Buffer.concat([Buffer.from('APPEND INBOX '), literal(m)]))).toMatch(/^a2 OK/m);
  expect(await c.command('a3', 'STATUS INBOX (MESSAGES UNSEEN)')).toMatch(/^\* STATUS "INBOX" \(MESSAGES 2 UNSEEN 1\)\r\n/m);
  await c.command('a4', 'SELECT INBOX');
  expect(await c.command('a5', 'FETCH 1 FLAGS')).toMatch(/^\* 1 FETCH \(FLAGS \(\\Flagged \\Seen( \\Recent)?\)\)/m);
  expect(await c.command('a6', 'SEARCH SEEN')).toMatch(/^\* SEARCH 1\r\n/m);
});

test('a name that is not valid modified UTF-7 gets NO (not BAD); LIST with such a pattern succeeds; the session goes on', async () => {
  lab = await startLab();
  c = await RawClient.connect(lab.port);
  // Before login the state check still comes first.
  expect(await c.command('a0', 'SELECT &Jjo')).toMatch(/^a0 BAD/m);
  await c.login();
  const name = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
  expect(await c.command('a1', `SELECT ${name}`)).toMatch(/^a1 NO \[CANNOT\] Invalid mailbox name/m);
  expect(await c.command('a2', 'CREATE "&Jjo"')).toMatch(/^a2 NO \[CANNOT\]/m);
  expect(await c.command('a3', `LIST "" ${name}%*`)).toBe('a3 OK LIST completed\r\n');
  expect(await c.command('a4', 'LIST "&" "*"')).toMatch(/^a4 OK/m);
  expect(await c.command('a5', 'SELECT "Caf&AOk-"')).toMatch(/^a5 NO \[NONEXISTENT\]/m); // valid name, no such mailbox
  expect(await c.command('a6', 'NOOP')).toMatch(/^a6 OK/m);
});

test('ENVELOPE: a group holding only a comment has no member address', async () => {
  await loggedIn();
  const raw = [
    'From: user@domain (Real Name)',
    'To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;',
    'Cc: group:;, group2: (foo) ;',
    'Date: Thu, 15 Feb 2007 01:02:03 +0200',
    '',
    'body',
    '',
  ].join('\r\n');
  await lab.store.append('mbrain', 'INBOX', Buffer.from(raw));
  await c.command('a1', 'SELECT INBOX');
  const r = await c.command('a2', 'FETCH 1 ENVELOPE');
  expect(r).toContain(
    '((NIL NIL "group" NIL) (NIL NIL "g1" "d1.org") (NIL NIL "g2" "d2.org") (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL "g3" "d3.org") (NIL NIL NIL NIL)) ' +
      '((NIL NIL "group" NIL) (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL NIL NIL))',
  );
  expect(r).toContain('(("Real Name" NIL "user" "domain"))');
});

test('SEARCH FROM/TO match an address written with comments inside it, and real names', async () => {
  await loggedIn();
  const add = (headers: string[]) => lab.store.append('mbrain', 'INBOX', Buffer.from([...headers, '', 'body', ''].join('\r\n')));
  await add(['From: user-from@domain.org', 'To: user-to@domain.org']);
  await add(['From: <user-from (comment)@ (comment) domain.org>', 'To: <user-to@domain.org>']);
  await add(['From: RealFrom <user-from@domain.org>', 'To: groupname: groupuser1@domain.org;']);
  await add(['From: other@domain.org']);
  await c.command('a1', 'SELECT INBOX');
  expect(await c.command('a2', 'SEARCH FROM user-from@domain.org')).toMatch(/^\* SEARCH 1 2 3\r\n/m);
  expect(await c.command('a3', 'SEARCH FROM realfrom')).toMatch(/^\* SEARCH 3\r\n/m);
  expect(await c.command('a4', 'SEARCH TO groupname')).toMatch(/^\* SEARCH 3\r\n/m);
  expect(await c.command('a5', 'SEARCH FROM comment')).toMatch(/^\* SEARCH 2\r\n/m); // the raw header still matches too
  expect(await c.command('a6', 'SEARCH TO groupuser4')).toMatch(/^\* SEARCH\r\n/m);
});

test('LSUB with % answers an unsubscribed parent of a subscribed mailbox as \\Noselect (RFC 3501 6.3.9)', async () => {
  await loggedIn();
  for (const box of ['box', 'box/test', 'box/test2', 'box/test2/test', 'box/test3/test3']) await c.command('c', `CREATE ${box}`);
  for (const box of ['box/test', 'box/test2/test', 'box/test3/test3']) await c.command('s', `SUBSCRIBE ${box}`);
  const r = await c.command('a1', 'LSUB "" box/%');
  const lines = r.split('\r\n').filter((l) => l.startsWith('* LSUB')).sort();
  expect(lines).toEqual(['* LSUB () "/" "box/test"', '* LSUB (\\Noselect) "/" "box/test2"', '* LSUB (\\Noselect) "/" "box/test3"']);
  const all = await c.command('a2', 'LSUB "" *test');
  expect(all.split('\r\n').filter((l) => l.startsWith('* LSUB')).sort()).toEqual(['* LSUB () "/" "box/test"', '* LSUB () "/" "box/test2/test"']);
});

test('a keyword set by another session is announced in FLAGS before FETCH or STORE shows it', async () => {
  await loggedIn();
  for (let i = 0; i < 2; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: `m${i}` }));
  const other = await RawClient.connect(lab.port);
  try {
    await other.login();
    await c.command('a1', 'SELECT INBOX');
    await other.command('b1', 'SELECT INBOX');
    await other.command('b2', 'STORE 1 +FLAGS.SILENT ($Label3)');
    // No NOOP in between: FETCH FLAGS is the first place this session sees $Label3.
    const f = await c.command('a2', 'FETCH 1 FLAGS');
    expect(f).toMatch(/^\* FLAGS \(.*\$Label3\)\r\n\* OK \[PERMANENTFLAGS \(.*\$Label3 \\\*\)\][^\r]*\r\n\* 1 FETCH \(FLAGS \(\$Label3/m);
    await other.command('b3', 'STORE 2 +FLAGS.SILENT ($Label4)');
    const s = await c.command('a3', 'STORE 2 +FLAGS (\\Seen)');
    expect(s.indexOf('$Label4)')).toBeGreaterThan(-1);
    expect(s.indexOf('* FLAGS (')).toBeLessThan(s.indexOf('* 2 FETCH'));
    expect(s).toMatch(/^\* FLAGS \(.*\$Label3 \$Label4\)\r\n/m);
  } finally {
    other.close();
  }
});

test('a failed LOGIN or AUTHENTICATE is answered after a growing delay; the third failure ends the session', async () => {
  lab = await startLab({ authFailureDelayMs: 200 });
  c = await RawClient.connect(lab.port);
  const timed = async (tag: string, command: string) => {
    const start = Date.now();
    const reply = await c.command(tag, command);
    return { reply, ms: Date.now() - start };
  };
  const first = await timed('a1', 'LOGIN mbrain salah');
  expect(first.reply).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\] Invalid credentials\r\n/m);
  expect(first.ms).toBeGreaterThanOrEqual(190);
  const token = Buffer.from('\0mbrain\0salah').toString('base64');
  const second = await timed('a2', `AUTHENTICATE PLAIN ${token}`);
  expect(second.reply).toMatch(/^a2 NO \[AUTHENTICATIONFAILED\]/m);
  expect(second.ms).toBeGreaterThanOrEqual(390);
  c.write('a3 LOGIN mbrain salah\r\n');
  expect(await c.readUntil(/^a3 .*\r\n/m, 3000)).toMatch(/^\* BYE Too many authentication failures\r\na3 NO \[AUTHENTICATIONFAILED\] .*closing the connection\r\n/m);
  await c.waitClosed();
  // The address is remembered across sessions; a successful login forgets it.
  c = await RawClient.connect(lab.port);
  const again = await timed('b1', 'LOGIN mbrain salah');
  expect(again.ms).toBeGreaterThanOrEqual(790);
  expect(await c.command('b2', 'LOGIN mbrain rahasia123')).toMatch(/^b2 OK/m);
  const d = await RawClient.connect(lab.port);
  try {
    const start = Date.now();
    expect(await d.command('d1', 'LOGIN mbrain salah')).toMatch(/^d1 NO/m);
    expect(Date.now() - start).toBeLessThan(600);
  } finally {
    d.close();
  }
  expect(lab.logs.join('\n')).toMatch(/login failed .*failures=1 delayMs=200/);
});
