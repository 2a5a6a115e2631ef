/**
 * The scenario runner's words, in English and Indonesian (the lesson's
 * language): step descriptions, ok / FAILED / skipped, the closing summary.
 * Scenario files carry their own texts (`title`, `explain`, `say`) as a plain
 * string (English only) or `{ en, id }`; `pick` chooses one. The language
 * comes from `--lang`, else MAIL_LAB_LANG, else LANG (id_ID… means
 * Indonesian), else English: see `chooseLang`.
 */
import type { Scenario, Step } from './schema';

export const LANGS = ['en', 'id'] as const;
export type Lang = (typeof LANGS)[number];

/** A text in a scenario file: English only, or both languages. */
export type Localized = string | { en: string; id: string };

/** The text in `lang`; a plain string is English and serves every language. */
export function pick(text: Localized, lang: Lang): string {
  return typeof text === 'string' ? text : text[lang];
}

/** Thrown for a language we have no catalog for; the CLI exits with status 2. */
export class UnknownLanguageError extends Error {
  constructor(
    readonly value: string,
    readonly source: string,
  ) {
    super(
      `unknown language "${value}" (${source}): use en (English) or id (Bahasa Indonesia) / ` +
        `bahasa "${value}" tidak dikenal (${source}): pakai en (English) atau id (Bahasa Indonesia)`,
    );
  }
}

export const isUnknownLanguageError = (e: unknown): e is UnknownLanguageError => e instanceof UnknownLanguageError;

/** `en`, `id`, also `EN`, `id-ID`, `id_ID.UTF-8`; anything else throws UnknownLanguageError. */
export function parseLang(value: string, source = '--lang'): Lang {
  const m = /^(en|id)(?:[-_.@].*)?$/i.exec(value.trim());
  if (!m) throw new UnknownLanguageError(value, source);
  return m[1].toLowerCase() as Lang;
}

/**
 * The language to use: the `--lang` value if given, else MAIL_LAB_LANG (both
 * must name a known language), else Indonesian when LANG starts with `id`,
 * else English.
 */
export function chooseLang(flag: string | undefined, env: Record<string, string | undefined> = {}): Lang {
  if (flag !== undefined) return parseLang(flag, '--lang');
  if (env.MAIL_LAB_LANG) return parseLang(env.MAIL_LAB_LANG, 'MAIL_LAB_LANG');
  return /^id/i.test(env.LANG ?? '') ? 'id' : 'en';
}

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
    imap: (user: string, client: string) => `IMAP as ${user} (${client})`,
    mailboxFile: (address: string) => `look at the mailbox file of ${address}`,
    exec: (container: string, command: string) => `run in ${container}: ${command}`,
    fault: (what: string) => `apply the fault ${what}`,
    clearFault: (what: string) => `clear the fault ${what}`,
    expire: (d: string, id: string) => `return ${id} to its sender now (npx mail-lab expire ${d} ${id})`,
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
  step: {
    break: (a, b) => `putuskan sambungan ${a} <-> ${b}`,
    heal: (a, b) => `pulihkan sambungan ${a} <-> ${b}`,
    flush: (d) => `kirim ulang antrean ${d} sekarang (flush)`,
    send: (from, to, subject, via) => `kirim ${from} -> ${to} "${subject}" lewat ${via}`,
    mailbox: (address) => `periksa kotak surat ${address}`,
    queue: (d) => `periksa antrean ${d}`,
    delivery: (d) => `periksa bagaimana ${d} mengantarkan pesan`,
    dns: (type, name) => `tanya DNS lab: ${type} ${name}`,
    smtp: (d, port) => `SMTP diketik manual ke ${d} (${port})`,
    pop3: (d) => `POP3 diketik manual ke ${d}`,
    imap: (user, client) => `IMAP sebagai ${user} (${client})`,
    mailboxFile: (address) => `lihat file kotak surat ${address}`,
    exec: (container, command) => `jalankan di ${container}: ${command}`,
    fault: (what) => `pasang gangguan ${what}`,
    clearFault: (what) => `hapus gangguan ${what}`,
    expire: (d, id) => `kembalikan ${id} kepada pengirimnya sekarang (npx mail-lab expire ${d} ${id})`,
  },
  detail: {
    linkUnchanged: 'memang sudah begitu',
    linkHealed: 'tersambung kembali',
    queueEmpty: 'antrean kosong',
    retrying: (ids) => `dicoba kirim sekarang: ${ids}`,
    refusedAsExpected: (reply) => `ditolak, sesuai harapan: ${reply}`,
    dockerOnly: 'hanya di mode Docker (lab tanpa Docker tidak punya kontainer)',
    answered: (server, hostPort, reply) => `${server} (port di host ${hostPort}) menjawab: ${reply}`,
    inMailbox: (n, subject, user) => `${n} pesan dengan Subject "${subject}" di kotak surat ${user}`,
    mailboxCount: (expected, subject, address, found, within) =>
      `seharusnya ada ${expected} pesan dengan Subject "${subject}" di kotak surat ${address}, yang ditemukan ${found} dalam ${within}`,
    queued: (id, attempts, lastError) => `${id} menunggu di antrean: sudah ${attempts} kali dicoba, kesalahan terakhir: ${lastError}`,
    nextAttempt: (inSeconds, at) => `percobaan berikutnya ${inSeconds === null ? 'belum dijadwalkan' : `dalam ${inSeconds} detik (${at})`}`,
    leftQueue: (id, domain) => `${id} sudah keluar dari antrean ${domain}`,
    stillQueued: (id, domain) => `${id} masih ada di antrean ${domain}`,
    notQueued: (id, domain, pattern) => `${id} tidak sedang menunggu di antrean ${domain}${pattern ? ` dengan kesalahan yang cocok dengan /${pattern}/` : ''}`,
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
  if ('pop3' in step) return s.pop3(step.pop3.domain);
  if ('imap' in step) return s.imap(step.imap.user, step.imap.client);
  if ('mailbox-file' in step) return s.mailboxFile(`${step['mailbox-file'].user}@${step['mailbox-file'].domain}`);
  if ('exec' in step) return s.exec(step.exec.container, step.exec.command.join(' '));
  if ('fault' in step) return s.fault([step.fault.kind, ...step.fault.args].join(' '));
  if ('clear-fault' in step) return s.clearFault([step['clear-fault'].kind, ...step['clear-fault'].args].join(' '));
  if ('expire' in step) return s.expire(step.expire.domain, f(step.expire.id));
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
