/** Raw-socket IMAP sessions against the real mbox store: states, mailbox commands, APPEND/FETCH/STORE/SEARCH/EXPUNGE. */
import { message, RawClient, startLab, type Lab } from './harness';

let lab: Lab;
let c: RawClient;

beforeEach(async () => {
  lab = await startLab();
  c = await RawClient.connect(lab.port);
});
afterEach(async () => {
  c.close();
  await lab.close();
});

test('greeting, CAPABILITY, NOOP, LOGOUT', async () => {
  const cap = await c.command('a1', 'CAPABILITY');
  expect(cap).toMatch(/^\* CAPABILITY IMAP4rev1 .*LITERAL\+.*AUTH=PLAIN.*IDLE.*UIDPLUS.*MOVE.*SPECIAL-USE/m);
  expect(cap).toMatch(/^a1 OK/m);
  expect(await c.command('a2', 'NOOP')).toMatch(/^a2 OK/m);
  const bye = await c.command('a3', 'LOGOUT');
  expect(bye).toMatch(/^\* BYE .*\r\na3 OK/m);
  await c.waitClosed();
});

test('commands in the wrong state, unknown commands and bad arguments get BAD and the session goes on', async () => {
  expect(await c.command('a1', 'SELECT INBOX')).toMatch(/^a1 BAD SELECT requires LOGIN/m);
  expect(await c.command('a2', 'FROB')).toMatch(/^a2 BAD Unknown command FROB/m);
  expect(await c.command('a3', 'LOGIN onlyuser')).toMatch(/^a3 BAD/m);
  expect(await c.command('a4', 'LOGIN mbrain wrong')).toMatch(/^a4 NO \[AUTHENTICATIONFAILED\]/m);
  await c.login();
  expect(await c.command('a5', 'FETCH 1 FLAGS')).toMatch(/^a5 BAD FETCH requires a selected mailbox/m);
  expect(await c.command('a6', 'LOGIN mbrain x')).toMatch(/^a6 BAD LOGIN is not allowed once authenticated/m);
  expect(await c.command('a7', 'SELECT Nowhere')).toMatch(/^a7 NO \[NONEXISTENT\]/m);
  expect(await c.command('a8', 'SELECT INBOX extra')).toMatch(/^a8 BAD Unexpected characters/m);
  expect(await c.command('a9', 'NOOP')).toMatch(/^a9 OK/m);
});

test('LOGIN with user@domain and quoted strings; the transcript masks the password', async () => {
  expect(await c.command('a1', 'LOGIN "MBrain@garudayaksa.com" "rahasia123"')).toMatch(/^a1 OK \[CAPABILITY /m);
  const transcript = lab.logs.join('\n');
  expect(transcript).toContain('C: a1 LOGIN "MBrain@garudayaksa.com" ****');
  expect(transcript).not.toContain('rahasia123');
  expect(transcript).toMatch(/S: a1 OK/);
});

test('AUTHENTICATE PLAIN with continuation and with SASL-IR, and cancellation', async () => {
  const token = Buffer.from('\0mbrain\0rahasia123').toString('base64');
  c.write('a1 AUTHENTICATE PLAIN\r\n');
  await c.readUntil(/^\+ \r\n/m);
  c.write('*\r\n');
  expect(await c.readUntil(/^a1 /m)).toMatch(/a1 BAD AUTHENTICATE cancelled/);
  c.write('a2 AUTHENTICATE PLAIN\r\n');
  await c.readUntil(/^\+ \r\n/m);
  c.write(token + '\r\n');
  expect(await c.readUntil(/^a2 .*\r\n/m)).toMatch(/^a2 OK/m);
  const d = await RawClient.connect(lab.port);
  expect(await d.command('b1', `AUTHENTICATE PLAIN ${token}`)).toMatch(/^b1 OK/m);
  d.close();
  expect(lab.logs.join('\n')).not.toContain(token);
});

test('SELECT reports EXISTS, RECENT, UNSEEN, UIDVALIDITY, UIDNEXT, PERMANENTFLAGS; EXAMINE is read-only', async () => {
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'one' }), { flags: ['\\Seen'] });
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'two' }));
  await c.login();
  const sel = await c.command('a1', 'SELECT inbox');
  expect(sel).toMatch(/^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)/m);
  expect(sel).toMatch(/^\* OK \[PERMANENTFLAGS \(.*\\\*\)\]/m);
  expect(sel).toMatch(/^\* 2 EXISTS/m);
  expect(sel).toMatch(/^\* 2 RECENT/m);
  expect(sel).toMatch(/^\* OK \[UNSEEN 2\]/m);
  expect(sel).toMatch(/^\* OK \[UIDVALIDITY \d+\]/m);
  expect(sel).toMatch(/^\* OK \[UIDNEXT 3\]/m);
  expect(sel).toMatch(/^a1 OK \[READ-WRITE\] SELECT/m);
  const ex = await c.command('a2', 'EXAMINE INBOX');
  expect(ex).toMatch(/^\* 0 RECENT/m); // already announced to the SELECT above
  expect(ex).toMatch(/^a2 OK \[READ-ONLY\]/m);
  expect(await c.command('a3', 'STORE 1 +FLAGS (\\Deleted)')).toMatch(/^a3 NO \[READ-ONLY\]/m);
  expect(await c.command('a4', 'FETCH 2 BODY[]')).toMatch(/^a4 OK/m);
  expect(await c.command('a5', 'FETCH 2 FLAGS')).not.toMatch(/\\Seen/); // EXAMINE never sets \Seen
});

