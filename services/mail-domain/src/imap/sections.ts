/**
 * BODY[section] extraction (RFC 3501 section 6.4.5): part numbers walk
 * multiparts and step into message/rfc822 parts; HEADER, HEADER.FIELDS
 * (NOT) and TEXT apply to the message (top level or encapsulated), MIME to
 * a part's own header. Returns exact octets from the stored message.
 */
import type { FetchAtt } from './commands';
import type { MimeEntity } from './mime';

type SectionAtt = Extract<FetchAtt, { kind: 'section' }>;

/** The entity a part path names, or null when there is no such part. */
export function resolvePart(root: MimeEntity, path: readonly number[]): MimeEntity | null {
  let current = root;
  for (let i = 0; i < path.length; i++) {
    // Inside a message/rfc822 part, numbering continues in the encapsulated message.
    const container = i === 0 ? current : (current.message ?? current);
    if (container.children.length > 0) {
      const next = container.children[path[i] - 1];
      if (!next) return null;
      current = next;
    } else if (container.contentType.type === 'multipart') {
      return null;
    } else if (path[i] === 1) {
      current = container;
    } else return null;
  }
  return current;
}

/** Header lines (with their folded continuations) whose names are, or are not, in `names`. */
export function filterHeader(header: Buffer, names: readonly string[], exclude: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const lines = header.toString('latin1').split(/(?<=\n)/);
  let keep = false;
  let out = '';
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break;
    if (!/^[ \t]/.test(line)) {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
      keep = name !== '' && wanted.has(name) !== exclude;
    }
    if (keep) out += line.endsWith('\n') ? line : line + '\r\n';
  }
  return Buffer.from(out + '\r\n', 'latin1');
}

export function sectionData(root: MimeEntity, raw: Buffer, att: SectionAtt): Buffer {
  const data = fullSection(root, raw, att);
  if (!att.partial) return data;
  return data.subarray(Math.min(att.partial.start, data.length), Math.min(att.partial.start + att.partial.length, data.length));
}

function fullSection(root: MimeEntity, raw: Buffer, att: SectionAtt): Buffer {
  const empty = Buffer.alloc(0);
  if (att.path.length === 0 && att.part === '') return raw;
  const entity = resolvePart(root, att.path);
  if (!entity) return empty;
  if (att.part === '') return entity.body;
  if (att.part === 'MIME') return entity.header;
  // HEADER / TEXT / HEADER.FIELDS name the top-level message or an encapsulated one.
  const message = att.path.length === 0 ? root : entity.message;
  if (!message) return empty;
  if (att.part === 'TEXT') return message.body;
  if (att.part === 'HEADER') return message.header;
  return filterHeader(message.header, att.fields, att.part === 'HEADER.FIELDS.NOT');
}
