/**
 * The seam between the host and the lab, on the real containers (issue
 * 10): the lab started for the classroom LAN (MAIL_LAB_BIND=0.0.0.0) keeps
 * its admin APIs on loopback; every admin route but /health refuses a
 * request without the lab's token on the published port; the link faults
 * are made by the mail containers themselves (no `docker exec` from the
 * host while break/heal/isolate run); the live events show a real delivery
 * across the domains, DNS answers included.
 */
import { spawn } from 'node:child_process';
import { MAIL_API, type LabEvent } from '../../services/core/src/admin/api';
import { followEvents } from '../../services/core/src/admin/event-stream';
import { cli, docker, eventually, lab, mail, submit } from './helpers';

beforeAll(async () => {
  const up = await cli(['up', '--offline'], 900_000, { ...process.env, MAIL_LAB_BIND: '0.0.0.0' });
  if (up.code !== 0) throw new Error(`mail-lab up failed:\n${up.out}`);
}, 900_000);

afterAll(async () => {
  await cli(['fault', 'clear', 'all']);
  await cli(['down', '--volumes']);
}, 120_000);

test('MAIL_LAB_BIND=0.0.0.0: the mail ports are open to the LAN, the admin ports stay on 127.0.0.1', async () => {
  const ports = (c: string) => docker(['port', c]).then((o) => o.trim().split('\n'));
  const dadali = await ports('mail-lab-dadali');
  expect(dadali).toContain('25/tcp -> 0.0.0.0:20025');
  expect(dadali).toContain('8080/tcp -> 127.0.0.1:20080');
  expect(dadali.filter((l) => l.startsWith('8080/'))).toEqual(['8080/tcp -> 127.0.0.1:20080']);
  expect((await ports('mail-lab-garudayaksa')).filter((l) => l.startsWith('8080/'))).toEqual(['8080/tcp -> 127.0.0.1:10080']);
  const dns = await ports('mail-lab-dns');
  expect(dns).toContain('53/udp -> 0.0.0.0:10053');
  expect(dns.filter((l) => l.startsWith('8053/'))).toEqual(['8053/tcp -> 127.0.0.1:10054']);
}, 60_000);

test('the published admin ports refuse every route but /health without the token; with it they answer', async () => {
  const { execFile } = await import('node:child_process');
  const status = (args: string[]) => new Promise<string>((r) => execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args], (_e, out) => r(out)));
  expect(await status(['http://127.0.0.1:20080/health'])).toBe('200');
  expect(await status(['http://127.0.0.1:20080/mailbox/jpri'])).toBe('401');
  expect(await status(['-X', 'POST', 'http://127.0.0.1:10080/queue/flush'])).toBe('401');
  expect(await status(['-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"kind":"dns-down"}', 'http://127.0.0.1:10054/faults/apply'])).toBe('401');
  expect(await status(['-H', 'Authorization: Bearer not-the-token-of-this-lab-0000', 'http://127.0.0.1:20080/queue'])).toBe('401');
  expect((await cli(['fault', 'list'])).out).toBe('faults: none\n');
  const token = (await cli(['admin-token'])).out.trim();
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(await status(['-H', `Authorization: Bearer ${token}`, 'http://127.0.0.1:20080/mailbox/jpri'])).toBe('200');
  // The token lives in the lab-admin volume, 0600, and the client container (a student's shell) cannot see it.
  expect((await docker(['exec', 'mail-lab-dns', 'stat', '-c', '%a %U', '/var/mail-lab-admin/token'])).trim()).toBe('600 mail-lab');
  expect(await docker(['exec', 'mail-lab-client', 'sh', '-c', 'test -e /var/mail-lab-admin/token && echo present || echo absent'])).toBe('absent\n');
}, 60_000);

