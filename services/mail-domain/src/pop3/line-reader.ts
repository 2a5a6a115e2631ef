/**
 * Framing for POP3 input: bytes -> command lines. A line ends at LF (an
 * optional CR before it is dropped). A line longer than `maxLineLength`
 * octets is reported once, as soon as the limit is passed, and the rest of
 * it is thrown away up to its LF, so a client cannot make us buffer
 * unbounded data.
 */

export type LineEvent =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'overlong'; readonly limit: number };

export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(private readonly maxLineLength: number) {}

  /** Feeds a chunk; returns the complete lines (and over-long notices) it finished. */
  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf < 0 ? chunk.length : lf;
      if (!this.discarding) {
        this.parts.push(chunk.subarray(start, end));
        this.size += end - start;
        // One octet of slack for the CR that may precede the LF.
        if (this.size > this.maxLineLength + 1) {
          this.parts = [];
          this.size = 0;
          this.discarding = true;
          events.push({ kind: 'overlong', limit: this.maxLineLength });
        }
      }
      if (lf < 0) break;
      if (this.discarding) {
        this.discarding = false;
      } else {
        let line = Buffer.concat(this.parts, this.size);
        if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
        this.parts = [];
        this.size = 0;
        events.push(line.length > this.maxLineLength ? { kind: 'overlong', limit: this.maxLineLength } : { kind: 'line', text: line.toString('utf8') });
      }
      start = lf + 1;
    }
    return events;
  }
}
