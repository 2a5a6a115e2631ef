/**
 * The queue spool's files as a student finds them in `/var/mail-lab/queue`
 * and as the queue reads them back after a restart: one `<id>.msg` per
 * message (the envelope as it arrived on its first line, then the message
 * octet for octet), a `<id>.json` beside it once an attempt changed the
 * state, and an earlier version's `<id>.eml` + `<id>.json` still read.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../../../services/mail-domain/src/queue/spool';
import type { QueueEntry } from '../../../services/mail-domain/src/queue/types';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mail-lab-spool-format-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (id: string, subject = 'Rapat'): QueueEntry => ({
  id,
  subject,
  from: 'mbrain@garudayaksa.com',
  arrival: '2026-12-03T08:00:00.000Z',
  size: 0,
  recipients: [
    { address: 'jpri@dadali.com', local: false, status: 'pending', attempts: 0 },
    { address: 'siswa1@garudayaksa.com', local: true, status: 'pending', attempts: 0 },
  ],
  warned: false,
  held: false,
  history: [],
});

// CRLF lines, a line that looks like JSON, and no line break at the end: none of it may leak into the envelope.
const message = Buffer.from('{"id":"not an envelope"}\r\nSubject: Rapat\r\n\r\nBesok jam 9.\r\n.titik');

test('a new message is one file: its envelope on the first line, then the message as it will be delivered', async () => {
  const spool = new Spool(dir);
  await spool.init();
  // A subject with a line break (RFC 5322 folding gone wrong) must still leave the envelope one line.
  await spool.add(entry('Q1', 'Rapat\r\nbesok'), message);
  expect(readdirSync(dir)).toEqual(['Q1.msg']);
  const file = readFileSync(join(dir, 'Q1.msg'));
  const nl = file.indexOf(10);
  expect(JSON.parse(file.subarray(0, nl).toString())).toMatchObject({ id: 'Q1', subject: 'Rapat\r\nbesok', from: 'mbrain@garudayaksa.com' });
  expect(file.subarray(nl + 1).equals(message)).toBe(true);

  const reader = new Spool(dir);
  const [back] = await reader.init();
  expect(back).toMatchObject({ id: 'Q1', subject: 'Rapat\r\nbesok' });
  expect((await reader.read('Q1')).equals(message)).toBe(true);
});

test('the state of an attempt goes beside the message, wins after a restart, and both go when the message is done', async () => {
  const spool = new Spool(dir);
  await spool.init();
  const e = entry('Q2');
  await spool.add(e, message);
  e.recipients[1].status = 'delivered';
  e.recipients[0].attempts = 1;
  await spool.update(e);
  expect(readdirSync(dir).sort()).toEqual(['Q2.json', 'Q2.msg']);
  // The message file is not written again: its first line is still the arrival's envelope.
  expect(JSON.parse(readFileSync(join(dir, 'Q2.msg'), 'utf8').split('\n')[0]).recipients[1].status).toBe('pending');

  const reader = new Spool(dir);
  const [back] = await reader.init();
  expect(back.recipients.map((r) => r.status)).toEqual(['pending', 'delivered']);
  expect((await reader.read('Q2')).equals(message)).toBe(true);
  await reader.remove('Q2');
  expect(readdirSync(dir)).toEqual([]);
});

test('a removal cut short after the message file went leaves a state alone, which the next start removes', async () => {
  writeFileSync(join(dir, 'Q3.json'), JSON.stringify(entry('Q3'), null, 1));
  expect(await new Spool(dir).init()).toEqual([]);
  expect(readdirSync(dir)).toEqual([]);
});

test("an earlier version's spool (message in .eml, envelope in .json) is read, delivered from and removed", async () => {
  writeFileSync(join(dir, 'Q4.eml'), message);
  writeFileSync(join(dir, 'Q4.json'), JSON.stringify(entry('Q4'), null, 1));
  const spool = new Spool(dir);
  const [back] = await spool.init();
  expect(back).toMatchObject({ id: 'Q4', subject: 'Rapat' });
  expect((await spool.read('Q4')).equals(message)).toBe(true);
  const e = entry('Q4');
  e.held = true;
  await spool.update(e);
  expect(readdirSync(dir).sort()).toEqual(['Q4.eml', 'Q4.json']);
  await spool.remove('Q4');
  expect(existsSync(join(dir, 'Q4.eml')) || existsSync(join(dir, 'Q4.json'))).toBe(false);
});
