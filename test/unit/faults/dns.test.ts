/** Faults `dns-servfail` and `dns-down`: the sending queue defers (never bounces), the DNS keeps logging, clear + flush delivers. */
import { Resolver } from 'node:dns/promises';
import { faultFromArgs as faultSpec } from '../../../services/core/src/faults';
import { AdminCallError } from '../../../services/core/src/admin/client';
import { setFault } from '../../../scripts/faults/apply';
import { clearAllFaults, faultLines, listFaults } from '../../../scripts/faults/list';
import { eventually } from '../helpers/test-lab';
import { inbox, startFaultLab, submit, withSubject, type FaultLab } from './helpers';

let f: FaultLab;
beforeAll(async () => {
  f = await startFaultLab({ timing: { retryInterval: '1h' } });
});
afterAll(() => f.close());

const fault = (kind: string, args: string[], on: boolean) => setFault(f.target, faultSpec(f.lab.config, kind, args, {}, !on), on);
const ask = (name: string) => {
  const r = new Resolver({ timeout: 300, tries: 1 });
  r.setServers([`127.0.0.1:${f.lab.dns.port}`]);
  return r.resolveMx(name).then((mx) => mx.map((m) => m.exchange).join(','), (e: NodeJS.ErrnoException) => e.code);
};

test('dns-servfail: SERVFAIL for names in one domain only; the sender defers; clear + flush delivers', async () => {
  const r = await fault('dns-servfail', ['dadali.com'], true);
  expect(r.lines[0]).toBe('fault dns-servfail dadali.com applied: every name in dadali.com gets SERVFAIL from the lab DNS');
  expect((await fault('dns-servfail', ['DADALI.com'], true)).lines).toEqual(['the lab DNS already answers SERVFAIL for dadali.com; nothing changed']);
  expect(await ask('dadali.com')).toBe('ESERVFAIL');
  expect(await ask('mail.dadali.com')).toBe('ESERVFAIL');
  expect(await ask('garudayaksa.com')).toBe('mail.garudayaksa.com');
  const logged = f.lab.dns.queries().filter((q) => q.name.toLowerCase() === 'dadali.com' && q.rcode === 'SERVFAIL');
  expect(logged.length).toBeGreaterThan(0);
  expect(f.lab.lines.some((l) => /query MX dadali\.com from 127\.0\.0\.1 -> SERVFAIL .*note="fault dns-servfail dadali\.com"/.test(l))).toBe(true);

  const q = f.lab.domains['garudayaksa.com'].queue;
  const id = await submit(f.lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'DNS rusak');
  const listed = await eventually('deferred', () => q.list().find((e) => e.id === id && e.attempts === 1));
  expect(listed.lastError).toMatch(/MX lookup for dadali\.com: DNS lookup failed \(ESERVFAIL\)/);
  expect(listed.recipients[0].status).toBe('pending');

  expect((await fault('dns-servfail', ['dadali.com'], false)).changed).toBe(true);
  expect((await fault('dns-servfail', ['dadali.com'], false)).lines).toEqual(['the lab DNS already answers normally for dadali.com (no dns-servfail fault); nothing changed']);
  q.flush();
  await eventually('delivered after clear + flush', async () => withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'DNS rusak').length === 1);
  expect(withSubject(await inbox(f.lab, 'garudayaksa.com', 'mbrain'), 'Undelivered Mail Returned to Sender')).toHaveLength(0);
});

test('dns-down: queries time out but are still logged (dropped); the sender defers; clear + flush delivers', async () => {
  await fault('dns-down', [], true);
  expect((await fault('dns-down', [], true)).lines).toEqual(['the lab DNS was already down (fault dns-down); nothing changed']);
  expect(await ask('garudayaksa.com')).toBe('ETIMEOUT');
  expect(f.lab.lines.some((l) => /query MX garudayaksa\.com from 127\.0\.0\.1 -> DROPPED .*note="fault dns-down: no answer sent"/.test(l))).toBe(true);
  expect(faultLines(await listFaults(f.target))).toEqual([expect.stringMatching(/^fault dns-down lab DNS: not answering: queries are logged and dropped \(time out\) \(since \d\d:\d\d:\d\d\)$/)]);

  const q = f.lab.domains['garudayaksa.com'].queue;
  const id = await submit(f.lab, 'mbrain@garudayaksa.com', ['siswa2@dadali.com'], 'DNS mati');
  const listed = await eventually('deferred', () => q.list().find((e) => e.id === id && e.attempts === 1), 15_000);
  expect(listed.lastError).toMatch(/DNS lookup failed \(ETIMEOUT\)/);

  expect((await fault('dns-down', [], false)).lines[0]).toBe('fault dns-down cleared: the lab DNS answers again');
  expect((await fault('dns-down', [], false)).lines).toEqual(['the lab DNS was already answering (no dns-down fault); nothing changed']);
  q.flush();
  await eventually('delivered after clear + flush', async () => withSubject(await inbox(f.lab, 'dadali.com', 'siswa2'), 'DNS mati').length === 1);
  expect(withSubject(await inbox(f.lab, 'garudayaksa.com', 'mbrain'), 'Undelivered Mail Returned to Sender')).toHaveLength(0);
}, 30_000);

