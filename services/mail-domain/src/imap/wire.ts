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

/**
 * A value encoded once and remembered as octets (`pack`): its text runs and
 * literals as segments of one buffer, written as exactly the octets and
 * transcript the value itself gives. Far smaller than the value's tree of
 * strings and objects (issue 15: a listing of 100,000 ENVELOPEs).
 */
export class Encoded {
  constructor(readonly data: Buffer) {}
}

/** Values written back to back with no separator (multipart bodies in BODYSTRUCTURE, RFC 3501 `1*body`). */
export class Concat {
  constructor(readonly items: ImapValue[]) {}
}

/**
 * A response value:
 * - `Raw` verbatim text,
 * - `string` an IMAP string (quoted when safe, a literal otherwise),
 * - `Buffer` always a literal (message bodies),
 * - `number`, `null` (NIL), arrays (parenthesised lists), `Concat` (no separators),
 * - `Encoded` a value encoded before (`pack`).
 */
export type ImapValue = Raw | Concat | Encoded | string | Buffer | number | null | ImapValue[];

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

/** Collects a line: text runs are joined into one string until a literal ends them. */
class LineBuilder {
  readonly out: Chunk[] = [];
  text = '';

  literal(data: Buffer): void {
    this.out.push({ text: `${this.text}{${data.length}}\r\n` }, { literal: data });
    this.text = '';
  }

  finish(): Chunk[] {
    if (this.text !== '' || this.out.length === 0) this.out.push({ text: this.text });
    return this.out;
  }
}

function encode(value: ImapValue, b: LineBuilder): void {
  if (value === null) b.text += 'NIL';
  else if (value instanceof Raw) b.text += value.text;
  else if (value instanceof Concat) value.items.forEach((item) => encode(item, b));
  else if (typeof value === 'number') b.text += String(value);
  else if (typeof value === 'string') {
    if (isQuotable(value)) b.text += quote(value);
    else b.literal(Buffer.from(value, 'utf8'));
  } else if (Buffer.isBuffer(value)) b.literal(value);
  else if (value instanceof Encoded) unpackInto(value.data, b);
  else {
    b.text += '(';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) b.text += ' ';
      encode(value[i], b);
    }
    b.text += ')';
  }
}

/** Encodes values separated by single spaces (one response line, without CRLF). */
export function encodeLine(values: readonly ImapValue[]): Chunk[] {
  const b = new LineBuilder();
  for (let i = 0; i < values.length; i++) {
    if (i > 0) b.text += ' ';
    encode(values[i], b);
  }
  return b.finish();
}

/**
 * A value encoded once, to be written again and again (a remembered
 * ENVELOPE or header section): verbatim text with its literals, which
 * encodes to exactly the octets and transcript the value itself gives.
 * Literal data is copied into memory of its own (not a shared pool slab).
 */
export function encoded(value: ImapValue): Raw | Concat {
  const chunks = encodeLine([value]);
  if (chunks.length === 1 && 'text' in chunks[0]) return raw(flat(chunks[0].text));
  const items: ImapValue[] = [];
  chunks.forEach((c, i) => {
    if ('literal' in c) {
      const own = Buffer.allocUnsafeSlow(c.literal.length);
      c.literal.copy(own);
      items.push(own);
      return;
    }
    const next = chunks[i + 1];
    // The `{n}` CRLF before a literal is written again by the literal itself.
    items.push(raw(flat(next && 'literal' in next ? c.text.slice(0, c.text.length - `{${next.literal.length}}\r\n`.length) : c.text)));
  });
  return new Concat(items);
}

/**
 * The same text as one flat string of its own. A string built by joining
 * pieces, or cut from a larger one, keeps every piece (and the whole header
 * it was cut from) alive; one that is remembered for long should not.
 */
export function flat(text: string): string {
  // Cutting from a joined string copies the characters into a new one (V8), which is all the result keeps.
  return (' ' + text).slice(1);
}

const TEXT = 0;
const LITERAL = 1;

/** Segments (text as UTF-8, or literal octets) as one buffer: a kind octet and a length before each. */
export function packSegments(segments: ReadonlyArray<string | Buffer>): Buffer {
  const parts = segments.map((s) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 5 + p.length, 0));
  let o = 0;
  parts.forEach((p, i) => {
    out[o] = typeof segments[i] === 'string' ? TEXT : LITERAL;
    out.writeUInt32LE(p.length, o + 1);
    o += 5 + p.copy(out, o + 5);
  });
  return out;
}

