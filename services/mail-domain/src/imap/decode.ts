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

/** Decoded text of the text/* leaves of an entity (what BODY and TEXT search in). */
export function bodyText(entity: MimeEntity): string {
  if (entity.children.length > 0) return entity.children.map(bodyText).join('\n');
  if (entity.message) return headerText(entity.message) + '\n' + bodyText(entity.message);
  if (entity.contentType.type !== 'text') return '';
  const charset = entity.contentType.params.find(([n]) => n === 'charset')?.[1] ?? 'utf-8';
  return decodeCharset(decodeTransfer(entity), /ascii/i.test(charset) ? 'utf-8' : charset);
}

/** All header fields, decoded, one per line. */
export function headerText(entity: MimeEntity): string {
  return entity.fields.map((f) => `${f.name}: ${decodeWords(f.value)}`).join('\n');
}
