import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMailStore, type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';
import { isStoreError, type FolderChangeEvent } from '../../../services/mail-domain/src/store/types';

const wire = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));
const msg = (subject: string, body = 'Halo.\n') => wire(`From: jpri@dadali.com\nTo: mbrain@garudayaksa.com\nSubject: ${subject}\n\n${body}`);

let dir: string;
let store: MboxMailStore;
const open = async () => {
  const s = createMailStore({ dataDir: dir, users: ['mbrain', 'jpri'], sidecarDelayMs: 5, now: () => new Date('2026-11-26T07:30:00Z') });
  await s.init();
  return s;
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-store-'));
  store = await open();
});
afterEach(async () => {
  await store.flush();
  rmSync(dir, { recursive: true, force: true });
});

test('a delivered message is appended at the bottom of a plain mbox text file and reads back byte for byte', async () => {
  const tricky = msg('Makan siang', 'From the desk of Joko\n>From quoted\n.\n\nSenin?\n');
  const first = await store.append('mbrain', 'INBOX', msg('satu'), { envelopeFrom: 'jpri@dadali.com' });
  const second = await store.append('mbrain', 'INBOX', tricky, { envelopeFrom: 'jpri@dadali.com' });
  expect([first.uid, second.uid]).toEqual([1, 2]);
  expect(second.size).toBe(tricky.length);
  const file = readFileSync(join(dir, 'mail', 'mbrain'), 'latin1');
  expect(file).toBe(
    'From jpri@dadali.com Thu Nov 26 07:30:00 2026\nFrom: jpri@dadali.com\nTo: mbrain@garudayaksa.com\nSubject: satu\n\nHalo.\n\n' +
      'From jpri@dadali.com Thu Nov 26 07:30:00 2026\nFrom: jpri@dadali.com\nTo: mbrain@garudayaksa.com\nSubject: Makan siang\n\n>From the desk of Joko\n>>From quoted\n.\n\nSenin?\n\n',
  );
  expect(await store.read('mbrain', 'INBOX', 2)).toEqual(tricky);
  expect(await store.read('mbrain', 'INBOX', 99)).toBeNull();
});

test('UIDs, UIDVALIDITY and flags survive a restart and an expunge; the file shrinks', async () => {
  for (const s of ['a', 'b', 'c']) await store.append('mbrain', 'INBOX', msg(s));
  await store.setFlags('mbrain', 'INBOX', [1, 3], 'add', ['\\Seen']);
  const before = await store.snapshot('mbrain', 'INBOX');
  const sizeBefore = readFileSync(join(dir, 'mail', 'mbrain')).length;
  expect(await store.expunge('mbrain', 'INBOX', [2])).toEqual([2]);
  expect(readFileSync(join(dir, 'mail', 'mbrain')).length).toBeLessThan(sizeBefore);
  await store.flush();
  store = await open();
  const after = await store.snapshot('mbrain', 'INBOX');
  expect(after.uidValidity).toBe(before.uidValidity);
  expect(after.messages.map((m) => [m.uid, m.flags])).toEqual([[1, ['\\Seen']], [3, ['\\Seen']]]);
  expect((await store.append('mbrain', 'INBOX', msg('d'))).uid).toBe(4);
  expect((await store.read('mbrain', 'INBOX', 3))?.toString()).toContain('Subject: c');
});

test('a message a student appends by hand gets the next UID; an insertion in the middle forces a new UIDVALIDITY', async () => {
  await store.append('mbrain', 'INBOX', msg('a'));
  await store.append('mbrain', 'INBOX', msg('b'));
  const v1 = (await store.snapshot('mbrain', 'INBOX')).uidValidity;
  const path = join(dir, 'mail', 'mbrain');
  appendFileSync(path, 'From siswa1 Thu Nov 26 08:00:00 2026\nSubject: ditulis tangan\n\nisi\n\n');
  const events: FolderChangeEvent[] = [];
  store.onChange((e) => events.push(e));
  let snap = await store.snapshot('mbrain', 'INBOX');
  expect(snap.uidValidity).toBe(v1);
  expect(snap.messages.map((m) => m.uid)).toEqual([1, 2, 3]);
  expect(snap.messages[2].internalDate.toISOString()).toBe('2026-11-26T08:00:00.000Z');
  expect(events).toEqual([{ user: 'mbrain', folder: 'INBOX', change: { kind: 'append', uids: [3] } }]);
  const text = readFileSync(path, 'latin1');
  const cut = text.indexOf('From ', 10);
  writeFileSync(path, text.slice(0, cut) + 'From x Thu Nov 26 08:00:00 2026\nSubject: sisipan\n\n\n' + text.slice(cut));
  snap = await store.snapshot('mbrain', 'INBOX');
  expect(snap.uidValidity).toBeGreaterThan(v1);
  expect(snap.messages.map((m) => m.uid)).toEqual([1, 2, 3, 4]);
  expect(events.at(-1)?.change).toEqual({ kind: 'reset' });
});

