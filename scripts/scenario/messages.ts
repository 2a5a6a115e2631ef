/**
 * The scenario runner's words, in English and Indonesian (the lesson's
 * language): step descriptions, ok / FAILED / skipped, the closing summary.
 * Scenario files carry their own texts (`title`, `explain`, `say`) as a plain
 * string (English only) or `{ en, id }`; `pick` chooses one. The language
 * comes from the CLI's `--lang`, else MAIL_LAB_LANG, else LANG (id_ID… means
 * Indonesian), else English: see `chooseLang` in scripts/i18n/lang.ts.
 */
import type { Scenario, Step } from './schema';
import { describeQueueStep } from './queue-steps';
import { describeReloadStep } from './reload-steps';
import type { Lang } from './lang';

/** A text in a scenario file: English only, or both languages. */
export type Localized = string | { en: string; id: string };

/** The text in `lang`; a plain string is English and serves every language. */
export function pick(text: Localized, lang: Lang): string {
  return typeof text === 'string' ? text : text[lang];
}

// How the language is chosen is the CLI's, for every command (scripts/i18n/lang.ts); kept importable from here.
export { chooseLang, isUnknownLanguageError, parseLang, UnknownLanguageError } from '../i18n/lang';

const en = {
  note: 'note',
  ok: 'ok',
  skipped: 'skipped',
  failed: 'FAILED',
  seconds: (s: number) => `${s.toFixed(1)} s`,
  failedAt: (name: string, step: number, what: string) => `== ${name}: FAILED at step ${step} (${what})`,
  passed: (name: string, time: string) => `== ${name}: passed (${time})`,
  noScenario: (name: string) => `no scenario "${name}" (see \`npx mail-lab scenario --list\`)`,
  /** The line CI parses; the English one is always printed. */
  summary: (passed: number, failed: number, mode: 'local' | 'docker') =>
    `scenarios: ${passed} passed, ${failed} failed (${mode === 'local' ? 'no-Docker' : 'Docker'} lab)`,
  /** The lab's mail program and the files it sends and saves (client-steps.ts). */
  client: {
    made: (file: string, bytes: number, dir: string, container?: string) => `made ${file}: ${bytes} random bytes (not text, like a photo) in ${dir}${container ? ` in the container ${container}` : ''}`,
    firstBytes: (hex: string) => `its first bytes (hex): ${hex}`,
    cannotMake: (file: string, why: string) => `could not make ${file}: ${why}`,
    missingFile: (file: string) => `- ${file}: no such file`,
    filesMissing: (files: string) => `no such file: ${files} (did mail-lab-client save it?)`,
    filesDiffer: (first: string, others: string) => `not the same bytes as ${first}: ${others}`,
    filesSame: (n: number) => `all ${n} files are the same bytes (the same sha256)`,
    moreLines: (n: number) => `[... ${n} more lines ...]`,
    linesShown: (shown: number, total: number) => `(${shown} of ${total} lines shown)`,
    exited: (code: number, why: string) => `mail-lab-client exited with status ${code}${why ? `: ${why}` : ''}`,
    noMatch: (pattern: string) => `the output of mail-lab-client does not match /${pattern}/`,
  },
  /** POP3, IMAP and the mailbox file (reading-steps.ts). */
  reading: {
    pop3NoAnswer: 'the POP3 server did not answer within 10 s',
    expectedReply: (pattern: string) => `expected a reply starting /${pattern}/`,
    statSays: (expected: number, found: number) => `expected ${expected} message(s) in the maildrop, STAT says ${found}`,
    imapLogin: (who: string, where: string, user: string, why: string) => `${who} could not log in to IMAP on ${where} as ${user}: ${why}`,
    done: (who: string, command: string) => `${who} ${command}: ok`,
    foldersMissing: (who: string, folders: string) => `${who} folders missing: ${folders}`,
    noSubject: (who: string, subject: string, folder: string) => `${who} no message with subject "${subject}" in ${folder}`,
    moved: (who: string, subject: string, from: string, uids: string, to: string) => `${who} SEARCH SUBJECT "${subject}" in ${from} -> UID ${uids}; MOVE to ${to}: ok`,
    searched: (who: string, query: string, folder: string, n: number, uids: string) => `${who} SEARCH ${query} in ${folder} (on the server) -> ${n} message(s)${uids ? `: UID ${uids}` : ''}`,
    expectedMessages: (who: string, n: number) => `${who} expected ${n} message(s)`,
    fileSize: (path: string, size: number, count: number) => `${path}: ${size} bytes, ${count} message(s)`,
    noSavedSize: (name: string) => `no saved size "${name}" (use save: ${name} in an earlier mailbox-file step)`,
    wasBytes: (size: number) => `it was ${size} bytes`,
    notShrunk: 'the mailbox file did not shrink',
    unchanged: (size: number) => `unchanged: it was ${size} bytes before too`,
    changed: (size: number) => `the mailbox file changed: it was ${size} bytes`,
    fileCount: (n: number) => `expected ${n} message(s) in the file`,
  },
  /** How `break` cut the link (lab-target.ts says it in English; `mode` tells which way it was). */
  link: {
    broken: (how: string, _mode: 'local' | 'docker') => how,
  },
  /** Why a step failed (steps.ts) and what the runner undid after a failure. */
  failure: {
    unknownId: (name?: string) => `no message was sent${name ? ` with save: ${name}` : ''} before this step, so {{id${name ? ':' + name : ''}}} is unknown`,
    notRefused: (expected: string, reply: string) => `expected the server to refuse with ${expected}, but it answered: ${reply}`,
    sendFailed: (reply: string) => `sending failed: ${reply}`,
    receivedCount: (expected: number, found: number) => `expected ${expected} Received: headers (hops), found ${found}`,
    receivedMismatch: (n: number, pattern: string) => `Received: header ${n} does not match /${pattern}/`,
    noHeader: (pattern: string) => `no header matches /${pattern}/`,
    dnsRcode: (expected: string, got: string) => `expected ${expected}, got ${got}`,
    dnsAnswers: (expected: string) => `expected ${expected}`,
    expectedMx: (hosts: string) => `expected MX hosts ${hosts}`,
    expectedHost: (pattern: string) => `expected the host to match /${pattern}/`,
    exited: (code: number) => `exited with ${code}`,
    outputNoMatch: (pattern: string) => `output does not match /${pattern}/`,
    noAnswer: 'the server did not answer within 10 s',
    undone: (what: string) => `(undone: ${what})`,
    couldNotUndo: (what: string, why: string) => `(could not undo ${what}: ${why})`,
  },
  step: {
    break: (a: string, b: string) => `break the link ${a} <-> ${b}`,
    heal: (a: string, b: string) => `heal the link ${a} <-> ${b}`,
    flush: (d: string) => `flush the queue of ${d}`,
    send: (from: string, to: string, subject: string, via: string) => `send ${from} -> ${to} "${subject}" via ${via}`,
    mailbox: (address: string) => `check the mailbox of ${address}`,
    queue: (d: string) => `check the queue of ${d}`,
    delivery: (d: string) => `check how ${d} delivered it`,
    dns: (type: string, name: string) => `ask the lab DNS: ${type} ${name}`,
    smtp: (d: string, port: string) => `SMTP by hand to ${d} (${port})`,
    pop3: (d: string) => `POP3 by hand to ${d}`,
    pop3Download: (d: string, user: string) => `a POP3 mail program downloads the mail of ${user}@${d} (RETR, DELE, QUIT)`,
    imap: (user: string, client: string) => `IMAP as ${user} (${client})`,
    mailboxFile: (address: string) => `look at the mailbox file of ${address}`,
    exec: (container: string, command: string) => `run in ${container}: ${command}`,
    fault: (what: string) => `apply the fault ${what}`,
    clearFault: (what: string) => `clear the fault ${what}`,
    expire: (d: string, id: string) => `return ${id} to its sender now (npx mail-lab expire ${d} ${id})`,
    client: (command: string, who: string) => `the lab's mail program: mail-lab-client ${command}${who ? ` (${who})` : ''}`,
    makeFile: (name: string, bytes: number) => `make a file of ${bytes} random bytes: ${name}`,
    compareFiles: (files: string) => `compare the files byte for byte (sha256): ${files}`,
  },
  detail: {
    linkUnchanged: 'it already was',
    linkHealed: 'restored',
    queueEmpty: 'queue empty',
    retrying: (ids: string) => `retrying now: ${ids}`,
    refusedAsExpected: (reply: string) => `refused as expected: ${reply}`,
    dockerOnly: 'only in Docker mode (the no-Docker lab has no containers)',
    answered: (server: string, hostPort: number, reply: string) => `${server} (host port ${hostPort}) answered: ${reply}`,
    inMailbox: (n: number, subject: string, user: string) => `${n} message(s) with Subject "${subject}" in ${user}'s mailbox`,
    mailboxCount: (expected: number, subject: string, address: string, found: number, within: string) =>
      `expected ${expected} message(s) with Subject "${subject}" in ${address}, found ${found} within ${within}`,
    queued: (id: string, attempts: number, lastError: string) => `${id} is queued: ${attempts} attempt(s), last error: ${lastError}`,
    nextAttempt: (inSeconds: number | null, at?: string) => `next attempt ${inSeconds === null ? 'not scheduled' : `in ${inSeconds} s (${at})`}`,
    leftQueue: (id: string, domain: string) => `${id} has left the queue of ${domain}`,
    stillQueued: (id: string, domain: string) => `${id} is still in the queue of ${domain}`,
    notQueued: (id: string, domain: string, pattern?: string) => `${id} is not waiting in the queue of ${domain}${pattern ? ` with an error matching /${pattern}/` : ''}`,
    mxUsed: (mx: string) => `MX answer the sender used: ${mx}`,
    deliveredVia: (host: string, detail: string) => `delivered via ${host}: ${detail}`,
    noDelivery: (domain: string, id: string) => `${domain} has no record of delivering ${id} over SMTP`,
    expired: (id: string, domain: string) => `${domain} gave up on ${id}: it returns the message to the sender now`,
  },
};