test('list and clear all; bad arguments; slow-link needs Docker', async () => {
  await fault('dns-servfail', ['garudayaksa.com'], true);
  await fault('server-down', ['garudayaksa.com'], true);
  await setFault(f.target, faultSpec(f.lab.config, 'greylist', ['dadali.com'], { delay: '2m' }), true);
  const lines = faultLines(await listFaults(f.target));
  expect(lines.map((l) => l.replace(/ \(since .*\)$/, ''))).toEqual([
    'fault dns-servfail garudayaksa.com: SERVFAIL for every name in garudayaksa.com',
    'fault server-down garudayaksa.com: port 25 not listening (connection refused)',
    'fault greylist dadali.com: delay 2m, 0 triplet(s) seen, 0 accepted',
  ]);
  expect((await clearAllFaults(f.target)).lines).toEqual(['cleared 3 fault(s); the lab is back to normal']);
  expect((await clearAllFaults(f.target)).lines).toEqual(['no fault was active; nothing changed']);
  expect(faultLines(await listFaults(f.target))).toEqual(['faults: none']);

  const c = f.lab.config;
  expect(() => faultSpec(c, 'dns-servfail', ['example.org'])).toThrow('unknown domain "example.org"; the lab has: garudayaksa.com, dadali.com');
  expect(() => faultSpec(c, 'dns-down', ['dadali.com'])).toThrow('dns-down takes no arguments: dns-down');
  expect(() => faultSpec(c, 'flood', [])).toThrow(/^unknown fault "flood"; the faults are: link, dns-down, dns-servfail,/);
  expect(() => faultSpec(c, 'greylist', ['dadali.com'], { delay: 'soon' })).toThrow('--delay must be a duration from 1ms to 1d, e.g. 60s, 2m, 500ms (got "soon")');
  expect(() => faultSpec(c, 'greylist', ['dadali.com'], { delay: '5s' }, true)).toThrow(/clear greylist takes no options/);
  expect(() => faultSpec(c, 'slow-link', ['dadali.com', 'dadali.com'])).toThrow(/two different domains/);
  expect(() => faultSpec(c, 'slow-link', ['dadali.com', 'garudayaksa.com'], { rate: 'fast' })).toThrow(/--rate: the rate must be in bits per second/);
  expect(() => faultSpec(c, 'slow-link', ['dadali.com', 'garudayaksa.com'], { loss: '100%' })).toThrow(/--loss: the loss is a percentage above 0 and below 100/);
  expect(faultSpec(c, 'slow-link', ['dadali.com', 'garudayaksa.com'])).toEqual({ kind: 'slow-link', a: 'dadali.com', b: 'garudayaksa.com', rate: '64kbit' });
  expect(faultSpec(c, 'slow-link', ['dadali.com', 'garudayaksa.com'], { loss: '10%', delay: '500ms' })).toEqual({ kind: 'slow-link', a: 'dadali.com', b: 'garudayaksa.com', delayMs: 500, loss: 10 });
  const slow = setFault(f.target, faultSpec(c, 'slow-link', ['dadali.com', 'garudayaksa.com']), true);
  await expect(slow).rejects.toThrow(AdminCallError);
  await expect(slow).rejects.toMatchObject({ code: 'unsupported' });
  await expect(slow).rejects.toThrow(/^slow-link needs the Docker lab/);
});

test('the DNS admin API: 400 for a domain outside the lab, 404 for an unknown endpoint', async () => {
  const { request } = await import('node:http');
  const call = (path: string, body: unknown = {}) =>
    new Promise<{ code: number; body: { error?: string; code?: string } }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: f.dnsAdmin.port, path, method: 'POST', headers: { authorization: `Bearer ${f.lab.adminToken}`, 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ code: res.statusCode!, body: JSON.parse(body) }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  expect(await call('/faults/apply', { kind: 'dns-servfail', domain: 'example.org' })).toEqual({ code: 400, body: { code: 'unknown-domain', error: '"example.org" is not a lab domain; the lab DNS serves: garudayaksa.com, dadali.com' } });
  expect(await call('/faults/apply', { kind: 'flood' })).toMatchObject({ code: 400, body: { code: 'bad-argument' } });
  expect((await call('/faults/flood')).code).toBe(404);
});
