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
export function dotStuff(content: Buffer): Buffer {
  const text = content.toString('latin1');
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let out = '';
  for (const line of lines) out += (line.startsWith('.') ? '.' + line : line) + '\r\n';
  return Buffer.from(out + '.\r\n', 'latin1');
}

/** Wire bytes of a reply and its transcript lines (status and short lines; message content only as a size). */
export function encode(reply: Reply): { bytes: Buffer; log: string[] } {
  const first = statusLine(reply);
  const head = Buffer.from(first + '\r\n', 'utf8');
  if (reply.kind === 'status') return { bytes: head, log: [first] };
  if (reply.kind === 'lines') {
    const body = dotStuff(Buffer.from(reply.lines.join('\r\n'), 'utf8'));
    return { bytes: Buffer.concat([head, body]), log: [first, ...body.toString('utf8').split('\r\n').slice(0, -1)] };
  }
  const body = dotStuff(reply.body);
  return { bytes: Buffer.concat([head, body]), log: [first, `[message body, ${body.length} octets]`] };
}
