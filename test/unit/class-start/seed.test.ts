/**
 * `npx mail-lab seed` on a real lab (issue 13): the mail of the POP3 and IMAP
 * worksheets in their accounts, delivered through the lab's queue so the
 * mailbox file looks like real mail, read back with Python's poplib and
 * imaplib as the worksheets do; a second seed adds nothing; seeding goes
 * through while port 25 greylists; the choices that cannot work are refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFault } from '../../../scripts/faults/apply';
import { loadSeedFile, planSeed, SeedError, seedLab, seedMessage } from '../../../scripts/seed/seed';
import { startTestLab, type TestLab } from '../helpers/test-lab';
import { imap, pop3Stat, subjects } from './helpers';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab({ edit: (t) => t.replace(/    # students: \{ prefix: siswa, count: 30 \}\n/, '    students: { prefix: siswa, count: 2 }\n') });
}, 60_000);
afterAll(() => lab?.close());

const sets = loadSeedFile();

test('the default sets go to the worksheets\' accounts through the queue, even with port 25 greylisting', async () => {
  await setFault(lab.target(), { kind: 'greylist', domain: 'garudayaksa.com' }, true);
  const r = await seedLab(lab.target(), planSeed(lab.config, sets));
  expect(r.lines).toEqual(['siswa2@garudayaksa.com: 2 message(s) for pop3-download', 'siswa3@garudayaksa.com: 2 message(s) for imap-folders-search', 'siswa4@garudayaksa.com: 2 message(s) for pop3-vs-imap']);
  expect(r.delivered).toBe(6);
  // pop3-download, step 2: STAT says two messages.
  expect(await pop3Stat(lab, 'garudayaksa.com', 'siswa2')).toEqual([2, expect.any(Number)]);
  expect(await subjects(lab, 'garudayaksa.com', 'siswa2')).toEqual(['Tugas POP3 satu', 'Tugas POP3 dua']);
  // imap-folders-search, step 2: SEARCH SUBJECT "rapat" finds 1, BODY "laporan" finds 2.
  expect(await imap(lab, 'garudayaksa.com', 'siswa3', 'm.select("INBOX"); print(m.search(None,"SUBJECT","rapat")[1][0].decode()); print(m.search(None,"BODY","laporan")[1][0].decode())')).toBe('1\n2');
  // The mailbox file holds real mail: the mbox From line with the envelope sender, then Return-Path,
  // Delivered-To, the lab's own Received line, the message as a mail program wrote it.
  const file = readFileSync(join(lab.dataDir, 'garudayaksa.com', 'mail', 'siswa2'), 'latin1');
  expect(file).toMatch(/^From jpri@dadali\.com \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nReturn-Path: <jpri@dadali\.com>\nDelivered-To: siswa2@garudayaksa\.com\nReceived: by mail\.garudayaksa\.com \(mail-lab, local submission through the admin API\)\n\tid \w+; .+\nDate: .+\nFrom: jpri@dadali\.com\nTo: siswa2@garudayaksa\.com\nSubject: Tugas POP3 satu\nMessage-ID: <seed\.[^>]+@dadali\.com>\nMIME-Version: 1\.0\nContent-Type: text\/plain; charset=UTF-8\n/);
  expect(file).toContain('\n\nBaca pesan ini lewat POP3.\n');
  await setFault(lab.target(), { kind: 'greylist', domain: 'garudayaksa.com' }, false);
}, 60_000);

test('seed twice: what is there already is not sent again', async () => {
  const r = await seedLab(lab.target(), planSeed(lab.config, sets));
  expect(r.delivered).toBe(0);
  expect(r.skipped).toBe(6);
  expect(await pop3Stat(lab, 'garudayaksa.com', 'siswa2')).toEqual([2, expect.any(Number)]);
});

test('--worksheet and --to: one set into every generated student account', async () => {
  const plan = planSeed(lab.config, sets, { worksheets: ['pop3-download'], to: 'students' });
  expect(plan.map((p) => p.to)).toEqual(['siswa01@garudayaksa.com', 'siswa02@garudayaksa.com']);
  await seedLab(lab.target(), plan);
  expect(await subjects(lab, 'garudayaksa.com', 'siswa02')).toEqual(['Tugas POP3 satu', 'Tugas POP3 dua']);
});

test('what cannot work is refused with the reason', () => {
  expect(() => planSeed(lab.config, sets, { worksheets: ['pop3-by-hand', 'imap-folders-search'] })).toThrow(new SeedError('imap-folders-search and pop3-by-hand both use siswa3@garudayaksa.com: together their replies would not match the worksheets; seed one of them (--worksheet), or give one another account (--to)'));
  expect(() => planSeed(lab.config, sets, { worksheets: ['no-such-sheet'] })).toThrow(/no seed set for worksheet "no-such-sheet"; seed.yaml has: pop3-download, imap-folders-search, pop3-vs-imap, pop3-by-hand/);
  expect(() => planSeed(lab.config, sets, { to: 'nobody@garudayaksa.com' })).toThrow('--to nobody@garudayaksa.com is not an account of this lab');
});

test('a seed message is what a mail program writes: CRLF, UTF-8 subject as an encoded word', () => {
  const m = seedMessage({ from: 'Marsel <mbrain@garudayaksa.com>', to: 'siswa1@garudayaksa.com', subject: 'Ujian ✓', body: 'Baris satu\nBaris dua', date: new Date('2026-11-26T08:00:00Z') }).toString('utf8');
  expect(m).toMatch(/^Date: Thu, 26 Nov 2026 08:00:00 \+0000\r\nFrom: Marsel <mbrain@garudayaksa\.com>\r\nTo: siswa1@garudayaksa\.com\r\nSubject: =\?UTF-8\?B\?VWppYW4g4pyT\?=\r\n/);
  expect(m.endsWith('\r\n\r\nBaris satu\r\nBaris dua\r\n')).toBe(true);
  expect(m).not.toMatch(/[^\r]\n/);
});
