/** Queue control through the admin API, as `mail-lab show/hold/release/delete/expire/flush` use it. */
import nodemailer from 'nodemailer';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { startTestLab, eventually, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
const g = () => lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;

async function submit(subject: string): Promise<string> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: g().ports.submission, secure: false, ignoreTLS: true, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
  const info = await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject, text: 'x' });
  t.close();
  return /queued as (\S+)/.exec(info.response)![1];
}

const inbox = async (domain: string, user: string) => {
  const store = lab.domains[domain].store;
  const snap = await store.snapshot(user, 'INBOX');
  return Promise.all(snap.messages.map(async (m) => (await store.read(user, 'INBOX', m.uid))!.toString()));
};

beforeAll(async () => {
  lab = await startTestLab({ timing: { retryInterval: '1h' } });
  await lab.cut('garudayaksa.com', 'dadali.com');
});
afterAll(() => lab.close());

test('show a queued message with its attempt history', async () => {
  const id = await submit('tampilkan');
  await eventually('attempted', async () => (await lab.target().mail(g().name).call(MAIL_API.queue)).some((e) => e.id === id && e.attempts === 1));
  const e = await lab.target().mail(g().name).call(MAIL_API.queueEntry, { id: id });
  expect(e.recipients).toEqual([expect.objectContaining({ address: 'jpri@dadali.com', status: 'pending', attempts: 1 })]);
  expect(e.history).toEqual([expect.objectContaining({ result: 'deferred', recipients: ['jpri@dadali.com'], detail: expect.stringMatching(/timed out/) })]);
  await expect(lab.target().mail(g().name).call(MAIL_API.queueEntry, { id: 'NOSUCHID' })).rejects.toThrow('no message NOSUCHID in the queue of garudayaksa.com');
});

test('hold stops delivery, release lets it go at once; doing either twice says so', async () => {
  const id = await submit('ditahan');
  await eventually('attempted', async () => (await lab.target().mail(g().name).call(MAIL_API.queue)).some((e) => e.id === id && e.attempts === 1));
  expect(await lab.target().mail(g().name).call(MAIL_API.queueAction, { id: id, action: 'hold' })).toEqual({ id, result: 'held' });
  expect(await lab.target().mail(g().name).call(MAIL_API.queueAction, { id: id, action: 'hold' })).toEqual({ id, result: 'already' });
  await lab.restore('garudayaksa.com', 'dadali.com');
  await lab.target().mail(g().name).call(MAIL_API.flush);
  await new Promise((r) => setTimeout(r, 500));
  expect((await inbox('dadali.com', 'jpri')).filter((m) => m.includes('Subject: ditahan'))).toHaveLength(0);
  const listing = await lab.target().mail(g().name).call(MAIL_API.queue);
  expect(listing.find((e) => e.id === id)).toMatchObject({ held: true });
  // The summary (what the dashboard shows) counts what the listing lists.
  expect(await lab.target().mail(g().name).call(MAIL_API.queueSummary)).toEqual({ size: listing.length, held: 1, deferred: listing.filter((e) => e.attempts > 0).length });
  expect(await lab.target().mail(g().name).call(MAIL_API.queueAction, { id: id, action: 'release' })).toEqual({ id, result: 'released' });
  await eventually('delivered after release', async () => (await inbox('dadali.com', 'jpri')).some((m) => m.includes('Subject: ditahan')));
  await lab.cut('garudayaksa.com', 'dadali.com');
});

test('delete removes a message silently; expire returns it to the sender now', async () => {
  const gone = await submit('dihapus');
  const back = await submit('dikembalikan');
  await eventually('attempted', async () => (await lab.target().mail(g().name).call(MAIL_API.queue)).filter((e) => [gone, back].includes(e.id) && e.attempts === 1).length === 2);
  expect(await lab.target().mail(g().name).call(MAIL_API.queueAction, { id: gone, action: 'delete' })).toEqual({ id: gone, result: 'deleted' });
  expect(await lab.target().mail(g().name).call(MAIL_API.queueAction, { id: back, action: 'expire' })).toEqual({ id: back, result: 'expired' });
  const ids = (await lab.target().mail(g().name).call(MAIL_API.queue)).map((e) => e.id);
  expect(ids).not.toContain(gone);
  expect(ids).not.toContain(back);
  const dsn = await eventually('returned notice', async () => (await inbox('garudayaksa.com', 'mbrain')).find((m) => m.includes('Subject: Undelivered Mail Returned to Sender') && m.includes(`X-Queue-ID: ${back}`)));
  expect(dsn).toMatch(/Action: failed\r\nStatus: 4\.4\.7\r\n/);
  expect(dsn).toContain('returned by the administrator');
  expect((await inbox('garudayaksa.com', 'mbrain')).some((m) => m.includes(`X-Queue-ID: ${gone}`))).toBe(false);
  expect((await lab.target().mail(g().name).call(MAIL_API.queueEntry, { id: gone })).history.at(-1)!.detail).toMatch(/deleted from the queue by the administrator/);
  expect(lab.lines.some((l) => l.includes(`deleted ${gone} from the queue`) && l.includes('by=admin'))).toBe(true);
  await expect(lab.target().mail(g().name).call(MAIL_API.queueAction, { id: gone, action: 'hold' })).rejects.toThrow(`no message ${gone} in the queue`);
});

test('a burst larger than the delivery slots: every message delivered exactly once, the queue drains', async () => {
  const q = lab.domains['dadali.com'].queue;
  const ids = await Promise.all(
    Array.from({ length: 120 }, (_, i) =>
      q.enqueue({ from: 'jpri@dadali.com', recipients: [{ address: 'siswa3@dadali.com', local: true }], message: Buffer.from(`Subject: burst ${i}\r\n\r\nx\r\n`) }),
    ),
  );
  expect(new Set(ids).size).toBe(120);
  await eventually('queue drained', () => q.list().length === 0, 30_000);
  const subjects = (await inbox('dadali.com', 'siswa3')).map((m) => /Subject: (burst \d+)/.exec(m)?.[1]).filter(Boolean);
  expect(subjects.sort()).toEqual(Array.from({ length: 120 }, (_, i) => `burst ${i}`).sort());
});