export type Catalog = typeof en;

const id: Catalog = {
  note: 'catatan',
  ok: 'berhasil',
  skipped: 'dilewati',
  failed: 'GAGAL',
  seconds: (s: number) => `${s.toFixed(1).replace('.', ',')} detik`,
  failedAt: (name, step, what) => `== ${name}: GAGAL pada langkah ${step} (${what})`,
  passed: (name, time) => `== ${name}: lulus (${time})`,
  noScenario: (name) => `tidak ada skenario "${name}" (lihat \`npx mail-lab scenario --list\`)`,
  summary: (passed, failed, mode) => `skenario: ${passed} berhasil, ${failed} gagal (lab ${mode === 'local' ? 'tanpa Docker' : 'Docker'})`,
  client: {
    made: (file, bytes, dir, container) => `${file} dibuat: ${bytes} byte acak (bukan teks, seperti foto) di ${dir}${container ? ` di kontainer ${container}` : ''}`,
    firstBytes: (hex) => `byte-byte pertamanya (hex): ${hex}`,
    cannotMake: (file, why) => `${file} tidak dapat dibuat: ${why}`,
    missingFile: (file) => `- ${file}: file tidak ada`,
    filesMissing: (files) => `file tidak ada: ${files} (apakah mail-lab-client sudah menyimpannya?)`,
    filesDiffer: (first, others) => `isinya tidak sama dengan ${first}: ${others}`,
    filesSame: (n) => `ke-${n} file itu isinya sama persis (sha256 yang sama)`,
    moreLines: (n) => `[... ${n} baris lagi ...]`,
    linesShown: (shown, total) => `(${shown} dari ${total} baris ditampilkan)`,
    exited: (code, why) => `mail-lab-client berakhir dengan status ${code}${why ? `: ${why}` : ''}`,
    noMatch: (pattern) => `keluaran mail-lab-client tidak cocok dengan /${pattern}/`,
  },
  reading: {
    pop3NoAnswer: 'server POP3 tidak menjawab dalam 10 detik',
    expectedReply: (pattern) => `seharusnya balasan diawali /${pattern}/`,
    statSays: (expected, found) => `seharusnya ada ${expected} pesan di maildrop, STAT menyebut ${found}`,
    imapLogin: (who, where, user, why) => `${who} tidak dapat masuk ke IMAP di ${where} sebagai ${user}: ${why}`,
    done: (who, command) => `${who} ${command}: berhasil`,
    foldersMissing: (who, folders) => `${who} folder tidak ada: ${folders}`,
    noSubject: (who, subject, folder) => `${who} tidak ada pesan dengan subjek "${subject}" di ${folder}`,
    moved: (who, subject, from, uids, to) => `${who} SEARCH SUBJECT "${subject}" di ${from} -> UID ${uids}; MOVE ke ${to}: berhasil`,
    searched: (who, query, folder, n, uids) => `${who} SEARCH ${query} di ${folder} (di server) -> ${n} pesan${uids ? `: UID ${uids}` : ''}`,
    expectedMessages: (who, n) => `${who} seharusnya ada ${n} pesan`,
    fileSize: (path, size, count) => `${path}: ${size} byte, ${count} pesan`,
    noSavedSize: (name) => `tidak ada ukuran tersimpan "${name}" (pakai save: ${name} pada langkah mailbox-file sebelumnya)`,
    wasBytes: (size) => `sebelumnya ${size} byte`,
    notShrunk: 'file kotak surat tidak mengecil',
    unchanged: (size) => `tidak berubah: sebelumnya juga ${size} byte`,
    changed: (size) => `file kotak surat berubah: sebelumnya ${size} byte`,
    fileCount: (n) => `seharusnya ada ${n} pesan di file itu`,
  },
  link: {
    broken: (_how, mode) =>
      mode === 'local'
        ? 'SMTP keluar di antara kedua server diblokir di dalam server itu sendiri (mode tanpa Docker)'
        : 'iptables DROP di antara kedua kontainer server e-mail: koneksi kehabisan waktu',
  },
  failure: {
    unknownId: (name) => `belum ada pesan yang dikirim${name ? ` dengan save: ${name}` : ''} sebelum langkah ini, jadi {{id${name ? ':' + name : ''}}} tidak diketahui`,
    notRefused: (expected, reply) => `seharusnya server menolak dengan ${expected}, tetapi jawabannya: ${reply}`,
    sendFailed: (reply) => `pengiriman gagal: ${reply}`,
    receivedCount: (expected, found) => `seharusnya ada ${expected} header Received: (hop), yang ditemukan ${found}`,
    receivedMismatch: (n, pattern) => `header Received: ke-${n} tidak cocok dengan /${pattern}/`,
    noHeader: (pattern) => `tidak ada header yang cocok dengan /${pattern}/`,
    dnsRcode: (expected, got) => `seharusnya ${expected}, yang didapat ${got}`,
    dnsAnswers: (expected) => `seharusnya ${expected}`,
    expectedMx: (hosts) => `seharusnya host MX-nya ${hosts}`,
    expectedHost: (pattern) => `seharusnya host-nya cocok dengan /${pattern}/`,
    exited: (code) => `berakhir dengan status ${code}`,
    outputNoMatch: (pattern) => `keluaran tidak cocok dengan /${pattern}/`,
    noAnswer: 'server tidak menjawab dalam 10 detik',
    undone: (what) => `(sudah dibatalkan: ${what})`,
    couldNotUndo: (what, why) => `(tidak dapat membatalkan ${what}: ${why})`,
  },
  step: {
    break: (a, b) => `putuskan sambungan ${a} <-> ${b}`,
    heal: (a, b) => `pulihkan sambungan ${a} <-> ${b}`,
    flush: (d) => `kirim ulang antrian ${d} sekarang (flush)`,
    send: (from, to, subject, via) => `kirim ${from} -> ${to} "${subject}" lewat ${via}`,
    mailbox: (address) => `periksa kotak surat ${address}`,
    queue: (d) => `periksa antrian ${d}`,
    delivery: (d) => `periksa bagaimana ${d} mengantarkan pesan`,
    dns: (type, name) => `tanya DNS lab: ${type} ${name}`,
    smtp: (d, port) => `SMTP diketik manual ke ${d} (${port})`,
    pop3: (d) => `POP3 diketik manual ke ${d}`,
    pop3Download: (d, user) => `program e-mail POP3 mengunduh surat ${user}@${d} (RETR, DELE, QUIT)`,
    imap: (user, client) => `IMAP sebagai ${user} (${client})`,
    mailboxFile: (address) => `lihat file kotak surat ${address}`,
    exec: (container, command) => `jalankan di ${container}: ${command}`,
    fault: (what) => `pasang gangguan ${what}`,
    clearFault: (what) => `hapus gangguan ${what}`,
    expire: (d, id) => `kembalikan ${id} kepada pengirimnya sekarang (npx mail-lab expire ${d} ${id})`,
    client: (command, who) => `program e-mail lab: mail-lab-client ${command}${who ? ` (${who})` : ''}`,
    makeFile: (name, bytes) => `buat file berisi ${bytes} byte acak: ${name}`,
    compareFiles: (files) => `bandingkan file byte demi byte (sha256): ${files}`,
  },
  detail: {
    linkUnchanged: 'memang sudah begitu',
    linkHealed: 'tersambung kembali',
    queueEmpty: 'antrian kosong',
    retrying: (ids) => `dicoba kirim sekarang: ${ids}`,
    refusedAsExpected: (reply) => `ditolak, sesuai harapan: ${reply}`,
    dockerOnly: 'hanya di mode Docker (lab tanpa Docker tidak punya kontainer)',
    answered: (server, hostPort, reply) => `${server} (port di host ${hostPort}) menjawab: ${reply}`,
    inMailbox: (n, subject, user) => `${n} pesan dengan Subject "${subject}" di kotak surat ${user}`,
    mailboxCount: (expected, subject, address, found, within) =>
      `seharusnya ada ${expected} pesan dengan Subject "${subject}" di kotak surat ${address}, yang ditemukan ${found} dalam ${within}`,
    queued: (id, attempts, lastError) => `${id} menunggu di antrian: sudah ${attempts} kali dicoba, kesalahan terakhir: ${lastError}`,
    nextAttempt: (inSeconds, at) => `percobaan berikutnya ${inSeconds === null ? 'belum dijadwalkan' : `dalam ${inSeconds} detik (${at})`}`,
    leftQueue: (id, domain) => `${id} sudah keluar dari antrian ${domain}`,
    stillQueued: (id, domain) => `${id} masih ada di antrian ${domain}`,
    notQueued: (id, domain, pattern) => `${id} tidak sedang menunggu di antrian ${domain}${pattern ? ` dengan kesalahan yang cocok dengan /${pattern}/` : ''}`,
    mxUsed: (mx) => `jawaban MX yang dipakai pengirim: ${mx}`,
    deliveredVia: (host, detail) => `diantarkan lewat ${host}: ${detail}`,
    noDelivery: (domain, id) => `${domain} tidak punya catatan telah mengantarkan ${id} lewat SMTP`,
    expired: (id, domain) => `${domain} menyerah mengirim ${id}: pesan dikembalikan kepada pengirimnya sekarang`,
  },
};

