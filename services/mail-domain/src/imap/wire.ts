/**
 * IMAP response values and their serialisation (RFC 3501 section 4 data
 * formats, section 7 responses). Handlers build responses as trees of
 * values; this module turns them into wire bytes (quoted strings, literals,
 * NIL, parenthesised lists) and into a transcript line where literal bodies
 * are summarised by size, never dumped.
 */

/** Text sent verbatim: atoms, flags, section specs, already-formatted numbers. */
export class Raw {
  constructor(readonly text: string) {}
}
export const raw = (text: string): Raw => new Raw(text);

/** Values written back to back with no separator (multipart bodies in BODYSTRUCTURE, RFC 3501 `1*body`). */
export class Concat {
  constructor(readonly items: ImapValue[]) {}
}

/**
 * A response value:
 * - `Raw` verbatim text,
 * - `string` an IMAP string (quoted when safe, a literal otherwise),
 * - `Buffer` always a literal (message bodies),
 * - `number`, `null` (NIL), arrays (parenthesised lists), `Concat` (no separators).
 */
export type ImapValue = Raw | Concat | string | Buffer | number | null | ImapValue[];

/** One piece of an encoded response: text, or literal data whose `{n}` header is already in the text. */
export type Chunk = { text: string } | { literal: Buffer };

const QUOTABLE_MAX = 1024;

/** RFC 3501 section 4.3: a quoted string may not hold CR, LF, NUL or 8-bit characters. */
export function isQuotable(value: string): boolean {
  return value.length <= QUOTABLE_MAX && !/[\r\n\0\u0080-\uffff]/.test(value);
}

export function quote(value: string): string {
  return '"' + value.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

function encode(value: ImapValue, out: Chunk[]): void {
  if (value === null) out.push({ text: 'NIL' });
  else if (value instanceof Raw) out.push({ text: value.text });
  else if (value instanceof Concat) value.items.forEach((item) => encode(item, out));
  else if (typeof value === 'number') out.push({ text: String(value) });
  else if (typeof value === 'string') {
    if (isQuotable(value)) out.push({ text: quote(value) });
    else pushLiteral(Buffer.from(value, 'utf8'), out);
  } else if (Buffer.isBuffer(value)) pushLiteral(value, out);
  else {
    out.push({ text: '(' });
    value.forEach((item, i) => {
      if (i > 0) out.push({ text: ' ' });
      encode(item, out);
    });
    out.push({ text: ')' });
  }
}

function pushLiteral(data: Buffer, out: Chunk[]): void {
  out.push({ text: `{${data.length}}\r\n` });
  out.push({ literal: data });
}

/** Encodes values separated by single spaces (one response line, without CRLF). */
export function encodeLine(values: readonly ImapValue[]): Chunk[] {
  const out: Chunk[] = [];
  values.forEach((v, i) => {
    if (i > 0) out.push({ text: ' ' });
    encode(v, out);
  });
  return out;
}

/** The bytes to write: chunks plus the terminating CRLF. */
export function toWire(chunks: readonly Chunk[]): Buffer {
  const parts: Buffer[] = [];
  let text = '';
  for (const c of chunks) {
    if ('text' in c) text += c.text;
    else {
      parts.push(Buffer.from(text, 'utf8'), c.literal);
      text = '';
    }
  }
  parts.push(Buffer.from(text + '\r\n', 'utf8'));
  return Buffer.concat(parts);
}

/** The transcript form: literals become `{n}<n octets>` so bodies are not dumped into logs. */
export function toTranscript(chunks: readonly Chunk[]): string {
  let line = '';
  for (const c of chunks) {
    if ('text' in c) line += c.text.endsWith('}\r\n') ? c.text.slice(0, -2) : c.text;
    else line += `<${c.literal.length} octets>`;
  }
  return line;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const monthIndex = (name: string): number => MONTHS.findIndex((m) => m.toLowerCase() === name.toLowerCase());

/** RFC 3501 date-time: `"dd-Mon-yyyy hh:mm:ss +zzzz"` (we report UTC). */
export function formatInternalDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${p(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`
  );
}
