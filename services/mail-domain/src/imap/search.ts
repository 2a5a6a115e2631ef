/**
 * SEARCH evaluation (RFC 3501 section 6.4.4) against one message: flags,
 * sizes, dates by day (INTERNALDATE for BEFORE/ON/SINCE, the Date: header
 * for SENT*), case-insensitive substring matches on decoded headers and
 * bodies (address fields also as parsed addresses). The message is parsed only when a key needs its content.
 */
import { parseAddressList } from './address';
import type { SearchKey } from './commands';
import { bodyContains, bodyNeedle, decodeWords, headerText, type BodyNeedle } from './decode';
import type { HeaderField, MimeEntity } from './mime';
import { inSequenceSet } from './sequence';
import { monthIndex } from './wire';

export interface SearchTarget {
  readonly seq: number;
  readonly uid: number;
  readonly flags: readonly string[];
  readonly size: number;
  readonly internalDate: Date;
  readonly recent: boolean;
  /** Largest sequence number and UID in the session's view, for `*`. */
  readonly maxSeq: number;
  readonly maxUid: number;
  /** The parsed message; called only when a key needs content. */
  entity(): MimeEntity;
  /** What a HEADER key on `field` (upper case) looks in, when the caller has it at hand (see `headerHaystacks`). */
  haystacks?(field: string): readonly string[];
}

/**
 * The header fields a key looks at when HEADER keys are all the content it
 * needs (a SEARCH SUBJECT, FROM, TO …); null when it needs more (BODY,
 * TEXT, SENTBEFORE …).
 */
export function headerFieldsOnly(key: SearchKey): string[] | null {
  const fields = new Set<string>();
  const walk = (k: SearchKey): boolean => {
    switch (k.key) {
      case 'HEADER':
        fields.add(k.field);
        return true;
      case 'NOT':
        return walk(k.inner);
      case 'OR':
        return walk(k.a) && walk(k.b);
      case 'AND':
        return k.keys.every(walk);
      default:
        return !needsContent(k);
    }
  };
  return walk(key) ? [...fields] : null;
}

/** What a HEADER key on `field` (upper case) looks in: one lower-cased haystack per such field of the message. */
export function headerHaystacks(entity: MimeEntity, field: string): string[] {
  return entity.fields.filter((f) => f.name.toUpperCase() === field).map((f) => haystack(f, ADDRESS_FIELDS.has(field)));
}

/** Does the key look at the body (BODY, TEXT), beyond the header? */
export function needsBody(key: SearchKey): boolean {
  switch (key.key) {
    case 'BODY':
    case 'TEXT':
      return true;
    case 'NOT':
      return needsBody(key.inner);
    case 'OR':
      return needsBody(key.a) || needsBody(key.b);
    case 'AND':
      return key.keys.some(needsBody);
    default:
      return false;
  }
}

export function needsContent(key: SearchKey): boolean {
  switch (key.key) {
    case 'HEADER':
    case 'BODY':
    case 'TEXT':
      return true;
    case 'DATE':
      return key.sent;
    case 'NOT':
      return needsContent(key.inner);
    case 'OR':
      return needsContent(key.a) || needsContent(key.b);
    case 'AND':
      return key.keys.some(needsContent);
    default:
      return false;
  }
}

/** Header fields holding address lists: SEARCH also matches them as parsed addresses. */
const ADDRESS_FIELDS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SENDER', 'REPLY-TO']);

/**
 * An address list as `name mailbox@host, ...` without comments, routes and
 * quoting, so that `FROM user@host` finds `<user (c)@ (c) host>` too.
 */
export function addressText(value: string): string {
  return parseAddressList(value)
    .map((a) => [a.name === null ? '' : decodeWords(a.name), a.host ? `${a.mailbox ?? ''}@${a.host}` : (a.mailbox ?? '')].filter(Boolean).join(' '))
    .join(', ');
}

