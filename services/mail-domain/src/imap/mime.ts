/**
 * A MIME parse of a message in wire form (RFC 2045/2046/2822), enough for
 * IMAP: each entity keeps its raw header and body octets (so BODY[section]
 * returns exact bytes), its parsed Content-Type / Content-Disposition, its
 * children (multipart) or encapsulated message (message/rfc822). Section
 * numbering and the navigation rules are in RFC 3501 section 6.4.5.
 */
import { headerEnd } from '../message-headers';

export interface HeaderField {
  /** Field name as written. */
  readonly name: string;
  /** Unfolded value, leading whitespace trimmed, raw (not RFC 2047-decoded). */
  readonly value: string;
}

export interface ContentParams {
  readonly type: string;
  readonly subtype: string;
  /** Parameter names lower-cased, RFC 2231 continuations joined. */
  readonly params: Array<[string, string]>;
}

export interface MimeEntity {
  /** Header octets including the blank line that ends it (when present). */
  readonly header: Buffer;
  readonly body: Buffer;
  readonly fields: readonly HeaderField[];
  readonly contentType: ContentParams;
  readonly children: readonly MimeEntity[];
  /** The encapsulated message of a message/rfc822 entity. */
  readonly message: MimeEntity | null;
}

const MAX_DEPTH = 20;

/** Splits a header block into fields, unfolding continuation lines. */
export function parseHeaderFields(header: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  const text = header.toString('latin1');
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && fields.length > 0) {
      const last = fields[fields.length - 1];
      fields[fields.length - 1] = { name: last.name, value: last.value + ' ' + line.trim() };
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  // Values are UTF-8 (RFC 6532); an all-ASCII header (the usual one) reads the same either way.
  if (!/[\u0080-\u00ff]/.test(text)) return fields;
  return fields.map((f) => ({ name: f.name, value: Buffer.from(f.value, 'latin1').toString('utf8') }));
}

export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower)?.value ?? null;
}

/** The header (with its empty line) and the body; a part without an empty line is all header. */
function splitHeader(data: Buffer): { header: Buffer; body: Buffer } {
  const at = headerEnd(data, { breaks: 'crlf-or-lf', emptyFirstLine: true })?.bodyStart ?? data.length;
  return { header: data.subarray(0, at), body: data.subarray(at) };
}

/** Parses `type/subtype; a=b; c="d"` including RFC 2231 `name*0*=` continuations. */
export function parseParams(value: string | null, defaultType: string): ContentParams {
  const [mainPart, ...rest] = splitUnquoted(value ?? '', ';');
  const main = mainPart.trim().toLowerCase();
  const slash = main.indexOf('/');
  const valid = slash > 0 && /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(main);
  const [type, subtype] = valid ? [main.slice(0, slash), main.slice(slash + 1)] : defaultType.split('/');
  const raw: Array<[string, string]> = [];
  for (const piece of rest) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    let v = piece.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    raw.push([piece.slice(0, eq).trim().toLowerCase(), v]);
  }
  return { type, subtype, params: joinContinuations(raw) };
}

function joinContinuations(raw: Array<[string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const parts = new Map<string, Array<{ index: number; value: string; encoded: boolean }>>();
  for (const [name, value] of raw) {
    const m = /^([^*]+)\*(?:(\d+)\*?|)$/.exec(name);
    const encoded = name.endsWith('*');
    if (!m) {
      out.push([name, value]);
      continue;
    }
    const list = parts.get(m[1]) ?? [];
    list.push({ index: m[2] === undefined ? 0 : Number(m[2]), value, encoded });
    parts.set(m[1], list);
  }
  for (const [name, list] of parts) {
    list.sort((a, b) => a.index - b.index);
    let charset = 'utf-8';
    const text = list
      .map((p, i) => {
        let v = p.value;
        if (p.encoded && i === 0) {
          const m = /^([^']*)'[^']*'(.*)$/.exec(v);
          if (m) [charset, v] = [m[1] || 'utf-8', m[2]];
        }
        return p.encoded ? percentDecode(v, charset) : v;
      })
      .join('');
    out.push([name, text]);
  }
  return out;
}

function percentDecode(value: string, charset: string): string {
  const bytes = Buffer.from(value.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return decodeCharset(bytes, charset);
}

export function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** Splits on `sep` outside quoted strings and comments. */
export function splitUnquoted(text: string, sep: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '\\') {
      current += ch + (text[++i] ?? '');
      continue;
    }
    if (ch === '"' && depth === 0) quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')' && depth > 0) depth--;
    if (ch === sep && !quoted && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

/** Parses a message or body part; `defaultType` is text/plain, or message/rfc822 inside multipart/digest. */
export function parseEntity(data: Buffer, defaultType = 'text/plain', depth = 0): MimeEntity {
  const { header, body } = splitHeader(data);
  const fields = parseHeaderFields(header);
  const contentType = parseParams(headerValue(fields, 'content-type'), defaultType);
  let children: MimeEntity[] = [];
  let message: MimeEntity | null = null;
  if (depth < MAX_DEPTH && contentType.type === 'multipart') {
    const boundary = contentType.params.find(([n]) => n === 'boundary')?.[1];
    if (boundary) {
      const childDefault = contentType.subtype === 'digest' ? 'message/rfc822' : 'text/plain';
      children = splitMultipart(body, boundary).map((part) => parseEntity(part, childDefault, depth + 1));
    }
  } else if (depth < MAX_DEPTH && contentType.type === 'message' && contentType.subtype === 'rfc822') {
    message = parseEntity(body, 'text/plain', depth + 1);
  }
  return { header, body, fields, contentType, children, message };
}

/** The body parts between `--boundary` delimiter lines (RFC 2046 section 5.1.1). */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from('--' + boundary, 'latin1');
  const parts: Buffer[] = [];
  let start = -1;
  let pos = 0;
  while (pos <= body.length) {
    const lineEnd = body.indexOf(0x0a, pos);
    const end = lineEnd < 0 ? body.length : lineEnd + 1;
    const line = body.subarray(pos, end);
    if (line.subarray(0, delimiter.length).equals(delimiter)) {
      const after = line.subarray(delimiter.length).toString('latin1');
      const closing = after.startsWith('--');
      if (/^(--)?[ \t]*\r?\n?$/.test(after)) {
        if (start >= 0) {
          // The CRLF before the delimiter belongs to the delimiter.
          let partEnd = pos;
          if (partEnd > start && body[partEnd - 1] === 0x0a) partEnd--;
          if (partEnd > start && body[partEnd - 1] === 0x0d) partEnd--;
          parts.push(body.subarray(start, partEnd));
        }
        if (closing) return parts;
        start = end;
      }
    }
    if (lineEnd < 0) break;
    pos = end;
  }
  if (start >= 0 && start < body.length) parts.push(body.subarray(start));
  return parts;
}