test('an append cut short by a crash is rolled back on the next load (journal)', async () => {
  await store.append('jpri', 'INBOX', msg('utuh'));
  await store.flush();
  const path = join(dir, 'mail', 'jpri');
  const size = readFileSync(path).length;
  writeFileSync(join(dir, 'state', 'jpri', 'INBOX.append'), String(size));
  appendFileSync(path, 'From mbrain Thu Nov 26 07:31:00 2026\nSubject: setengah');
  store = await open();
  const snap = await store.snapshot('jpri', 'INBOX');
  expect(snap.messages).toHaveLength(1);
  expect(readFileSync(path).length).toBe(size);
  expect(existsSync(join(dir, 'state', 'jpri', 'INBOX.append'))).toBe(false);
});

test('folders: special-use folders exist, create, rename with inferiors, rename INBOX, copy, delete', async () => {
  expect(await store.listFolders('mbrain')).toEqual(['INBOX', 'Drafts', 'Sent', 'Trash']);
  await store.createFolder('mbrain', 'Kerja');
  await store.createFolder('mbrain', 'Kerja/Proyek');
  await expect(store.createFolder('mbrain', 'Kerja')).rejects.toMatchObject({ code: 'FOLDER_EXISTS' });
  await store.append('mbrain', 'Kerja/Proyek', msg('p'));
  await store.renameFolder('mbrain', 'Kerja', 'Pekerjaan');
  expect(await store.listFolders('mbrain')).toEqual(['INBOX', 'Drafts', 'Pekerjaan', 'Pekerjaan/Proyek', 'Sent', 'Trash']);
  expect((await store.snapshot('mbrain', 'Pekerjaan/Proyek')).messages).toHaveLength(1);
  await store.append('mbrain', 'INBOX', msg('x'), { flags: ['\\Flagged'] });
  const copied = await store.copy('mbrain', 'INBOX', [1], 'Trash');
  expect(copied.uids).toEqual([1]);
  expect((await store.snapshot('mbrain', 'Trash')).messages[0].flags).toEqual(['\\Flagged']);
  await store.renameFolder('mbrain', 'inbox', 'Arsip');
  expect((await store.snapshot('mbrain', 'INBOX')).messages).toHaveLength(0);
  expect((await store.snapshot('mbrain', 'Arsip')).messages).toHaveLength(1);
  await expect(store.deleteFolder('mbrain', 'INBOX')).rejects.toMatchObject({ code: 'CANNOT_DELETE_INBOX' });
  await store.deleteFolder('mbrain', 'Arsip');
  await expect(store.snapshot('mbrain', 'Arsip')).rejects.toMatchObject({ code: 'NO_SUCH_FOLDER' });
  await expect(store.snapshot('nobody', 'INBOX')).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
});

test('the POP3 maildrop lock admits one holder at a time', () => {
  const release = store.lockMaildrop('jpri', 'pop3-1');
  try {
    store.lockMaildrop('jpri', 'pop3-2');
    throw new Error('second lock was granted');
  } catch (e) {
    expect(isStoreError(e, 'LOCKED')).toBe(true);
  }
  release();
  store.lockMaildrop('jpri', 'pop3-2')();
});

test('concurrent appends to one mailbox all land, each whole', async () => {
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.append('jpri', 'INBOX', msg(`m${i}`, `body ${i}\n`.repeat(i + 1)))));
  const snap = await store.snapshot('jpri', 'INBOX');
  expect(snap.messages).toHaveLength(50);
  store = await open();
  const again = await store.snapshot('jpri', 'INBOX');
  expect(again.messages).toHaveLength(50);
  for (const m of again.messages) expect((await store.read('jpri', 'INBOX', m.uid))?.toString()).toMatch(/^From: jpri@dadali.com/);
});