/** The segments of `packSegments`, in order: `text` for each text, `literal` for each literal (a view into `data`). */
function eachSegment(data: Buffer, text: (s: string) => void, literal: (b: Buffer) => void): void {
  for (let o = 0; o + 5 <= data.length; ) {
    const len = data.readUInt32LE(o + 1);
    if (data[o] === TEXT) text(data.toString('utf8', o + 5, o + 5 + len));
    else literal(data.subarray(o + 5, o + 5 + len));
    o += 5 + len;
  }
}

/** Strings packed by `packSegments`, back. */
export function unpackStrings(data: Buffer): string[] {
  const out: string[] = [];
  eachSegment(
    data,
    (s) => out.push(s),
    () => undefined,
  );
  return out;
}

/** A value encoded to the segments it is written as: `new Encoded(pack(value))` writes the same octets and transcript. */
export function pack(value: ImapValue): Buffer {
  const chunks = encodeLine([value]);
  const segments: Array<string | Buffer> = [];
  chunks.forEach((c, i) => {
    if ('literal' in c) {
      segments.push(c.literal);
      return;
    }
    const next = chunks[i + 1];
    // The `{n}` CRLF before a literal is written again by the literal itself.
    segments.push(next && 'literal' in next ? c.text.slice(0, c.text.length - `{${next.literal.length}}\r\n`.length) : c.text);
  });
  return packSegments(segments);
}

function unpackInto(data: Buffer, b: LineBuilder): void {
  eachSegment(
    data,
    (s) => (b.text += s),
    (l) => b.literal(l),
  );
}

/** Estimated octets an `encoded` value holds. */
export function encodedCost(value: Raw | Concat): number {
  if (value instanceof Raw) return value.text.length + 64;
  return value.items.reduce<number>((sum, item) => sum + (item instanceof Raw ? item.text.length + 48 : Buffer.isBuffer(item) ? item.length + 96 : 48), 64);
}

const CRLF = Buffer.from('\r\n');

/** The bytes to write: chunks plus the terminating CRLF. */
export function toWire(chunks: readonly Chunk[]): Buffer {
  const last = chunks.length - 1;
  const parts: Buffer[] = [];
  let text = '';
  for (let i = 0; i <= last; i++) {
    const c = chunks[i];
    if ('text' in c) text += c.text;
    else {
      if (text) parts.push(Buffer.from(text, 'utf8'));
      parts.push(c.literal);
      text = '';
    }
  }
  if (parts.length === 0) return Buffer.from(text + '\r\n', 'utf8');
  parts.push(text ? Buffer.from(text + '\r\n', 'utf8') : CRLF);
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

/**
 * Milliseconds since the epoch of a UTC date and time with a four-digit year
 * as written: `Date.UTC` would read the years 0 to 99 as 1900 to 1999.
 */
export function utcTime(year: number, month: number, day: number, hours = 0, minutes = 0, seconds = 0): number {
  const d = new Date(Date.UTC(2000, 0, 1, hours, minutes, seconds));
  d.setUTCFullYear(year, month, day);
  return d.getTime();
}

/**
 * Why a day of a date or date-time a client sent cannot be read, or null.
 * RFC 3501 section 9: date-year = 4DIGIT (`50` is no year: it would have to
 * be guessed as 1950 or 2050; `0050` is the year 50) and date-day 1 or 2
 * digits; the day must exist in that month (no 31-Feb, which Date would
 * silently turn into 3-Mar).
 */
export function badDay(dayText: string, month: number, yearText: string): string | null {
  if (!/^\d{4}$/.test(yearText)) return `the year must have four digits (RFC 3501: date-year = 4DIGIT), not "${yearText}"`;
  const day = Number(dayText);
  const last = new Date(utcTime(Number(yearText), month + 1, 0)).getUTCDate();
  if (day < 1 || day > last) return `${MONTHS[month]} ${yearText} has no day ${dayText}`;
  return null;
}

/** RFC 3501 date-time: `"dd-Mon-yyyy hh:mm:ss +zzzz"` (we report UTC). */
export function formatInternalDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${p(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${String(date.getUTCFullYear()).padStart(4, '0')} ` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`
  );
}
