/**
 * Recursive-descent primitives over a command frame (RFC 3501 section 9
 * grammar): atoms, quoted strings, literals, astrings, nstrings, numbers,
 * parenthesised lists. A literal is met as a `{n}` marker at the end of a
 * text segment; the cursor then yields the literal's octets and moves on to
 * the next segment. Every failure throws `ParseError`, which the session
 * turns into a tagged BAD.
 */
import type { Frame } from './reader';

export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

/** atom-specials: ( ) { SP CTL % * " \ ] (RFC 3501 section 9). */
const ATOM_CHAR = /[^(){ \x00-\x1f\x7f%*"\\\]]/;

export class Cursor {
  private seg = 0;
  private pos = 0;

  constructor(private readonly frame: Pick<Frame, 'texts' | 'literals'>) {}

  private get text(): string {
    return this.frame.texts[this.seg] ?? '';
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** At the very end of the command (no more text, no more literals)? */
  atEnd(): boolean {
    return this.seg >= this.frame.texts.length - 1 && this.pos >= this.text.length;
  }

  expectEnd(): void {
    if (!this.atEnd()) throw new ParseError(`Unexpected characters at end of command: ${JSON.stringify(this.rest().slice(0, 40))}`);
  }

  /** The rest of the current text segment (for error messages and raw lines). */
  rest(): string {
    return this.text.slice(this.pos);
  }

  skip(n = 1): void {
    this.pos += n;
  }

  /** Consumes `text` (case-insensitive) when it comes next. */
  accept(text: string): boolean {
    if (this.text.slice(this.pos, this.pos + text.length).toUpperCase() === text.toUpperCase()) {
      this.pos += text.length;
      return true;
    }
    return false;
  }

  expect(text: string, what = JSON.stringify(text)): void {
    if (!this.accept(text)) throw new ParseError(`Expected ${what} at ${JSON.stringify(this.rest().slice(0, 20))}`);
  }

  sp(): void {
    this.expect(' ', 'a space');
  }

  /** Characters matching `re` (one at a time), at least one. */
  takeWhile(re: RegExp, what: string): string {
    const start = this.pos;
    while (this.pos < this.text.length && re.test(this.text[this.pos])) this.pos++;
    if (this.pos === start) throw new ParseError(`Expected ${what} at ${JSON.stringify(this.rest().slice(0, 20))}`);
    return this.text.slice(start, this.pos);
  }

  atom(): string {
    return this.takeWhile(ATOM_CHAR, 'an atom');
  }

  /** ASTRING-CHAR also allows `]` (resp-specials). */
  astringAtom(): string {
    return this.takeWhile(/[^(){ \x00-\x1f\x7f%*"\\]/, 'an astring');
  }

  number(): number {
    const digits = this.takeWhile(/[0-9]/, 'a number');
    const n = Number(digits);
    if (n > 0xffffffff) throw new ParseError('Number too large');
    return n;
  }

  /** A quoted string or literal, as octets. */
  stringBytes(): Buffer {
    if (this.peek() === '"') return Buffer.from(this.quoted(), 'utf8');
    if (this.peek() === '{') return this.literal();
    throw new ParseError(`Expected a string at ${JSON.stringify(this.rest().slice(0, 20))}`);
  }

  string(): string {
    return this.stringBytes().toString('utf8');
  }

  astring(): string {
    const c = this.peek();
    return c === '"' || c === '{' ? this.string() : this.astringAtom();
  }

  /** nstring: NIL or a string; null for NIL. */
  nstring(): string | null {
    if (this.accept('NIL')) return null;
    return this.string();
  }

  quoted(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) throw new ParseError('Unterminated quoted string');
      if (c === '"') return out;
      if (c === '\\') {
        const next = this.text[this.pos++];
        if (next !== '"' && next !== '\\') throw new ParseError('Invalid escape in quoted string');
        out += next;
      } else out += c;
    }
  }

  literal(): Buffer {
    const m = /^\{(\d+)\+?\}$/.exec(this.rest());
    if (!m || this.seg >= this.frame.literals.length) throw new ParseError('Invalid literal');
    const data = this.frame.literals[this.seg];
    this.seg++;
    this.pos = 0;
    return data;
  }

  /** `( item SP item ... )`, possibly empty. */
  list<T>(item: () => T): T[] {
    this.expect('(');
    const items: T[] = [];
    if (this.accept(')')) return items;
    for (;;) {
      items.push(item());
      if (this.accept(')')) return items;
      this.sp();
    }
  }
}
