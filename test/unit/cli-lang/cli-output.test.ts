/**
 * The CLI's own output in Indonesian (issue 13 §5): the built `mail-lab`, a
 * real process, against a lab running in this test process (its ports in a
 * lab.yaml of its own, MAIL_LAB_CONFIG). The same commands in English by
 * default, in Indonesian under `--lang id` and under MAIL_LAB_LANG=id:
 * status, queue, show, hold / release / flush, trace, check with its CSV and
 * HTML, and the usage errors (exit 2). An unknown language is a usage error
 * naming en and id.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { eventually, startTestLab, type TestLab } from '../helpers/test-lab';
import { labYamlOf, runCli, type Run } from './harness';

jest.setTimeout(120_000);

let lab: TestLab;
let dir: string;
let labFile: string;
let queueId: string;


/** The built CLI against this lab (harness.ts). */
const mailLab = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCli(lab, labFile, args, env);

/** The same command in Indonesian both ways: `--lang id` and MAIL_LAB_LANG=id give the same words. */
async function indonesian(args: string[]): Promise<Run> {
  const [flag, env] = await Promise.all([mailLab([...args, '--lang', 'id']), mailLab(args, { MAIL_LAB_LANG: 'id' })]);
  expect(env.status).toBe(flag.status);
  // Times, ages and the number of retries (every second) move between the two runs; the words must not.
  const words = (s: string) => [...new Set(s.replace(/\d+(ms|s|m|h)?/g, '#').replace(/ +/g, ' ').split('\n'))].join('\n');
  expect(words(env.stdout)).toBe(words(flag.stdout));
  return flag;
}

/** English words of the CLI's own that must not be left in an Indonesian line. */
const ENGLISH = /\b(messages?|queue of|message\(s\)|attempts?|retry|warn after|return after|history|received|logged in|queued as|held|released|nothing changed|done|partly|not yet|missing|student|tasks|unknown|wrote|unreachable|link)\b/i;

const labYaml = () => labYamlOf(lab);

