/**
 * What the SMTP server checks and adds to a message received in DATA:
 * refusals for bare LF/CR and NUL (so nothing we relay can be split by
 * another server: SMTP smuggling), the hop count (mail loops, RFC 5321
 * 6.3), the `Received:` trace header (RFC 5321 4.4), and `Date:` /
 * `Message-ID:` when a hand-typed message has none (RFC 5321 6.4).
 */
import { headerEnd } from '../message-headers';

export interface TraceInfo {
  helo: string;
  /** PTR name of the peer, or null when it has none. */
  ptr: string | null;
  ip: string;
  hostname: string;
  /** RFC 3848 protocol: SMTP, ESMTP, ESMTPA. */
  protocol: string;
  id: string;
  /** The recipient, named only when there is one (RFC 5321 4.4 privacy advice). */
  recipient?: string;
  date: Date;
}

export const rfc5322Date = (d: Date) => d.toUTCString().replace('GMT', '+0000');

/** A peer-supplied value fit for a header line: a CR, LF, NUL or other control character becomes `?`. */
const headerSafe = (text: string) => text.replace(/[\x00-\x1f\x7f]/g, '?');

export function receivedHeader(t: TraceInfo): string {
  const from = `from ${headerSafe(t.helo) || 'unknown'} (${t.ptr === null ? 'unknown' : headerSafe(t.ptr)} [${headerSafe(t.ip)}])`;
  const by = `by ${headerSafe(t.hostname)} (mail-lab) with ${headerSafe(t.protocol)} id ${headerSafe(t.id)}`;
  const forPart = t.recipient ? `\r\n\tfor <${headerSafe(t.recipient)}>` : '';
  return `Received: ${from}\r\n\t${by}${forPart}; ${rfc5322Date(t.date)}\r\n`;
}

/** A reason to refuse the message, or null. Looks at every byte; changes none. */
export function refuseReason(message: Buffer): { code: number; text: string } | null {
  for (let i = 0; i < message.length; i++) {
    const c = message[i];
    if (c === 0) return { code: 554, text: '5.6.0 Message contains a NUL byte; refused, nothing was stored' };
    if (c === 0x0a && (i === 0 || message[i - 1] !== 0x0d)) {
      return { code: 554, text: '5.6.0 Message contains a bare LF (RFC 5321 2.3.8): lines must end with CRLF (with nc, use "nc -C"); refused, nothing was stored' };
    }
    if (c === 0x0d && message[i + 1] !== 0x0a) return { code: 554, text: '5.6.0 Message contains a bare CR (RFC 5321 2.3.8); refused, nothing was stored' };
  }
  return null;
}

/** The header lines of data as received (CRLF, each line with its CRLF). */
export function headerSection(message: Buffer): string {
  const text = message.toString('latin1');
  const end = headerEnd(text, { breaks: 'crlf' });
  if (end) return text.slice(0, end.linesEnd);
  // No body: the whole message is headers if it looks like them.
  return /^[!-9;-~]+:/.test(text) ? text : '';
}

export function countHops(headers: string): number {
  return (headers.match(/^Received:/gim) ?? []).length;
}

/** Headers a hand-typed message lacks, to add at the top. */
export function missingHeaders(headers: string, id: string, hostname: string, date: Date): string {
  let add = '';
  if (!/^Date:/im.test(headers)) add += `Date: ${rfc5322Date(date)}\r\n`;
  if (!/^Message-ID:/im.test(headers)) add += `Message-ID: <${id}@${hostname}>\r\n`;
  return add;
}