test('APPEND with a synchronizing literal, then FETCH, STORE, SEARCH, EXPUNGE', async () => {
  await c.login();
  const msg = message({ subject: 'Appended' });
  c.write(`a1 APPEND INBOX (\\Flagged) "24-Nov-2026 10:00:00 +0700" {${msg.length}}\r\n`);
  await c.readUntil(/^\+ .*\r\n/m);
  c.write(Buffer.concat([msg, Buffer.from('\r\n')]));
  const appended = await c.readUntil(/^a1 .*\r\n/m);
  expect(appended).toMatch(/^a1 OK \[APPENDUID \d+ 1\] APPEND completed/m);
  await c.command('a2', 'SELECT INBOX');
  const f = await c.command('a3', 'FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE)');
  expect(f).toContain(`* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent) INTERNALDATE "24-Nov-2026 03:00:00 +0000" RFC822.SIZE ${msg.length})`);
  const body = await c.command('a4', 'FETCH 1 BODY[]');
  expect(body).toContain(`BODY[] {${msg.length}}\r\n${msg.toString('latin1')} FLAGS (\\Flagged \\Seen \\Recent))`);
  expect(await c.command('a5', 'STORE 1 +FLAGS (\\Deleted)')).toMatch(/^\* 1 FETCH \(FLAGS \(\\Deleted \\Flagged \\Seen \\Recent\)\)/m);
  expect(await c.command('a6', 'SEARCH DELETED')).toMatch(/^\* SEARCH 1\r\n/m);
  expect(await c.command('a7', 'UID SEARCH UNDELETED')).toMatch(/^\* SEARCH\r\n/m);
  const ex = await c.command('a8', 'EXPUNGE');
  expect(ex).toMatch(/^\* 1 EXPUNGE\r\na8 OK/m);
  expect((await lab.store.snapshot('mbrain', 'INBOX')).messages).toHaveLength(0);
});