beforeAll(async () => {
  if (!existsSync(join(__dirname, '../../../dist/scripts/i18n/queue-text.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
  lab = await startTestLab();
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-cli-lang-'));
  labFile = join(dir, 'lab.yaml');
  writeFileSync(labFile, labYaml());
  // A message that waits in garudayaksa.com's queue: the link to dadali.com is cut.
  const cut = await mailLab(['break', 'garudayaksa.com', 'dadali.com']);
  expect(cut.status).toBe(0);
  const g = lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: g.ports.submission, secure: false, ignoreTLS: true, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
  const info = await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject: 'Makan siang', text: 'Bisakah kita makan siang hari Senin?', messageId: '<bahasa-1@garudayaksa.com>' });
  t.close();
  queueId = /queued as (\S+)/.exec(info.response)![1];
  await eventually('a deferred attempt', async () => (await lab.target().mail('garudayaksa.com').call(MAIL_API.queue)).some((e) => e.attempts > 0));
});
afterAll(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('queue: English by default, Indonesian with --lang id and with MAIL_LAB_LANG=id', async () => {
  const en = await mailLab(['queue', 'garudayaksa.com']);
  expect(en.status).toBe(0);
  expect(en.stdout).toMatch(/^queue profile test: retry every 1s, warn after 1h, return after 2h\nid +size +age +sender +recipients +attempts +next attempt +last error\n/);
  expect(en.stdout).toContain(`\n-- 1 message(s) in the queue of garudayaksa.com\n`);
  const id = await indonesian(['queue', 'garudayaksa.com']);
  expect(id.status).toBe(0);
  const lines = id.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe('profil antrian test: coba lagi setiap 1s, peringatan setelah 1h, dikembalikan setelah 2h');
  expect(lines[1]).toMatch(/^id +ukuran +umur +pengirim +penerima +percobaan +percobaan berikutnya +kesalahan terakhir$/);
  expect(lines[2]).toMatch(new RegExp(`^${queueId} +\\d+ +\\S+ +mbrain@garudayaksa\\.com +jpri@dadali\\.com +\\d+ +(\\S+ lagi|-) `));
  expect(lines[3]).toBe('-- 1 pesan di antrian garudayaksa.com');
  for (const l of [lines[0], lines[1], lines[3]]) expect(l).not.toMatch(ENGLISH);
  // An empty queue.
  expect((await mailLab(['queue', 'dadali.com', '--lang', 'id'])).stdout).toMatch(/\nantrian surat keluar dadali\.com kosong\n$/);
});

test('show, hold, release, flush in Indonesian', async () => {
  const show = await indonesian(['show', 'garudayaksa.com', queueId]);
  expect(show.status).toBe(0);
  const lines = show.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(new RegExp(`^${queueId}  \\d+ oktet  dari mbrain@garudayaksa\\.com  tiba \\S+$`));
  expect(lines[1]).toMatch(/^ {2}ke jpri@dadali\.com: menunggu, \d+ percobaan, berikutnya \S+, kesalahan terakhir: /);
  expect(lines[2]).toBe('  riwayat:');
  expect(lines[3]).toMatch(/^ {4}\S+ {2}ditunda {6}jpri@dadali\.com {2}/);
  expect((await mailLab(['show', 'garudayaksa.com', queueId])).stdout).toMatch(/\n {2}history:\n {4}\S+ {2}deferred  jpri@dadali\.com {2}/);

  expect((await mailLab(['hold', 'garudayaksa.com', queueId, '--lang', 'id'])).stdout).toBe(`${queueId}: ditahan\n`);
  expect((await mailLab(['hold', 'garudayaksa.com', queueId], { MAIL_LAB_LANG: 'id' })).stdout).toBe(`${queueId} memang sudah ditahan; tidak ada yang berubah\n`);
  expect((await mailLab(['show', 'garudayaksa.com', queueId, '--lang', 'id'])).stdout.split('\n')[0]).toMatch(/ {2}\(DITAHAN\)$/);
  expect((await mailLab(['hold', 'garudayaksa.com', queueId])).stdout).toBe(`${queueId} was already held; nothing changed\n`);
  expect((await mailLab(['release', 'garudayaksa.com', queueId, '--lang', 'id'])).stdout).toBe(`${queueId}: dilepas\n`);
  expect((await mailLab(['flush', 'garudayaksa.com', '--lang', 'id'])).stdout).toBe(`dicoba lagi sekarang: ${queueId}\n`);
  expect((await mailLab(['flush', 'dadali.com', '--lang', 'id'])).stdout).toBe('antrian dadali.com kosong; tidak ada yang perlu dicoba lagi\n');
  expect((await mailLab(['flush', 'dadali.com'])).stdout).toBe('the queue of dadali.com is empty; nothing to flush\n');
});

test('status in Indonesian: the services, the cut link, the faults, the queues', async () => {
  const id = await indonesian(['status']);
  const out = id.stdout;
  expect(out).toMatch(/^lab 0, mode: /);
  expect(out).toMatch(/\n {2}layanan +alamat +keadaan +jawaban\n/);
  expect(out).toMatch(/\n {2}garudayaksa\.com admin +127\.0\.0\.1:\d+ +hidup +/);
  expect(out).toContain('\n  jalur garudayaksa.com <-> dadali.com: PUTUS\n');
  expect(out).toMatch(/\n {2}gangguan link garudayaksa\.com <-> dadali\.com: /);
  expect(out).toMatch(/\n {2}antrian garudayaksa\.com: 1 pesan, profil antrian test: coba lagi setiap 1s/);
  const en = await mailLab(['status']);
  expect(en.stdout).toContain('\n  link garudayaksa.com <-> dadali.com: BROKEN\n');
  expect(en.stdout).toMatch(/\n {2}queue garudayaksa\.com: 1 message\(s\), queue profile test: retry every 1s/);
});

test('trace in Indonesian; the wire transcripts stay as they were spoken', async () => {
  const id = await indonesian(['trace', '<bahasa-1@garudayaksa.com>']);
  expect(id.status).toBe(0);
  const lines = id.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe('jejak <bahasa-1@garudayaksa.com> "Makan siang"');
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\S+ garudayaksa\\.com +diterima lewat SMTP port \\d+ dari \\S+ \\([^)]*127\\.0\\.0\\.1\\), login sebagai mbrain\\S*: masuk antrian sebagai ${queueId}$`)));
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\S+ garudayaksa\\.com +antrian ${queueId} \\(masih di antrian\\): dari mbrain@garudayaksa\\.com ke jpri@dadali\\.com \\[menunggu\\]$`)));
  expect(lines).toContainEqual(expect.stringMatching(/^\S+ garudayaksa\.com +  percobaan: ditunda jpri@dadali\.com: /));
  expect(lines).toContainEqual(expect.stringMatching(/^ {4}C: MAIL FROM:<mbrain@garudayaksa\.com>/i));
  const brief = await mailLab(['trace', '<bahasa-1@garudayaksa.com>', '--brief', '--lang', 'id']);
  for (const l of brief.stdout.trimEnd().split('\n')) expect(l.replace(/: [^:]*$/, '')).not.toMatch(ENGLISH);
  const none = await mailLab(['trace', '<tidak-ada@x>', '--lang', 'id']);
  expect(none).toMatchObject({ status: 1, stdout: 'tidak ada jejak <tidak-ada@x> di lab (berikan header Message-ID, misalnya <...@mail.garudayaksa.com>, atau nomor antrian)\n' });
  expect((await mailLab(['trace', '<bahasa-1@garudayaksa.com>'])).stdout).toMatch(/^trace of <bahasa-1@garudayaksa\.com> "Makan siang"\n/);
});

