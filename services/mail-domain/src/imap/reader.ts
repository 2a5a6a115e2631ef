/**
 * Framing of client input: turns the byte stream into command frames (the
 * command line split at its literals, plus the literal octets), before any
 * parsing. Literals `{n}` get a `+` continuation request (RFC 3501 section
 * 7.5); LITERAL+ `{n+}` (RFC 7888) are read straight away. Limits are
 * enforced before data is read: an over-long line is discarded, a
 * synchronizing literal above the limit is refused instead of answered with
 * `+`, and a non-synchronizing one gets BAD and the connection is closed
 * (RFC 7888 section 4).
 */

/** A command line split at its literals: `texts[i]` ends with the `{n}` marker of `literals[i]`. */
export interface Frame {
  readonly kind: 'frame';
  readonly texts: string[];
  readonly literals: Buffer[];
}

/** Input the reader refused; the session answers it in order, then goes on (or closes when fatal). */
export interface FrameError {
  readonly kind: 'error';
  readonly tag: string | null;
  readonly response: string;
  readonly fatal: boolean;
}

export type ReaderItem = Frame | FrameError;

export interface ReaderOptions {
  maxLineLength: number;
  maxLiteral: number;
  /** Write a continuation request (`+ Ready for literal data`). */
  continuation(): void;
  /** A frame or an error is ready. */
  emit(item: ReaderItem): void;
}

const LITERAL_MARKER = /\{(\d{1,20})(\+?)\}$/;

/** The tag of a (possibly partial) command line, when it has one. */
export function guessTag(line: string): string | null {
  const m = /^([^\s(){%*"\\+]+)[ ]/.exec(line);
  return m ? m[1] : null;
}

export class CommandReader {
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  private texts: string[] = [];
  private literals: Buffer[] = [];
  private literalRemaining = 0;
  /** Octets of the command so far (lines and literals), capped so many small literals cannot add up without bound. */
  private frameOctets = 0;
  private discarding = false;
  private discardTag: string | null = null;
  private closed = false;

  constructor(private readonly options: ReaderOptions) {}

  push(data: Buffer): void {
    let chunk = data;
    while (chunk.length > 0 && !this.closed) {
      if (this.literalRemaining > 0) {
        const take = Math.min(this.literalRemaining, chunk.length);
        this.buffered.push(chunk.subarray(0, take));
        this.bufferedLength += take;
        this.literalRemaining -= take;
        chunk = chunk.subarray(take);
        if (this.literalRemaining === 0) {
          this.literals.push(Buffer.concat(this.buffered));
          this.buffered = [];
          this.bufferedLength = 0;
        }
        continue;
      }
      const lf = chunk.indexOf(0x0a);
      if (lf < 0) {
        this.appendLinePart(chunk);
        return;
      }
      this.appendLinePart(chunk.subarray(0, lf + 1));
      chunk = chunk.subarray(lf + 1);
      this.endOfLine();
    }
  }

  private appendLinePart(part: Buffer): void {
    if (this.discarding) return;
    this.buffered.push(part);
    this.bufferedLength += part.length;
    if (this.bufferedLength > this.options.maxLineLength + 2) {
      const head = Buffer.concat(this.buffered).subarray(0, 200).toString('latin1');
      this.discardTag = this.texts.length > 0 ? guessTag(this.texts[0]) : guessTag(head);
      this.discarding = true;
      this.buffered = [];
      this.bufferedLength = 0;
    }
  }

  private endOfLine(): void {
    if (this.discarding) {
      this.discarding = false;
      this.reset();
      this.error(this.discardTag, `BAD Line too long (limit ${this.options.maxLineLength} octets)`, false);
      return;
    }
    const line = Buffer.concat(this.buffered).toString('utf8').replace(/\r?\n$/, '');
    this.buffered = [];
    this.bufferedLength = 0;
    const marker = LITERAL_MARKER.exec(line);
    if (!marker) {
      this.texts.push(line);
      const frame: Frame = { kind: 'frame', texts: this.texts, literals: this.literals };
      this.texts = [];
      this.literals = [];
      this.frameOctets = 0;
      this.options.emit(frame);
      return;
    }
    const size = Number(marker[1]);
    const nonSync = marker[2] === '+';
    const tag = guessTag(this.texts.length > 0 ? this.texts[0] : line);
    this.frameOctets += line.length;
    const overall = this.frameOctets + size > this.options.maxLiteral + this.options.maxLineLength;
    if (size > this.options.maxLiteral || overall) {
      this.reset();
      const text = overall && size <= this.options.maxLiteral
        ? `BAD [TOOBIG] Command exceeds ${this.options.maxLiteral + this.options.maxLineLength} octets in total`
        : `BAD [TOOBIG] Literal of ${size} octets exceeds the limit of ${this.options.maxLiteral}`;
      // A synchronizing literal is refused before the client sends it; a
      // non-synchronizing one is already on its way, so we must close.
      this.error(tag, nonSync ? text : text.replace(/^BAD/, 'NO'), nonSync);
      if (nonSync) this.closed = true;
      return;
    }
    this.texts.push(line);
    this.frameOctets += size;
    if (size === 0) {
      this.literals.push(Buffer.alloc(0));
    } else {
      this.literalRemaining = size;
    }
    if (!nonSync) this.options.continuation();
  }

  private reset(): void {
    this.frameOctets = 0;
    this.texts = [];
    this.literals = [];
    this.buffered = [];
    this.bufferedLength = 0;
  }

  private error(tag: string | null, response: string, fatal: boolean): void {
    this.options.emit({ kind: 'error', tag, response, fatal });
  }
}
