/**
 * An expunge rewrites the mbox file by copying the kept messages range by
 * range through a bounded buffer (store/mbox-store.ts `rewrite`, issue 15:
 * a 1.7 GB mailbox is not read into memory): messages larger than the
 * buffer, runs of kept messages and gaps all come out byte for byte, and a
 * RENAME of INBOX (a kernel copy) moves them exactly too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitMbox } from '../../../services/mail-domain/src/store/mbox-format';
import { tempStore } from '../helpers/temp-store';

const USER = 'mbrain';
const box = tempStore('mail-lab-expunge-', [USER]);
const open = () => box.open();

/** Message `i`: small, or (every third) over 4 MiB, with a body that tells where each line is. */
function message(i: number): Buffer {
  const lines = i % 3 === 0 ? 90_000 : 3;
  const body = Array.from({ length: lines }, (_, n) => `pesan ${i} baris ${n} ${'abcdefghij'.repeat(4)}`).join('\r\n');
  return Buffer.from(`From: jpri@dadali.com\r\nSubject: pesan ${i}\r\n\r\n${body}\r\n`);
}

test('an expunge keeps every other message byte for byte, big ones included; a restart reads the same', async () => {
  const store = await open();
  const all = Array.from({ length: 9 }, (_, i) => message(i + 1));
  for (const m of all) await store.append(USER, 'INBOX', m, { envelopeFrom: 'jpri@dadali.com', internalDate: new Date(Date.UTC(2026, 11, 2)) });
  const file = readFileSync(join(box.dir, 'mail', USER));
  const parts = splitMbox(file).map((e) => file.subarray(e.start, e.end));
  // Gone: 2, 3 (a big one), 7; kept: runs 1, 4-6, 8-9.
  expect(await store.expunge(USER, 'INBOX', [2, 3, 7])).toEqual([2, 3, 7]);
  const kept = [1, 4, 5, 6, 8, 9];
  expect(readFileSync(join(box.dir, 'mail', USER)).equals(Buffer.concat(kept.map((uid) => parts[uid - 1])))).toBe(true);
  for (const uid of kept) expect((await store.read(USER, 'INBOX', uid))?.equals(all[uid - 1])).toBe(true);
  const again = await open();
  expect((await again.snapshot(USER, 'INBOX')).messages.map((m) => m.uid)).toEqual(kept);
  for (const uid of kept) expect((await again.read(USER, 'INBOX', uid))?.equals(all[uid - 1])).toBe(true);
  // RENAME INBOX: the messages move to the new folder exactly, INBOX is left empty.
  await again.renameFolder(USER, 'INBOX', 'Arsip');
  expect((await again.snapshot(USER, 'INBOX')).messages).toHaveLength(0);
  const moved = await again.snapshot(USER, 'Arsip');
  expect(moved.messages).toHaveLength(kept.length);
  for (const [i, m] of moved.messages.entries()) expect((await again.read(USER, 'Arsip', m.uid))?.equals(all[kept[i] - 1])).toBe(true);
});
