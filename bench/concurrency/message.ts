/**
 * The concurrency bench's messages and how they are recognised again: every
 * message carries a unique `X-Load-Id` and `X-Load-Sum` (SHA-1 of its body,
 * lines joined with LF), so a reader that finds it in a mailbox knows which
 * message it is and whether it arrived whole. The body is random base64 text
 * in 76-character lines: no line starts with "." or "From ", so neither
 * SMTP dot-stuffing nor mboxrd quoting changes it.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface LoadMessage {
  id: string;
  wire: Buffer;
  sum: string;
}

const bodySum = (lfBody: string) => createHash('sha1').update(lfBody, 'latin1').digest('hex');

/** A message of about `size` octets (CRLF lines) from `from` to `to`. */
export function loadMessage(o: { id: string; from: string; to: string; size: number }): LoadMessage {
  const head = (sum: string) =>
    `From: <${o.from}>\r\nTo: <${o.to}>\r\nSubject: mail-lab concurrency ${o.id}\r\n` +
    `Message-ID: <${o.id}@bench.invalid>\r\nDate: ${new Date().toUTCString().replace('GMT', '+0000')}\r\n` +
    `X-Load-Id: ${o.id}\r\nX-Load-Sum: ${sum}\r\n\r\n`;
  const lines: string[] = [];
  let room = Math.max(80, o.size - head('0'.repeat(40)).length);
  while (room > 0) {
    const n = Math.min(76, Math.max(1, room - 2));
    lines.push(randomBytes(Math.ceil((n * 3) / 4)).toString('base64').slice(0, n));
    room -= n + 2;
  }
  const lfBody = lines.join('\n') + '\n';
  const sum = bodySum(lfBody);
  return { id: o.id, wire: Buffer.from(head(sum) + lfBody.replace(/\n/g, '\r\n'), 'latin1'), sum };
}

export interface FoundMessage {
  /** X-Load-Id, or null for a message that is not ours (e.g. a bounce). */
  id: string | null;
  /** True when X-Load-Sum matches the body; null when the body was not read. */
  intact: boolean | null;
  /** A delivery status notification (RFC 3464 multipart/report). */
  dsn: boolean;
}

/** Recognises one message given as text (CRLF or LF lines); `withBody` false when only the header was fetched. */
export function recognise(text: string, withBody = true): FoundMessage {
  const lf = text.replace(/\r\n/g, '\n');
  const end = lf.indexOf('\n\n');
  const header = end >= 0 ? lf.slice(0, end + 1) : lf;
  const id = /^x-load-id:[ \t]*(\S+)/im.exec(header)?.[1] ?? null;
  const dsn = /^content-type:[ \t]*multipart\/report/im.test(header);
  if (!withBody || !id || end < 0) return { id, intact: null, dsn };
  const sum = /^x-load-sum:[ \t]*([0-9a-f]+)/im.exec(header)?.[1];
  return { id, intact: sum !== undefined && bodySum(lf.slice(end + 2)) === sum, dsn };
}

/**
 * The messages of an mbox file as written by our store (mboxrd, LF lines,
 * each message followed by one empty line; "From " at a line start is only
 * ever a separator, body lines are quoted). Returns each message's text
 * without separator and trailing empty line.
 */
export function splitMbox(file: string): string[] {
  if (file === '') return [];
  const parts = ('\n' + file).split('\nFrom ').slice(1);
  // The split eats the empty line after every message but the last.
  return parts.map((p, i) => {
    const body = p.slice(p.indexOf('\n') + 1);
    return i === parts.length - 1 && body.endsWith('\n') ? body.slice(0, -1) : body;
  });
}
