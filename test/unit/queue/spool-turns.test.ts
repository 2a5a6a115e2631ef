/**
 * The queue spool on a real directory: writes to one message's files take
 * turns. An administrator's `hold` lands while the delivery agent records the
 * end of an attempt of the same message; both must succeed and the file must
 * end with the state of the later one, and a removal must not be undone by
 * an update still under way.
 */
import { mkdtempSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../../../services/mail-domain/src/queue/spool';
import type { QueueEntry } from '../../../services/mail-domain/src/queue/types';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mail-lab-spool-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (id: string): QueueEntry => ({
  id,
  from: 'mbrain@garudayaksa.com',
  arrival: new Date().toISOString(),
  size: 5,
  recipients: [{ address: 'jpri@dadali.com', local: false, status: 'pending', attempts: 0 }],
  warned: false,
  held: false,
  history: [],
});

test('twenty updates of one message at once all succeed, and the file holds the last state', async () => {
  const spool = new Spool(dir);
  await spool.init();
  const e = entry('Q1');
  await spool.add(e, Buffer.from('hello'));
  const writes: Promise<void>[] = [];
  for (let i = 1; i <= 20; i++) {
    e.recipients[0].attempts = i;
    e.held = i % 2 === 0;
    writes.push(spool.update(e));
  }
  await expect(Promise.all(writes)).resolves.toHaveLength(20);
  const onDisk = JSON.parse(readFileSync(join(dir, 'Q1.json'), 'utf8')) as QueueEntry;
  expect(onDisk.recipients[0].attempts).toBe(20);
  expect(onDisk.held).toBe(true);
  expect(readdirSync(dir).sort()).toEqual(['Q1.json', 'Q1.msg']);
  const [recovered] = await new Spool(dir).init();
  expect(recovered).toMatchObject({ id: 'Q1', held: true });
});

test('a removal after an update still under way leaves no file behind', async () => {
  const spool = new Spool(dir);
  await spool.init();
  const e = entry('Q2');
  await spool.add(e, Buffer.from('hello'));
  e.held = true;
  await Promise.all([spool.update(e), spool.remove('Q2')]);
  expect(existsSync(join(dir, 'Q2.json'))).toBe(false);
  expect(existsSync(join(dir, 'Q2.msg'))).toBe(false);
  expect(await new Spool(dir).init()).toEqual([]);
});
