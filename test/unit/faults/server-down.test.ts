/** Fault `server-down`: port 25 refuses connections while the rest of the domain works; the sender defers, then delivers after clear + flush. */
import { Socket } from 'node:net';
import { faultFromArgs as faultSpec } from '../../../services/core/src/faults';
import { setFault } from '../../../scripts/faults/apply';
import { listFaults } from '../../../scripts/faults/list';
import { eventually, Wire } from '../helpers/test-lab';
import { inbox, port, startFaultLab, submit, withSubject, type FaultLab } from './helpers';

let f: FaultLab;
beforeAll(async () => {
  f = await startFaultLab({ timing: { retryInterval: '1h' } });
});
afterAll(() => f.close());

const serverDown = (on: boolean) => setFault(f.target, faultSpec(f.lab.config, 'server-down', ['dadali.com'], {}, !on), on);

const connectError = (p: number) =>
  new Promise<string>((resolve) => {
    const s = new Socket();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.connect(p, '127.0.0.1', () => {
      s.destroy();
      resolve('connected');
    });
  });

test('connection refused on 25; 587 still greets; the queue defers, then delivers after clear and flush', async () => {
  const r = await serverDown(true);
  expect(r.lines[0]).toBe('fault server-down dadali.com applied: SMTP port 25 of dadali.com no longer listens (connection refused)');
  expect((await serverDown(true)).lines).toEqual(['port 25 of dadali.com was already down (fault server-down); nothing changed']);
  expect(await connectError(port(f.lab, 'dadali.com', 'smtp'))).toBe('ECONNREFUSED');
  const w = await Wire.connect(port(f.lab, 'dadali.com', 'submission'));
  expect(await w.reply()).toMatch(/^220 mail\.dadali\.com/);
  w.close();
  expect((await listFaults(f.target)).faults).toEqual([expect.objectContaining({ kind: 'server-down', target: 'dadali.com', detail: 'port 25 not listening (connection refused)' })]);

  const q = f.lab.domains['garudayaksa.com'].queue;
  const id = await submit(f.lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Server mati');
  const listed = await eventually('deferred', () => q.list().find((e) => e.id === id && e.attempts === 1));
  expect(listed.lastError).toMatch(/ECONNREFUSED|connection refused/);

  expect((await serverDown(false)).changed).toBe(true);
  expect((await serverDown(false)).lines).toEqual(['port 25 of dadali.com was already listening (no server-down fault); nothing changed']);
  expect(await connectError(port(f.lab, 'dadali.com', 'smtp'))).toBe('connected');
  expect(q.flush()).toContain(id);
  await eventually('delivered after clear + flush', async () => withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Server mati').length === 1);
  await eventually('queue empty', () => q.list().length === 0);
});

test('down and up again twice in a row; close() of the domain still works while down', async () => {
  for (let i = 0; i < 2; i++) {
    await serverDown(true);
    expect(await connectError(port(f.lab, 'dadali.com', 'smtp'))).toBe('ECONNREFUSED');
    await serverDown(false);
    const w = await Wire.connect(port(f.lab, 'dadali.com', 'smtp'));
    expect(await w.reply()).toMatch(/^220 /);
    w.close();
  }
  await serverDown(true);
  await f.lab.stopDomain('dadali.com');
  await f.lab.startDomain('dadali.com');
  const w = await Wire.connect(port(f.lab, 'dadali.com', 'smtp'));
  expect(await w.reply()).toMatch(/^220 /);
  w.close();
});

test('--all: every mail port refuses, the admin API and the queue go on; plain server-down narrows it, clear opens everything', async () => {
  const all = (on: boolean) => setFault(f.target, faultSpec(f.lab.config, 'server-down', ['dadali.com'], on ? { all: true } : {}, !on), on);
  const mailPorts = ['smtp', 'submission', 'pop3', 'imap'] as const;
  const mailPort = (p: (typeof mailPorts)[number]) => f.lab.config.domains.find((d) => d.name === 'dadali.com')!.ports[p];
  const r = await all(true);
  expect(r.lines[0]).toBe('fault server-down dadali.com --all applied: no mail port of dadali.com listens (25, 587, 465, POP3, IMAP: connection refused)');
  expect((await all(true)).lines).toEqual(['every mail port of dadali.com was already down (fault server-down --all); nothing changed']);
  for (const p of mailPorts) expect([p, await connectError(mailPort(p))]).toEqual([p, 'ECONNREFUSED']);
  expect((await listFaults(f.target)).faults).toEqual([expect.objectContaining({ kind: 'server-down', target: 'dadali.com', spec: { kind: 'server-down', domain: 'dadali.com', all: true } })]);
  // garudayaksa.com is untouched.
  expect(await connectError(port(f.lab, 'garudayaksa.com', 'submission'))).toBe('connected');

  // Back to port 25 only: the other ports listen again.
  expect((await serverDown(true)).changed).toBe(true);
  expect(await connectError(port(f.lab, 'dadali.com', 'smtp'))).toBe('ECONNREFUSED');
  for (const p of ['submission', 'pop3', 'imap'] as const) expect([p, await connectError(mailPort(p))]).toEqual([p, 'connected']);

  await all(true);
  const cleared = await all(false);
  expect(cleared.lines[0]).toBe('fault server-down dadali.com cleared: the stopped ports of dadali.com listen again');
  for (const p of mailPorts) expect([p, await connectError(mailPort(p))]).toEqual([p, 'connected']);
  expect((await listFaults(f.target)).faults).toEqual([]);
});

test('--all is refused where it means nothing and when clearing', () => {
  expect(() => faultSpec(f.lab.config, 'greylist', ['dadali.com'], { all: true })).toThrow('greylist takes --delay, not --all');
  expect(() => faultSpec(f.lab.config, 'server-down', ['dadali.com'], { all: true }, true)).toThrow('clear server-down takes no options');
});
