/**
 * IMAP dates over a real socket (RFC 3501 section 9: date-year = 4DIGIT):
 * a two-digit year is refused with BAD saying why, not guessed as 19xx;
 * a four-digit year below 1000 is read and shown as written.
 */
import { message, RawClient, startLab, type Lab } from './harness';

let lab: Lab;
let c: RawClient;

beforeEach(async () => {
  lab = await startLab();
  c = await RawClient.connect(lab.port);
  await c.login();
});
afterEach(async () => {
  c.close();
  await lab.close();
});

async function append(tag: string, date: string): Promise<string> {
  const msg = message({ subject: `dated ${date}` });
  c.write(`${tag} APPEND INBOX ${date} {${msg.length}}\r\n`);
  const first = await c.readUntil(new RegExp(`^(\\+ |${tag} ).*\\r\\n`, 'm'));
  if (!first.startsWith('+')) return first;
  c.write(Buffer.concat([msg, Buffer.from('\r\n')]));
  return c.readUntil(new RegExp(`^${tag} .*\\r\\n`, 'm'));
}

test('APPEND and SEARCH with a two-digit year: BAD naming the rule, and the session goes on', async () => {
  expect(await append('a1', '"01-Jan-50 12:00:00 +0000"')).toMatch(/^a1 BAD Invalid date-time "01-Jan-50 12:00:00 \+0000": the year must have four digits \(RFC 3501: date-year = 4DIGIT\), not "50"\r\n/m);
  await c.command('a2', 'SELECT INBOX');
  expect(await c.command('a3', 'SEARCH SINCE 1-Jan-26')).toMatch(/^a3 BAD Invalid date "1-Jan-26": the year must have four digits/m);
  expect(await c.command('a4', 'SEARCH BEFORE 31-Feb-2026')).toMatch(/^a4 BAD Invalid date "31-Feb-2026": Feb 2026 has no day 31/m);
  expect(await append('a5', '"29-Feb-2025 10:00:00 +0700"')).toMatch(/^a5 BAD Invalid date-time .*: Feb 2025 has no day 29/m);
  expect(await append('a6', '"28-Feb-2025 24:00:00 +0700"')).toMatch(/^a6 BAD Invalid date-time .*: no such time 24:00:00/m);
  expect(await c.command('a7', 'NOOP')).toMatch(/^a7 OK/m);
  expect((await lab.store.snapshot('mbrain', 'INBOX')).messages).toHaveLength(0);
});

test('a year below 1000, written with four digits, comes back as written in INTERNALDATE and SEARCH', async () => {
  expect(await append('a1', '"01-Jan-0050 12:00:00 +0000"')).toMatch(/^a1 OK /m);
  expect(await append('a2', '"29-Feb-2024 23:30:00 -0100"')).toMatch(/^a2 OK /m);
  await c.command('a3', 'SELECT INBOX');
  const f = await c.command('a4', 'FETCH 1:2 INTERNALDATE');
  expect(f).toContain('* 1 FETCH (INTERNALDATE "01-Jan-0050 12:00:00 +0000")');
  expect(f).toContain('* 2 FETCH (INTERNALDATE "01-Mar-2024 00:30:00 +0000")');
  expect(await c.command('a5', 'SEARCH BEFORE 1-Jan-1950')).toMatch(/^\* SEARCH 1\r\n/m);
  expect(await c.command('a6', 'SEARCH ON 01-Jan-0050')).toMatch(/^\* SEARCH 1\r\n/m);
  expect(await c.command('a7', 'SEARCH SINCE 1-Mar-2024')).toMatch(/^\* SEARCH 2\r\n/m);
});
