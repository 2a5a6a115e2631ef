/**
 * The runner in Indonesian: scenarios run against a whole lab in the test
 * process (no-Docker mode, free loopback ports), their texts and the
 * runner's messages from the Indonesian catalog, and the closing line still
 * the English `scenarios: N passed, M failed (...)` that CI parses. Also the
 * CLI: an unknown --lang is a usage error (exit status 2).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { labTarget } from '../../../scripts/lab-target';
import type { LabTarget } from '../../../scripts/lab-target';
import { runScenario } from '../../../scripts/scenario/runner';
import { scenarioSchema } from '../../../scripts/scenario/schema';
import { runCollect } from './run-collect';
import { startTestLab, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
let target: LabTarget;
beforeAll(async () => {
  lab = await startTestLab();
  target = lab.target();
}, 30_000);
afterAll(() => lab.close());

const run = (names: string[], lang?: 'en' | 'id') => runCollect(target, names, lang);

test('--lang id: Indonesian texts and messages, then the Indonesian summary, then the English one last', async () => {
  const r = await run(['smtp-by-hand', 'mx-lookup'], 'id');
  expect(r.ok).toBe(true);
  expect(r.text).toContain('== smtp-by-hand: Sesi SMTP yang diketik sendiri');
  expect(r.text).toContain('   Inilah yang kita ketik di `telnet localhost 20025`');
  expect(r.text).toMatch(/\[1\/2\] SMTP diketik manual ke dadali\.com \(smtp\) \.\.\./);
  expect(r.text).toMatch(/\[2\/2\] periksa kotak surat jpri@dadali\.com \.\.\./);
  expect(r.text).toMatch(/^ {9}berhasil \(\d+,\d detik\)$/m);
  expect(r.text).toMatch(/^== smtp-by-hand: lulus \(\d+,\d detik\)$/m);
  expect(r.text).toContain('== mx-lookup: Mencari server domain tujuan (pencarian MX di DNS)');
  expect(r.text).toMatch(/tanya DNS lab: MX dadali\.com/);
  // the exec step needs the client container: skipped in no-Docker mode, said in Indonesian
  expect(r.text).toMatch(/jalankan di client: dig \+short MX dadali\.com \.\.\.\n {9}hanya di mode Docker .*\n {9}dilewati \(/);
  expect(r.text).toMatch(/periksa bagaimana garudayaksa\.com mengantarkan pesan/);
  expect(r.text).not.toMatch(/\bok \(|passed \(|check the mailbox/);
  const tail = r.lines.filter((l) => l.trim()).slice(-2);
  expect(tail).toEqual(['skenario: 2 berhasil, 0 gagal (lab tanpa Docker)', 'scenarios: 2 passed, 0 failed (no-Docker lab)']);
}, 60_000);

test('English by default: no Indonesian line, the same English summary', async () => {
  const r = await run(['open-relay-refused']);
  expect(r.ok).toBe(true);
  expect(r.text).toContain('== open-relay-refused: No open relay');
  expect(r.text).toContain('refused as expected: 554 5.7.1');
  expect(r.text).not.toContain('skenario:');
  expect(r.lines.filter((l) => l.trim()).slice(-1)).toEqual(['scenarios: 1 passed, 0 failed (no-Docker lab)']);
}, 60_000);

test('notes (say) and a failing step in Indonesian; the summary counts the failure in both languages', async () => {
  const scenario = scenarioSchema.parse({
    name: 'uji-gagal',
    title: { en: 'A failing check', id: 'Pemeriksaan yang gagal' },
    explain: { en: 'Expects a wrong MX answer.', id: 'Mengharapkan jawaban MX yang salah.' },
    steps: [{ say: { en: 'Now the DNS.', id: 'Sekarang DNS-nya.' } }, { dns: { name: 'dadali.com', type: 'MX', expect: ['10 mail.salah.com'] } }],
  });
  const lines: string[] = [];
  const outcome = await runScenario(target, scenario, (l) => lines.push(l), 'id');
  expect(outcome.ok).toBe(false);
  const text = lines.join('\n');
  expect(text).toContain('== uji-gagal: Pemeriksaan yang gagal');
  expect(text).toContain('   Mengharapkan jawaban MX yang salah.');
  expect(text).toContain('   » Sekarang DNS-nya.');
  expect(text).toContain('         GAGAL: seharusnya 10 mail.salah.com');
  expect(text).toContain('== uji-gagal: GAGAL pada langkah 2 (tanya DNS lab: MX dadali.com)');

  const r = await run(['tidak-ada-skenario', 'smtp-by-hand'], 'id');
  expect(r.ok).toBe(false);
  expect(r.text).toContain('tidak ada skenario "tidak-ada-skenario" (lihat `npx mail-lab scenario --list`)');
  expect(r.lines.filter((l) => l.trim()).slice(-2)).toEqual(['skenario: 1 berhasil, 1 gagal (lab tanpa Docker)', 'scenarios: 1 passed, 1 failed (no-Docker lab)']);
}, 60_000);

describe('mail-lab scenario --lang (the built CLI)', () => {
  const cli = join(__dirname, '../../../bin/mail-lab.js');
  beforeAll(() => {
    if (!existsSync(join(__dirname, '../../../dist/scripts/scenario/messages.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
  });
  const env = (extra: Record<string, string>) => {
    const e: Record<string, string | undefined> = { ...process.env, ...extra };
    if (!('MAIL_LAB_LANG' in extra)) delete e.MAIL_LAB_LANG;
    return e as NodeJS.ProcessEnv;
  };
  const mailLab = (args: string[], extra: Record<string, string> = {}) => spawnSync(process.execPath, [cli, 'scenario', ...args], { encoding: 'utf8', env: env(extra), timeout: 30_000 });

  test('an unknown --lang: exit 2, a clear message, nothing run', () => {
    const r = mailLab(['smtp-by-hand', '--lang', 'fr']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('mail-lab: unknown language "fr" (--lang): use en (English) or id (Bahasa Indonesia)');
    expect(r.stdout).toBe('');
  });

  test('an unknown MAIL_LAB_LANG is refused the same way', () => {
    const r = mailLab(['--all'], { MAIL_LAB_LANG: 'sunda' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown language "sunda" (MAIL_LAB_LANG)');
  });

  test('--list in Indonesian, chosen by --lang, MAIL_LAB_LANG or LANG', () => {
    for (const [args, extra] of [
      [['--lang', 'id'], {}],
      [[], { MAIL_LAB_LANG: 'id' }],
      [[], { LANG: 'id_ID.UTF-8' }],
    ] as const) {
      const r = mailLab(['--list', ...args], extra);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^queue-retry +Antrian menunggu, mencoba lagi, lalu mengantarkan/m);
    }
    const en = mailLab(['--list'], { LANG: 'C.UTF-8' });
    expect(en.stdout).toMatch(/^queue-retry +The queue waits, retries and delivers/m);
  });
});
