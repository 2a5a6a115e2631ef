/**
 * The IMAP sidecar's log (store/folder-state.ts, issue 15): an append or a
 * flag change adds a record to `<name>.log` and leaves the compacted JSON
 * part untouched (an append to a big folder is O(1)); UIDs and flags
 * survive a restart from the JSON part plus its log; a record torn by a
 * crash is ignored (and the next load compacts); a log of another
 * generation (a crash during a compaction) is ignored; an expunge compacts.
 */
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';
import { folderPaths } from '../../../services/mail-domain/src/store/paths';
import { tempStore } from '../helpers/temp-store';

const USER = 'mbrain';
const wire = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));
const msg = (subject: string) => wire(`From: jpri@dadali.com\nTo: mbrain@garudayaksa.com\nSubject: ${subject}\n\nHalo ${subject}.\n`);

const box = tempStore('mail-lab-sidecar-', [USER]);
const open = () => box.open();

const json = () => folderPaths(box.dir, USER, 'INBOX').state;
const log = () => json().replace(/\.json$/, '.log');
const uidsAndFlags = async (s: MboxMailStore) => {
  const snap = await s.snapshot(USER, 'INBOX');
  return { uidValidity: snap.uidValidity, uidNext: snap.uidNext, messages: snap.messages.map((m) => [m.uid, m.flags.join(' ')]) };
};

test('appends and flag changes go to the log; the compacted part is not rewritten; all survive a restart', async () => {
  const store = await open();
  for (let i = 1; i <= 20; i++) await store.append(USER, 'INBOX', msg(`m${i}`), { flags: i % 2 ? ['\\Seen'] : [] });
  await store.snapshot(USER, 'INBOX');
  const compacted = statSync(json());
  const compactedText = readFileSync(json(), 'utf8');
  // An append is in the log as soon as it is answered (nothing lazy about it).
  await store.append(USER, 'INBOX', msg('late'), { flags: ['\\Flagged'] });
  expect(readFileSync(log(), 'utf8')).toContain('"\\\\Flagged"');
  await store.setFlags(USER, 'INBOX', [2, 4], 'add', ['\\Answered', 'kata']);
  await store.setFlags(USER, 'INBOX', [1], 'remove', ['\\Seen']);
  await store.flush();
  expect(readFileSync(json(), 'utf8')).toBe(compactedText);
  expect(statSync(json()).mtimeMs).toBe(compacted.mtimeMs);
  expect(statSync(json()).ino).toBe(compacted.ino);
  const before = await uidsAndFlags(store);
  expect(before.messages).toContainEqual([2, '\\Answered kata']);
  expect(before.messages).toContainEqual([1, '']);
  expect(before.messages).toContainEqual([21, '\\Flagged']);

  const again = await open();
  expect(await uidsAndFlags(again)).toEqual(before);
  // Loading a sidecar that describes the file exactly writes nothing.
  expect(statSync(json()).mtimeMs).toBe(compacted.mtimeMs);
  expect((await again.append(USER, 'INBOX', msg('next'))).uid).toBe(22);
});

test('a torn last log record is ignored: the message keeps its place, the state before the record stays, the next load compacts', async () => {
  const store = await open();
  for (const s of ['a', 'b', 'c']) await store.append(USER, 'INBOX', msg(s));
  await store.setFlags(USER, 'INBOX', [2], 'add', ['\\Seen']);
  await store.flush();
  const before = await uidsAndFlags(store);
  // A crash in the middle of writing a flag record: half a line, no LF.
  const line = readFileSync(log(), 'utf8').trimEnd().split('\n').pop()!;
  appendFileSync(log(), line.replace('\\\\Seen', '\\\\Deleted').slice(0, line.length - 5));
  const again = await open();
  expect(await uidsAndFlags(again)).toEqual(before);
  expect(existsSync(log())).toBe(false); // compacted: the torn record is gone
  // A whole record with a wrong CRC is no better.
  await again.setFlags(USER, 'INBOX', [3], 'add', ['\\Flagged']);
  await again.flush();
  const after = await uidsAndFlags(again);
  const text = readFileSync(log(), 'utf8');
  writeFileSync(log(), text.replace('\\\\Flagged', '\\\\Draftxx'));
  const third = await open();
  expect((await uidsAndFlags(third)).messages).toEqual(before.messages);
  expect(after.messages).toContainEqual([3, '\\Flagged']);
});

