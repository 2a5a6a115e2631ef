/**
 * Small wording helpers for the check's evidence lines, in English and in
 * Indonesian (the lesson's language): clock times in the teacher's local
 * time, pauses in seconds, lists and plurals, a session's place ("on
 * dadali.com port 25 from 10.0.0.7" / "di dadali.com port 25 dari
 * 10.0.0.7"). A rule is run once per language ({@link wordsFor}); the
 * English text is the one the check has always printed.
 */
import type { Session } from './records';

/** The languages of the evidence (the CLI's `--lang`, scripts/i18n/lang.ts). */
export type Lang = 'en' | 'id';

const two = (n: number) => String(n).padStart(2, '0');

/** `10:42:05`, local time of the machine running the check. */
export function clock(t: string | number): string {
  const d = new Date(t);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `0.02 s`, `3.4 s`, `12 s`. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 1 ? `${s.toFixed(2)} s` : s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

/** `0,02 detik`, `3,4 detik`, `12 detik`. */
export function detik(ms: number): string {
  const s = ms / 1000;
  return `${(s < 1 ? s.toFixed(2) : s < 10 ? s.toFixed(1) : String(Math.round(s))).replace('.', ',')} detik`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `a, b and c`. */
export function and(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** `a, b dan c`. */
export function dan(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} dan ${items[items.length - 1]}`;
}

/** `on dadali.com port 25 from 127.0.0.1`. */
export const where = (s: Session) => `on ${s.domain} port ${s.port} from ${s.peer}`;

/** How a session was typed, for the evidence: `pauses of about 3.2 s between commands`, or a program's. */
export function pace(s: Session): string {
  return s.typed ? `typed: pauses of about ${seconds(s.pauseMs)} between commands` : `sent by a program (pauses of ${seconds(s.pauseMs)} between commands)`;
}

/** The command lines of a session, shortened: `HELO pc-siswa, MAIL FROM:<a@b>, …`. */
export function lines(cmds: { line: string }[], max = 12): string {
  const shown = cmds.slice(0, max).map((c) => (c.line.length > 60 ? c.line.slice(0, 59) + '…' : c.line));
  return shown.join(', ') + (cmds.length > max ? `, … (${cmds.length} commands)` : '');
}

/** The helpers above in one language, and `t(en, id)` to pick one of a rule's two texts. */
export interface Words {
  lang: Lang;
  t: (en: string, id: string) => string;
  clock: typeof clock;
  seconds: (ms: number) => string;
  /** English: `3 attempts`; Indonesian has no plural: `3 percobaan`. */
  plural: (n: number, en: string, id: string) => string;
  and: (items: string[]) => string;
  where: (s: Session) => string;
  pace: (s: Session) => string;
  lines: (cmds: { line: string }[], max?: number) => string;
}

const EN: Words = { lang: 'en', t: (en) => en, clock, seconds, plural: (n, en) => plural(n, en), and, where, pace, lines };

const ID: Words = {
  lang: 'id',
  t: (_en, id) => id,
  clock,
  seconds: detik,
  plural: (n, _en, id) => `${n} ${id}`,
  and: dan,
  where: (s) => `di ${s.domain} port ${s.port} dari ${s.peer}`,
  pace: (s) => (s.typed ? `diketik: jeda sekitar ${detik(s.pauseMs)} antar-perintah` : `dikirim oleh program (jeda ${detik(s.pauseMs)} antar-perintah)`),
  lines: (cmds, max = 12) => {
    // The trace's `<N bytes of DATA>` (trace/sessions.ts) is the server's own words, not a command.
    const line = (l: string) => l.replace(/^<(\d+) bytes of DATA>$/, '<isi DATA $1 byte>');
    const shown = cmds.slice(0, max).map((c) => (c.line.length > 60 ? c.line.slice(0, 59) + '…' : line(c.line)));
    return shown.join(', ') + (cmds.length > max ? `, … (${cmds.length} perintah)` : '');
  },
};

export const wordsFor = (lang: Lang = 'en'): Words => (lang === 'id' ? ID : EN);
