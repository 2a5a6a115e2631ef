/**
 * The instructor's faults on the real compose lab, through the CLI a
 * teacher types: dns-servfail (the lab DNS container's admin API),
 * slow-link (tc and iptables inside both mail containers, reporting which
 * method this kernel allowed) and isolate (one domain off the backbone). Self-contained like lab.test.ts: `mail-lab up`
 * in beforeAll, `down --volumes` in afterAll (jest runs container files in band).
 */
import { MAIL_API } from '../../services/core/src/admin/api';
import { mail, cli, docker, eventually, rootExec, submit } from './helpers';

const delivered = async (user: string, subject: string) => (await mail('dadali.com').call(MAIL_API.mailboxMessages, { user: user })).some((m) => m.headers.includes(`Subject: ${subject}\r\n`));

beforeAll(async () => {
  const up = await cli(['up', '--offline']);
  if (up.code !== 0) throw new Error(`mail-lab up failed:\n${up.out}`);
}, 900_000);

afterAll(async () => {
  await cli(['fault', 'clear', 'all']);
  await cli(['down', '--volumes']);
}, 120_000);

test('dns-servfail: status shows it, dig in the client gets SERVFAIL, the queue defers (no bounce), clear + flush delivers', async () => {
  const on = await cli(['fault', 'dns-servfail', 'dadali.com']);
  expect(on).toMatchObject({ code: 0, out: expect.stringContaining('fault dns-servfail dadali.com applied') });
  expect(await cli(['fault', 'dns-servfail', 'dadali.com'])).toEqual({ code: 0, out: 'the lab DNS already answers SERVFAIL for dadali.com; nothing changed\n' });
  expect((await cli(['status'])).out).toMatch(/^ {2}fault dns-servfail dadali\.com: SERVFAIL for every name in dadali\.com \(since/m);

  expect(await docker(['exec', 'mail-lab-client', 'dig', '+tries=1', 'MX', 'dadali.com'])).toContain('status: SERVFAIL');
  expect((await docker(['exec', 'mail-lab-client', 'dig', '+short', 'MX', 'garudayaksa.com'])).trim()).toBe('10 mail.garudayaksa.com.');

  const subject = `Zona rusak ${Date.now()}`;
  const id = await submit('mbrain@garudayaksa.com', 'jpri@dadali.com', subject, 'Halo dari tes gangguan.\n');
  const entry = await eventually('deferred with SERVFAIL', async () => (await mail('garudayaksa.com').call(MAIL_API.queue)).find((e) => e.id === id && e.attempts >= 1));
  expect(entry.lastError).toMatch(/ESERVFAIL/);
  // The DNS kept logging the questions it refused to answer.
  expect(await docker(['logs', 'mail-lab-dns'])).toMatch(/query MX dadali\.com from 172\.29\.25\.10 -> SERVFAIL .*fault dns-servfail dadali\.com/);

  expect((await cli(['fault', 'clear', 'dns-servfail', 'dadali.com'])).code).toBe(0);
  expect(await cli(['fault', 'clear', 'dns-servfail', 'dadali.com'])).toEqual({ code: 0, out: expect.stringContaining('already answers normally for dadali.com') });
  expect((await cli(['flush', 'garudayaksa.com'])).code).toBe(0);
  await eventually('delivered after clear + flush', () => delivered('jpri', subject));
  expect((await cli(['fault', 'list'])).out).toBe('faults: none\n');
}, 180_000);

test('slow-link: says which method this kernel allowed, shapes only the path between the mail containers, mail still flows; clear removes it', async () => {
  const r = await cli(['fault', 'slow-link', 'garudayaksa.com', 'dadali.com', '--rate', '64kbit', '--delay', '500ms', '--loss', '10%']);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^fault slow-link garudayaksa\.com <-> dadali\.com applied \(rate 64kbit, delay 500ms, loss 10%\)/);
  const qdiscs = await rootExec('mail-lab-garudayaksa', ['tc', 'qdisc', 'show', 'dev', 'eth0']);
  expect(qdiscs).toMatch(/qdisc htb 1: root/);
  if (/netem/.test(qdiscs)) {
    expect(r.out).toMatch(/garudayaksa\.com: tc netem \(rate 64kbit, delay 500ms, loss 10%\)/);
  } else {
    // This lab's kernel: no sch_netem. Rate by tbf, loss by iptables, delay said to be missing.
    expect(qdiscs).toMatch(/qdisc tbf \w+: parent 1:\w+ rate 64Kbit/);
    expect(r.out).toMatch(/garudayaksa\.com: rate: tc tbf 64kbit on eth0 for 172\.29\.25\.20 \(this kernel has no netem/);
    expect(r.out).toMatch(/dadali\.com: loss: iptables statistic DROP, probability 0\.1, to 172\.29\.25\.10/);
    expect(r.out).toMatch(/delay 500ms NOT applied: delay needs tc netem/);
    expect(await rootExec('mail-lab-dadali', ['iptables', '-w', '-S', 'OUTPUT'])).toMatch(/-d 172\.29\.25\.10\/32 -m statistic --mode random --probability 0\.1\d* .*mail-lab-slow-garudayaksa\.com.* -j DROP/);
  }
  expect(await cli(['fault', 'slow-link', 'garudayaksa.com', 'dadali.com', '--rate', '64kbit', '--delay', '500ms', '--loss', '10%'])).toMatchObject({ code: 0, out: expect.stringMatching(/^the link garudayaksa\.com <-> dadali\.com was already slowed like this; nothing changed/) });
  expect((await cli(['status'])).out).toMatch(/^ {2}fault slow-link garudayaksa\.com <-> dadali\.com: rate 64kbit, delay 500ms, loss 10% \(/m);

  // Mail still flows over the slow path, and its bytes went through the shaped class.
  const subject = `Jalur lambat ${Date.now()}`;
  await submit('mbrain@garudayaksa.com', 'jpri@dadali.com', subject, 'Halo dari tes gangguan.\n');
  await eventually('delivered over the slow link', () => delivered('jpri', subject), 90_000);
  const sent = /Sent (\d+) bytes/.exec(await rootExec('mail-lab-garudayaksa', ['tc', '-s', 'class', 'show', 'dev', 'eth0']));
  expect(Number(sent?.[1])).toBeGreaterThan(0);

  expect((await cli(['fault', 'clear', 'slow-link', 'garudayaksa.com', 'dadali.com'])).out).toMatch(/cleared: tc shaping and loss rules removed in both mail containers/);
  expect(await cli(['fault', 'clear', 'slow-link', 'dadali.com', 'garudayaksa.com'])).toEqual({ code: 0, out: 'the link dadali.com <-> garudayaksa.com was not slowed (no slow-link fault); nothing changed\n' });
  expect(await rootExec('mail-lab-garudayaksa', ['tc', 'qdisc', 'show', 'dev', 'eth0'])).not.toMatch(/htb|tbf|netem/);
  expect(await rootExec('mail-lab-dadali', ['iptables', '-w', '-S', 'OUTPUT'])).not.toContain('mail-lab-slow-');
}, 240_000);

test('isolate: one domain off the backbone; the client and the other domain cannot reach it, its published ports still answer, mail waits in both queues; clear + flush delivers', async () => {
  const on = await cli(['fault', 'isolate', 'dadali.com']);
  expect(on).toMatchObject({ code: 0, out: expect.stringContaining('fault isolate dadali.com applied: dadali.com is cut off from the lab backbone') });
  expect(await cli(['fault', 'isolate', 'dadali.com'])).toEqual({ code: 0, out: 'dadali.com was already cut off from the backbone (fault isolate); nothing changed\n' });
  expect((await cli(['status'])).out).toMatch(/^ {2}fault isolate dadali\.com: cut off from the backbone/m);
  // The client container: no connection to it (time out), and garudayaksa.com still answers.
  expect(await docker(['exec', 'mail-lab-client', 'sh', '-c', 'nc -z -w 3 mail.dadali.com 25 && echo reached || echo unreachable'])).toBe('unreachable\n');
  expect(await docker(['exec', 'mail-lab-client', 'sh', '-c', 'nc -z -w 3 mail.garudayaksa.com 25 && echo reached || echo unreachable'])).toBe('reached\n');
  // From the host, through the published port: still there.
  expect((await mail('dadali.com').call(MAIL_API.health)).ok).toBe(true);

  const inbound = `Ke domain terputus ${Date.now()}`;
  const outbound = `Dari domain terputus ${Date.now()}`;
  const inId = await submit('mbrain@garudayaksa.com', 'jpri@dadali.com', inbound, 'Halo.\n');
  const outId = await submit('jpri@dadali.com', 'mbrain@garudayaksa.com', outbound, 'Halo.\n', 20587);
  const a = await eventually('garudayaksa.com defers', async () => (await mail('garudayaksa.com').call(MAIL_API.queue)).find((e) => e.id === inId && e.attempts >= 1), 90_000);
  expect(a.lastError).toMatch(/timed out/);
  const b = await eventually('dadali.com defers', async () => (await mail('dadali.com').call(MAIL_API.queue)).find((e) => e.id === outId && e.attempts >= 1), 90_000);
  expect(b.lastError).toMatch(/ETIMEOUT|timed out/);

  expect((await cli(['fault', 'clear', 'isolate', 'dadali.com'])).out).toMatch(/^fault isolate dadali\.com cleared/);
  expect(await rootExec('mail-lab-dadali', ['iptables', '-w', '-S'])).not.toContain('mail-lab-isolate');
  expect((await cli(['flush', 'garudayaksa.com'])).code).toBe(0);
  expect((await cli(['flush', 'dadali.com'])).code).toBe(0);
  await eventually('delivered into dadali.com', () => delivered('jpri', inbound), 90_000);
  await eventually('delivered out of dadali.com', async () => (await mail('garudayaksa.com').call(MAIL_API.mailboxMessages, { user: 'mbrain' })).some((m) => m.headers.includes(`Subject: ${outbound}\r\n`)), 90_000);
}, 300_000);
