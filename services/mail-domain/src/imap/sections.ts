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

/**
 * Header lines (with their folded continuations) whose names are, or are
 * not, in `names`, then the empty line. Works on the octets (a mailbox
 * listing runs this for every message): lines are found with indexOf and
 * copied once.
 */
export function filterHeader(header: Buffer, names: readonly string[], exclude: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const parts: Buffer[] = [];
  let keep = false;
  for (let start = 0; start < header.length; ) {
    const lf = header.indexOf(0x0a, start);
    const end = lf < 0 ? header.length : lf + 1;
    const first = header[start];
    if (first === 0x0a || (first === 0x0d && header[start + 1] === 0x0a)) break; // the empty line
    if (first !== 0x20 && first !== 0x09) {
      const colon = header.indexOf(0x3a, start);
      const name = colon > start && colon < end ? header.toString('latin1', start, colon).trim().toLowerCase() : '';
      keep = name !== '' && wanted.has(name) !== exclude;
    }
    if (keep) {
      parts.push(header.subarray(start, end));
      if (lf < 0) parts.push(CRLF);
    }
    start = end;
  }
  parts.push(CRLF);
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

export function sectionData(root: MimeEntity, raw: Buffer, att: SectionAtt): Buffer {
  const data = fullSection(root, raw, att);
  if (!att.partial) return data;
  return data.subarray(Math.min(att.partial.start, data.length), Math.min(att.partial.start + att.partial.length, data.length));
}

const EMPTY = Buffer.alloc(0);

function fullSection(root: MimeEntity, raw: Buffer, att: SectionAtt): Buffer {
  const empty = EMPTY;
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
  return filteredHeader(message.header, att.fields, att.part === 'HEADER.FIELDS.NOT');
}

/**
 * filterHeader, remembered per header: a client lists its mailbox with the
 * same few fields every time, and cached headers (header-cache.ts) live
 * long. At most a few field lists are kept per header.
 */
const filtered = new WeakMap<Buffer, Map<string, Buffer>>();
const keys = new WeakMap<readonly string[], string>();
function filteredHeader(header: Buffer, names: readonly string[], exclude: boolean): Buffer {
  let key = keys.get(names);
  if (key === undefined) keys.set(names, (key = names.join(' ')));
  if (exclude) key = '-' + key;
  let memo = filtered.get(header);
  const hit = memo?.get(key);
  if (hit) return hit;
  const result = filterHeader(header, names, exclude);
  if (!memo) filtered.set(header, (memo = new Map()));
  if (memo.size >= 4) memo.clear();
  memo.set(key, result);
  return result;
}
