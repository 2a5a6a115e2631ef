/**
 * `--lang id` all the way down: scenarios run against a whole lab in the test
 * process, and no line the runner writes about a step (the lines under
 * `[n/N] …`) is left in English, apart from what is quoted from the wire
 * (SMTP/POP3 replies, the server's own error text, mail-lab-client's output).
 * Also: failures of the reading steps and the fault CLI's lines in Indonesian.
 */
import { labTarget, type LabTarget } from '../../../scripts/lab-target';
import { runScenario } from '../../../scripts/scenario/runner';
import { scenarioSchema } from '../../../scripts/scenario/schema';
import { faultLine, runFaultStep } from '../../../scripts/scenario/fault-steps';
import { runCollect } from './run-collect';
import { startTestLab, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
let target: LabTarget;
beforeAll(async () => {
  lab = await startTestLab();
  target = lab.target();
}, 30_000);
afterAll(() => lab.close());

const ENGLISH = /\b(the|is|was|are|has|have|expected|found|message\(s\)|messages?|bytes|ok|queued|attempts?|next|retrying|refused|answered|delivered|applied|cleared|remove|nothing|changed|only|blocked|missing|unchanged|it)\b/i;

/** What is left of a detail line once the quoted wire text is taken out. */
function ownWords(line: string): string {
  return line
    .replace(/"[^"]*"/g, '""')
    .replace(/`[^`]*`/g, '``')
    .replace(/(menjawab|sesuai harapan|kesalahan terakhir|diantarkan lewat \S+): .*$/, '$1: …')
    .replace(/^\S+: \d+ byte, \d+ pesan$/, 'file: byte, pesan');
}

/** The runner's own lines about steps: indented 9, not protocol (S:/C:), not a command or its output. */
function detailLines(lines: string[]): string[] {
  return lines.filter((l) => /^ {9}\S/.test(l) && !/^ {9}(S: |C: |\$ mail-lab-client |sha256 |Received: |[A-Z]+ \S+ -> [A-Z]+)/.test(l)).map((l) => l.trim());
}

test('--lang id: no English detail line left in the scenarios of reading, queue, faults and the client', async () => {
  const { ok, lines } = await runCollect(target, ['pop3-vs-imap', 'imap-folders-search', 'pop3-by-hand', 'queue-retry', 'greylisting', 'open-relay-refused', 'attachments'], 'id');
  expect(lines.filter((l) => /GAGAL/.test(l))).toEqual([]);
  expect(ok).toBe(true);
  const details = detailLines(lines);
  expect(details.length).toBeGreaterThan(40);
  expect(details.filter((l) => ENGLISH.test(ownWords(l)))).toEqual([]);
  // a few of them, as a student reads them
  expect(details).toContain('tidak berubah: sebelumnya juga ' + /tidak berubah: sebelumnya juga (\d+) byte/.exec(lines.join('\n'))![1] + ' byte');
  expect(details).toContain('SMTP keluar di antara kedua server diblokir di dalam server itu sendiri (mode tanpa Docker)');
  expect(details.some((l) => /^\[phone\] folders|^\[laptop\] CREATE Sekolah-\w+: berhasil$/.test(l))).toBe(true);
  expect(details.some((l) => /^gangguan greylist dadali\.com dipasang: /.test(l))).toBe(true);
}, 120_000);

test('failures of POP3, IMAP and mailbox-file steps are said in Indonesian', async () => {
  const fail = async (step: object) => {
    const s = scenarioSchema.parse({ name: 'uji', title: 'x', explain: 'x', steps: [step] });
    const out: string[] = [];
    return (await runScenario(target, s, (l) => out.push(l), 'id')).error;
  };
  expect(await fail({ 'mailbox-file': { domain: 'dadali.com', user: 'siswa1', messages: 7 } })).toBe('seharusnya ada 7 pesan di file itu');
  expect(await fail({ 'mailbox-file': { domain: 'dadali.com', user: 'siswa1', messages: 0, same: 'awal' } })).toBe('tidak ada ukuran tersimpan "awal" (pakai save: awal pada langkah mailbox-file sebelumnya)');
  expect(await fail({ pop3: { domain: 'dadali.com', download: { user: 'siswa1', count: 3 } } })).toBe('seharusnya ada 3 pesan di maildrop, STAT menyebut 0');
  expect(await fail({ pop3: { domain: 'dadali.com', dialogue: [{ expect: '\\+OK' }, { send: 'USER siswa1', expect: '-ERR' }] } })).toBe('seharusnya balasan diawali /-ERR/');
  expect(await fail({ imap: { domain: 'dadali.com', user: 'siswa1@dadali.com', client: 'hp', actions: [{ search: { subject: 'tidak ada', count: 1 } }] } })).toBe('[hp] seharusnya ada 1 pesan');
  expect(await fail({ imap: { domain: 'dadali.com', user: 'siswa1@dadali.com', password: 'salah', actions: [{ folders: { includes: [] } }] } })).toMatch(/^\[client\] tidak dapat masuk ke IMAP di 127\.0\.0\.1:\d+ sebagai siswa1@dadali\.com: /);
  expect(await fail({ smtp: { domain: 'dadali.com', dialogue: [{ expect: '554' }] } })).toBe('seharusnya balasan diawali /554/');
  expect(await fail({ 'expect-queue': { domain: 'dadali.com', id: '{{id:tidak-ada}}', state: 'gone' } })).toBe('belum ada pesan yang dikirim dengan save: tidak-ada sebelum langkah ini, jadi {{id:tidak-ada}} tidak diketahui');
}, 60_000);

test('the fault CLI lines of a real fault, applied twice and cleared twice, read in Indonesian', async () => {
  const lines: string[] = [];
  const step = (s: object) => scenarioSchema.parse({ name: 'x', title: 'x', explain: 'x', steps: [s] }).steps[0] as Parameters<typeof runFaultStep>[1];
  for (const [kind, args, options] of [
    ['server-down', ['dadali.com'], {}],
    ['greylist', ['dadali.com'], { delay: '2s' }],
    ['reject', ['siswa1@dadali.com'], { code: 552, text: '5.2.2 Mailbox full' }],
  ] as const) {
    for (let i = 0; i < 2; i++) lines.push(...(await runFaultStep(target, step({ fault: { kind, args, ...options } }), 'id')).detail);
    for (let i = 0; i < 2; i++) lines.push(...(await runFaultStep(target, step({ 'clear-fault': { kind, args } }), 'id')).detail);
  }
  // (not `clear-fault: all`: it also asks the lab DNS, whose admin port the test lab does not move off 10054)
  expect(lines.length).toBeGreaterThan(12);
  expect(lines.filter((l) => ENGLISH.test(ownWords(l)))).toEqual([]);
  expect(lines).toContain('gangguan reject siswa1@dadali.com dipasang: RCPT TO:<siswa1@dadali.com> dijawab "552 5.2.2 Mailbox full"');
  expect(lines).toContain('siswa1@dadali.com memang sudah ditolak dengan "552 5.2.2 Mailbox full"; tidak ada yang berubah');
  expect(faultLine('no fault was active; nothing changed', 'id')).toBe('tidak ada gangguan yang aktif; tidak ada yang berubah');
  expect(faultLine('cleared 2 fault(s); the lab is back to normal', 'id')).toBe('2 gangguan dihapus; lab kembali normal');
  // English stays English, and a line the table does not know is shown as it is
  expect(faultLine('no fault was active; nothing changed', 'en')).toBe('no fault was active; nothing changed');
  expect(faultLine('  mail-lab-dadali: tc qdisc netem delay 200ms', 'id')).toBe('  mail-lab-dadali: tc qdisc netem delay 200ms');
}, 60_000);
