/**
 * Small formatting helpers of the instructor's lab pages (Queue, Message
 * path, Mailbox file, DNS): clock times, sizes and durations in the page's
 * language. Times are the web server's local time (the lab's computer).
 */
import { addMessages } from '../i18n';

addMessages({
  'fmt.s': { en: '{n} s', id: '{n} dtk' },
  'fmt.min': { en: '{n} min', id: '{n} mnt' },
  'fmt.h': { en: '{n} h', id: '{n} jam' },
  'fmt.d': { en: '{n} d', id: '{n} hr' },
  'fmt.bytes': { en: '{n} bytes', id: '{n} byte' },
  'fmt.ago': { en: '{d} ago', id: '{d} yang lalu' },
  'fmt.in': { en: 'in {t}', id: 'dalam {t}' },
  'fmt.now': { en: 'now', id: 'sekarang' },
});

export type T = (key: string, params?: Record<string, string | number>) => string;

const pad = (n: number) => String(n).padStart(2, '0');

/** `14:03:27` (local time), or '' without a time. */
export function clock(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `14:03:27.512` (local time, milliseconds). */
export function clockMs(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${clock(iso)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `1 234` (thin grouping that reads the same in both languages). */
export const grouped = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');

export const bytes = (n: number, t: T) => t('fmt.bytes', { n: grouped(n) });

/** A duration in words: `25 s`, `2 min 5 s`, `1 h 3 min`, `5 d 2 h` (two parts at most). */
export function duration(ms: number, t: T): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: string[] = [];
  if (d) parts.push(t('fmt.d', { n: d }));
  if (h) parts.push(t('fmt.h', { n: h }));
  if (m) parts.push(t('fmt.min', { n: m }));
  if (s || !parts.length) parts.push(t('fmt.s', { n: s }));
  return parts.slice(0, 2).join(' ');
}

/** `m:ss` (or `h:mm:ss`) of a countdown; the same in both languages. The browser keeps it counting (queue.js). */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** A lab domain's short name for tight places: `garudayaksa`. */
export const shortDomain = (d: string) => d.split('.')[0];

const WORD = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;

/** A header's MIME encoded-words (RFC 2047: `=?UTF-8?Q?Rapat_besok?=`) as text; the rest as it is. */
export function decodeWords(s: string): string {
  // Whitespace between two encoded-words is not part of the text.
  return s.replace(/(\?=)\s+(?==\?)/g, '$1').replace(WORD, (all, charset: string, enc: string, data: string) => {
    try {
      const octets = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return new TextDecoder(charset.split('*')[0].toLowerCase(), { fatal: false }).decode(octets);
    } catch {
      return all;
    }
  });
}
