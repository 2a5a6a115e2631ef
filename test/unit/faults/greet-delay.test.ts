/**
 * Fault `greet-delay` (issue 15): port 25 waits before its greeting, a
 * client that talks first gets 421 "You talk too soon" and is counted, a
 * client that waits is served, a sending server's queue waits too (its
 * mail arrives), submission (587) greets at once, clear greets at once again.
 */
import { Socket } from 'node:net';
import { faultFromArgs as faultSpec, FaultArgumentError } from '../../../services/core/src/faults';
import { setFault } from '../../../scripts/faults/apply';
import { listFaults } from '../../../scripts/faults/list';
import { eventually } from '../helpers/test-lab';
import { inbox, port, startFaultLab, submit, withSubject, type FaultLab } from './helpers';

let f: FaultLab;
const greet = (on: boolean, delay?: string) => setFault(f.target, faultSpec(f.lab.config, 'greet-delay', ['dadali.com'], on && delay ? { delay } : {}, !on), on);

beforeAll(async () => {
  f = await startFaultLab({});
});
afterAll(() => f.close());
afterEach(() => greet(false));

/** Connects, optionally says something at once, and collects what the server says for `ms` (or until it closes). */
function talk(p: number, early: string | null, ms: number): Promise<{ firstByteMs: number; text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    let text = '';
    let first = -1;
    let closed = false;
    const t0 = performance.now();
    s.on('data', (d) => {
      if (first < 0) first = performance.now() - t0;
      text += d.toString('latin1');
    });
    s.on('close', () => (closed = true));
    s.once('error', reject);
    s.connect(p, '127.0.0.1', () => {
      if (early) s.write(early);
      setTimeout(() => {
        s.destroy();
        resolve({ firstByteMs: first, text, closed });
      }, ms);
    });
  });
}

test('an early talker gets 421 and is cut off; a patient client gets the 220 after the delay; the fault counts the early talkers', async () => {
  const r = await greet(true, '500ms');
  expect(r.changed).toBe(true);
  expect(r.lines[0]).toBe('fault greet-delay dadali.com applied: port 25 of dadali.com waits 500ms before its "220" greeting');
  expect(await greet(true, '500ms')).toEqual({ changed: false, lines: ['port 25 of dadali.com already waits 500ms before its greeting; nothing changed'] });

  const early = await talk(port(f.lab, 'dadali.com', 'smtp'), 'EHLO tergesa-gesa\r\n', 900);
  expect(early.text).toMatch(/^421 mail\.dadali\.com You talk too soon\r\n$/);
  expect(early.closed).toBe(true);

  const patient = await talk(port(f.lab, 'dadali.com', 'smtp'), null, 900);
  expect(patient.text).toMatch(/^220 mail\.dadali\.com /);
  expect(patient.firstByteMs).toBeGreaterThanOrEqual(450);

  const { faults } = await listFaults(f.target);
  expect(faults).toEqual([expect.objectContaining({ kind: 'greet-delay', target: 'dadali.com', detail: 'port 25 waits 500ms before its greeting, 1 early talker(s) cut off' })]);
});

test('submission (587) greets at once; mail from the other domain waits for the greeting and arrives', async () => {
  await greet(true, '400ms');
  const sub = await talk(port(f.lab, 'dadali.com', 'submission'), null, 300);
  expect(sub.text).toMatch(/^220 /);
  expect(sub.firstByteMs).toBeLessThan(300);
  await submit(f.lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Sabar menunggu salam');
  await eventually('delivered across the late greeting', async () => withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Sabar menunggu salam').length === 1, 10_000);
});

test('cleared: port 25 greets at once again; bad delays are refused with the rule', async () => {
  await greet(true, '2s');
  const r = await greet(false);
  expect(r.lines).toEqual(['fault greet-delay dadali.com cleared: port 25 of dadali.com greets at once again']);
  const now = await talk(port(f.lab, 'dadali.com', 'smtp'), null, 300);
  expect(now.firstByteMs).toBeLessThan(300);
  expect(() => faultSpec(f.lab.config, 'greet-delay', ['dadali.com'], { delay: '2m' })).toThrow(new FaultArgumentError('--delay: the delay must be at most 60s'));
  expect(() => faultSpec(f.lab.config, 'greet-delay', ['contoh.com'])).toThrow(/unknown domain "contoh.com"/);
});
