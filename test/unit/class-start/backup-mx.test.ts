/**
 * The second MX of the change-the-lab worksheet (issue 13): garudayaksa.com
 * gets `MX 20 mail.dadali.com` and dadali.com `relayDomains: [garudayaksa.com]`
 * by a reload. With the primary's port 25 stopped (fault server-down), a
 * sender that follows the MX records hands the mail to mail.dadali.com, which
 * takes it for garudayaksa.com's known recipients only, holds it in its queue
 * and never tries itself (RFC 5321 5.1), and delivers it to the primary when
 * that answers again. Without relayDomains the backup refuses to relay; with
 * itself as the best MX the message is returned (loops back to myself).
 * `npx mail-lab check` reads the same story from the servers' records
 * (task change-the-lab).
 */
import { MAIL_API } from '../../../services/core/src/admin/api';
import { setFault } from '../../../scripts/faults/apply';
import { reloadLab } from '../../../scripts/reload/reload';
import { gatherActivity } from '../../../services/core/src/check/gather';
import { buildRecords } from '../../../services/core/src/check/records';
import { checkStudents } from '../../../services/core/src/check/evaluate';
import { startTestLab, eventually, type TestLab } from '../helpers/test-lab';
import { submit } from '../faults/helpers';
import { digMx, labYaml, sendSmtp, subjects } from './helpers';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab({ timing: { retryInterval: '1h' } });
}, 60_000);
afterAll(() => lab?.close());

const reload = (text: string) => reloadLab(0, () => lab.target(), text, 'lab.yaml');
const secondMx = (preference: number, relay = true) =>
  labYaml()
    .replace('      - { host: mail.garudayaksa.com, preference: 10 }\n', `      - { host: mail.garudayaksa.com, preference: 10 }\n      - { host: mail.dadali.com, preference: ${preference} }\n`)
    .replace('    mx:\n      - { host: mail.dadali.com, preference: 10 }\n', `${relay ? '    relayDomains: [garudayaksa.com]\n' : ''}    mx:\n      - { host: mail.dadali.com, preference: 10 }\n`);
const dadaliQueue = () => lab.target().mail('dadali.com').call(MAIL_API.queue);
async function checkTask() {
  const t = lab.target();
  const records = buildRecords(await gatherActivity({ lab: 0, config: lab.config, mail: (d) => t.mail(d), dns: () => t.dns() }));
  return checkStudents(records, [{ kind: 'lab', lab: 0, label: 'lab 0' }], ['change-the-lab'])[0].results[0];
}

test('without relayDomains the other domain refuses to be the backup MX (and the definition warns)', async () => {
  const r = await reload(secondMx(20, false));
  expect(r.exit).toBe(0);
  expect(r.lines[0]).toMatch(/^lab\.yaml:\d+:\d+: warning: domains\[0\]\.mx\[1\]\.host: mail\.dadali\.com is the mail host of dadali\.com, which does not accept mail for garudayaksa\.com: add `relayDomains: \[garudayaksa\.com\]` to dadali\.com/);
  await expect(sendSmtp(lab, 'dadali.com', 'kepala@sekolah.test', ['siswa1@garudayaksa.com'], 'Tanpa izin')).rejects.toThrow(/554 5\.7\.1 .*Relay access denied/);
});

