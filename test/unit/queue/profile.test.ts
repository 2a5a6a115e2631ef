/**
 * Switching a domain's queue profile at run time through the admin API
 * (`GET /queue/profile`, `POST /queue/profile/<name>`), as
 * `npx mail-lab queue-profile` does: a message already queued takes the new
 * timings (next attempt from its last attempt, warning and return from its
 * arrival); an unknown name is refused with HTTP 400 (checked with curl).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MAIL_API } from '../../../services/core/src/admin/api';
import type { QueueProfileInfo } from '../../../services/core/src/admin/api';
import { inbox, submit } from '../faults/helpers';
import { eventually, startTestLab, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
const g = () => lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;
const profile = () => lab.target().mail(g().name).call(MAIL_API.queueProfile);
const listing = async (id: string) => (await lab.target().mail(g().name).call(MAIL_API.queue)).find((e) => e.id === id);

/** curl, as an instructor would try the API: status code and body. (Asynchronous: the server runs in this process.) */
async function curl(method: string, path: string): Promise<{ status: number; body: { error?: string } & Record<string, unknown> }> {
  const r = await promisify(execFile)('curl', ['-s', '-X', method, '-H', `Authorization: Bearer ${lab.adminToken}`, '-w', '\n%{http_code}', `http://127.0.0.1:${g().ports.admin}${path}`], { encoding: 'utf8', timeout: 10_000 });
  const lines = r.stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) };
}

beforeAll(async () => {
  lab = await startTestLab();
  await lab.cut('garudayaksa.com', 'dadali.com');
});
afterAll(() => lab.close());

test('GET /queue/profile: the profile of the lab definition, its timings, and the profiles there are', async () => {
  const p = await profile();
  // startTestLab adds a profile "test" (retry 1s, warn 1h, return 2h) and makes it the lab's profile.
  expect(p).toEqual({ name: 'test', retryInterval: 1000, warnAfter: 3_600_000, returnAfter: 7_200_000, available: expect.arrayContaining(['test', 'classroom', 'real', 'demo']) });
  expect(lab.config.profiles.demo).toMatchObject({ retryInterval: 10_000, warnAfter: 30_000, returnAfter: 90_000 });
});

test('an unknown profile: HTTP 400 naming the profiles that exist; nothing changes', async () => {
  const r = await curl('POST', '/queue/profile/cepat');
  expect(r.status).toBe(400);
  expect(r.body.error).toBe('unknown queue profile "cepat"; the lab has: test, classroom, real, demo');
  // Object.prototype names are not profiles either.
  expect((await curl('POST', '/queue/profile/constructor')).status).toBe(400);
  expect((await curl('POST', '/queue/profile/%E0%A4%A')).status).toBe(400);
  expect((await profile()).name).toBe('test');
  const ok = await curl('GET', '/queue/profile');
  expect(ok.status).toBe(200);
  expect(ok.body.name).toBe('test');
});

test('a message queued under classroom gets its delay warning within demo warnAfter of the switch, with the new timings', async () => {
  const switched = await lab.target().mail(g().name).call(MAIL_API.setQueueProfile, { name: 'classroom' });
  expect(switched).toMatchObject({ previous: 'test', changed: true, profile: { name: 'classroom', retryInterval: 30_000, warnAfter: 120_000 } });
  expect(lab.lines.some((l) => l.includes('queue profile test -> classroom') && l.includes('by=admin'))).toBe(true);

  const id = await submit(lab, 'siswa4@garudayaksa.com', ['jpri@dadali.com'], 'Profil');
  const first = await eventually('first attempt', async () => {
    const e = await listing(id);
    return e && e.attempts === 1 ? e : null;
  });
  const entry = await lab.target().mail(g().name).call(MAIL_API.queueEntry, { id: id });
  const lastAttempt = Date.parse(entry.history.at(-1)!.time);
  expect(Date.parse(first.nextAttempt!)).toBe(lastAttempt + 30_000); // classroom: retry after 30 s

  const switchedAt = Date.now();
  const r = await lab.target().mail(g().name).call(MAIL_API.setQueueProfile, { name: 'demo' });
  expect(r).toMatchObject({ previous: 'classroom', changed: true, queued: 1, rescheduled: 1 });
  // Next attempt: from the last attempt with demo's 10 s (unless that attempt already ran).
  const after = (await listing(id))!;
  if (after.attempts === 1) expect(Date.parse(after.nextAttempt!)).toBe(lastAttempt + 10_000);

  // Warning: demo warnAfter (30 s) counted from arrival, so at most 30 s after the switch; under classroom it would take 2 minutes.
  const warning = await eventually(
    'delay notice for the queued message',
    async () => (await inbox(lab, 'garudayaksa.com', 'siswa4')).find((m) => m.includes(`X-Queue-ID: ${id}`) && m.includes('Action: delayed')),
    30_000 + 5_000,
  );
  expect(Date.now() - switchedAt).toBeLessThan(35_000);
  expect(warning).toContain('Subject: Delayed Mail (still being retried)');
  expect(warning).toMatch(/Status: 4\.4\.1\r\n/);
  // Will-Retry-Until: arrival + demo returnAfter (90 s), not classroom's 10 minutes.
  const until = Date.parse(/Will-Retry-Until: (.+)\r\n/.exec(warning)![1]);
  expect(Math.abs(until - (Date.parse(entry.arrival) + 90_000))).toBeLessThan(1000);
  // Still queued, retried every 10 s meanwhile (attempts at about 0, 10, 20 s and more).
  const still = (await listing(id))!;
  expect(still.attempts).toBeGreaterThanOrEqual(3);
  expect(still.recipients[0].status).toBe('pending');

  await lab.target().mail(g().name).call(MAIL_API.queueAction, { id: id, action: 'delete' });
  await lab.target().mail(g().name).call(MAIL_API.setQueueProfile, { name: 'test' });
}, 60_000);

test('switching to a longer profile moves the next attempt later; switching to the same one changes nothing', async () => {
  const id = await submit(lab, 'siswa4@garudayaksa.com', ['jpri@dadali.com'], 'Profil panjang');
  await eventually('first attempt', async () => ((await listing(id))?.attempts ?? 0) >= 1);
  const r = await lab.target().mail(g().name).call(MAIL_API.setQueueProfile, { name: 'real' });
  expect(r.changed).toBe(true);
  const entry = await lab.target().mail(g().name).call(MAIL_API.queueEntry, { id: id });
  const last = Date.parse(entry.history.at(-1)!.time);
  expect(Date.parse(entry.recipients[0].nextAttempt!)).toBe(last + 15 * 60_000);
  const attempts = entry.recipients[0].attempts;
  await new Promise((res) => setTimeout(res, 2500)); // the test profile would have retried twice by now
  expect((await listing(id))!.attempts).toBe(attempts);
  const again = await lab.target().mail(g().name).call(MAIL_API.setQueueProfile, { name: 'real' });
  expect(again).toMatchObject({ changed: false, previous: 'real' });
  // Back to the 1 s profile: the overdue attempt runs at once.
  await lab.target().mail(g().name).call(MAIL_API.setQueueProfile, { name: 'test' });
  await eventually('retried after switching back', async () => ((await listing(id))?.attempts ?? 0) > attempts, 5000);
  await lab.target().mail(g().name).call(MAIL_API.queueAction, { id: id, action: 'delete' });
});