test('check in Indonesian: the student text, the table, the CSV and the HTML page', async () => {
  const csv = join(dir, 'kelas.csv');
  const html = join(dir, 'kelas.html');
  const one = await indonesian(['check', '--task', 'queue-retry,mx-lookup']);
  expect(one.status).toBe(0);
  expect(one.stdout).toMatch(/^lab 0: 0 dari 2 tugas selesai, 1 sebagian\n {2}queue-retry: sebagian — /);
  expect(one.stdout).toMatch(/\n {2}mx-lookup: belum\n {4}kurang: /);
  const all = await mailLab(['check', '--all', '--task', 'queue-retry', '--csv', csv, '--html', html, '--lang', 'id']);
  expect(all.status).toBe(0);
  const lines = all.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^lab 0: \d+ akun siswa × 1 tugas, dari catatan server$/);
  expect(lines[1]).toMatch(/^ +7 {2}selesai$/);
  expect(lines).toContain('mbrain      ~        0');
  expect(lines).toContain('+ selesai, ~ sebagian, . belum; tugas:');
  expect(lines).toContain(`${csv} ditulis (CSV, ${lines.filter((l) => /^\S+ +[.~+] +\d+$/.test(l)).length} baris)`);
  expect(lines.at(-1)).toBe(`${html} ditulis (HTML, siap cetak)`);
  // Not the file names, nor the tasks' names (the worksheets' file names, `  7 queue-retry`).
  for (const l of lines.filter((x) => !x.includes(dir) && !/^ +\d+ [a-z0-9-]+$/.test(x))) expect(l).not.toMatch(ENGLISH);
  expect(readFileSync(csv, 'utf8').split('\r\n')[0]).toBe('lab,siswa,queue-retry,selesai,sebagian,catatan');
  expect(readFileSync(csv, 'utf8')).toContain('\r\n0,mbrain,sebagian,0,1,\r\n');
  const page = readFileSync(html, 'utf8');
  expect(page).toContain('<html lang="id">');
  expect(page).toContain('<th class="name">siswa</th>');
  expect(page).toContain('<li value="7">queue-retry: Antrian mencoba lagi</li>');
  expect(page).toMatch(/<div class="meta">dibuat \d{4}-\d\d-\d\d \d\d:\d\d:\d\d dari catatan server lab sendiri/);
  // English by default, as before.
  const en = await mailLab(['check', '--all', '--task', 'queue-retry', '--html', html]);
  expect(en.stdout).toMatch(/^lab 0: \d+ student account\(s\) × 1 tasks, from the servers' records\n +7 {2}done\n/);
  expect(readFileSync(html, 'utf8')).toContain('<html lang="en">');
});

