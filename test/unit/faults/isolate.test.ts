/**
 * Fault `isolate <domain>` in the no-Docker lab: the domain's outgoing mail
 * waits in its queue, mail to it waits in the other domain's queue, local
 * mail inside it still flows; clearing it (alone or with `fault clear all`)
 * lets both queues deliver, and leaves a link the instructor broke with
 * `break` broken, and `fault clear all` clears both.
 */
import { faultFromArgs as faultSpec } from '../../../services/core/src/faults';
import { setFault } from '../../../scripts/faults/apply';
import { clearAllFaults, linkStates, listFaults } from '../../../scripts/faults/list';
import { eventually } from '../helpers/test-lab';
import { inbox, startFaultLab, submit, withSubject, type FaultLab } from './helpers';

let f: FaultLab;
beforeAll(async () => {
  f = await startFaultLab({ timing: { retryInterval: '1h' } });
});
afterAll(() => f.close());

const isolate = (on: boolean) => setFault(f.target, faultSpec(f.lab.config, 'isolate', ['dadali.com'], {}, !on), on);

test('mail in and out of the isolated domain waits in the queues; local mail flows; clear + flush delivers both', async () => {
  const r = await isolate(true);
  expect(r.changed).toBe(true);
  expect(r.lines[0]).toBe('fault isolate dadali.com applied: dadali.com is cut off from the lab backbone (no DNS, no other domain, no client container)');
  expect(r.lines.join('\n')).toContain('no-Docker lab');
  expect((await isolate(true)).lines).toEqual(['dadali.com was already cut off from the backbone (fault isolate); nothing changed']);
  expect((await listFaults(f.target)).faults).toEqual([expect.objectContaining({ kind: 'isolate', target: 'dadali.com' })]);

  const gq = f.lab.domains['garudayaksa.com'].queue;
  const dq = f.lab.domains['dadali.com'].queue;
  const inId = await submit(f.lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Ke domain terputus');
  const outId = await submit(f.lab, 'jpri@dadali.com', ['mbrain@garudayaksa.com'], 'Dari domain terputus');
  await submit(f.lab, 'jpri@dadali.com', ['jpri@dadali.com'], 'Lokal di domain terputus');
  const inbound = await eventually('deferred at garudayaksa', () => gq.list().find((e) => e.id === inId && e.attempts === 1));
  const outbound = await eventually('deferred at dadali', () => dq.list().find((e) => e.id === outId && e.attempts === 1));
  expect(inbound.lastError).toMatch(/timed out/);
  expect(outbound.lastError).toMatch(/timed out \(cut off from the lab backbone/);
  await eventually('local mail delivered inside the isolated domain', async () => withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Lokal di domain terputus').length === 1);
  expect(withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Ke domain terputus')).toHaveLength(0);

  const cleared = await isolate(false);
  expect(cleared.lines[0]).toBe('fault isolate dadali.com cleared: dadali.com is back on the backbone');
  expect((await isolate(false)).lines).toEqual(['dadali.com was not cut off (no isolate fault); nothing changed']);
  expect(gq.flush()).toContain(inId);
  expect(dq.flush()).toContain(outId);
  await eventually('both delivered', async () =>
    withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Ke domain terputus').length === 1 && withSubject(await inbox(f.lab, 'garudayaksa.com', 'mbrain'), 'Dari domain terputus').length === 1,
  );
  await eventually('queues empty', () => gq.list().length === 0 && dq.list().length === 0);
});

const link = (on: boolean) => setFault(f.target, faultSpec(f.lab.config, 'link', ['garudayaksa.com', 'dadali.com'], {}, !on), on);

test('clearing the isolation keeps a link the instructor broke separately; fault clear all clears both', async () => {
  await isolate(true);
  await link(true);
  expect((await listFaults(f.target)).faults.map((x) => `${x.kind} ${x.target}`).sort()).toEqual(['isolate dadali.com', 'link garudayaksa.com <-> dadali.com']);
  await isolate(false);
  expect(await linkStates(f.target)).toEqual([expect.objectContaining({ a: 'garudayaksa.com', b: 'dadali.com', broken: true })]);
  const q = f.lab.domains['garudayaksa.com'].queue;
  const id = await submit(f.lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Masih putus');
  const e = await eventually('deferred by the break', () => q.list().find((x) => x.id === id && x.attempts === 1));
  expect(e.lastError).toMatch(/link broken by the instructor/);
  await isolate(true);
  const r = await clearAllFaults(f.target);
  expect(r.lines).toEqual(['cleared 2 fault(s); the lab is back to normal']);
  expect((await listFaults(f.target)).faults).toEqual([]);
  expect(await linkStates(f.target)).toEqual([expect.objectContaining({ broken: false })]);
  q.flush(id);
  await eventually('delivered after clear all', async () => withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Masih putus').length === 1);
});

test('bad arguments say what is allowed', () => {
  expect(() => faultSpec(f.lab.config, 'isolate', [], {})).toThrow('isolate takes 1 argument: isolate <domain>');
  expect(() => faultSpec(f.lab.config, 'isolate', ['contoh.com'], {})).toThrow('unknown domain "contoh.com"; the lab has: garudayaksa.com, dadali.com');
});
