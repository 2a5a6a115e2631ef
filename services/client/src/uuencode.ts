/**
 * Classic uuencode, the way files travelled in mail before MIME:
 *
 *   begin 644 photo.jpg
 *   M<45 bytes as 60 characters>
 *   ...
 *   `
 *   end
 *
 * Each line starts with its byte count as a character (32 + n), then every
 * 3 bytes become 4 characters (6 bits each, 32 + value). Zero is written as
 * a backtick rather than a space so that nothing is lost when a mail system
 * strips trailing spaces; the decoder accepts both.
 */

const LINE_BYTES = 45;

const enc = (v: number): string => (v === 0 ? '`' : String.fromCharCode(v + 32));
const dec = (c: string | undefined): number => (c === undefined ? 0 : (c.charCodeAt(0) - 32) & 0x3f);

/** A file name safe for the `begin` line (no line breaks). */
function beginName(name: string): string {
  const clean = name.replace(/[\r\n]+/g, ' ').trim();
  return clean === '' ? 'file' : clean;
}

/** The whole block from `begin` to `end`, lines ending with `\n`. */
export function uuencode(data: Buffer, name: string, mode = 0o644): string {
  const lines = [`begin ${mode.toString(8).padStart(3, '0')} ${beginName(name)}`];
  for (let at = 0; at < data.length; at += LINE_BYTES) {
    const chunk = data.subarray(at, at + LINE_BYTES);
    let line = enc(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const a = chunk[i];
      const b = i + 1 < chunk.length ? chunk[i + 1] : 0;
      const c = i + 2 < chunk.length ? chunk[i + 2] : 0;
      line += enc(a >> 2) + enc(((a << 4) | (b >> 4)) & 0x3f) + enc(((b << 2) | (c >> 6)) & 0x3f) + enc(c & 0x3f);
    }
    lines.push(line);
  }
  lines.push('`', 'end');
  return lines.join('\n') + '\n';
}

/** Decodes the data lines of one block (between `begin` and `end`). */
export function uudecodeLines(lines: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    const n = dec(line[0]);
    if (n === 0) break;
    const out = Buffer.alloc(n);
    let o = 0;
    for (let i = 1; o < n; i += 4) {
      const [a, b, c, d] = [dec(line[i]), dec(line[i + 1]), dec(line[i + 2]), dec(line[i + 3])];
      out[o++] = (a << 2) | (b >> 4);
      if (o < n) out[o++] = ((b << 4) | (c >> 2)) & 0xff;
      if (o < n) out[o++] = ((c << 6) | d) & 0xff;
    }
    parts.push(out);
  }
  return Buffer.concat(parts);
}

/** One uuencoded file found in a text, with where it sits in that text. */
export interface UuBlock {
  name: string;
  mode: number;
  data: Buffer;
  /** Character offsets of the block (from `begin` to the end of the `end` line). */
  start: number;
  end: number;
}

const BEGIN = /^begin ([0-7]{3,4}) (.+?)\r?$/;
const END = /^end\s*$/;

/** Every complete `begin ... end` block in `text`, in order. */
export function findUuencoded(text: string): UuBlock[] {
  const blocks: UuBlock[] = [];
  const lines = text.split('\n');
  let offset = 0;
  const starts = lines.map((l) => {
    const s = offset;
    offset += l.length + 1;
    return s;
  });
  for (let i = 0; i < lines.length; i++) {
    const m = BEGIN.exec(lines[i]);
    if (!m) continue;
    const stop = lines.findIndex((l, j) => j > i && END.test(l));
    if (stop < 0) break;
    blocks.push({
      name: m[2].trim(),
      mode: parseInt(m[1], 8),
      data: uudecodeLines(lines.slice(i + 1, stop)),
      start: starts[i],
      end: Math.min(text.length, starts[stop] + lines[stop].length + 1),
    });
    i = stop;
  }
  return blocks;
}
