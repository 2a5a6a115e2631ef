/**
 * `npx mail-lab reset` on real labs (issue 13, running a class): each part on
 * its own (faults, queues, mailboxes), all three when none is named, and
 * another lab on the same machine untouched. Mailboxes: INBOX and the
 * special-use folders emptied, students' folders deleted, UIDVALIDITY kept
 * and UIDs still growing (RFC 3501 2.3.1.1), seen by Python's imaplib; the
 * CA kept (the same certificate before and after).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { listFaults } from '../../../scripts/faults/list';
import { setFault } from '../../../scripts/faults/apply';
import { resetLab, resetParts } from '../../../scripts/reset/reset';
import { startTestLab, eventually, type TestLab } from '../helpers/test-lab';
import { submit } from '../faults/helpers';
import { imap, inboxStatus, subjects } from './helpers';

let a: TestLab;
let b: TestLab;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestLab({ tls: true, timing: { retryInterval: '1h' } }), startTestLab({ timing: { retryInterval: '1h' } })]);
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** Mail in a mailbox, a folder made over IMAP with a message moved in, a message stuck in the queue, two faults. */
async function makeAClassMess(lab: TestLab): Promise<void> {
  await submit(lab, 'mbrain@garudayaksa.com', ['siswa1@garudayaksa.com'], 'Satu');
  await submit(lab, 'mbrain@garudayaksa.com', ['siswa1@garudayaksa.com'], 'Dua');
  await eventually('two messages in siswa1', async () => (await subjects(lab, 'garudayaksa.com', 'siswa1')).length === 2);
  expect(await imap(lab, 'garudayaksa.com', 'siswa1', 'print(m.create("Tugas")[0]); m.select("INBOX"); print(m.copy("1","Tugas")[0])')).toBe('OK\nOK');
  await lab.cut('garudayaksa.com', 'dadali.com');
  await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Tertahan');
  await eventually('the message waits in the queue', async () => (await lab.target().mail('garudayaksa.com').call(MAIL_API.queue)).some((q) => q.attempts > 0));
  await setFault(lab.target(), { kind: 'greylist', domain: 'dadali.com' }, true);
  await setFault(lab.target(), { kind: 'dns-servfail', domain: 'dadali.com' }, true);
}

test('reset --faults, --queues, --mailboxes each do their part only, in this lab only', async () => {
  await Promise.all([makeAClassMess(a), makeAClassMess(b)]);
  const before = await inboxStatus(a, 'garudayaksa.com', 'siswa1');
  expect(before.messages).toBe(2);
  const ca = readFileSync(join(a.dataDir, 'ca', 'ca.crt'), 'utf8');

  const faults = await resetLab(a.target(), resetParts({ faults: true }));
  expect(faults.lines[0]).toMatch(/^faults: cleared 3 \(/);
  expect((await listFaults(a.target())).faults).toEqual([]);
  expect((await a.target().mail('garudayaksa.com').call(MAIL_API.queue)).length).toBe(1);
  expect(await subjects(a, 'garudayaksa.com', 'siswa1')).toEqual(['Satu', 'Dua']);

  const queues = await resetLab(a.target(), resetParts({ queues: true }));
  expect(queues.dropped).toBe(1);
  expect(queues.lines).toContainEqual(expect.stringMatching(/^queue garudayaksa\.com: dropped 1 message \(\w+\), nobody was told$/));
  expect(await a.target().mail('garudayaksa.com').call(MAIL_API.queue)).toEqual([]);
  expect(await subjects(a, 'garudayaksa.com', 'siswa1')).toEqual(['Satu', 'Dua']);

  const boxes = await resetLab(a.target(), resetParts({ mailboxes: true }));
  expect(boxes.removed).toBe(3); // two in INBOX, the copy in Tugas
  expect(boxes.lines).toContainEqual('mailboxes garudayaksa.com: 7 accounts emptied, 3 messages removed, 1 folder of students deleted');
  expect(await subjects(a, 'garudayaksa.com', 'siswa1')).toEqual([]);
  expect(readFileSync(join(a.dataDir, 'garudayaksa.com', 'mail', 'siswa1'), 'utf8')).toBe('');
  // The folder is gone, the special-use ones are there; UIDVALIDITY kept, UIDs go on growing.
  expect(await imap(a, 'garudayaksa.com', 'siswa1', 'print(sorted(l.decode().split(\'"/" \')[1] for l in m.list()[1]))')).toBe(`['"Drafts"', '"INBOX"', '"Sent"', '"Trash"']`);
  const after = await inboxStatus(a, 'garudayaksa.com', 'siswa1');
  expect(after).toEqual({ messages: 0, uidnext: before.uidnext, uidvalidity: before.uidvalidity });
  await submit(a, 'mbrain@garudayaksa.com', ['siswa1@garudayaksa.com'], 'Kelas baru');
  await eventually('the new class mail', async () => (await subjects(a, 'garudayaksa.com', 'siswa1')).includes('Kelas baru'));
  expect(await imap(a, 'garudayaksa.com', 'siswa1', 'm.select("INBOX"); print(m.uid("search",None,"ALL")[1][0].decode())')).toBe(String(before.uidnext));
  // The CA stays: a mail program that trusts it keeps trusting it.
  expect(readFileSync(join(a.dataDir, 'ca', 'ca.crt'), 'utf8')).toBe(ca);

  // The other lab was not touched by any of it.
  expect((await listFaults(b.target())).faults.map((f) => f.kind).sort()).toEqual(['dns-servfail', 'greylist', 'link']);
  expect((await b.target().mail('garudayaksa.com').call(MAIL_API.queue)).length).toBe(1);
  expect(await subjects(b, 'garudayaksa.com', 'siswa1')).toEqual(['Satu', 'Dua']);
  expect(await subjects(b, 'garudayaksa.com', 'siswa1', 'Tugas')).toEqual(['Satu']);
}, 90_000);

test('reset with no option does all three; the queue profile goes back to the lab definition', async () => {
  await b.target().mail('dadali.com').call(MAIL_API.setQueueProfile, { name: 'demo' });
  const r = await resetLab(b.target(), resetParts({}));
  expect(r.faults).toBe(3);
  expect(r.dropped).toBe(1);
  expect(r.removed).toBe(3);
  expect(r.lines).toContainEqual('queue dadali.com: was empty; queue profile demo -> test');
  expect(r.lines[r.lines.length - 1]).toMatch(/^kept: the lab CA/);
  expect((await listFaults(b.target())).faults).toEqual([]);
  expect(await subjects(b, 'garudayaksa.com', 'siswa1')).toEqual([]);
  expect((await b.target().mail('dadali.com').call(MAIL_API.queueProfile)).name).toBe('test');
  // Nothing left: a second reset says so.
  const again = await resetLab(b.target(), resetParts({}));
  expect(again.lines.slice(0, 3)).toEqual(['faults: none was on', 'queue garudayaksa.com: was empty', 'queue dadali.com: was empty']);
}, 60_000);
