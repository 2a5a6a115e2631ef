/**
 * The mbox file format as we write and read it (mboxrd, Dovecot's and
 * qmail's variant): each message starts with a `From <sender> <asctime>`
 * separator line, lines of the message that match `>*From ` get one more
 * `>` on the way in and lose one on the way out, so any message round-trips
 * exactly; every message is followed by one empty line. On disk lines end in
 * LF (what `cat` shows a student); on the wire they end in CRLF.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `Thu Nov 26 07:30:00 2026` (asctime, UTC), the date of an mbox separator line. */
export function asctime(date: Date): string {
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCFullYear()}`;
}

const SEPARATOR_DATE = /(\w{3}) +(\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\s*$/;

/** Reads the date back from a separator line; null when it has none we understand. */
export function parseSeparatorDate(line: string): Date | null {
  const m = SEPARATOR_DATE.exec(line);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]);
  if (month < 0) return null;
  return new Date(Date.UTC(Number(m[7]), month, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/**
 * The separator line (with its LF) for a message, as a byte string (one
 * character per octet, to be written as latin1): a non-ASCII sender
 * (SMTPUTF8) is written as its UTF-8 octets, which never include a control
 * octet, so no sender can end the line early or forge a `From ` line. A
 * sender with spaces or control characters is written as MAILER-DAEMON.
 */
export function separatorLine(envelopeFrom: string | undefined, date: Date): string {
  const sender = envelopeFrom && !/[\s\x00-\x1f\x7f]/.test(envelopeFrom) ? Buffer.from(envelopeFrom, 'utf8').toString('latin1') : 'MAILER-DAEMON';
  return `From ${sender} ${asctime(date)}\n`;
}

const QUOTE_IN = /^(>*From )/gm;
const QUOTE_OUT = /^>(>*From )/gm;

/** Wire form (CRLF) -> mbox body (LF, mboxrd-quoted, ending in LF). Bare CRs stay as they are. */
export function toMboxBody(wire: Buffer): Buffer {
  let text = wire.toString('latin1').replace(/\r\n/g, '\n').replace(QUOTE_IN, '>$1');
  if (!text.endsWith('\n')) text += '\n';
  return Buffer.from(text, 'latin1');
}

/** mbox body (as stored, without separator and trailing blank line) -> wire form (CRLF). */
export function fromMboxBody(stored: Buffer): Buffer {
  // Quoted `>From ` lines are rare: only then the text path; otherwise LF -> CRLF on the octets (this runs for every read).
  if (stored.indexOf('>From ', 0, 'latin1') >= 0) {
    return Buffer.from(stored.toString('latin1').replace(QUOTE_OUT, '$1').replace(/\n/g, '\r\n'), 'latin1');
  }
  let lines = 0;
  for (let i = stored.indexOf(0x0a); i >= 0; i = stored.indexOf(0x0a, i + 1)) lines++;
  if (lines === 0) return Buffer.from(stored);
  const out = Buffer.allocUnsafe(stored.length + lines);
  let o = 0;
  let p = 0;
  for (let i = stored.indexOf(0x0a); i >= 0; i = stored.indexOf(0x0a, p)) {
    o += stored.copy(out, o, p, i);
    out[o++] = 0x0d;
    out[o++] = 0x0a;
    p = i + 1;
  }
  stored.copy(out, o, p);
  return out;
}

/** Size in octets of the wire form of a stored body, without building it. */
export function wireSize(stored: Buffer): number {
  // Quoted `>From ` lines are rare: without one, the size is the octets plus one CR per LF (counted natively).
  if (stored.indexOf('>From ', 0, 'latin1') < 0) {
    let lines = 0;
    for (let i = stored.indexOf(0x0a); i >= 0; i = stored.indexOf(0x0a, i + 1)) lines++;
    return stored.length + lines;
  }
  let lf = 0;
  let quoted = 0;
  let lineStart = true;
  for (let i = 0; i < stored.length; i++) {
    const c = stored[i];
    if (lineStart && c === 0x3e /* > */) {
      let j = i;
      while (j < stored.length && stored[j] === 0x3e) j++;
      if (stored.toString('latin1', j, j + 5) === 'From ') quoted++;
    }
    // The quoting regexes (`^` with the m flag) also start a line after a bare CR.
    lineStart = c === 0x0a || c === 0x0d;
    if (c === 0x0a) lf++;
  }
  return stored.length + lf - quoted;
}

/** One message as found in an mbox file. Offsets are into the file. */
export interface RawEntry {
  /** Offset of the `From ` separator line. */
  start: number;
  /** Offset of the first byte after the separator line. */
  bodyStart: number;
  /** Offset just past the stored body (the blank line between messages excluded). */
  bodyEnd: number;
  /** Offset of the next message's separator (or end of file). */
  end: number;
  separator: string;
}

/**
 * Splits a whole mbox file into messages. A message starts at a line that
 * begins with `From ` at the start of the file or after an empty line, as
 * readers of mboxrd expect; leading garbage before the first separator is
 * ignored.
 */
export function splitMbox(file: Buffer): RawEntry[] {
  const starts: number[] = [];
  if (file.toString('latin1', 0, 5) === 'From ') starts.push(0);
  let pos = 0;
  for (;;) {
    const i = file.indexOf('\nFrom ', pos, 'latin1');
    if (i < 0) break;
    // Accept only separators preceded by an empty line, or at the very start.
    if ((i > 0 && file[i - 1] === 0x0a) || starts.length === 0) starts.push(i + 1);
    pos = i + 1;
  }
  const entries: RawEntry[] = [];
  starts.forEach((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : file.length;
    const lineEnd = file.indexOf(0x0a, start);
    const bodyStart = lineEnd < 0 || lineEnd >= end ? end : lineEnd + 1;
    let bodyEnd = end;
    // Drop the one empty line that separates messages (RFC 4155).
    if (bodyEnd - bodyStart >= 1 && file[bodyEnd - 1] === 0x0a && (bodyEnd - 2 < bodyStart || file[bodyEnd - 2] === 0x0a)) bodyEnd -= 1;
    entries.push({ start, bodyStart, bodyEnd, end, separator: file.toString('latin1', start, bodyStart).trimEnd() });
  });
  return entries;
}
