/**
 * Regression tests for the tears kill-mailbox.test.ts found in RENAME
 * (issue 5): a process killed right after a rename lost the flags of the
 * moved messages (the new folder's sidecar was written lazily, or a
 * folder's sidecar was renamed after its mbox file), and a kill in the
 * middle of RENAME INBOX could leave the messages in both mailboxes or an
 * empty new folder. Here the crash is made exact: the store is dropped
 * without flush (what SIGKILL does to it), or one file operation fails
 * where the crash would have stopped it, and a new store over the same
 * directory (the restart) must show the state before or after, whole.
 */
import fs, { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMailStore, type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';

const wire = (n: number) => Buffer.from(`From: jpri@dadali.com\r\nTo: mbrain@garudayaksa.com\r\nSubject: pesan ${n}\r\nX-Seq: ${n}\r\n\r\nHalo ${n}.\r\n`);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-rename-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

/** A store as a start of the process makes it (the long sidecar delay: nothing lazy reaches the disk before the "crash"). */
async function open(): Promise<MboxMailStore> {
  const s = createMailStore({ dataDir: dir, users: ['mbrain'], sidecarDelayMs: 60_000 });
  await s.init();
  return s;
}

async function seqs(s: MboxMailStore, folder: string): Promise<{ seq: number; flags: string[] }[]> {
  const snap = await s.snapshot('mbrain', folder);
  const raw = await s.readMany('mbrain', folder, snap.messages.map((m) => m.uid), 'header');
  return snap.messages.map((m, i) => ({ seq: Number(/X-Seq: (\d+)/.exec(raw[i]!.toString())![1]), flags: [...m.flags] }));
}

/** Three messages in INBOX (the second flagged), five in Arsip and two in Arsip/2025 (the first seen), all flushed. */
async function setUp(): Promise<void> {
  const s = await open();
  for (const n of [1, 2, 3]) await s.append('mbrain', 'INBOX', wire(n));
  await s.setFlags('mbrain', 'INBOX', [2], 'add', ['\\Flagged']);
  await s.createFolder('mbrain', 'Arsip');
  await s.createFolder('mbrain', 'Arsip/2025');
  for (const n of [11, 12, 13, 14, 15]) await s.append('mbrain', 'Arsip', wire(n));
  for (const n of [21, 22]) await s.append('mbrain', 'Arsip/2025', wire(n));
  await s.setFlags('mbrain', 'Arsip/2025', [1], 'add', ['\\Seen']);
  await s.flush();
}

const INBOX_AFTER = [{ seq: 1, flags: [] }, { seq: 2, flags: ['\\Flagged'] }, { seq: 3, flags: [] }];

const leftovers = () =>
  [join(dir, 'mail'), join(dir, 'folders/mbrain'), join(dir, 'state/mbrain')].flatMap((d) => readdirSync(d).filter((f) => f.includes('.tmp') || f === 'rename.journal'));

test('RENAME INBOX, then killed before any lazy write: the new folder has every message with its flags, INBOX is empty', async () => {
  await setUp();
  const s = await open();
  await s.renameFolder('mbrain', 'INBOX', 'Lama');
  // No flush: the process is gone.
  const after = await open();
  expect(await seqs(after, 'Lama')).toEqual(INBOX_AFTER);
  expect(await seqs(after, 'INBOX')).toEqual([]);
});

test('RENAME of a folder hierarchy, then killed: flags and UIDs moved with the messages', async () => {
  await setUp();
  const s = await open();
  const before = await s.snapshot('mbrain', 'Arsip/2025');
  await s.renameFolder('mbrain', 'Arsip', 'Gudang');
  const after = await open();
  expect(await after.listFolders('mbrain')).toEqual(['INBOX', 'Drafts', 'Gudang', 'Gudang/2025', 'Sent', 'Trash']);
  const moved = await after.snapshot('mbrain', 'Gudang/2025');
  expect({ uidValidity: moved.uidValidity, uids: moved.messages.map((m) => m.uid) }).toEqual({ uidValidity: before.uidValidity, uids: before.messages.map((m) => m.uid) });
  expect(await seqs(after, 'Gudang/2025')).toEqual([{ seq: 21, flags: ['\\Seen'] }, { seq: 22, flags: [] }]);
});

test('killed after RENAME INBOX committed (the new file not yet in place): the restart finishes it', async () => {
  await setUp();
  const s = await open();
  const realRename = fs.promises.rename;
  jest.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
    if (String(to).endsWith(join('folders', 'mbrain', 'Lama'))) throw Object.assign(new Error('killed'), { code: 'EKILLED' });
    return realRename(from, to);
  });
  await expect(s.renameFolder('mbrain', 'INBOX', 'Lama')).rejects.toThrow('killed');
  jest.restoreAllMocks();
  const after = await open();
  expect(await seqs(after, 'Lama')).toEqual(INBOX_AFTER);
  expect(await seqs(after, 'INBOX')).toEqual([]);
  expect(leftovers()).toEqual([]);
});

test('killed in RENAME INBOX before it committed: INBOX as before, no half-made folder, no temp file', async () => {
  await setUp();
  const s = await open();
  // The journal is written with durable-file.ts's writeDurable (an open in the thread pool, then the fsync).
  const realOpen = fs.open;
  jest.spyOn(fs, 'open').mockImplementation(((...args: unknown[]) => {
    const done = args[args.length - 1] as (err: NodeJS.ErrnoException | null, fd?: number) => void;
    if (String(args[0]).endsWith('rename.journal')) return process.nextTick(done, Object.assign(new Error('killed'), { code: 'EKILLED' }));
    return (realOpen as (...a: unknown[]) => void)(...args);
  }) as typeof fs.open);
  await expect(s.renameFolder('mbrain', 'INBOX', 'Lama')).rejects.toThrow('killed');
  // What the failed rename left is what a kill at that moment leaves (plus the temp file the cleanup would have removed).
  jest.restoreAllMocks();
  const after = await open();
  expect(await after.listFolders('mbrain')).not.toContain('Lama');
  expect(existsSync(join(dir, 'state/mbrain/folder-Lama.json'))).toBe(false);
  expect(await seqs(after, 'INBOX')).toEqual(INBOX_AFTER);
  expect(leftovers()).toEqual([]);
});

test('killed in the middle of a hierarchy RENAME (one folder moved): the restart moves the rest', async () => {
  await setUp();
  const s = await open();
  const realRename = fs.promises.rename;
  jest.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
    if (String(to).endsWith(join('folders', 'mbrain', 'Gudang%2F2025'))) throw Object.assign(new Error('killed'), { code: 'EKILLED' });
    return realRename(from, to);
  });
  await expect(s.renameFolder('mbrain', 'Arsip', 'Gudang')).rejects.toThrow('killed');
  jest.restoreAllMocks();
  const after = await open();
  expect(await after.listFolders('mbrain')).toEqual(['INBOX', 'Drafts', 'Gudang', 'Gudang/2025', 'Sent', 'Trash']);
  expect(await seqs(after, 'Gudang')).toEqual([11, 12, 13, 14, 15].map((seq) => ({ seq, flags: [] })));
  expect(await seqs(after, 'Gudang/2025')).toEqual([{ seq: 21, flags: ['\\Seen'] }, { seq: 22, flags: [] }]);
  expect(leftovers()).toEqual([]);
});
