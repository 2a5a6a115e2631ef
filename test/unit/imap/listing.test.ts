/**
 * A client listing and searching a big mailbox (the mailbox benchmark's
 * path) on a real socket: header FETCHes and header SEARCHes served by the
 * shared header cache give the same answers as reading the messages, stay
 * right across sessions, appends, expunges and hand edits; BODY searches
 * read in batches; the transcript sums up long answers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { HeaderCache, type Derivation } from '../../../services/mail-domain/src/imap/header-cache';
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

const fetchLines = (r: string) => r.split('\r\n').filter((l) => l.startsWith('* ') && l.includes('FETCH'));

test('header FETCH and header SEARCH answers equal those from the whole message, again and again, in every session', async () => {
  for (let i = 1; i <= 300; i++) {
    await lab.store.append('mbrain', 'INBOX', message({ subject: i % 7 === 0 ? `Rapat ke-${i}` : `Pesan ${i}`, from: i % 5 === 0 ? 'Dewi <dewi@example.org>' : undefined, body: i % 11 === 0 ? 'anggaran baru\r\n' : 'halo\r\n' }));
  }
  await c.command('a1', 'SELECT INBOX');
  const listing = 'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])';
  const first = await c.command('a2', listing);
  expect(fetchLines(first)).toHaveLength(300);
  expect(await c.command('a3', listing)).toBe(first.replace(/^a2 /m, 'a3 '));
  // The same items through the full-message path (BODY[] forces a read of every message).
  const full = await c.command('a4', 'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)] BODY.PEEK[]<0.1>)');
  expect(fetchLines(full).map((l) => l.replace(/ BODY\[\]<0> \{1\}$/, ''))).toEqual(fetchLines(first));
  const env = await c.command('a5', 'FETCH 14 (ENVELOPE BODY.PEEK[HEADER])');
  expect(env).toMatch(/^\* 14 FETCH \(ENVELOPE \("Tue, 24 Nov 2026 10:00:00 \+0700" "Rapat ke-14" /m);
  expect(await c.command('a6', 'SEARCH SUBJECT rapat')).toMatch(new RegExp(`^\\* SEARCH ${Array.from({ length: 42 }, (_, i) => (i + 1) * 7).join(' ')}\\r\\n`, 'm'));
  expect(await c.command('a7', 'SEARCH FROM dewi')).toMatch(new RegExp(`^\\* SEARCH ${Array.from({ length: 60 }, (_, i) => (i + 1) * 5).join(' ')}\\r\\n`, 'm'));
  expect(await c.command('a8', 'SEARCH BODY anggaran')).toMatch(new RegExp(`^\\* SEARCH ${Array.from({ length: 27 }, (_, i) => (i + 1) * 11).join(' ')}\\r\\n`, 'm'));
  expect(await c.command('a9', 'SEARCH OR SUBJECT rapat BODY anggaran NOT FROM dewi')).toMatch(/^\* SEARCH 7 11 14 21 22 28 33 /m);
  // Another session gets the same answer from the shared cache.
  const d = await RawClient.connect(lab.port);
  try {
    await d.login();
    await d.command('b1', 'EXAMINE INBOX');
    // \Recent belongs to the first session only.
    expect(await d.command('b2', listing)).toBe(first.replace(/^a2 /m, 'b2 ').replace(/FLAGS \(\\Recent\)/g, 'FLAGS ()'));
  } finally {
    d.close();
  }
});

test('after appends, expunges and a hand edit the listing shows the mailbox as it is now', async () => {
  for (let i = 1; i <= 3; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: `m${i}` }));
  await c.command('a1', 'SELECT INBOX');
  const subjects = async (tag: string) => fetchLines(await c.command(tag, 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).length;
  expect(await subjects('a2')).toBe(3);
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'm4' }));
  await c.command('a3', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
  await c.command('a4', 'EXPUNGE');
  const r = await c.command('a5', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  expect(r.match(/Subject: m\d/g)).toEqual(['Subject: m1', 'Subject: m3', 'Subject: m4']);
  // A hand edit changes message 3's subject: it is a new message to IMAP (new UID or UIDVALIDITY), never the cached header.
  const path = lab.store.mboxPath('mbrain', 'INBOX');
  writeFileSync(path, readFileSync(path, 'latin1').replace('Subject: m3', 'Subject: M3'), 'latin1');
  const d = await RawClient.connect(lab.port);
  try {
    await d.login();
    await d.command('b1', 'SELECT INBOX');
    const after = await d.command('b2', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(after.match(/Subject: \w+/g)).toEqual(['Subject: m1', 'Subject: M3', 'Subject: m4']);
    expect(await d.command('b3', 'SEARCH SUBJECT M3')).toMatch(/^\* SEARCH 2\r\n/m);
  } finally {
    d.close();
  }
});

test('the header cache keeps to its budget, dropping the least recently used headers', async () => {
  for (let i = 1; i <= 40; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: `m${i}` }));
  const uidValidity = (await lab.store.snapshot('mbrain', 'INBOX')).uidValidity;
  const cache = new HeaderCache(20_000);
  const all = Array.from({ length: 40 }, (_, i) => i + 1);
  const got = await cache.headers(lab.store, 'mbrain', 'INBOX', uidValidity, all);
  expect(got.size).toBe(40);
  expect(got.get(9)!.fields.find((f) => f.name === 'Subject')!.value).toBe('m9');
  expect(cache.size).toBeLessThanOrEqual(20_000);
  expect(cache.size).toBeGreaterThan(10_000);
  // Gone messages are missing from the answer, not errors.
  expect((await cache.headers(lab.store, 'mbrain', 'INBOX', uidValidity, [1, 999])).has(999)).toBe(false);
});

test('the transcript shows the first 50 untagged lines of a command and sums up the rest; the client gets them all', async () => {
  for (let i = 1; i <= 60; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: `m${i}` }));
  await c.command('a1', 'SELECT INBOX');
  const r = await c.command('a2', 'FETCH 1:* (UID FLAGS)');
  expect(fetchLines(r)).toHaveLength(60);
  const log = lab.logs.join('\n');
  expect(log).toContain('S: * 50 FETCH (UID 50 FLAGS');
  expect(log).not.toContain('S: * 51 FETCH');
  expect(log).toMatch(/S: \.\.\. 10 more untagged responses \(\d+ octets\) not shown/);
  expect(log).toContain('S: a2 OK FETCH completed');
});

test('remembered ENVELOPEs and header sections (literals too) are the octets the whole message gives, and the transcript is the same', async () => {
  // An 8-bit subject cannot be quoted: ENVELOPE and HEADER.FIELDS carry literals.
  for (let i = 1; i <= 30; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: i % 3 === 0 ? `Rapat ${i} — ruang guru` : `Pesan ${i}`, extra: i % 4 === 0 ? 'Reply-To: "Tata Usaha" <tu@garudayaksa.com>' : undefined }));
  await c.command('a1', 'SELECT INBOX');
  const listing = 'UID FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.HEADER)';
  const first = await c.command('a2', listing);
  expect(first).toMatch(/^\* 3 FETCH \(UID 3 FLAGS \(\\Recent\) ENVELOPE \("[^"]+" \{22\}\r\nRapat 3 /m);
  const again = await c.command('a3', listing);
  expect(again).toBe(first.replace(/^a2 /m, 'a3 '));
  // The full-message path (BODY[]<0.1> reads every message) gives the same items.
  const full = await c.command('a4', listing.replace(/\)$/, ' BODY.PEEK[]<0.1>)'));
  const strip = (r: string) => r.replace(/ BODY\[\]<0> \{1\}\r\n.\)/g, ')').split('\r\n').filter((l) => !/^a\d /.test(l));
  expect(strip(full)).toEqual(strip(first));
  const logs = lab.logs.filter((l) => l.includes('S: * 3 FETCH'));
  expect(logs).toHaveLength(3);
  expect(logs[1].slice(logs[1].indexOf('S: '))).toBe(logs[0].slice(logs[0].indexOf('S: ')));
  // SEARCH over remembered subjects equals a search the cache has not seen (another session, other words).
  expect(await c.command('a5', 'SEARCH SUBJECT "ruang guru"')).toMatch(/^\* SEARCH 3 6 9 12 15 18 21 24 27 30\r\n/);
  expect(await c.command('a6', 'SEARCH SUBJECT "ruang guru"')).toMatch(/^\* SEARCH 3 6 9 12 15 18 21 24 27 30\r\n/);
  expect(await c.command('a7', 'SEARCH OR SUBJECT "pesan 1" NOT SUBJECT "e"')).toMatch(/^\* SEARCH 1 3 6 9 10 11 12 13 14 15 16 17 18 19 21 24 27 30\r\n/);
});

test('derived values keep to their own budget, dropping a whole kind at a time, and answers stay right beyond it', async () => {
  for (let i = 1; i <= 40; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: `m${i}` }));
  const uidValidity = (await lab.store.snapshot('mbrain', 'INBOX')).uidValidity;
  const cache = new HeaderCache(20_000, 3_000);
  const all = Array.from({ length: 40 }, (_, i) => i + 1);
  const subject = (key: string): Derivation<string> => ({ key, derive: (e) => e.fields.find((f) => f.name === 'Subject')!.value, cost: () => 100 });
  const seen: string[] = [];
  await cache.eachDerived(lab.store, 'mbrain', 'INBOX', uidValidity, all.slice(0, 20), [subject('A')], (uid, [v]) => seen.push(`${uid}:${v}`));
  expect(cache.derivedSize).toBe(2_000);
  // A second kind needs room: the first goes as a whole; the second fills to the budget, the rest is computed, not kept.
  await cache.eachDerived(lab.store, 'mbrain', 'INBOX', uidValidity, all, [subject('B')], (uid, [v]) => seen.push(`${uid}:${v}`));
  expect(cache.derivedSize).toBe(3_000);
  expect(seen.slice(20)).toEqual(all.map((u) => `${u}:m${u}`));
  await cache.eachDerived(lab.store, 'mbrain', 'INBOX', uidValidity, [40, 2, 999], [subject('B'), subject('A')], (uid, v) => seen.push(`${uid}:${v.join('/')}`));
  expect(seen.slice(60)).toEqual(['40:m40/m40', '2:m2/m2']);
  expect(cache.derivedSize).toBeLessThanOrEqual(3_000);
});
