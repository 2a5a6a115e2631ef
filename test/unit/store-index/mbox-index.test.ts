/**
 * The persistent mbox index (store/mbox-index.ts, issue 15): it splits a
 * file exactly as splitMbox does whatever the chunk size; a folder loaded
 * from it answers exactly as one loaded from the mbox file; an append
 * extends it in place (O(1)); and whatever happens to it (deleted, torn by
 * a crash, a flipped octet, an mbox edited by hand or appended to without
 * it) the store's answers stay those of the mbox file.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { separatorLine, splitMbox, toMboxBody } from '../../../services/mail-domain/src/store/mbox-format';
import { scanMbox, type ScannedMessage } from '../../../services/mail-domain/src/store/mbox-index';
import { type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';
import { folderPaths } from '../../../services/mail-domain/src/store/paths';
import { tempStore } from '../helpers/temp-store';

const USER = 'mbrain';
const wire = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));
const msg = (subject: string, body = 'Halo.\n') => wire(`From: jpri@dadali.com\nTo: mbrain@garudayaksa.com\nSubject: ${subject}\n\n${body}`);

const box = tempStore('mail-lab-index-', [USER]);
const open = () => box.open();

const paths = () => folderPaths(box.dir, USER, 'INBOX');
/** What IMAP and POP3 see of INBOX: the snapshot and every message's header section and whole octets. */
async function view(store: MboxMailStore) {
  const snap = await store.snapshot(USER, 'INBOX');
  const uids = snap.messages.map((m) => m.uid);
  const headers = await store.readMany(USER, 'INBOX', uids, 'header');
  const whole = await store.readMany(USER, 'INBOX', uids);
  return {
    uidValidity: snap.uidValidity,
    uidNext: snap.uidNext,
    messages: snap.messages.map((m, i) => ({ ...m, internalDate: m.internalDate.getTime(), header: headers[i]?.toString('latin1'), whole: whole[i]?.toString('latin1') })),
  };
}

const bodies = [msg('satu'), msg('dua', 'From the desk\n>From quoted\n.\n'), wire('Subject: only a header\n'), msg('empat', 'x'.repeat(9_000) + '\n')];

async function filled() {
  const store = await open();
  for (const b of bodies) await store.append(USER, 'INBOX', b, { envelopeFrom: 'jpri@dadali.com' });
  await store.setFlags(USER, 'INBOX', [2], 'add', ['\\Seen']);
  await store.flush();
  return { store, before: await view(store) };
}

test('scanMbox splits any file exactly as splitMbox, whatever the chunk size', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mail-lab-scan-')), 'mbox');
  const piece = fc.constantFrom('From ', 'From x Thu Nov 26 07:30:00 2026\n', '\n', '\n\n', 'a', '>', ' ', '\r', 'Subject: s\n');
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 1, max: 23 }), async (pieces, chunk) => {
      const data = Buffer.from(pieces.join(''), 'latin1');
      writeFileSync(file, data);
      const got: Omit<ScannedMessage, 'body'>[] = [];
      const octets = await scanMbox(file, ({ body, ...m }) => void got.push({ ...m, body: body.toString('latin1') } as never), chunk);
      expect(octets).toBe(data.length);
      expect(got).toEqual(splitMbox(data).map((e) => ({ ...e, body: data.toString('latin1', e.bodyStart, e.bodyEnd) })));
    }),
    { numRuns: 400 },
  );
  rmSync(join(file, '..'), { recursive: true, force: true });
});

test('a folder loaded from its index answers as the mbox file does, and loading it does not rewrite it', async () => {
  const { before } = await filled();
  expect(existsSync(paths().index)).toBe(true);
  const stamp = statSync(paths().index);
  const again = await view(await open());
  expect(again).toEqual(before);
  expect(again.messages.map((m) => m.whole)).toEqual(bodies.map((b) => b.toString('latin1')));
  expect(again.messages[1].header).toBe('From: jpri@dadali.com\r\nTo: mbrain@garudayaksa.com\r\nSubject: dua\r\n\r\n');
  expect(again.messages[1].flags).toEqual(['\\Seen']);
  const after = statSync(paths().index);
  expect([after.ino, after.mtimeMs, after.size]).toEqual([stamp.ino, stamp.mtimeMs, stamp.size]);
});