test('LIST, LSUB, CREATE, RENAME, DELETE, SUBSCRIBE, STATUS, NAMESPACE', async () => {
  await c.login();
  expect(await c.command('a1', 'LIST "" ""')).toMatch(/^\* LIST \(\\Noselect\) "\/" ""/m);
  const all = await c.command('a2', 'LIST "" "*"');
  expect(all).toMatch(/^\* LIST \(\\HasNoChildren\) "\/" "INBOX"/m);
  expect(all).toMatch(/^\* LIST \(\\HasNoChildren \\Sent\) "\/" "Sent"/m);
  expect(all).toMatch(/^\* LIST \(\\HasNoChildren \\Drafts\) "\/" "Drafts"/m);
  expect(all).toMatch(/^\* LIST \(\\HasNoChildren \\Trash\) "\/" "Trash"/m);
  expect(await c.command('a3', 'CREATE Projects/2026/')).toMatch(/^a3 OK/m);
  expect(await c.command('a4', 'CREATE Projects/2026')).toMatch(/^a4 NO \[ALREADYEXISTS\]/m);
  const pct = await c.command('a5', 'LIST "" "%"');
  expect(pct).toMatch(/^\* LIST \(\\Noselect \\HasChildren\) "\/" "Projects"/m);
  expect(pct).not.toMatch(/Projects\/2026/);
  expect(await c.command('a6', 'LIST "Projects/" "%"')).toMatch(/^\* LIST \(\\HasNoChildren\) "\/" "Projects\/2026"/m);
  expect(await c.command('a7', 'CREATE "Caf&AOk-"')).toMatch(/^a7 OK/m);
  expect(await lab.store.listFolders('mbrain')).toContain('Café');
  expect(await c.command('a8', 'RENAME "Caf&AOk-" Archive2')).toMatch(/^a8 OK/m);
  expect(await c.command('a9', 'SUBSCRIBE Archive2')).toMatch(/^a9 OK/m);
  expect(await c.command('b1', 'LSUB "" "*"')).toMatch(/^\* LSUB \(\) "\/" "Archive2"/m);
  expect(await c.command('b2', 'DELETE Archive2')).toMatch(/^b2 OK/m);
  expect(await c.command('b3', 'DELETE Archive2')).toMatch(/^b3 NO \[NONEXISTENT\]/m);
  expect(await c.command('b4', 'DELETE INBOX')).toMatch(/^b4 NO/m);
  await lab.store.append('mbrain', 'INBOX', message());
  expect(await c.command('b5', 'STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT)')).toMatch(/^\* STATUS "INBOX" \(MESSAGES 1 UNSEEN 1 UIDNEXT 2 RECENT 1\)/m);
  expect(await c.command('b6', 'NAMESPACE')).toMatch(/^\* NAMESPACE \(\("" "\/"\)\) NIL NIL/m);
});

test('ID, ENABLE, STARTTLS, UNSELECT, keywords, bad flags, CHARSET UTF-8 search with a literal', async () => {
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'Café ☕ =?UTF-8?B?w6lsw6h2ZQ==?=' }));
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'plain' }));
  expect(await c.command('a1', 'ID ("name" "test")')).toMatch(/^\* ID \("name" "mail-lab"/m);
  expect(await c.command('a2', 'STARTTLS')).toMatch(/^a2 NO TLS is not available/m);
  expect(await c.command('a3', 'ENABLE CONDSTORE')).toMatch(/^a3 BAD ENABLE requires LOGIN/m);
  await c.login();
  expect(await c.command('a4', 'ENABLE CONDSTORE')).toMatch(/^\* ENABLED\r\na4 OK/m);
  await c.command('a5', 'SELECT INBOX');
  expect(await c.command('a6', 'STORE 2 +FLAGS ($Work)')).toMatch(/^\* 2 FETCH \(FLAGS \(\$Work \\Recent\)\)/m);
  expect(await c.command('a7', 'STORE 2 +FLAGS (\\Bogus)')).toMatch(/^a7 BAD Unknown system flag/m);
  expect(await c.command('a8', 'UID STORE 2 -FLAGS.SILENT ($Work)')).toBe('a8 OK UID STORE completed\r\n');
  expect(await c.command('a9', 'SEARCH KEYWORD $Work')).toMatch(/^\* SEARCH\r\n/m);
  const needle = Buffer.from('café ☕', 'utf8');
  c.write(`b1 SEARCH CHARSET UTF-8 SUBJECT {${needle.length}}\r\n`);
  await c.readUntil(/^\+ /m);
  c.write(Buffer.concat([needle, Buffer.from('\r\n')]));
  expect(await c.readUntil(/^b1 .*\r\n/m)).toMatch(/^\* SEARCH 1\r\nb1 OK/m);
  expect(await c.command('b2', 'SEARCH SUBJECT élève')).toMatch(/^\* SEARCH 1\r\n/m); // RFC 2047 word decoded
  expect(await c.command('b3', 'UNSELECT')).toMatch(/^b3 OK/m);
  expect(await c.command('b4', 'FETCH 1 FLAGS')).toMatch(/^b4 BAD/m);
});
