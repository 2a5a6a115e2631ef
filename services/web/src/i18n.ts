/**
 * The web pages' two languages, Indonesian and English: the message
 * catalogue and which language a request gets.
 *
 * Every message has both languages side by side, so a missing translation is
 * a type error. This file holds the shared messages (layout, navigation,
 * login, errors); a page adds its own next to its route file:
 *
 *   const M = addMessages({ 'queue.title': { en: 'Queue of {domain}', id: 'Antrian {domain}' } });
 *   t(lang, 'queue.title', { domain })        // or c.var.t('queue.title', { domain }) in a handler
 *
 * A key added twice with other words throws at start (two pages chose the same key).
 *
 * The language of a request ({@link chooseLang}): `?lang=id|en` (remembered in
 * the `ml_lang` cookie), else that cookie, else the browser's Accept-Language,
 * else the server's default.
 */

export const LANGS = ['en', 'id'] as const;
export type Lang = (typeof LANGS)[number];
export type Message = Record<Lang, string>;

export const LANG_COOKIE = 'ml_lang';

const catalogue = new Map<string, Message>();

/** Adds messages to the catalogue; returns them (typed keys for the caller). */
export function addMessages<K extends string>(messages: Record<K, Message>): Record<K, Message> {
  for (const [key, m] of Object.entries(messages) as [string, Message][]) {
    for (const l of LANGS) if (typeof m[l] !== 'string' || m[l] === '') throw new Error(`i18n: message ${key} has no ${l} text`);
    const had = catalogue.get(key);
    if (had && (had.en !== m.en || had.id !== m.id)) throw new Error(`i18n: message ${key} is defined twice with different words`);
    catalogue.set(key, m);
  }
  return messages;
}

export const isLang = (s: unknown): s is Lang => typeof s === 'string' && (LANGS as readonly string[]).includes(s);

/** `{name}` in a message replaced by params.name (as text: escaping is the template's job). */
export function t(lang: Lang, key: string, params: Record<string, string | number> = {}): string {
  const m = catalogue.get(key);
  if (!m) return key;
  return m[lang].replace(/\{(\w+)\}/g, (all, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : all));
}

/** Every key of the catalogue (tests check both languages of each). */
export const messageKeys = (): string[] => [...catalogue.keys()];

/** The first language of an Accept-Language header that we have (by q), or null. */
export function fromAcceptLanguage(header: string | undefined): Lang | null {
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranked) {
    const primary = r.tag.split('-')[0];
    // `in` is the old code of Indonesian (Java and old browsers still send it).
    if (primary === 'id' || primary === 'in') return 'id';
    if (primary === 'en') return 'en';
  }
  return null;
}

/** The language for a request: `?lang=`, the cookie, Accept-Language, the default. */
export function chooseLang(query: string | undefined, cookie: string | undefined, acceptLanguage: string | undefined, fallback: Lang): Lang {
  if (isLang(query)) return query;
  if (isLang(cookie)) return cookie;
  return fromAcceptLanguage(acceptLanguage) ?? fallback;
}

// ---------------------------------------------------------------------------
// the shared messages

addMessages({
  'app.name': { en: 'mail-lab', id: 'mail-lab' },
  'app.tagline': { en: 'the e-mail laboratory', id: 'laboratorium e-mail' },
  'lang.switch': { en: 'Bahasa Indonesia', id: 'English' },
  'lang.name': { en: 'English', id: 'Bahasa Indonesia' },
  'nav.label': { en: 'Pages', id: 'Halaman' },
  'nav.class': { en: 'Class', id: 'Kelas' },
  'nav.topology': { en: 'Topology', id: 'Topologi' },
  'nav.queue': { en: 'Queue', id: 'Antrian' },
  'nav.path': { en: 'Message path', id: 'Jalur pesan' },
  'nav.mailbox': { en: 'Mailbox file', id: 'Berkas mailbox' },
  'nav.dns': { en: 'DNS', id: 'DNS' },
  'nav.webmail': { en: 'Webmail', id: 'Webmail' },
  'nav.mylab': { en: 'My lab', id: 'Lab saya' },
  'nav.logout': { en: 'Log out', id: 'Keluar' },
  'nav.signedInAs': { en: 'Signed in as {name}', id: 'Masuk sebagai {name}' },
  'lab.n': { en: 'Lab {n}', id: 'Lab {n}' },
  'lab.none': { en: 'No lab is running on this computer. Start one with npx mail-lab up (or class up).', id: 'Tidak ada lab yang berjalan di komputer ini. Jalankan dengan npx mail-lab up (atau class up).' },
  'login.title': { en: 'Log in', id: 'Masuk' },
  'login.intro': {
    en: 'Students: your mail account (user@domain) and its password, in your lab. Instructor: your instructor login.',
    id: 'Siswa: akun e-mail kalian (user@domain) dan kata sandinya, di lab kalian. Guru: login guru.',
  },
  'login.account': { en: 'Account', id: 'Akun' },
  'login.accountHint': { en: 'e.g. siswa1@garudayaksa.com', id: 'mis. siswa1@garudayaksa.com' },
  'login.password': { en: 'Password', id: 'Kata sandi' },
  'login.lab': { en: 'Lab', id: 'Lab' },
  'login.labHint': { en: 'students only: the number on your card', id: 'khusus siswa: nomor pada kartu kalian' },
  'login.submit': { en: 'Log in', id: 'Masuk' },
  'login.failed': { en: 'Login failed: the account, the password or the lab is not right.', id: 'Gagal masuk: akun, kata sandi, atau lab tidak benar.' },
  'login.unreachable': {
    en: "The lab's mail server does not answer; try again in a moment, or ask the instructor.",
    id: 'Server e-mail lab tidak menjawab; coba lagi sebentar lagi, atau tanyakan kepada guru.',
  },
  'login.expired': { en: 'Your session has ended. Log in again to continue where you were.', id: 'Sesi kalian telah berakhir. Masuk lagi untuk melanjutkan.' },
  'login.needed': { en: 'Log in to see this page.', id: 'Masuk untuk melihat halaman ini.' },
  'login.instructorNeeded': { en: 'This page is for the instructor: log in with the instructor login.', id: 'Halaman ini untuk guru: masuk dengan login guru.' },
  'login.loggedOut': { en: 'You are logged out.', id: 'Kalian sudah keluar.' },
  'error.forbidden': { en: 'This page belongs to another lab or another account.', id: 'Halaman ini milik lab lain atau akun lain.' },
  'error.csrf': { en: 'This form was sent from another site or an old page; reload the page and try again.', id: 'Formulir ini dikirim dari situs lain atau halaman lama; muat ulang halaman dan coba lagi.' },
  'error.notFound': { en: 'No such page.', id: 'Halaman tidak ditemukan.' },
  'error.noLab': { en: 'Lab {n} is not running on this computer.', id: 'Lab {n} tidak berjalan di komputer ini.' },
  'error.internal': { en: 'Something went wrong on the server: {detail}', id: 'Terjadi kesalahan di server: {detail}' },
  'error.back': { en: 'Back to the start', id: 'Kembali ke awal' },
  'placeholder.title': { en: '{page}: coming soon', id: '{page}: segera hadir' },
  'placeholder.text': { en: 'This page is not built yet.', id: 'Halaman ini belum dibuat.' },
  'live.lost': { en: 'Some live updates were missed; the page was refreshed.', id: 'Beberapa pembaruan langsung terlewat; halaman telah dimuat ulang.' },
});
