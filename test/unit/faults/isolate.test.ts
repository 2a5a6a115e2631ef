/**
 * Fault `isolate <domain>` in the no-Docker lab: the domain's outgoing mail
 * waits in its queue, mail to it waits in the other domain's queue, local
 * mail inside it still flows; clearing it (alone or with `fault clear all`)
 * lets both queues deliver, and leaves a link the instructor broke with
 * `break` broken. Also the Docker side's parsing of `ip -4 route`.
 */
import { clearAllFaults, faultSpec, listFaults, setFault } from '../../../scripts/commands/fault-control';
import { isolationRules, parseRoutes } from '../../../scripts/commands/isolate';
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

test('fault clear all ends the isolation but keeps a link the instructor broke separately', async () => {
  await isolate(true);
  await f.target.breakLink('garudayaksa.com', 'dadali.com');
  const r = await clearAllFaults(f.target);
  expect(r.lines).toEqual(['cleared 1 fault(s); the lab is back to normal']);
  expect((await listFaults(f.target)).faults).toEqual([]);
  expect(await f.target.links()).toEqual([expect.objectContaining({ a: 'garudayaksa.com', b: 'dadali.com', broken: true })]);
  const q = f.lab.domains['garudayaksa.com'].queue;
  const id = await submit(f.lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Masih putus');
  const e = await eventually('deferred by the break', () => q.list().find((x) => x.id === id && x.attempts === 1));
  expect(e.lastError).toMatch(/link broken by the instructor/);
  await f.target.healLink('garudayaksa.com', 'dadali.com');
  q.flush(id);
  await eventually('delivered after heal', async () => withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Masih putus').length === 1);
});

test('bad arguments say what is allowed', () => {
  expect(() => faultSpec(f.lab.config, 'isolate', [], {})).toThrow('isolate takes 1 argument: isolate <domain>');
  expect(() => faultSpec(f.lab.config, 'isolate', ['contoh.com'], {})).toThrow('unknown domain "contoh.com": isolate <domain>, where <domain> is one of garudayaksa.com, dadali.com');
});

test('Docker side: the backbone subnet and gateway from `ip -4 route`, and the rules built from them', () => {
  const routes = 'default via 172.29.25.1 dev eth0 \n172.29.25.0/24 dev eth0 proto kernel scope link src 172.29.25.20 \n';
  const net = parseRoutes(routes);
  expect(net).toEqual({ subnet: '172.29.25.0/24', gateway: '172.29.25.1' });
  expect(isolationRules(net!).map((r) => r.join(' '))).toEqual([
    '-A MAIL-LAB-ISOLATE-IN -s 172.29.25.1 -j RETURN',
    '-A MAIL-LAB-ISOLATE-IN -s 172.29.25.0/24 -j DROP',
  ]);
  expect(parseRoutes('172.29.25.0/24 dev eth0 proto kernel scope link src 172.29.25.20\n')).toBeNull();
});
