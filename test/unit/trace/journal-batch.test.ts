/**
 * The trace journal on a real directory: events of one turn of the event loop
 * are written together, yet `trace` (find) and `check` (since) asked right
 * after an event see it, the file holds every event in order after the turn,
 * and the file still rotates past its size limit.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceJournal, type TraceEvent } from '../../../services/mail-domain/src/trace/journal';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mail-lab-journal-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const smtpIn = (i: number, queueId = `Q${i}`): TraceEvent => ({
  kind: 'smtp-in',
  time: new Date(Date.UTC(2026, 11, 2, 8, 0, i)).toISOString(),
  domain: 'dadali.com',
  queueId,
  messageId: `<m${i}@garudayaksa.com>`,
  port: 25,
  peer: 'mail.garudayaksa.com 127.0.0.1',
  transcript: [`C: MAIL FROM:<a${i}@garudayaksa.com>`, 'S: 250 Accepted'],
});
const turn = () => new Promise((r) => setImmediate(r));
const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);

test('an event is found by trace and check in the same turn it was added', async () => {
  const j = new TraceJournal(dir);
  j.add(smtpIn(1));
  j.add({ kind: 'queue', time: new Date().toISOString(), domain: 'dadali.com', queueId: 'Q1', messageId: '<m1@garudayaksa.com>', entry: {} });
  expect(j.find('<m1@garudayaksa.com>').map((e) => e.kind)).toEqual(['smtp-in', 'queue']);
  expect((await j.since(new Date(Date.UTC(2026, 11, 2)), ['smtp-in'])).map((e) => (e as { queueId: string }).queueId)).toEqual(['Q1']);
  expect(lines(join(dir, 'trace.jsonl'))).toHaveLength(2);
});

test('a thousand events of one turn are all in the file, in order, after it', async () => {
  const j = new TraceJournal(dir);
  for (let i = 0; i < 1000; i++) j.add(smtpIn(i));
  expect(existsSync(join(dir, 'trace.jsonl'))).toBe(false);
  await turn();
  const got = lines(join(dir, 'trace.jsonl')).map((l) => (JSON.parse(l) as { queueId: string }).queueId);
  expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => `Q${i}`));
});

test('past its size limit the file is rotated to trace.jsonl.1 and both are read', async () => {
  const j = new TraceJournal(dir, 2000);
  for (let i = 0; i < 10; i++) j.add(smtpIn(i));
  await turn();
  for (let i = 10; i < 12; i++) j.add(smtpIn(i));
  await turn();
  expect(existsSync(join(dir, 'trace.jsonl.1'))).toBe(true);
  expect(lines(join(dir, 'trace.jsonl'))).toHaveLength(2);
  expect(j.find('<m3@garudayaksa.com>')).toHaveLength(1);
  expect(j.find('<m11@garudayaksa.com>')).toHaveLength(1);
});
