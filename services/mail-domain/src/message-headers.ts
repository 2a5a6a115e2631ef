/**
 * Where a message's header section ends (RFC 5322 2.1: the first empty
 * line): the one place that finds it, for every part of the domain that
 * cuts a header section. The callers differ in what they hold and want,
 * and each says so in its options:
 * - which line breaks count (`breaks`): the wire form has CRLF ("\r\n\r\n"),
 *   an mbox file on disk LF ("\n\n"); a MIME part may have either, whichever
 *   comes first ('crlf-or-lf'); a message as people and programs write it
 *   any mix of the two (/\r?\n\r?\n/: 'any');
 * - whether an empty first line is an empty header section (`emptyFirstLine`);
 * - how much of it: the fields without the last line break ('fields'), with
 *   it ('lines'), or with the empty line too ('blank').
 * Works on a Buffer or on its latin1 text alike (one character per octet,
 * so the positions are the same).
 */

export type HeaderBreaks = 'crlf' | 'lf' | 'crlf-or-lf' | 'any';

export interface HeaderEndOptions {
  /** Which line breaks make the empty line: 'crlf', 'lf', 'crlf-or-lf' (the first "\r\n\r\n" or "\n\n"), 'any' (any mix: /\r?\n\r?\n/). */
  breaks: HeaderBreaks;
  /** A line break at the very start is an empty header section (everything after it is body). @default false */
  emptyFirstLine?: boolean;
}

/** Positions in the data (octets of a Buffer, characters of latin1 text). */
export interface HeaderBounds {
  /** End of the last header line's text, before its line break (0 for an empty header section). */
  fieldsEnd: number;
  /** End of the last header line with its line break: where the empty line starts (0 for an empty header section). */
  linesEnd: number;
  /** After the empty line: where the body starts. */
  bodyStart: number;
}

/** `fields`: up to the last line's break (not included); `lines`: with it; `blank`: with the empty line too. */
export type HeaderCut = 'fields' | 'lines' | 'blank';

const CR = 0x0d;
const LF = 0x0a;

type Data = Buffer | string;
const codeAt = (d: Data, i: number): number | undefined => (typeof d === 'string' ? (i < d.length ? d.charCodeAt(i) : undefined) : d[i]);
const find = (d: Data, s: string, from = 0): number => (typeof d === 'string' ? d.indexOf(s, from) : d.indexOf(s, from));

/** The length of a line break at the very start that `breaks` counts, or 0. */
function firstLineBreak(d: Data, breaks: HeaderBreaks): number {
  if (breaks !== 'lf' && codeAt(d, 0) === CR && codeAt(d, 1) === LF) return 2;
  if (breaks !== 'crlf' && codeAt(d, 0) === LF) return 1;
  return 0;
}

const crlfAt = (m: number): HeaderBounds => ({ fieldsEnd: m, linesEnd: m + 2, bodyStart: m + 4 });
const lfAt = (m: number): HeaderBounds => ({ fieldsEnd: m, linesEnd: m + 1, bodyStart: m + 2 });

/** The first /\r?\n\r?\n/: the first LF followed by LF or CRLF, with the CR before it if there is one. */
function anyBreaks(d: Data): HeaderBounds | null {
  for (let i = find(d, '\n'); i >= 0; i = find(d, '\n', i + 1)) {
    const fieldsEnd = i > 0 && codeAt(d, i - 1) === CR ? i - 1 : i;
    if (codeAt(d, i + 1) === LF) return { fieldsEnd, linesEnd: i + 1, bodyStart: i + 2 };
    if (codeAt(d, i + 1) === CR && codeAt(d, i + 2) === LF) return { fieldsEnd, linesEnd: i + 1, bodyStart: i + 3 };
  }
  return null;
}

/** Where the header section of `data` ends; null when there is no empty line (all of it is header). */
export function headerEnd(data: Data, o: HeaderEndOptions): HeaderBounds | null {
  if (o.emptyFirstLine) {
    const n = firstLineBreak(data, o.breaks);
    if (n) return { fieldsEnd: 0, linesEnd: 0, bodyStart: n };
  }
  switch (o.breaks) {
    case 'crlf': {
      const m = find(data, '\r\n\r\n');
      return m < 0 ? null : crlfAt(m);
    }
    case 'lf': {
      const m = find(data, '\n\n');
      return m < 0 ? null : lfAt(m);
    }
    case 'crlf-or-lf': {
      const crlf = find(data, '\r\n\r\n');
      const lf = find(data, '\n\n');
      if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlfAt(crlf);
      return lf < 0 ? null : lfAt(lf);
    }
    case 'any':
      return anyBreaks(data);
  }
}

/** The header section of `data` cut as `upTo` says; all of `data` when it has no empty line. */
export function headerPart<T extends Data>(data: T, o: HeaderEndOptions & { upTo: HeaderCut }): T {
  const b = headerEnd(data, o);
  if (!b) return data;
  const end = o.upTo === 'fields' ? b.fieldsEnd : o.upTo === 'lines' ? b.linesEnd : b.bodyStart;
  return (typeof data === 'string' ? data.slice(0, end) : data.subarray(0, end)) as T;
}
