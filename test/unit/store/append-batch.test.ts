/**
 * Appends that arrive together into one mailbox (the queue's 20 deliveries
 * at once) are written together: every one stored once, in the order it
 * came, with its own UID, on disk when its promise resolves (a new store on
 * the same directory sees them); a message over the size limit is refused
 * alone; the IMAP sessions see them in fewer change events than messages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMailStore } from '../../../services/mail-domain/src/store/mbox-store';
import { isStoreError, type FolderChangeEvent } from '../../../services/mail-domain/src/store/types';
import { tempStore } from '../helpers/temp-store';

const t = tempStore('mail-lab-batch-', ['siswa1', 'siswa2']);
const msg = (n: number, pad = 0) => Buffer.from(`From: jpri@dadali.com\r\nTo: siswa1@garudayaksa.com\r\nSubject: pesan ${n}\r\n\r\nIsi ${n}.${'x'.repeat(pad)}\r\n`);

test('40 appends at once into one INBOX: each stored once, in order, with its own UID, on disk when answered, in fewer change events', async () => {
  const store = await t.open();
  const events: FolderChangeEvent[] = [];
  store.onChange((e) => events.push(e));
  const infos = await Promise.all(Array.from({ length: 40 }, (_, i) => store.append('siswa1', 'INBOX', msg(i), { envelopeFrom: 'jpri@dadali.com' })));
  expect(infos.map((m) => m.uid)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  const file = readFileSync(join(t.dir, 'mail', 'siswa1'), 'latin1');
  expect([...file.matchAll(/^Subject: pesan (\d+)$/gm)].map((m) => Number(m[1]))).toEqual(Array.from({ length: 40 }, (_, i) => i));
  const appendEvents = events.flatMap((e) => (e.change.kind === 'append' ? [e.change.uids] : []));
  expect(appendEvents.flat()).toEqual(infos.map((m) => m.uid));
  expect(appendEvents.length).toBeLessThan(40);
  // Another store on the same files (as after a restart) reads every message back.
  const again = await t.open();
  const snap = await again.snapshot('siswa1', 'INBOX');
  expect(snap.messages.map((m) => m.uid)).toEqual(infos.map((m) => m.uid));
  expect((await again.read('siswa1', 'INBOX', 17))?.toString()).toBe(msg(16).toString());
});

test('one message over the size limit among appends at once is refused alone; the others are stored', async () => {
  const store = createMailStore({ dataDir: t.dir, users: ['siswa1'], sidecarDelayMs: 5, maxMessageSize: 2000 });
  await store.init();
  const results = await Promise.allSettled([msg(0), msg(1, 5000), msg(2)].map((m) => store.append('siswa1', 'INBOX', m)));
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(isStoreError((results[1] as PromiseRejectedResult).reason, 'TOO_BIG')).toBe(true);
  const file = readFileSync(join(t.dir, 'mail', 'siswa1'), 'latin1');
  expect([...file.matchAll(/^Subject: pesan (\d+)$/gm)].map((m) => m[1])).toEqual(['0', '2']);
  await store.flush();
});

test('appends at once to two users and two folders go each to its own mailbox', async () => {
  const store = await t.open();
  await store.createFolder('siswa1', 'Arsip');
  const jobs = Array.from({ length: 30 }, (_, i) => {
    const [user, folder] = [['siswa1', 'INBOX'], ['siswa2', 'INBOX'], ['siswa1', 'Arsip']][i % 3];
    return store.append(user, folder, msg(i)).then((info) => ({ user, folder, i, uid: info.uid }));
  });
  const done = await Promise.all(jobs);
  for (const [user, folder] of [['siswa1', 'INBOX'], ['siswa2', 'INBOX'], ['siswa1', 'Arsip']]) {
    const mine = done.filter((d) => d.user === user && d.folder === folder);
    expect(mine.map((d) => d.uid)).toEqual(mine.map((_, k) => k + 1));
    const snap = await store.snapshot(user, folder);
    expect(snap.messages.length).toBe(10);
    for (const d of mine) expect((await store.read(user, folder, d.uid))?.toString()).toContain(`Subject: pesan ${d.i}\r\n`);
  }
});
