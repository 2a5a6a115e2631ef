/** Several sessions on one mailbox: untagged EXISTS / EXPUNGE / FETCH FLAGS at the allowed points, IDLE, COPY/MOVE/UIDPLUS. */
import { message, RawClient, startLab, type Lab } from './harness';

let lab: Lab;
let a: RawClient;
let b: RawClient;

beforeEach(async () => {
  lab = await startLab();
  for (let i = 1; i <= 3; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: `m${i}` }));
  a = await RawClient.connect(lab.port);
  b = await RawClient.connect(lab.port);
  await a.login();
  await b.login();
  await a.command('a0', 'SELECT INBOX');
  await b.command('b0', 'SELECT INBOX');
});
afterEach(async () => {
  a.close();
  b.close();
  await lab.close();
});

test('a delivery shows up as EXISTS on the next command; flag changes by another session as FETCH FLAGS', async () => {
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'new' }));
  const r = await a.command('a1', 'NOOP');
  expect(r).toMatch(/^\* 4 EXISTS\r\n\* 4 RECENT\r\na1 OK/m); // a selected first, so all four are \Recent to it
  await b.command('b1', 'STORE 2 +FLAGS.SILENT (\\Flagged)');
  expect(await a.command('a2', 'NOOP')).toMatch(/^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged( \\Recent)?\)\)/m);
  expect(await a.command('a3', 'NOOP')).toBe('a3 OK NOOP completed\r\n'); // reported once
  // RFC 3501 7.2.6: a new keyword comes with a new FLAGS response first.
  const kw = await b.command('b2', 'STORE 3 +FLAGS ($Label)');
  expect(kw).toMatch(/^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Label\)\r\n\* OK \[PERMANENTFLAGS \(.*\$Label \\\*\)\] Flags permitted\r\n\* 3 FETCH/m);
  expect(await a.command('a4', 'NOOP')).toMatch(/^\* FLAGS \(.*\$Label\)\r\n\* OK \[PERMANENTFLAGS .*\r\n\* 3 FETCH \(UID 3 FLAGS \(\$Label( \\Recent)?\)\)/m);
});

test('EXPUNGE from another session is held back during FETCH/STORE/SEARCH and sent at NOOP; each session keeps its own numbers', async () => {
  await b.command('b1', 'STORE 2 +FLAGS (\\Deleted)');
  expect(await b.command('b2', 'EXPUNGE')).toMatch(/^\* 2 EXPUNGE\r\n/m);
  // Session a still numbers the messages 1..3 until it is told.
  const f = await a.command('a1', 'FETCH 3 (UID)');
  expect(f).toMatch(/^\* 3 FETCH \(UID 3\)/m);
  expect(f).not.toMatch(/EXPUNGE/);
  const s = await a.command('a2', 'SEARCH ALL');
  expect(s).toMatch(/^\* SEARCH 1 3\r\n/m); // the expunged message no longer matches, numbers unchanged
  expect(s).not.toMatch(/EXPUNGE/);
  const st = await a.command('a3', 'STORE 3 +FLAGS (\\Seen)');
  expect(st).not.toMatch(/EXPUNGE/);
  expect(await a.command('a4', 'UID SEARCH ALL')).toMatch(/^\* SEARCH 1 3\r\n\* 2 EXPUNGE\r\n/m);
  expect(await a.command('a5', 'FETCH 2 (UID)')).toMatch(/^\* 2 FETCH \(UID 3\)/m);
});

test('new mail after an EXPUNGE that was held back: the next NOOP sends the EXPUNGE first, then EXISTS with the new count', async () => {
  await b.command('b1', 'STORE 2 +FLAGS (\\Deleted)');
  await b.command('b2', 'EXPUNGE');
  expect(await a.command('a1', 'FETCH 1 (UID)')).not.toMatch(/EXPUNGE/); // held back
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'late' }));
  await b.command('b3', 'STORE 1 +FLAGS (\\Answered)');
  const r = await a.command('a2', 'NOOP');
  expect(r).toMatch(/^\* 2 EXPUNGE\r\n\* 3 EXISTS\r\n/m);
  expect(r).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(\\Answered( \\Recent)?\)\)/m);
  expect(await a.command('a3', 'FETCH 3 (UID)')).toMatch(/^\* 3 FETCH \(UID 4\)/m);
});

test('UID FETCH may carry pending EXPUNGE responses (RFC 3501 7.4.1)', async () => {
  await b.command('b1', 'STORE 1 +FLAGS (\\Deleted)');
  await b.command('b2', 'EXPUNGE');
  expect(await a.command('a1', 'UID FETCH 2 (FLAGS)')).toMatch(/^\* 1 EXPUNGE\r\n/m);
});

