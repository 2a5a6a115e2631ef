/**
 * The delay-warning scenario against a whole lab in this process (no-Docker
 * mode, free loopback ports): demo profile, retries counted, the RFC 3464
 * delay warning and then the return in the sender's mailbox, the queue
 * empty, the profile and the link put back. Runs in real time, with the
 * demo profile shortened to 3 s / 8 s / 20 s (lab.yaml's 10 s / 30 s / 90 s
 * are for a class; the Docker suite runs the scenario with them).
 * Also: a scenario that switches a profile and then fails gets its profile back.
 */
import { type LabTarget } from '../../../scripts/lab-target';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { linkStates } from '../../../scripts/faults/list';
import { runScenario } from '../../../scripts/scenario/runner';
import { scenarioSchema } from '../../../scripts/scenario/schema';
import type { QueueProfileInfo } from '../../../services/core/src/admin/api';
import { inbox } from '../faults/helpers';
import { runCollect } from './run-collect';
import { startTestLab, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
let target: LabTarget;
const domain = (name: string) => lab.config.domains.find((d) => d.name === name)!;
const profileOf = async (name: string) => (await lab.target().mail(domain(name).name).call(MAIL_API.queueProfile)).name;

beforeAll(async () => {
  lab = await startTestLab({ profiles: { demo: { retryInterval: '3s', warnAfter: '8s', returnAfter: '20s' } } });
  target = lab.target();
}, 30_000);
afterAll(() => lab.close());

test('delay-warning: retries, the warning (Action: delayed), the return (Action: failed), nothing delivered; profile and link put back', async () => {
  const { ok, lines, text } = await runCollect(target, ['delay-warning']);
  expect([ok, text]).toEqual([true, text]);
  expect(text).toContain('garudayaksa.com: queue profile test -> demo (retry every 3s, warn after 8s, return after 20s)');
  expect(text).toMatch(/is queued: [2-9] attempt\(s\), last error: connection to dadali\.com timed out/);
  // The warning's fields, shown to the class.
  expect(text).toMatch(/report\(s\) about \w+ in siswa3's mailbox:\n {11}From: Mail Delivery System <MAILER-DAEMON@mail\.garudayaksa\.com>\n {11}Subject: Delayed Mail \(still being retried\)\n(?: {11}.*\n)*? {11}Action: delayed\n {11}Status: 4\.4\.1\n/);
  expect(text).toMatch(/ {11}Will-Retry-Until: /);
  expect(text).toMatch(/Subject: Undelivered Mail Returned to Sender\n(?: {11}.*\n)*? {11}Action: failed\n {11}Status: 4\.4\.7\n/);
  expect(text).toContain('garudayaksa.com: queue profile demo -> classroom');
  expect(lines.filter((l) => l.trim()).slice(-1)).toEqual(['scenarios: 1 passed, 0 failed (no-Docker lab)']);

  // What the class would see for themselves: exactly one warning and one return for that message, in siswa3's mailbox; Joko got nothing.
  const id = /report\(s\) about (\w+) in siswa3's mailbox/.exec(text)![1];
  const reports = (await inbox(lab, 'garudayaksa.com', 'siswa3')).filter((m) => m.includes(`X-Queue-ID: ${id}`));
  expect(reports.map((m) => /^Action: (\w+)/m.exec(m)![1])).toEqual(['delayed', 'failed']);
  expect((await inbox(lab, 'dadali.com', 'jpri')).filter((m) => m.includes('Subject: Tertunda'))).toEqual([]);
  expect(await profileOf('garudayaksa.com')).toBe('classroom');
  expect((await linkStates(target)).every((l) => !l.broken)).toBe(true);
  expect(lab.domains['garudayaksa.com'].queue.list()).toEqual([]);
}, 180_000);

test('a scenario that switches a profile and then fails: the runner puts the profile back (in Indonesian)', async () => {
  await lab.target().mail(domain('dadali.com').name).call(MAIL_API.setQueueProfile, { name: 'test' });
  const scenario = scenarioSchema.parse({
    name: 'uji-profil',
    title: { en: 'A failing scenario', id: 'Skenario yang gagal' },
    explain: { en: 'Switches, then fails.', id: 'Mengganti profil, lalu gagal.' },
    steps: [
      { break: ['garudayaksa.com', 'dadali.com'] },
      { 'queue-profile': { domain: 'dadali.com', profile: 'demo' } },
      { 'queue-profile': { domain: 'dadali.com', profile: 'real' } },
      { 'queue-profile': { domain: 'garudayaksa.com', profile: 'nope' } },
    ],
  });
  const lines: string[] = [];
  const outcome = await runScenario(target, scenario, (l) => lines.push(l), 'id');
  const text = lines.join('\n');
  expect(outcome.ok).toBe(false);
  expect(text).toContain('ganti profil antrian dadali.com menjadi demo (npx mail-lab queue-profile dadali.com demo)');
  expect(text).toContain('dadali.com: profil antrian test -> demo (coba ulang setiap 3s, peringatan setelah 8s, dikembalikan setelah 20s)');
  expect(text).toContain('GAGAL: unknown queue profile "nope"; the lab has: test, classroom, real, demo');
  // Back to what it was before the scenario's first switch (test, not demo), and the link healed.
  expect(await profileOf('dadali.com')).toBe('test');
  expect(await profileOf('garudayaksa.com')).toBe('classroom');
  expect((await linkStates(target)).every((l) => !l.broken)).toBe(true);
}, 30_000);

test('expect-queue attempts: says how many attempts there were when there are too few', async () => {
  const scenario = scenarioSchema.parse({
    name: 'uji-percobaan',
    title: 'Too few attempts',
    explain: 'The queue retries every hour here.',
    steps: [
      { break: ['garudayaksa.com', 'dadali.com'] },
      { 'queue-profile': { domain: 'garudayaksa.com', profile: 'real' } },
      { send: { from: 'siswa4@garudayaksa.com', to: ['jpri@dadali.com'], subject: 'Sekali {{run}}' } },
      { 'expect-queue': { domain: 'garudayaksa.com', state: 'queued', attempts: 2, within: '2s' } },
    ],
  });
  const lines: string[] = [];
  const outcome = await runScenario(target, scenario, (l) => lines.push(l));
  expect(outcome.ok).toBe(false);
  expect(outcome.error).toMatch(/^\w+ has had 1 delivery attempt\(s\) in the queue of garudayaksa\.com, expected at least 2 within 2s$/);
  expect(await profileOf('garudayaksa.com')).toBe('classroom');
  for (const e of lab.domains['garudayaksa.com'].queue.list()) await lab.domains['garudayaksa.com'].queue.remove(e.id);
}, 30_000);