test('the primary down: the second MX takes the mail, holds it (never trying itself) and delivers it when the primary is back', async () => {
  expect((await reload(secondMx(20))).changes).toEqual(['dadali.com: backup MX for garudayaksa.com (relayDomains)']);
  expect(await digMx(lab, 'garudayaksa.com')).toEqual(['10 mail.garudayaksa.com.', '20 mail.dadali.com.']);
  expect((await checkTask()).state).toBe('not-yet');
  await setFault(lab.target(), { kind: 'server-down', domain: 'garudayaksa.com' }, true);
  await expect(sendSmtp(lab, 'garudayaksa.com', 'kepala@sekolah.test', ['siswa1@garudayaksa.com'], 'x')).rejects.toThrow(/ECONNREFUSED/);
  // A sending server tries the next MX: mail.dadali.com takes mail for garudayaksa.com's recipients only.
  expect(await sendSmtp(lab, 'dadali.com', 'kepala@sekolah.test', ['siswa1@garudayaksa.com'], 'Lewat MX cadangan')).toMatch(/^250 2\.6\.0 Ok: queued as /);
  await expect(sendSmtp(lab, 'dadali.com', 'kepala@sekolah.test', ['nobody@garudayaksa.com'], 'x')).rejects.toThrow(/550 5\.1\.1 <nobody@garudayaksa\.com>: Recipient address rejected: garudayaksa\.com has no such user \(this server is its backup MX\)/);
  // dadali.com's own users' mail to garudayaksa.com waits there too.
  await submit(lab, 'jpri@dadali.com', ['siswa2@garudayaksa.com'], 'Dari Pak Joko');
  const waiting = await eventually('both wait in the queue of dadali.com', async () => {
    const q = await dadaliQueue();
    return q.length === 2 && q.every((e) => e.attempts > 0) ? q : null;
  });
  for (const e of waiting) expect(e.lastError).toMatch(/mail\.garudayaksa\.com\[127\.0\.0\.1\]:\d+: connection refused/);
  const entry = await lab.target().mail('dadali.com').call(MAIL_API.queueEntry, { id: waiting.find((e) => e.subject === 'Lewat MX cadangan')!.id });
  const transcript = entry.history[0].transcript!.join('\n');
  expect(transcript).toContain('DNS: MX garudayaksa.com -> 10 mail.garudayaksa.com, 20 mail.dadali.com');
  expect(transcript).toContain('MX: mail.dadali.com is this server: it and every MX of preference 20 or more are left out (RFC 5321 5.1); trying mail.garudayaksa.com');
  expect(await subjects(lab, 'garudayaksa.com', 'siswa1')).toEqual([]);
  let r = await checkTask();
  expect([r.state, r.evidence, r.missing]).toEqual(['partly', [expect.stringMatching(/^dadali\.com took kepala@sekolah\.test → siswa1@garudayaksa\.com at \d\d:\d\d:\d\d as the backup MX of garudayaksa\.com \(queue \w+\), still in its queue$/)], [expect.stringContaining('clear the fault, then flush')]]);

  await setFault(lab.target(), { kind: 'server-down', domain: 'garudayaksa.com' }, false);
  await lab.target().mail('dadali.com').call(MAIL_API.flush);
  await eventually('delivered by the backup MX', async () => (await subjects(lab, 'garudayaksa.com', 'siswa1')).includes('Lewat MX cadangan') && (await subjects(lab, 'garudayaksa.com', 'siswa2')).includes('Dari Pak Joko'));
  const raw = (await lab.target().mail('garudayaksa.com').call(MAIL_API.mailboxMessages, { user: 'siswa1' }))[0].headers;
  const received = raw.replace(/\r\n[ \t]+/g, ' ').split('\r\n').filter((h) => h.startsWith('Received:'));
  expect(received).toEqual([expect.stringMatching(/^Received: from mail\.dadali\.com .* by mail\.garudayaksa\.com \(mail-lab\) with ESMTP/), expect.stringMatching(/^Received: from .* by mail\.dadali\.com \(mail-lab\) with ESMTP/)]);
  expect(await dadaliQueue()).toEqual([]);
  r = await checkTask();
  expect([r.state, r.evidence]).toEqual(['done', [expect.stringMatching(/^dadali\.com took kepala@sekolah\.test → siswa1@garudayaksa\.com .* \(queue \w+\), held it \(\d+ deferrals? while the primary was down\) and delivered it to the primary at \d\d:\d\d:\d\d$/)]]);
}, 60_000);

test('the backup as the best MX: the mail loops back to it and is returned (RFC 5321 5.1)', async () => {
  expect((await reload(secondMx(5))).exit).toBe(0);
  expect(await sendSmtp(lab, 'dadali.com', 'jpri@dadali.com', ['siswa3@garudayaksa.com'], 'Berputar')).toMatch(/^250 /);
  await eventually('returned at once, not queued', async () => (await dadaliQueue()).length === 0);
  await eventually('the report in jpri\'s mailbox', async () => (await subjects(lab, 'dadali.com', 'jpri')).some((s) => /Undelivered Mail Returned to Sender/.test(s)));
  const report = await lab.domains['dadali.com'].store.snapshot('jpri', 'INBOX');
  const text = (await lab.domains['dadali.com'].store.read('jpri', 'INBOX', report.messages[report.messages.length - 1].uid))!.toString('latin1');
  expect(text).toMatch(/mail for garudayaksa\.com loops back to myself: mail\.dadali\.com \(this server\) is its best MX/);
  expect(text).toMatch(/Status: 5\.4\.6/);
  expect((await reload(labYaml())).exit).toBe(0);
}, 60_000);