test('break, heal and isolate are made by the mail containers themselves: no docker exec from the host meanwhile', async () => {
  // Watch the engine for execs while the faults are set (the token was read before: admin-token above).
  await lab().token();
  const watcher = spawn('docker', ['events', '--format', '{{.Status}} {{.Actor.Attributes.name}} {{json .Actor.Attributes}}', '--filter', 'event=exec_create']);
  let execs = '';
  watcher.stdout.on('data', (c: Buffer) => (execs += c.toString()));
  await new Promise((r) => setTimeout(r, 500));
  try {
    expect((await cli(['break', 'garudayaksa.com', 'dadali.com'])).out).toContain('BROKEN (iptables in the container of garudayaksa.com');
    const links = await mail('dadali.com').call(MAIL_API.links);
    expect(links).toMatchObject({ method: 'iptables', peers: [{ domain: 'garudayaksa.com', cut: true }] });
    expect((await cli(['fault', 'list'])).out).toMatch(/^fault link garudayaksa\.com <-> dadali\.com: cut/m);
    expect((await cli(['heal', 'garudayaksa.com', 'dadali.com'])).out).toContain('healed');
    expect((await cli(['fault', 'isolate', 'dadali.com'])).code).toBe(0);
    expect((await mail('dadali.com').call(MAIL_API.links)).isolated).toMatchObject({ how: expect.stringContaining('DROP') });
    expect((await cli(['fault', 'clear', 'all'])).out).toMatch(/^cleared 1 fault\(s\)/);
  } finally {
    await new Promise((r) => setTimeout(r, 500));
    watcher.kill();
  }
  // Docker's own health checks (`nc -z … 25`) are execs of the engine, not of the host's CLI.
  const ours = execs.split('\n').filter((l) => (l.includes('mail-lab-garudayaksa') || l.includes('mail-lab-dadali')) && !l.includes('nc -z -w 2 127.0.0.1 25'));
  expect(ours).toEqual([]);
}, 120_000);

test('the live events across a real delivery: queued, the DNS questions the sender asked with their answers, the hop, the mailbox append', async () => {
  const seen: LabEvent[] = [];
  const stop = new AbortController();
  const following = [lab().mail('garudayaksa.com'), lab().mail('dadali.com'), lab().dns()].map((c) => followEvents(c, { onEvent: (e) => seen.push(e), signal: stop.signal }));
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const subject = `Peristiwa ${Date.now()}`;
    const id = await submit('mbrain@garudayaksa.com', 'jpri@dadali.com', subject);
    const append = await eventually('mailbox.append at dadali.com', async () => seen.find((e) => e.source === 'dadali.com' && e.type === 'mailbox.append' && e.data.user === 'jpri'), 30_000);
    const attempt = seen.find((e) => e.type === 'queue.attempt' && e.data.id === id)!;
    expect(attempt.source).toBe('garudayaksa.com');
    expect(attempt.data).toMatchObject({ domain: 'dadali.com', host: 'mail.dadali.com[172.29.25.20]:25', outcomes: [{ address: 'jpri@dadali.com', result: 'delivered' }] });
    expect(attempt.data.lookups).toEqual([
      expect.objectContaining({ type: 'MX', name: 'dadali.com', answers: ['10 mail.dadali.com'] }),
      expect.objectContaining({ type: 'A', name: 'mail.dadali.com', answers: ['172.29.25.20'] }),
    ]);
    expect(seen.find((e) => e.source === 'dns' && e.type === 'dns.query' && e.data.type === 'MX' && e.data.name === 'dadali.com')?.data).toMatchObject({ client: '172.29.25.10', rcode: 'NOERROR' });
    expect(seen.find((e) => e.source === 'dadali.com' && e.type === 'trace.smtp-in' && e.data.subject === subject)?.data).toMatchObject({ peer: expect.stringContaining('172.29.25.10'), helo: 'mail.garudayaksa.com' });
    expect(append.data.folder).toBe('INBOX');
  } finally {
    stop.abort();
    await Promise.all(following);
  }
}, 120_000);
