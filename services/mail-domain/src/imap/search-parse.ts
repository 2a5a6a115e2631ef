/**
 * Parsing of SEARCH criteria (RFC 3501 section 6.4.4): every search key,
 * parenthesised groups (implicit AND), OR and NOT, sequence sets and UID
 * sets, dates as `d-Mon-yyyy`.
 */
import type { SearchKey } from './commands';
import { Cursor, ParseError } from './cursor';
import { parseSequenceSet } from './sequence';
import { badDay, monthIndex, utcTime } from './wire';

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS = new Set(['BCC', 'CC', 'FROM', 'SUBJECT', 'TO']);
const DATE_KEYS: Record<string, [boolean, 'BEFORE' | 'ON' | 'SINCE']> = {
  BEFORE: [false, 'BEFORE'],
  ON: [false, 'ON'],
  SINCE: [false, 'SINCE'],
  SENTBEFORE: [true, 'BEFORE'],
  SENTON: [true, 'ON'],
  SENTSINCE: [true, 'SINCE'],
};

/** Parses `search-key *(SP search-key)` up to the end of the command; several keys are ANDed. */
export function parseSearchKeys(c: Cursor): SearchKey {
  const keys: SearchKey[] = [parseSearchKey(c)];
  while (!c.atEnd()) {
    c.sp();
    keys.push(parseSearchKey(c));
  }
  return keys.length === 1 ? keys[0] : { key: 'AND', keys };
}

/** Days since the epoch for `d-Mon-yyyy` (dates compare by day, RFC 3501 section 6.4.4). */
export function parseSearchDate(c: Cursor): number {
  const quotedForm = c.peek() === '"';
  const text = quotedForm ? c.quoted() : c.atom();
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d+)$/.exec(text);
  const month = m ? monthIndex(m[2]) : -1;
  if (!m || month < 0) throw new ParseError(`Invalid date ${JSON.stringify(text)}: expected d-Mon-yyyy, e.g. 7-Feb-2026`);
  const day = badDay(m[1], month, m[3]);
  if (day) throw new ParseError(`Invalid date ${JSON.stringify(text)}: ${day}`);
  return Math.floor(utcTime(Number(m[3]), month, Number(m[1])) / 86_400_000);
}

function parseSearchKey(c: Cursor): SearchKey {
  if (c.peek() === '(') {
    const keys = c.list(() => parseSearchKey(c));
    if (keys.length === 0) throw new ParseError('Empty search group');
    return keys.length === 1 ? keys[0] : { key: 'AND', keys };
  }
  if (/[0-9*]/.test(c.peek())) return { key: 'SEQ', set: parseSequenceSet(c.takeWhile(/[0-9*:,]/, 'a sequence set')) };
  const word = c.atom().toUpperCase();
  if (FLAG_KEYS[word]) {
    const [flag, set] = FLAG_KEYS[word];
    return { key: 'FLAG', flag, set };
  }
  if (HEADER_KEYS.has(word)) {
    c.sp();
    return { key: 'HEADER', field: word, value: c.astring() };
  }
  if (DATE_KEYS[word]) {
    const [sent, cmp] = DATE_KEYS[word];
    c.sp();
    return { key: 'DATE', sent, cmp, day: parseSearchDate(c) };
  }
  switch (word) {
    case 'ALL':
      return { key: 'ALL' };
    case 'NEW':
    case 'OLD':
    case 'RECENT':
      return { key: word };
    case 'BODY':
    case 'TEXT':
      c.sp();
      return { key: word, value: c.astring() };
    case 'HEADER': {
      c.sp();
      const field = c.astring().toUpperCase();
      c.sp();
      return { key: 'HEADER', field, value: c.astring() };
    }
    case 'KEYWORD':
    case 'UNKEYWORD':
      c.sp();
      return { key: 'FLAG', flag: c.atom(), set: word === 'KEYWORD' };
    case 'LARGER':
    case 'SMALLER':
      c.sp();
      return { key: 'SIZE', larger: word === 'LARGER', size: c.number() };
    case 'NOT':
      c.sp();
      return { key: 'NOT', inner: parseSearchKey(c) };
    case 'OR': {
      c.sp();
      const a = parseSearchKey(c);
      c.sp();
      return { key: 'OR', a, b: parseSearchKey(c) };
    }
    case 'UID':
      c.sp();
      return { key: 'UID', set: parseSequenceSet(c.takeWhile(/[0-9*:,]/, 'a UID set')) };
    default:
      throw new ParseError(`Unknown search key ${word}`);
  }
}