test('IDLE: an append from a second session reaches the idling client within a second; DONE ends it', async () => {
  a.write('i1 IDLE\r\n');
  await a.readUntil(/^\+ idling\r\n/m);
  const started = Date.now();
  const msg = message({ subject: 'during idle' });
  const r = await b.command('b1', Buffer.concat([Buffer.from(`APPEND INBOX {${msg.length}+}\r\n`), msg, Buffer.from('\r\n')]));
  expect(r).toMatch(/^\* 4 EXISTS/m); // b sees its own append too
  expect(await a.readUntil(/^\* 4 EXISTS\r\n/m, 1000)).toBeTruthy();
  expect(Date.now() - started).toBeLessThan(1000);
  await b.command('b2', 'STORE 1 +FLAGS (\\Deleted)');
  await b.command('b3', 'EXPUNGE');
  expect(await a.readUntil(/^\* 1 EXPUNGE\r\n/m, 1000)).toBeTruthy(); // expunges are allowed while idling
  a.write('DONE\r\n');
  expect(await a.readUntil(/^i1 .*\r\n/m)).toMatch(/^i1 OK IDLE terminated/m);
});

test('COPY with COPYUID, UID EXPUNGE only touches the given UIDs, MOVE sends COPYUID then EXPUNGE', async () => {
  const copy = await a.command('a1', 'COPY 1:2 Trash');
  expect(copy).toMatch(/^a1 OK \[COPYUID \d+ 1:2 1:2\] COPY completed/m);
  expect(await a.command('a2', 'COPY 1 Nowhere')).toMatch(/^a2 NO \[TRYCREATE\]/m);
  await a.command('a3', 'STORE 1:3 +FLAGS.SILENT (\\Deleted)');
  expect(await a.command('a4', 'UID EXPUNGE 2')).toMatch(/^\* 2 EXPUNGE\r\na4 OK/m);
  await a.command('a5', 'STORE 1:2 -FLAGS.SILENT (\\Deleted)');
  const move = await a.command('a6', 'UID MOVE 3 Drafts');
  expect(move).toMatch(/^\* OK \[COPYUID \d+ 3 1\] Moved\r\n\* 2 EXPUNGE\r\na6 OK UID MOVE completed/m);
  expect((await lab.store.snapshot('mbrain', 'Drafts')).messages).toHaveLength(1);
  expect(await b.command('b1', 'NOOP')).toBe('* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nb1 OK NOOP completed\r\n');
  const status = await a.command('a7', 'STATUS Trash (MESSAGES)');
  expect(status).toMatch(/^\* STATUS "Trash" \(MESSAGES 2\)/m);
});

test('FETCH sections over the wire: HEADER.FIELDS, partial, BODY[] without PEEK sets \\Seen, out-of-range numbers get BAD', async () => {
  const r = await a.command('a1', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[TEXT]<0.5>)');
  expect(r).toMatch(/^\* 1 FETCH \(BODY\[HEADER.FIELDS \(SUBJECT\)\] \{15\}\r\nSubject: m1\r\n\r\n BODY\[TEXT\]<0> \{5\}\r\nHi Ma FLAGS \(\\Seen \\Recent\)\)/m);
  expect(await b.command('b1', 'NOOP')).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\)\)/m);
  expect(await a.command('a2', 'FETCH 9 FLAGS')).toMatch(/^a2 BAD Message number 9 does not exist/m);
  expect(await a.command('a3', 'UID FETCH 9:* FLAGS')).toMatch(/^\* 3 FETCH \(UID 3 FLAGS/m);
  const env = await a.command('a4', 'FETCH 2 (ENVELOPE BODYSTRUCTURE RFC822.SIZE)');
  expect(env).toMatch(/ENVELOPE \("Tue, 24 Nov 2026 10:00:00 \+0700" "m2" \(\("Joko Priyono" NIL "jpri" "dadali.com"\)\)/);
  expect(env).toMatch(/BODYSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 26 2 NIL NIL NIL NIL\)/);
  expect(await a.command('a5', 'SEARCH CHARSET KOI8-R ALL')).toMatch(/^a5 NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/m);
  expect(await a.command('a6', 'CLOSE')).toMatch(/^a6 OK/m);
  expect(await a.command('a7', 'FETCH 1 FLAGS')).toMatch(/^a7 BAD/m);
});