test('usage errors in Indonesian, exit 2', async () => {
  const domain = await indonesian(['queue', 'yahoo.com']);
  expect(domain).toMatchObject({ status: 2, stderr: 'mail-lab: domain "yahoo.com" tidak dikenal; lab ini punya: garudayaksa.com, dadali.com\n' });
  expect((await mailLab(['queue', 'yahoo.com'])).stderr).toBe('mail-lab: unknown domain "yahoo.com"; the lab has: garudayaksa.com, dadali.com\n');
  expect(await mailLab(['show', 'garudayaksa.com', 'TIDAKADA1', '--lang', 'id'])).toMatchObject({ status: 2, stderr: 'mail-lab: tidak ada pesan TIDAKADA1 di antrian garudayaksa.com\n' });
  expect(await mailLab(['check', 'budi'], { MAIL_LAB_LANG: 'id' })).toMatchObject({ status: 2, stderr: expect.stringMatching(/^mail-lab: tidak ada akun "budi" di lab 0: akunnya mbrain, /) });
  expect(await mailLab(['check', 'siswa1', '--all', '--lang', 'id'])).toMatchObject({ status: 2, stderr: 'mail-lab: sebutkan satu akun atau --all, jangan keduanya\n' });
  expect(await mailLab(['--lab', '99', 'status', '--lang', 'id'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/^mail-lab: --lab harus nomor lab dari 0 sampai 90 \(bukan 99\)/) });
  // A lab whose admin API does not answer: the queue of a lab definition with closed admin ports.
  const down = join(dir, 'down.yaml');
  const dadaliAdmin = lab.config.domains.find((d) => d.name === 'dadali.com')!.ports.admin;
  writeFileSync(down, readFileSync(labFile, 'utf8').replace(`admin: ${dadaliAdmin}`, 'admin: 1'));
  const r = await mailLab(['queue', 'dadali.com', '--lang', 'id'], { MAIL_LAB_CONFIG: down });
  expect(r).toMatchObject({ status: 1, stderr: 'mail-lab: API admin dadali.com di 127.0.0.1:1 tidak dapat dihubungi (ECONNREFUSED); apakah lab sudah berjalan? (`npx mail-lab status`)\n' });
});

test('an unknown language is a usage error naming en and id, before anything runs', async () => {
  for (const [args, env, source] of [
    [['--lang', 'fr', 'queue', 'garudayaksa.com'], {}, '--lang'],
    [['queue', 'garudayaksa.com', '--lang', 'sunda'], {}, '--lang'],
    [['hold', 'garudayaksa.com', queueId], { MAIL_LAB_LANG: 'jawa' }, 'MAIL_LAB_LANG'],
  ] as const) {
    const r = await mailLab([...args], env);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^mail-lab: unknown language "\\w+" \\(${source}\\): use en \\(English\\) or id \\(Bahasa Indonesia\\) / bahasa "\\w+" tidak dikenal`));
  }
  // Nothing was held by the refused `hold`.
  expect((await mailLab(['show', 'garudayaksa.com', queueId])).stdout.split('\n')[0]).not.toContain('HELD');
  // LANG=id_ID chooses Indonesian when nothing else does.
  expect((await mailLab(['flush', 'dadali.com'], { LANG: 'id_ID.UTF-8' })).stdout).toBe('antrian dadali.com kosong; tidak ada yang perlu dicoba lagi\n');
});

test('validate in Indonesian: the lab definition, its domains and its queue profile', async () => {
  const file = join(__dirname, '../../../lab-scenarios/lab.yaml');
  const id = await indonesian(['validate', file]);
  expect(id.status).toBe(0);
  expect(id.stdout).toMatch(/^\S*lab\.yaml: sah\n {2}garudayaksa\.com: \d+ akun, \d+ alias, MX 10 mail\.garudayaksa\.com\n/);
  expect(id.stdout).toMatch(/\n {2}profil antrian "classroom": coba lagi setiap 30s, peringatan setelah 2m, dikembalikan setelah 10m\n$/);
  expect((await mailLab(['validate', file])).stdout).toMatch(/^\S*lab\.yaml: valid\n {2}garudayaksa\.com: \d+ accounts, \d+ aliases, MX 10 mail\.garudayaksa\.com\n[\s\S]* {2}queue profile "classroom": retry every 30s, warn after 2m, return after 10m\n$/);
});
