/** Fault `greylist`: 451 4.7.1 for the first attempt of a new (client IP, sender, recipient), accepted after the delay. */
import { faultFromArgs as faultSpec } from '../../../services/core/src/faults';
import { setFault } from '../../../scripts/faults/apply';
import { listFaults } from '../../../scripts/faults/list';
import { eventually, Wire } from '../helpers/test-lab';
import { inbox, port, startFaultLab, submit, withSubject, type FaultLab } from './helpers';

let f: FaultLab;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const greylist = (on: boolean, delay?: string) => setFault(f.target, faultSpec(f.lab.config, 'greylist', ['dadali.com'], on && delay ? { delay } : {}, !on), on);

beforeAll(async () => {
  f = await startFaultLab({ timing: { retryInterval: '300ms' } });
});
afterAll(() => f.close());
afterEach(() => greylist(false));

async function rcptSession(from: string) {
  const w = await Wire.connect(port(f.lab, 'dadali.com', 'smtp'));
  await w.reply();
  await w.send('EHLO pc-siswa');
  expect(await w.send(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
  return w;
}

test('first RCPT of a new triplet gets 451, too early again 451, after the delay 250; another recipient is a new triplet', async () => {
  const r = await greylist(true, '700ms');
  expect(r.changed).toBe(true);
  expect(r.lines[0]).toMatch(/^fault greylist dadali\.com applied/);
  const again = await greylist(true, '700ms');
  expect(again).toEqual({ changed: false, lines: ['dadali.com was already greylisting with a delay of 700ms; nothing changed'] });

  const w = await rcptSession('siswa1@garudayaksa.com');
  expect(await w.send('RCPT TO:<jpri@dadali.com>')).toBe('451 4.7.1 Greylisted, try again in 1 s');
  expect(await w.send('RCPT TO:<JPRI@dadali.com>')).toMatch(/^451 4\.7\.1 Greylisted, try again in 1 s$/);
  await sleep(800);
  expect(await w.send('RCPT TO:<jpri@dadali.com>')).toMatch(/^250 /);
  expect(await w.send('RCPT TO:<siswa2@dadali.com>')).toMatch(/^451 4\.7\.1 /);
  w.close();

  const { faults } = await listFaults(f.target);
  expect(faults).toEqual([expect.objectContaining({ kind: 'greylist', target: 'dadali.com', detail: 'delay 700ms, 2 triplet(s) seen, 1 accepted' })]);
});

test('a sending server defers on the 451 and delivers at its next retry once the delay has passed', async () => {
  await greylist(true, '700ms');
  const id = await submit(f.lab, 'mbrain@garudayaksa.com', ['siswa3@dadali.com'], 'Greylist antre');
  await eventually('delivered after greylisting', async () => withSubject(await inbox(f.lab, 'dadali.com', 'siswa3'), 'Greylist antre').length === 1, 10_000);
  const entry = f.lab.domains['garudayaksa.com'].queue.finished(id)!;
  expect(entry.history[0]).toMatchObject({ result: 'deferred', detail: expect.stringMatching(/said: 451 4\.7\.1 Greylisted, try again in 1 s/) });
  expect(entry.history[entry.history.length - 1]).toMatchObject({ result: 'delivered' });
  // Never bounced: no notice for the sender.
  expect(withSubject(await inbox(f.lab, 'garudayaksa.com', 'mbrain'), 'Undelivered Mail Returned to Sender')).toHaveLength(0);
});

test('logged-in submission (587) is not greylisted; clear forgets every triplet', async () => {
  await greylist(true, '1h');
  await submit(f.lab, 'jpri@dadali.com', ['siswa4@dadali.com'], 'Lokal tanpa greylist');
  await eventually('local delivery', async () => withSubject(await inbox(f.lab, 'dadali.com', 'siswa4'), 'Lokal tanpa greylist').length === 1);

  let w = await rcptSession('siswa5@garudayaksa.com');
  expect(await w.send('RCPT TO:<siswa5@dadali.com>')).toBe('451 4.7.1 Greylisted, try again in 3600 s');
  w.close();
  expect((await greylist(false)).lines).toEqual(['fault greylist dadali.com cleared: no more greylisting; the triplets seen are forgotten']);
  expect((await greylist(false)).lines).toEqual(['dadali.com was not greylisting (no greylist fault); nothing changed']);
  w = await rcptSession('siswa5@garudayaksa.com');
  expect(await w.send('RCPT TO:<siswa5@dadali.com>')).toMatch(/^250 /);
  w.close();
  // On again: the triplet is unknown again.
  await greylist(true, '1h');
  w = await rcptSession('siswa5@garudayaksa.com');
  expect(await w.send('RCPT TO:<siswa5@dadali.com>')).toMatch(/^451 /);
  w.close();
});
