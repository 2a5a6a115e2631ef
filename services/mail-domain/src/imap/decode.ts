/**
 * Decoding for SEARCH: RFC 2047 encoded words in headers, Content-Transfer-
 * Encoding (base64, quoted-printable) and charsets of text parts, so that
 * searches match what the reader sees rather than the wire form.
 */
import { decodeCharset, headerValue, type MimeEntity } from './mime';

/** Decodes `=?charset?B|Q?text?=` words; whitespace between adjacent encoded words is dropped. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_, charset: string, encoding: string, text: string) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return decodeCharset(bytes, charset.replace(/\*.*$/, ''));
    });
}

export function decodeQuotedPrintable(body: Buffer): Buffer {
  const text = body.toString('latin1').replace(/=\r?\n/g, '');
  return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

export function decodeTransfer(entity: MimeEntity): Buffer {
  const encoding = (headerValue(entity.fields, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  if (encoding === 'base64') return Buffer.from(entity.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(entity.body);
  return entity.body;
}

/** A BODY/TEXT word made ready once per search: its octets when the octet search applies, and how to look in a piece of text. */
export interface BodyNeedle {
  /** Lower-case octets of a printable-ASCII word; null for any other (a control character, a line break or non-ASCII takes the text path). */
  readonly ascii: Buffer | null;
  readonly inText: (text: string) => boolean;
}

export function bodyNeedle(needle: string, inText: (text: string) => boolean): BodyNeedle {
  return { ascii: /^[\x20-\x7e]*$/.test(needle) ? Buffer.from(needle.toLowerCase(), 'latin1') : null, inText };
}

/**
 * Is the needle in the decoded text of the text/* leaves (and of embedded messages' headers), as
 * `inText` finds it in a piece of that text? What BODY and TEXT search in, part by part, and
 * without making the text when it need not: an ASCII needle in a part whose charset writes
 * every other character in bytes from 0x80 up is looked for in the part's bytes (ASCII letters
 * of either case), so a SEARCH BODY over a big mailbox leaves no decoded copy of each body behind.
 */
export function bodyContains(entity: MimeEntity, needle: BodyNeedle): boolean {
  if (entity.children.length > 0) return entity.children.some((c) => bodyContains(c, needle));
  if (entity.message) return needle.inText(headerText(entity.message)) || bodyContains(entity.message, needle);
  if (entity.contentType.type !== 'text') return false;
  const charset = entity.contentType.params.find(([n]) => n === 'charset')?.[1] ?? 'utf-8';
  const bytes = decodeTransfer(entity);
  if (needle.ascii && ASCII_SAFE.test(charset.trim())) return bytesContain(bytes, needle.ascii);
  return needle.inText(decodeCharset(bytes, /ascii/i.test(charset) ? 'utf-8' : charset));
}

/**
 * Charsets where a byte below 0x80 is always that ASCII character: UTF-8, the single-byte ones,
 * EUC. (Not Shift_JIS, Big5, GBK or ISO-2022-JP, whose multi-byte characters use ASCII bytes.)
 */
const ASCII_SAFE = /^(?:us-ascii|ascii|utf-?8|iso-?8859-\d+|latin-?\d|windows-125\d|cp-?125\d|koi8-[ru]|euc-(?:jp|kr))$/i;

const foldAscii = (b: number) => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b);

/** Is `lower` (lower-case ASCII) in `hay`, ASCII letters matching in either case? */
function bytesContain(hay: Buffer, lower: Buffer): boolean {
  const n = lower.length;
  if (n === 0) return true;
  // Find candidates by the needle's first octet in each case (Buffer.indexOf is native), then compare the rest.
  const a = lower[0];
  const A = a >= 0x61 && a <= 0x7a ? a - 0x20 : -1;
  let i = hay.indexOf(a);
  let j = A < 0 ? -1 : hay.indexOf(A);
  while (i !== -1 || j !== -1) {
    const at = j === -1 || (i !== -1 && i < j) ? i : j;
    if (at + n > hay.length) return false;
    let k = 1;
    while (k < n && foldAscii(hay[at + k]) === lower[k]) k++;
    if (k === n) return true;
    if (at === i) i = hay.indexOf(a, i + 1);
    else j = hay.indexOf(A, j + 1);
  }
  return false;
}

/** All header fields, decoded, one per line. */
export function headerText(entity: MimeEntity): string {
  return entity.fields.map((f) => `${f.name}: ${decodeWords(f.value)}`).join('\n');
}