const catalogs: Record<Lang, Catalog> = { en, id };

export const messages = (lang: Lang): Catalog => catalogs[lang];

/**
 * What a step does, in one line, for the step kinds the catalog knows;
 * undefined for others (the caller falls back to English). `f` fills
 * `{{run}}` / `{{id}}` in texts taken from the step.
 */
export function describeStep(lang: Lang, step: Step, f: (text: string) => string = (t) => t): string | undefined {
  const s = catalogs[lang].step;
  if ('say' in step) return catalogs[lang].note;
  if ('break' in step) return s.break(step.break[0], step.break[1]);
  if ('heal' in step) return s.heal(step.heal[0], step.heal[1]);
  if ('flush' in step) return s.flush(step.flush);
  if ('send' in step) return s.send(step.send.from, step.send.to.join(', '), f(step.send.subject), step.send.via);
  if ('expect-mailbox' in step) return s.mailbox(`${step['expect-mailbox'].user}@${step['expect-mailbox'].domain}`);
  if ('expect-queue' in step) return s.queue(step['expect-queue'].domain);
  if ('expect-delivery' in step) return s.delivery(step['expect-delivery'].domain);
  if ('dns' in step) return s.dns(step.dns.type, step.dns.name);
  if ('smtp' in step) return s.smtp(step.smtp.domain, step.smtp.port);
  if ('pop3' in step) return step.pop3.download ? s.pop3Download(step.pop3.domain, step.pop3.download.user) : s.pop3(step.pop3.domain);
  if ('imap' in step) return s.imap(step.imap.user, step.imap.client);
  if ('mailbox-file' in step) return s.mailboxFile(`${step['mailbox-file'].user}@${step['mailbox-file'].domain}`);
  if ('exec' in step) return s.exec(step.exec.container, step.exec.command.join(' '));
  if ('fault' in step) return s.fault([step.fault.kind, ...step.fault.args].join(' '));
  if ('clear-fault' in step) return s.clearFault([step['clear-fault'].kind, ...step['clear-fault'].args].join(' '));
  if ('expire' in step) return s.expire(step.expire.domain, f(step.expire.id));
  if ('client' in step) {
    const args = step.client.args;
    const who = args.find((_, i) => i > 0 && ['--from', '--user'].includes(args[i - 1]));
    return s.client(args[0], who ? f(who) : '');
  }
  if ('make-file' in step) return s.makeFile(step['make-file'].name, step['make-file'].bytes);
  if ('compare-files' in step) return s.compareFiles(step['compare-files'].files.map(f).join(', '));
  if ('queue-profile' in step || 'expect-report' in step) return describeQueueStep(lang, step, f); // texts in queue-steps.ts
  if ('reload' in step) return describeReloadStep(lang, step); // texts in reload-steps.ts
  return undefined;
}

/** Where a scenario has English-only text (a plain string), e.g. `["title", "steps[3].say"]`. */
export function untranslated(scenario: Scenario): string[] {
  const missing: string[] = [];
  const check = (where: string, t: Localized) => {
    if (typeof t === 'string' || !t.en.trim() || !t.id.trim()) missing.push(where);
  };
  check('title', scenario.title);
  check('explain', scenario.explain);
  scenario.steps.forEach((step, i) => {
    if ('say' in step) check(`steps[${i}].say`, step.say);
  });
  return missing;
}
