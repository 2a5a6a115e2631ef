/**
 * Scenario steps for the instructor's faults: `fault: { kind, args, …options }`
 * applies one as `npx mail-lab fault <kind> <args…> --<option> <value>`
 * would, `clear-fault: { kind, args }` removes it (`kind: all` removes
 * every one). Both show what the CLI shows; applying a fault that is already
 * on is not a failure. slow-link is skipped in the no-Docker lab.
 *
 * The CLI's lines (scripts/faults/) are English; with
 * `--lang id` the runner shows them in Indonesian through the table below
 * (a line it does not know, e.g. tc's own output, is shown as it is).
 */
import { faultFromArgs } from '../../services/core/src/faults';
import { setFault } from '../faults/apply';
import { clearAllFaults } from '../faults/list';
import type { LabTarget } from '../lab-target';
import type { Lang } from './lang';
import type { Step } from './schema';
import type { StepResult } from './step-types';

type FaultStep = Extract<Step, Record<'fault', unknown>> | Extract<Step, Record<'clear-fault', unknown>>;

const SLOW_LINK_LOCAL = {
  en: 'slow-link needs the Docker lab (tc and iptables inside the mail containers)',
  id: 'slow-link memerlukan lab Docker (tc dan iptables di dalam kontainer server e-mail)',
};

const retryNote = 'surat yang menunggu di antrian dikirim pada percobaan berikutnya; `npx mail-lab flush <domain>` mengirimnya sekarang';

