/**
 * POP3 responses and their serialiser. Handlers return a `Reply`; the
 * connection turns it into wire bytes and transcript lines (`encode`); the
 * transcript leaves message content out.
 *
 * Multi-line responses follow RFC 1939 section 3: CRLF line endings, every
 * line that starts with `.` gets another `.`, and `.` CRLF ends it.
 * Status lines may carry an RFC 2449 / RFC 3206 response code: `-ERR [IN-USE] ...`.
 */

export type ResponseCode = 'IN-USE' | 'LOGIN-DELAY' | 'AUTH' | 'SYS/TEMP' | 'SYS/PERM';

export type Reply = (
  | { readonly kind: 'status'; readonly ok: boolean; readonly code?: ResponseCode; readonly text: string }
  /** `+OK text` then short text lines (CAPA, LIST, UIDL). */
  | { readonly kind: 'lines'; readonly text: string; readonly lines: readonly string[] }
  /** `+OK text` then message content (RETR, TOP), in wire form, not yet dot-stuffed. */
  | { readonly kind: 'message'; readonly text: string; readonly body: Buffer }
) & {
  /** Close the connection after sending this reply. */
  readonly close?: boolean;
  /** Start the TLS handshake after sending this reply (STLS, RFC 2595). */
  readonly starttls?: boolean;
};

export const ok = (text: string): Reply => ({ kind: 'status', ok: true, text });
export const err = (text: string, code?: ResponseCode): Reply => ({ kind: 'status', ok: false, code, text });
export const closing = (reply: Reply): Reply => ({ ...reply, close: true });

function statusLine(reply: Reply): string {
  if (reply.kind !== 'status') return `+OK ${reply.text}`;
  const rest = [reply.code ? `[${reply.code}]` : '', reply.text].filter(Boolean).join(' ');
  return `${reply.ok ? '+OK' : '-ERR'}${rest ? ' ' + rest : ''}`;
}

/**
 * Dot-stuffs content for a multi-line response: lines end in CRLF (a bare LF
 * becomes CRLF), lines starting with `.` get one more, the last line gets its
 * CRLF if it lacked one, and `.` CRLF terminates. Binary-safe (latin1).
 */
export function dotStuff(content: Buffer, prefix?: Buffer): Buffer {
  // On the octets, line by line with indexOf (every RETR runs this): a line is copied as it is,
  // with one more `.` in front when it starts with one, and ends in CRLF. `prefix` (the status
  // line) goes in front, so a reply is built with one copy of the message.
  const parts: Buffer[] = prefix ? [prefix] : [];
  let start = 0;
  let copyFrom = 0; // the pending run of lines that need no change
  const flush = (to: number) => {
    if (to > copyFrom) parts.push(content.subarray(copyFrom, to));
  };
  while (start < content.length) {
    const lf = content.indexOf(0x0a, start);
    const end = lf < 0 ? content.length : lf; // end of the line's text
    const textEnd = lf > start && content[lf - 1] === 0x0d ? lf - 1 : end;
    const stuff = content[start] === 0x2e;
    const crlf = lf >= 0 && textEnd === lf - 1;
    if (stuff || !crlf) {
      flush(start);
      if (stuff) parts.push(DOT);
      parts.push(content.subarray(start, textEnd), CRLF);
      copyFrom = lf < 0 ? content.length : lf + 1;
    }
    start = lf < 0 ? content.length : lf + 1;
  }
  flush(content.length);
  parts.push(TERMINATOR);
  return Buffer.concat(parts);
}

const DOT = Buffer.from('.');
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

/** Lines of a multi-line listing shown in the transcript; a longer one (LIST of a big maildrop) is summed up in one line. */
export const TRANSCRIPT_LINES = 50;

/** Wire bytes of a reply and its transcript lines (status and short lines, the first TRANSCRIPT_LINES of a listing; message content only as a size). */
export function encode(reply: Reply): { bytes: Buffer; log: string[] } {
  const first = statusLine(reply);
  const head = Buffer.from(first + '\r\n', 'utf8');
  if (reply.kind === 'status') return { bytes: head, log: [first] };
  if (reply.kind === 'lines') {
    const body = dotStuff(Buffer.from(reply.lines.join('\r\n'), 'utf8'));
    const shown = reply.lines.length <= TRANSCRIPT_LINES ? body.toString('utf8').split('\r\n').slice(0, -1) : [...reply.lines.slice(0, TRANSCRIPT_LINES).map((l) => (l.startsWith('.') ? '.' + l : l)), `... ${reply.lines.length - TRANSCRIPT_LINES} more lines not shown`, '.'];
    return { bytes: Buffer.concat([head, body]), log: [first, ...shown] };
  }
  const bytes = dotStuff(reply.body, head);
  return { bytes, log: [first, `[message body, ${bytes.length - head.length} octets]`] };
}
