/**
 * Parsing of FETCH attributes (RFC 3501 section 6.4.5 and the `fetch-att`
 * grammar in section 9): the ALL/FAST/FULL macros, simple items, and
 * `BODY[section]<partial>` / `BODY.PEEK[...]` with part numbers, HEADER,
 * HEADER.FIELDS (NOT), TEXT and MIME.
 */
import type { FetchAtt, SectionPart } from './commands';
import { Cursor, ParseError } from './cursor';

const SIMPLE = new Set(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'UID', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);
const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

export function parseFetchAtts(c: Cursor): FetchAtt[] {
  if (c.peek() === '(') return c.list(() => parseFetchAtt(c));
  const save = c.rest();
  const word = /^[A-Za-z]+/.exec(save)?.[0]?.toUpperCase();
  if (word && MACROS[word] && !/^[A-Za-z]+[.[]/.test(save)) {
    c.skip(word.length);
    return MACROS[word].map((kind) => ({ kind }) as FetchAtt);
  }
  return [parseFetchAtt(c)];
}

function parseFetchAtt(c: Cursor): FetchAtt {
  const name = c.takeWhile(/[A-Za-z0-9.]/, 'a fetch attribute').toUpperCase();
  if ((name === 'BODY' || name === 'BODY.PEEK') && c.peek() === '[') {
    return parseSection(c, name === 'BODY.PEEK');
  }
  if (name === 'BODY') return { kind: 'BODY' };
  if (SIMPLE.has(name)) return { kind: name } as FetchAtt;
  throw new ParseError(`Unknown FETCH attribute ${name}`);
}

function parseSection(c: Cursor, peek: boolean): FetchAtt {
  c.expect('[');
  const path: number[] = [];
  let part: SectionPart = '';
  let fields: string[] = [];
  while (/[0-9]/.test(c.peek())) {
    const n = c.number();
    if (n === 0) throw new ParseError('Part numbers start at 1');
    path.push(n);
    if (!c.accept('.')) break;
  }
  if (c.peek() !== ']') {
    const word = c.takeWhile(/[A-Za-z.]/, 'a section name').toUpperCase();
    if (word === 'HEADER.FIELDS' || word === 'HEADER.FIELDS.NOT') {
      c.sp();
      fields = c.list(() => c.astring().toUpperCase());
      if (fields.length === 0) throw new ParseError('HEADER.FIELDS needs at least one field name');
    } else if (word !== 'HEADER' && word !== 'TEXT' && word !== 'MIME') {
      throw new ParseError(`Unknown section ${word}`);
    }
    if (word === 'MIME' && path.length === 0) throw new ParseError('MIME needs a part number');
    part = word as SectionPart;
  }
  c.expect(']');
  let partial: { start: number; length: number } | null = null;
  if (c.accept('<')) {
    const start = c.number();
    c.expect('.');
    const length = c.number();
    if (length === 0) throw new ParseError('Partial length must be positive');
    c.expect('>');
    partial = { start, length };
  }
  return { kind: 'section', peek, path, part, fields, partial };
}

/** The section label used in the FETCH response, e.g. `BODY[1.HEADER.FIELDS (FROM)]<0>`. */
export function sectionLabel(att: Extract<FetchAtt, { kind: 'section' }>): string {
  const pieces: string[] = att.path.map(String);
  if (att.part) pieces.push(att.part);
  let spec = pieces.join('.');
  if (att.part === 'HEADER.FIELDS' || att.part === 'HEADER.FIELDS.NOT') spec += ` (${att.fields.join(' ')})`;
  return `BODY[${spec}]` + (att.partial ? `<${att.partial.start}>` : '');
}