test('an append extends the index in place by its own record, and a restart uses it as it is', async () => {
  const { store } = await filled();
  const a = statSync(paths().index);
  const added = msg('lima', 'baru\n');
  await store.append(USER, 'INBOX', added);
  const b = statSync(paths().index);
  expect(b.ino).toBe(a.ino);
  // 72 octets of record + the header section in wire form.
  expect(b.size - a.size).toBe(72 + 'From: jpri@dadali.com\r\nTo: mbrain@garudayaksa.com\r\nSubject: lima\r\n\r\n'.length);
  const live = await view(store);
  const restarted = await view(await open());
  expect(restarted).toEqual(live);
  expect(restarted.messages[4].whole).toBe(added.toString('latin1'));
  expect(statSync(paths().index).mtimeMs).toBe(b.mtimeMs);
});

describe('whatever happens to the index, the answers are those of the mbox file', () => {
  const cases: Array<[string, () => void]> = [
    ['deleted', () => unlinkSync(paths().index)],
    ['torn by a crash in an append (its last record cut short)', () => truncateSync(paths().index, statSync(paths().index).size - 30)],
    ['records written but the header not (octets beyond its length)', () => appendFileSync(paths().index, Buffer.alloc(100, 7))],
    [
      'a flipped octet in a cached header section',
      () => {
        const data = readFileSync(paths().index);
        const at = data.indexOf('Subject: dua');
        data[at + 9] = 'X'.charCodeAt(0);
        writeFileSync(paths().index, data);
      },
    ],
    ['garbage', () => writeFileSync(paths().index, 'not an index\n')],
  ];
  for (const [name, damage] of cases) {
    test(name, async () => {
      const { before } = await filled();
      damage();
      expect(await view(await open())).toEqual(before);
      // Rebuilt: a second restart reads the good one.
      expect(await view(await open())).toEqual(before);
    });
  }

  test('the mbox appended to without the index (a crash after the append, before the index update)', async () => {
    const { before } = await filled();
    const late = msg('enam', 'terlambat\n');
    appendFileSync(paths().mbox, Buffer.concat([Buffer.from(separatorLine('jpri@dadali.com', new Date(Date.UTC(2026, 11, 2, 8)))), toMboxBody(late), Buffer.from('\n')]));
    const got = await view(await open());
    expect(got.messages.slice(0, 4)).toEqual(before.messages);
    expect(got.messages[4]).toMatchObject({ uid: before.uidNext, size: late.length, header: 'From: jpri@dadali.com\r\nTo: mbrain@garudayaksa.com\r\nSubject: enam\r\n\r\n', whole: late.toString('latin1'), internalDate: Date.UTC(2026, 11, 2, 8) });
  });

  test('the mbox edited by hand (a message changed in the middle, same size)', async () => {
    const { before } = await filled();
    const file = readFileSync(paths().mbox);
    const at = file.indexOf('Subject: satu');
    file.write('Subject: SATU', at, 'latin1');
    writeFileSync(paths().mbox, file);
    const got = await view(await open());
    expect(got.messages[0].header).toContain('Subject: SATU\r\n');
    expect(got.messages[0].whole).toContain('Subject: SATU\r\n');
    expect(got.messages.slice(1).map((m) => m.whole)).toEqual(before.messages.slice(1).map((m) => m.whole));
  });
});

test('after an expunge the index is rebuilt for the new file and a restart answers the same', async () => {
  const { store } = await filled();
  await store.expunge(USER, 'INBOX', [1, 3]);
  const live = await view(store);
  expect(live.messages.map((m) => m.uid)).toEqual([2, 4]);
  expect(live.messages[0].header).toContain('Subject: dua\r\n');
  expect(await view(await open())).toEqual(live);
});
