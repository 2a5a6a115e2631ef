/**
 * The store's read path after the mailbox benchmark: readMany (many messages,
 * or only their headers, in few large reads), the cache of open file handles
 * (reopened when an expunge or a hand edit replaces the file), and the
 * octet-level LF -> CRLF conversion of fromMboxBody.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FileHandleCache } from '../../../services/mail-domain/src/store/file-handles';
import { fromMboxBody, toMboxBody } from '../../../services/mail-domain/src/store/mbox-format';
import { createMailStore, type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';

const wire = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));
const msg = (subject: string, body = 'Halo.\n') => wire(`From: jpri@dadali.com\nSubject: ${subject}\n\n${body}`);

let dir: string;
let store: MboxMailStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-readmany-'));
  store = createMailStore({ dataDir: dir, users: ['mbrain'], sidecarDelayMs: 5 });
  await store.init();
});
afterEach(async () => {
  await store.flush();
  rmSync(dir, { recursive: true, force: true });
});

test('readMany returns the messages in the order asked, null for UIDs that are gone, the same octets as read', async () => {
  const bodies = [msg('satu'), msg('dua', 'From the desk\n>From quoted\n.\n'), msg('tiga', 'x'.repeat(100_000) + '\n'), wire('Subject: no body\n')];
  for (const b of bodies) await store.append('mbrain', 'INBOX', b);
  const got = await store.readMany('mbrain', 'INBOX', [3, 99, 1, 2, 4]);
  expect(got.map((b) => b?.toString('latin1') ?? null)).toEqual([bodies[2], null, bodies[0], bodies[1], bodies[3]].map((b) => b?.toString('latin1') ?? null));
  for (let uid = 1; uid <= 4; uid++) expect((await store.read('mbrain', 'INBOX', uid))!.equals(bodies[uid - 1])).toBe(true);
  expect(await store.readMany('mbrain', 'INBOX', [])).toEqual([]);
  await expect(store.readMany('mbrain', 'Nowhere', [1])).rejects.toMatchObject({ code: 'NO_SUCH_FOLDER' });
});

test("readMany 'header' returns the header section with its empty line, or all of a message that has no body", async () => {
  await store.append('mbrain', 'INBOX', msg('satu', 'body line\n\nmore\n'));
  await store.append('mbrain', 'INBOX', wire('Subject: only a header'));
  await store.append('mbrain', 'INBOX', wire('\nbody without header\n'));
  const [a, b, c] = await store.readMany('mbrain', 'INBOX', [1, 2, 3], 'header');
  expect(a!.toString()).toBe('From: jpri@dadali.com\r\nSubject: satu\r\n\r\n');
  expect(b!.toString()).toBe('Subject: only a header\r\n');
  expect(c!.toString()).toBe('\r\n');
});

test('readMany over many messages spanning several large reads', async () => {
  // 30 messages of up to 3 MB: more than one 8 MB read, one of them larger than a read on its own.
  const big = Array.from({ length: 30 }, (_, i) => msg(`m${i}`, `${String(i % 10).repeat(i === 7 ? 9_000_000 : 1 + ((i * 7919) % 3_000_000))}\n`));
  for (const b of big) await store.append('mbrain', 'INBOX', b);
  const uids = big.map((_, i) => i + 1).reverse();
  const got = await store.readMany('mbrain', 'INBOX', uids);
  expect(got.map((b, i) => b !== null && b.equals(big[uids[i] - 1]))).toEqual(uids.map(() => true));
});

test('readMany calls running at once, whole and header, each get their own octets, unchanged by the reads after them', async () => {
  // The reads go through a few reused buffers: a result that pointed into one would change under its caller.
  const bodies = Array.from({ length: 40 }, (_, i) => msg(`m${i}`, `${String.fromCharCode(97 + (i % 26)).repeat(1 + ((i * 104_729) % 400_000))}\n`));
  for (const b of bodies) await store.append('mbrain', 'INBOX', b);
  const all = bodies.map((_, i) => i + 1);
  const headerOf = (b: Buffer) => b.subarray(0, b.indexOf('\r\n\r\n') + 4).toString('latin1');
  const rounds = await Promise.all([
    store.readMany('mbrain', 'INBOX', all),
    store.readMany('mbrain', 'INBOX', [...all].reverse()),
    store.readMany('mbrain', 'INBOX', all, 'header'),
    store.readMany('mbrain', 'INBOX', all.filter((u) => u % 3 === 0)),
  ]);
  const later = await Promise.all([store.readMany('mbrain', 'INBOX', all), store.readMany('mbrain', 'INBOX', all, 'header')]);
  expect(rounds[0].every((b, i) => b!.equals(bodies[i]))).toBe(true);
  expect(rounds[1].every((b, i) => b!.equals(bodies[bodies.length - 1 - i]))).toBe(true);
  expect(rounds[2].map((b) => b!.toString('latin1'))).toEqual(bodies.map(headerOf));
  expect(rounds[3].every((b, i) => b!.equals(bodies[(i + 1) * 3 - 1]))).toBe(true);
  expect(later[0].every((b, i) => b!.equals(bodies[i]))).toBe(true);
  expect(later[1].map((b) => b!.toString('latin1'))).toEqual(bodies.map(headerOf));
});

test('reads stay right when an expunge or a hand edit replaces the file under an open handle', async () => {
  for (const s of ['a', 'b', 'c']) await store.append('mbrain', 'INBOX', msg(s));
  expect(await store.read('mbrain', 'INBOX', 3)).toEqual(msg('c'));
  await store.expunge('mbrain', 'INBOX', [1]);
  expect(await store.read('mbrain', 'INBOX', 3)).toEqual(msg('c'));
  expect(await store.readMany('mbrain', 'INBOX', [2, 3])).toEqual([msg('b'), msg('c')]);
  // A hand edit that writes a new file and renames it over the old one (as editors do).
  const path = store.mboxPath('mbrain', 'INBOX');
  const text = readFileSync(path, 'latin1');
  writeFileSync(path + '.new', text.replace('Subject: b', 'Subject: B'));
  renameSync(path + '.new', path);
  const snap = await store.snapshot('mbrain', 'INBOX');
  const subjects = (await store.readMany('mbrain', 'INBOX', snap.messages.map((m) => m.uid))).map((m) => /Subject: (\w)/.exec(m!.toString())![1]);
  expect(subjects).toEqual(['B', 'c']);
  // Renaming and deleting folders drop their handles too.
  await store.createFolder('mbrain', 'Arsip');
  await store.append('mbrain', 'Arsip', msg('x'));
  expect(await store.read('mbrain', 'Arsip', 1)).toEqual(msg('x'));
  await store.renameFolder('mbrain', 'Arsip', 'Lama');
  expect(await store.read('mbrain', 'Lama', 1)).toEqual(msg('x'));
  await store.deleteFolder('mbrain', 'Lama');
  await store.createFolder('mbrain', 'Lama');
  expect(await store.read('mbrain', 'Lama', 1)).toBeNull();
});

test('the handle cache keeps at most `max` idle handles, reopens on a new inode and never closes a handle in use', async () => {
  const cache = new FileHandleCache(2);
  const files = ['a', 'b', 'c'].map((n) => join(dir, n));
  files.forEach((f, i) => writeFileSync(f, `file ${i}`));
  const { statSync } = await import('node:fs');
  // Positioned reads, as the store does: a cached handle may have been read to its end before.
  const whole = async (fh: import('node:fs/promises').FileHandle) => {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(size);
    await fh.read(buf, 0, size, 0);
    return buf.toString();
  };
  const read = (f: string) => cache.with(f, statSync(f).ino, whole);
  expect(await Promise.all(files.map(read))).toEqual(['file 0', 'file 1', 'file 2']);
  expect((cache as unknown as { held: Map<string, unknown> }).held.size).toBe(2);
  writeFileSync(files[0] + '.new', 'replaced');
  renameSync(files[0] + '.new', files[0]);
  expect(await read(files[0])).toBe('replaced');
  // Dropped while in use: the reader finishes on its handle.
  const inUse = cache.with(files[1], statSync(files[1]).ino, async (fh) => {
    cache.dropAll();
    await new Promise((r) => setTimeout(r, 10));
    return whole(fh);
  });
  expect(await inUse).toBe('file 1');
});

test('fromMboxBody: the octet path and the text path give the same wire form', () => {
  const reference = (stored: Buffer) => Buffer.from(stored.toString('latin1').replace(/^>(>*From )/gm, '$1').replace(/\n/g, '\r\n'), 'latin1');
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', 'From ', '>From ', '>>From x', '\n', '\r', '\r\n', '.', ' ', 'é', '\u0000'), { maxLength: 60 }), (pieces) => {
      const stored = Buffer.from(pieces.join(''), 'latin1');
      expect(fromMboxBody(stored)).toEqual(reference(stored));
    }),
  );
  const wireForm = wire('From: a\n\nFrom the start\n>From quoted\nend\n');
  expect(fromMboxBody(toMboxBody(wireForm))).toEqual(wireForm);
  const empty = Buffer.alloc(0);
  expect(fromMboxBody(empty)).toEqual(empty);
});
