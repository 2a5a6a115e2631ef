/** A real client, imapflow, against the server and the real mbox store. */
import { ImapFlow } from 'imapflow';
import { NESTED } from './fixtures';
import { message, PASSWORD, startLab, type Lab } from './harness';

let lab: Lab;
const clients: ImapFlow[] = [];

function client(): ImapFlow {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port: lab.port,
    secure: false,
    auth: { user: 'mbrain@garudayaksa.com', pass: PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  lab = await startLab();
  await lab.store.append('mbrain', 'INBOX', NESTED, { internalDate: new Date('2026-11-24T03:00:00Z') });
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'Second one', body: 'Rapat jam tiga\r\n' }));
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.logout().catch(() => c.close());
  // The client never had to work around us: no BAD answers in the transcript.
  expect(lab.logs.filter((l) => /imap S: \S+ BAD /.test(l))).toEqual([]);
  await lab.close();
});

test('list with special-use, status, select, fetch envelope/bodystructure/source', async () => {
  const c = client();
  await c.connect();
  const boxes = await c.list();
  const byPath = Object.fromEntries(boxes.map((b) => [b.path, b]));
  expect(Object.keys(byPath).sort()).toEqual(['Drafts', 'INBOX', 'Sent', 'Trash']);
  expect(byPath.Sent.specialUse).toBe('\\Sent');
  expect(byPath.Trash.specialUse).toBe('\\Trash');
  expect(byPath.Drafts.specialUse).toBe('\\Drafts');
  const status = await c.status('INBOX', { messages: true, unseen: true, uidNext: true });
  expect(status).toMatchObject({ messages: 2, unseen: 2, uidNext: 3 });
  const box = await c.mailboxOpen('INBOX');
  expect(box.exists).toBe(2);
  const msgs = [];
  for await (const m of c.fetch('1:*', { uid: true, envelope: true, bodyStructure: true, source: true, flags: true, internalDate: true })) msgs.push(m);
  expect(msgs).toHaveLength(2);
  const first = msgs[0];
  expect(first.envelope?.subject).toBe('Laporan bulan ini ✓');
  expect(first.envelope?.from?.[0]).toMatchObject({ name: 'Joko, Priyono', address: 'jpri@dadali.com' });
  expect(first.source?.equals(NESTED)).toBe(true);
  const bs = first.bodyStructure!;
  expect(bs.type).toBe('multipart/mixed');
  expect(bs.childNodes?.map((n) => n.type)).toEqual(['multipart/alternative', 'application/pdf', 'message/rfc822']);
  expect(bs.childNodes?.[1]).toMatchObject({ part: '2', disposition: 'attachment', dispositionParameters: { filename: 'laporan été.pdf' }, encoding: 'base64' });
  expect(bs.childNodes?.[0].childNodes?.[0]).toMatchObject({ part: '1.1', type: 'text/plain', encoding: 'quoted-printable', lineCount: 2 });
  const dl = await c.download('1', '1.1');
  const chunks: Buffer[] = [];
  for await (const chunk of dl.content!) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).toString('utf8')).toContain('Café jam 3?');
});

test('search, append, move, flags', async () => {
  const c = client();
  await c.connect();
  await c.mailboxOpen('INBOX');
  expect(await c.search({ subject: 'bulan ini' })).toEqual([1]);
  expect(await c.search({ body: 'rapat' }, { uid: true })).toEqual([2]);
  expect(await c.search({ from: 'jpri@dadali.com' })).toEqual([1, 2]);
  expect(await c.search({ seen: false })).toEqual([1, 2]);
  const appended = await c.append('Drafts', message({ subject: 'draft' }), ['\\Draft']);
  expect(appended).toMatchObject({ destination: 'Drafts', uid: 1 });
  expect(await c.messageFlagsAdd('2', ['\\Flagged'])).toBe(true);
  expect(await c.search({ flagged: true })).toEqual([2]);
  const moved = await c.messageMove('1', 'Trash');
  expect(moved).toMatchObject({ destination: 'Trash' });
  expect(moved && [...(moved.uidMap?.entries() ?? [])]).toEqual([[1, 1]]);
  expect(c.mailbox && c.mailbox.exists).toBe(1);
  expect((await lab.store.snapshot('mbrain', 'Trash')).messages).toHaveLength(1);
});

test('idle receives an append made by a second session', async () => {
  const watcher = client();
  const writer = client();
  await watcher.connect();
  await writer.connect();
  await watcher.mailboxOpen('INBOX');
  const seen = new Promise<number>((resolve) => watcher.on('exists', (data: { count: number }) => resolve(data.count)));
  const idling = watcher.idle();
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await writer.append('INBOX', message({ subject: 'while idling' }));
  expect(await seen).toBe(3);
  expect(Date.now() - started).toBeLessThan(1000);
  await watcher.noop(); // breaks IDLE with DONE
  await idling;
});