test('a crash in the middle of a write of an appended message record: the message is kept and gets its UID again', async () => {
  const store = await open();
  for (const s of ['a', 'b']) await store.append(USER, 'INBOX', msg(s));
  await store.snapshot(USER, 'INBOX');
  await store.append(USER, 'INBOX', msg('c'), { flags: ['\\Seen'] });
  await store.flush();
  const full = readFileSync(log());
  writeFileSync(log(), full.subarray(0, full.length - 3)); // the record of `c` torn
  const again = await open();
  const snap = await again.snapshot(USER, 'INBOX');
  expect(snap.messages.map((m) => m.uid)).toEqual([1, 2, 3]);
  expect(snap.uidNext).toBe(4);
  expect((await again.read(USER, 'INBOX', 3))?.toString()).toContain('Subject: c');
});

test('a log of another generation (a crash between a compaction and the removal of the log) is ignored', async () => {
  const store = await open();
  for (const s of ['a', 'b', 'c']) await store.append(USER, 'INBOX', msg(s));
  await store.setFlags(USER, 'INBOX', [1], 'add', ['\\Seen']);
  await store.flush();
  const oldLog = readFileSync(log());
  // An expunge compacts: the JSON part anew, the log removed.
  await store.setFlags(USER, 'INBOX', [3], 'add', ['\\Deleted']);
  await store.expunge(USER, 'INBOX', [3]);
  expect(existsSync(log())).toBe(false);
  const before = await uidsAndFlags(store);
  writeFileSync(log(), oldLog); // as if the removal never happened: it names message 3, expunged, and the old generation
  const again = await open();
  expect(await uidsAndFlags(again)).toEqual(before);
  expect((await again.append(USER, 'INBOX', msg('c'))).uid).toBe(4);
});

test('the log is compacted into the JSON part once it has grown, and the state stays the same', async () => {
  const store = await open();
  await store.append(USER, 'INBOX', msg('a'));
  await store.snapshot(USER, 'INBOX');
  // Each flag change adds a record; far beyond the size that triggers a compaction.
  for (let i = 0; i < 2500; i++) {
    await store.setFlags(USER, 'INBOX', [1], i % 2 ? 'remove' : 'add', [`kata${'x'.repeat(200)}${i % 3}`]);
    if (i % 100 === 99) await store.flush();
  }
  await store.flush();
  expect(statSync(log(), { throwIfNoEntry: false })?.size ?? 0).toBeLessThan(300 * 1024);
  const before = await uidsAndFlags(store);
  const again = await open();
  expect(await uidsAndFlags(again)).toEqual(before);
});

test('RENAME moves the log with the folder: flags changed since the last compaction are kept', async () => {
  const store = await open();
  await store.createFolder(USER, 'Lama');
  for (const s of ['a', 'b']) await store.append(USER, 'Lama', msg(s));
  await store.setFlags(USER, 'Lama', [2], 'add', ['\\Seen']);
  await store.flush();
  // A new process: the folder is not loaded when it is renamed.
  const again = await open();
  await again.renameFolder(USER, 'Lama', 'Baru');
  const snap = await again.snapshot(USER, 'Baru');
  expect(snap.messages.map((m) => [m.uid, m.flags.join(' ')])).toEqual([
    [1, ''],
    [2, '\\Seen'],
  ]);
  expect(existsSync(join(box.dir, 'state', USER, 'folder-Lama.log'))).toBe(false);
});