/**
 * What a header search looks in, lower-cased: the decoded value and, for
 * address fields, the parsed addresses too. Remembered per field: cached
 * headers (header-cache.ts) are searched again and again.
 */
const haystacks = new WeakMap<HeaderField, string>();
function haystack(f: HeaderField, address: boolean): string {
  let text = haystacks.get(f);
  if (text === undefined) {
    text = decodeWords(f.value).toLowerCase();
    if (address) text += '\u0000' + addressText(f.value).toLowerCase();
    haystacks.set(f, text);
  }
  return text;
}

/**
 * Case-insensitive substring match (RFC 3501 6.4.4), as a regular expression of the escaped
 * words: no lower-cased copy of each text searched. Each word is made ready once (its expression
 * and its BODY form, decode.ts) and kept for the messages and searches to come (bounded).
 */
interface Needle {
  readonly re: RegExp;
  readonly body: BodyNeedle;
}
const needles = new Map<string, Needle>();
function needleOf(value: string): Needle {
  let n = needles.get(value);
  if (!n) {
    if (needles.size > 64) needles.clear();
    // `i` without `u`: an ASCII letter matches only ASCII letters, as in decode.ts's search of a part's bytes.
    const re = new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    needles.set(value, (n = { re, body: bodyNeedle(value, (text) => re.test(text)) }));
  }
  return n;
}
const contains = (haystack: string, needle: string) => needleOf(needle).re.test(haystack);

/** The day (days since epoch) of a Date: header, as written there (time and zone disregarded). */
export function sentDay(value: string | null): number | null {
  if (!value) return null;
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(value);
  const month = m ? monthIndex(m[2]) : -1;
  if (m && month >= 0) {
    let year = Number(m[3]);
    if (year < 100) year += year < 50 ? 2000 : 1900;
    return Math.floor(Date.UTC(year, month, Number(m[1])) / 86_400_000);
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : Math.floor(parsed / 86_400_000);
}

function compareDay(day: number | null, cmp: 'BEFORE' | 'ON' | 'SINCE', wanted: number): boolean {
  if (day === null) return false;
  return cmp === 'BEFORE' ? day < wanted : cmp === 'ON' ? day === wanted : day >= wanted;
}

export function matches(key: SearchKey, m: SearchTarget): boolean {
  switch (key.key) {
    case 'ALL':
      return true;
    case 'FLAG': {
      const has = m.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase());
      return has === key.set;
    }
    case 'RECENT':
      return m.recent;
    case 'NEW':
      return m.recent && !m.flags.includes('\\Seen');
    case 'OLD':
      return !m.recent;
    case 'SIZE':
      return key.larger ? m.size > key.size : m.size < key.size;
    case 'DATE': {
      if (!key.sent) return compareDay(Math.floor(m.internalDate.getTime() / 86_400_000), key.cmp, key.day);
      const date = m.entity().fields.find((f) => f.name.toLowerCase() === 'date')?.value ?? null;
      return compareDay(sentDay(date), key.cmp, key.day);
    }
    case 'HEADER': {
      const found = m.haystacks ? m.haystacks(key.field) : headerHaystacks(m.entity(), key.field);
      if (key.value === '') return found.length > 0;
      const needle = key.value.toLowerCase();
      return found.some((h) => h.includes(needle));
    }
    case 'BODY':
      return bodyContains(m.entity(), needleOf(key.value).body);
    case 'TEXT': {
      const e = m.entity();
      return contains(headerText(e), key.value) || bodyContains(e, needleOf(key.value).body);
    }
    case 'NOT':
      return !matches(key.inner, m);
    case 'OR':
      return matches(key.a, m) || matches(key.b, m);
    case 'AND':
      return key.keys.every((k) => matches(k, m));
    case 'SEQ':
      return inSequenceSet(key.set, m.seq, m.maxSeq);
    case 'UID':
      return inSequenceSet(key.set, m.uid, m.maxUid);
  }
}