/** The fault CLI's English lines and their Indonesian; `$1`… are the parts taken over as they are. */
const INDONESIAN: [RegExp, string][] = [
  [/^remove it with `(.*)`$/, 'hapus dengan `$1`'],
  [/^the lab DNS was already down \(fault dns-down\); nothing changed$/, 'DNS lab memang sudah mati (gangguan dns-down); tidak ada yang berubah'],
  [/^the lab DNS was already answering \(no dns-down fault\); nothing changed$/, 'DNS lab memang sudah menjawab (tidak ada gangguan dns-down); tidak ada yang berubah'],
  [/^fault dns-down applied: .*$/, 'gangguan dns-down dipasang: DNS lab berhenti menjawab; pertanyaan dicatat lalu dibuang, jadi pencarian nama kehabisan waktu'],
  [/^senders cannot look up MX records: .*$/, 'pengirim tidak dapat mencari record MX: antriannya menunda lalu mencoba lagi (tidak ada yang dikembalikan)'],
  [/^fault dns-down cleared: .*$/, 'gangguan dns-down dihapus: DNS lab menjawab lagi'],
  [/^queued mail goes out at the next retry; .*$/, retryNote],
  [/^the lab DNS already answers SERVFAIL for (\S+); nothing changed$/, 'DNS lab memang sudah menjawab SERVFAIL untuk $1; tidak ada yang berubah'],
  [/^the lab DNS already answers normally for (\S+) \(no dns-servfail fault\); nothing changed$/, 'DNS lab memang sudah menjawab normal untuk $1 (tidak ada gangguan dns-servfail); tidak ada yang berubah'],
  [/^fault dns-servfail (\S+) applied: .*$/, 'gangguan dns-servfail $1 dipasang: setiap nama di $1 mendapat SERVFAIL dari DNS lab'],
  [/^mail to (\S+) is deferred and retried, not bounced .*$/, 'surat ke $1 ditunda dan dicoba lagi, tidak dikembalikan (SERVFAIL adalah kegagalan sementara)'],
  [/^fault dns-servfail (\S+) cleared: .*$/, 'gangguan dns-servfail $1 dihapus: DNS lab menjawab lagi untuk $1'],
  [/^port 25 of (\S+) was already down \(fault server-down\); nothing changed$/, 'port 25 milik $1 memang sudah mati (gangguan server-down); tidak ada yang berubah'],
  [/^port 25 of (\S+) was already listening \(no server-down fault\); nothing changed$/, 'port 25 milik $1 memang sudah mendengarkan (tidak ada gangguan server-down); tidak ada yang berubah'],
  [/^fault server-down (\S+) applied: .*$/, 'gangguan server-down $1 dipasang: port SMTP 25 milik $1 tidak lagi mendengarkan (koneksi ditolak)'],
  [/^submission \(587\), POP3, IMAP and its outbound queue keep working; .*$/, 'submission (587), POP3, IMAP dan antrian keluarnya tetap bekerja; pengirim ke server itu menunda lalu mencoba lagi'],
  [/^fault server-down (\S+) cleared: .*$/, 'gangguan server-down $1 dihapus: port yang dihentikan milik $1 mendengarkan lagi'],
  [/^every mail port of (\S+) was already down \(fault server-down --all\); nothing changed$/, 'semua port e-mail milik $1 memang sudah mati (gangguan server-down --all); tidak ada yang berubah'],
  [/^fault server-down (\S+) --all applied: .*$/, 'gangguan server-down $1 --all dipasang: tidak ada port e-mail milik $1 yang mendengarkan (25, 587, 465, POP3, IMAP: koneksi ditolak)'],
  [/^mail programs cannot send or read: .*$/, 'program e-mail tidak dapat mengirim maupun membaca: yang ditulis menunggu di outbox-nya, yang sudah disinkronkan hanya itu yang bisa dibaca; antrian dan API admin tetap bekerja'],
  [/^senders deliver at their next retry; .*$/, 'pengirim mengantarkan pada percobaan berikutnya; `npx mail-lab flush <domain>` mengirimnya sekarang'],
  [/^fault greylist (\S+) cleared: .*$/, 'gangguan greylist $1 dihapus: tidak ada greylisting lagi; triplet yang pernah dilihat dilupakan'],
  [/^(\S+) was not greylisting \(no greylist fault\); nothing changed$/, '$1 memang tidak melakukan greylisting (tidak ada gangguan greylist); tidak ada yang berubah'],
  [/^(\S+) was already greylisting with a delay of (.+); nothing changed$/, '$1 memang sudah melakukan greylisting dengan jeda $2; tidak ada yang berubah'],
  [/^fault greylist (\S+) applied: port 25 answers .* with (".*")$/, 'gangguan greylist $1 dipasang: port 25 menjawab RCPT pertama dari setiap (IP klien, pengirim, penerima) yang baru dengan $2'],
  [/^the same triplet is accepted once (.+) have passed, .*$/, 'triplet yang sama diterima setelah $1 berlalu, jadi antrian pengirim sungguhan mengantarkan pada percobaan berikutnya'],
  [/^fault greet-delay (\S+) cleared: .*$/, 'gangguan greet-delay $1 dihapus: port 25 milik $1 langsung menyapa lagi'],
  [/^port 25 of (\S+) was already greeting at once \(no greet-delay fault\); nothing changed$/, 'port 25 milik $1 memang sudah langsung menyapa (tidak ada gangguan greet-delay); tidak ada yang berubah'],
  [/^port 25 of (\S+) already waits (.+) before its greeting; nothing changed$/, 'port 25 milik $1 memang sudah menunggu $2 sebelum salamnya; tidak ada yang berubah'],
  [/^fault greet-delay (\S+) applied: port 25 of \S+ waits (.+) before its "220" greeting$/, 'gangguan greet-delay $1 dipasang: port 25 milik $1 menunggu $2 sebelum salam "220"-nya'],
  [/^a client that sends a command before the greeting gets .*$/, 'klien yang mengirim perintah sebelum salam mendapat "421 You talk too soon" lalu diputus; server e-mail menunggu salam, jadi surat tetap sampai'],
  [/^fault reject (\S+) cleared: RCPT TO:<(\S+)> is accepted again$/, 'gangguan reject $1 dihapus: RCPT TO:<$2> diterima lagi'],
  [/^(\S+) was not being rejected \(no reject fault\); nothing changed$/, '$1 memang tidak sedang ditolak (tidak ada gangguan reject); tidak ada yang berubah'],
  [/^(\S+) was already rejected with (".*"); nothing changed$/, '$1 memang sudah ditolak dengan $2; tidak ada yang berubah'],
  [/^fault reject (\S+) applied: RCPT TO:<(\S+)> answers (".*")$/, 'gangguan reject $1 dipasang: RCPT TO:<$2> dijawab $3'],
  [/^a sending server bounces at once: .*$/, 'server pengirim langsung mengembalikan surat: pengirimnya menerima pemberitahuan status pengiriman (DSN)'],
  [/^(\S+) was already cut off from the backbone \(fault isolate\); nothing changed$/, '$1 memang sudah terputus dari jaringan backbone (gangguan isolate); tidak ada yang berubah'],
  [/^(\S+) was not cut off \(no isolate fault\); nothing changed$/, '$1 memang tidak terputus (tidak ada gangguan isolate); tidak ada yang berubah'],
  [/^fault isolate (\S+) applied: .*$/, 'gangguan isolate $1 dipasang: $1 terputus dari jaringan backbone lab (tanpa DNS, tanpa domain lain, tanpa kontainer klien)'],
  [/^its outgoing mail waits in its queue .*$/, 'surat keluarnya menunggu di antriannya (percobaan kehabisan waktu), surat untuknya menunggu di antrian domain lain; tidak ada yang dikembalikan sebelum batas waktunya'],
  [/^how: (.*)$/, 'caranya: $1'],
  [/^fault isolate (\S+) cleared: .*$/, 'gangguan isolate $1 dihapus: $1 tersambung lagi ke backbone'],
  [/^fault slow-link (\S+ <-> \S+) cleared: .*$/, 'gangguan slow-link $1 dihapus: aturan tc (pembatasan kecepatan dan kehilangan paket) dihapus di kedua kontainer server e-mail'],
  [/^the link (\S+ <-> \S+) was not slowed \(no slow-link fault\); nothing changed$/, 'sambungan $1 memang tidak diperlambat (tidak ada gangguan slow-link); tidak ada yang berubah'],
  [/^fault slow-link (\S+ <-> \S+) applied \((.*)\) inside both mail containers, only to traffic between them$/, 'gangguan slow-link $1 dipasang ($2) di dalam kedua kontainer server e-mail, hanya untuk lalu lintas di antara keduanya'],
  [/^the link (\S+ <-> \S+) was already slowed like this; nothing changed$/, 'sambungan $1 memang sudah diperlambat seperti ini; tidak ada yang berubah'],
  [/^cleared (\d+) fault\(s\); the lab is back to normal$/, '$1 gangguan dihapus; lab kembali normal'],
  [/^no fault was active; nothing changed$/, 'tidak ada gangguan yang aktif; tidak ada yang berubah'],
];

/** One line of the fault CLI in `lang` (unknown lines unchanged). */
export function faultLine(line: string, lang: Lang): string {
  if (lang === 'en') return line;
  for (const [pattern, text] of INDONESIAN) if (pattern.test(line)) return line.replace(pattern, text);
  return line;
}

export async function runFaultStep(target: LabTarget, step: FaultStep, lang: Lang = 'en'): Promise<StepResult> {
  const { kind, args } = 'fault' in step ? step.fault : step['clear-fault'];
  const said = (lines: string[]) => lines.map((l) => faultLine(l, lang));
  if (kind === 'slow-link' && target.mode === 'local') return { status: 'skipped', detail: [SLOW_LINK_LOCAL[lang]] };
  if ('clear-fault' in step) {
    if (kind === 'all') return { status: 'ok', detail: said((await clearAllFaults(target)).lines) };
    return { status: 'ok', detail: said((await setFault(target, faultFromArgs(target.config, kind, args, {}, true), false)).lines) };
  }
  const { kind: _k, args: _a, ...options } = step.fault;
  return { status: 'ok', detail: said((await setFault(target, faultFromArgs(target.config, kind, args, options), true)).lines) };
}
