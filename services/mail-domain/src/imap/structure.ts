/**
 * ENVELOPE, BODY and BODYSTRUCTURE from a MIME parse (RFC 3501 section
 * 7.4.2): basic, text (with line count), message/rfc822 (with the
 * encapsulated envelope, structure and line count) and multipart bodies;
 * the extensible form adds MD5, disposition with filename parameters,
 * language and location.
 */
import { parseAddressList } from './address';
import { headerValue, parseParams, type MimeEntity } from './mime';
import { Concat, type ImapValue } from './wire';

function nstr(value: string | null): string | null {
  return value === null || value === '' ? null : value;
}

function addresses(value: string | null): ImapValue {
  const list = parseAddressList(value);
  return list.length === 0 ? null : list.map((a) => [a.name, a.adl, a.mailbox, a.host]);
}

/** RFC 3501 7.4.2: Sender and Reply-To default to From when absent or empty. */
export function envelope(entity: MimeEntity): ImapValue[] {
  const h = (name: string) => headerValue(entity.fields, name);
  const from = addresses(h('from'));
  const sender = addresses(h('sender'));
  const replyTo = addresses(h('reply-to'));
  return [
    nstr(h('date')),
    nstr(h('subject')),
    from,
    sender ?? from,
    replyTo ?? from,
    addresses(h('to')),
    addresses(h('cc')),
    addresses(h('bcc')),
    nstr(h('in-reply-to')),
    nstr(h('message-id')),
  ];
}

/** Lines in a body: CRLF-terminated lines plus an unterminated last line. */
export function countLines(body: Buffer): number {
  let lines = 0;
  for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) lines++;
  if (body.length > 0 && body[body.length - 1] !== 0x0a) lines++;
  return lines;
}

function paramList(params: Array<[string, string]>): ImapValue {
  if (params.length === 0) return null;
  return params.flatMap(([name, value]) => [name.toUpperCase(), value]);
}

function disposition(entity: MimeEntity): ImapValue {
  const value = headerValue(entity.fields, 'content-disposition');
  if (!value) return null;
  const parsed = parseParams(value.replace(/^\s*([^;\s]+)/, '$1/x'), 'x/x');
  return [parsed.type.toUpperCase(), paramList(parsed.params)];
}

function language(entity: MimeEntity): ImapValue {
  const value = headerValue(entity.fields, 'content-language');
  if (!value) return null;
  const tags = value.split(',').map((t) => t.trim()).filter(Boolean);
  return tags.length === 1 ? tags[0] : tags.length === 0 ? null : tags;
}

/** BODYSTRUCTURE when `extensible`, BODY otherwise. */
export function bodyStructure(entity: MimeEntity, extensible: boolean): ImapValue {
  const { type, subtype, params } = entity.contentType;
  const h = (name: string) => headerValue(entity.fields, name);
  if (type === 'multipart') {
    const children = entity.children.length > 0 ? entity.children.map((c) => bodyStructure(c, extensible)) : [emptyTextPart()];
    const out: ImapValue[] = [new Concat(children), subtype.toUpperCase()];
    if (extensible) out.push(paramList(params), disposition(entity), language(entity), nstr(h('content-location')));
    return out;
  }
  const typeParams = type === 'text' && !params.some(([n]) => n === 'charset') ? [['charset', 'us-ascii'] as [string, string], ...params] : params;
  const encoding = (h('content-transfer-encoding') ?? '7bit').trim().toUpperCase() || '7BIT';
  const out: ImapValue[] = [
    type.toUpperCase(),
    subtype.toUpperCase(),
    paramList(typeParams),
    nstr(h('content-id')),
    nstr(h('content-description')),
    encoding,
    entity.body.length,
  ];
  if (type === 'message' && subtype === 'rfc822' && entity.message) {
    out.push(envelope(entity.message), bodyStructure(entity.message, extensible), countLines(entity.body));
  } else if (type === 'text') {
    out.push(countLines(entity.body));
  }
  if (extensible) out.push(nstr(h('content-md5')), disposition(entity), language(entity), nstr(h('content-location')));
  return out;
}

function emptyTextPart(): ImapValue {
  return ['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 0, 0];
}
