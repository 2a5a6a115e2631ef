/**
 * One message taken apart with mailparser: the headers a reader wants, the
 * text part, and every attached file, whether MIME (base64 or
 * quoted-printable parts, decoded by mailparser) or uuencoded inside the
 * text the old way (`begin 644 name` ... `end`, decoded here). Saving writes
 * the decoded bytes unchanged, never overwriting an existing file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { findUuencoded } from './uuencode';

export interface AttachedFile {
  filename: string;
  contentType: string;
  content: Buffer;
  /** How it travelled: `MIME base64`, `MIME quoted-printable`, `uuencode`, ... */
  encoding: string;
}

export interface ParsedMessage {
  /** Label and value, in reading order; only the headers present. */
  headers: [string, string][];
  /** The text part, with each uuencoded block replaced by a one-line note. */
  text: string;
  files: AttachedFile[];
}

/** `Name <address>, other@x` from mailparser's address header (without the quotes it adds). */
export function addressesText(a: AddressObject | AddressObject[] | undefined): string | undefined {
  if (a === undefined) return undefined;
  const all = (Array.isArray(a) ? a : [a]).flatMap((x) => x.value);
  return all.map((v) => (v.name ? `${v.name} <${v.address ?? ''}>` : (v.address ?? ''))).join(', ');
}

export async function parseMessage(source: Buffer): Promise<ParsedMessage> {
  const p = await simpleParser(source, { skipImageLinks: true, skipTextToHtml: true });
  const headers: [string, string][] = [];
  const add = (label: string, value: string | undefined) => {
    if (value) headers.push([label, value]);
  };
  add('From', addressesText(p.from));
  add('To', addressesText(p.to));
  add('Cc', addressesText(p.cc));
  add('Date', p.date?.toString() === 'Invalid Date' ? undefined : p.date?.toUTCString());
  add('Subject', p.subject);

  const files: AttachedFile[] = p.attachments.map((a) => ({
    filename: a.filename ?? '',
    contentType: a.contentType,
    content: a.content,
    encoding: `MIME ${String(a.headers.get('content-transfer-encoding') ?? '8bit').toLowerCase()}`,
  }));
  let body = p.text ?? '';
  const blocks = findUuencoded(body);
  for (const b of blocks) files.push({ filename: b.name, contentType: 'application/octet-stream', content: b.data, encoding: 'uuencode' });
  for (const b of [...blocks].reverse()) {
    const note = `[uuencoded file ${b.name}, ${b.data.length} bytes: save it with save-attachments]\n`;
    body = body.slice(0, b.start) + note + body.slice(b.end);
  }
  return { headers, text: body, files };
}

/** A name that stays inside the target directory. */
export function safeFileName(name: string, index: number): string {
  const base = basename(name.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base === '' || base === '.' || base === '..' ? `attachment-${index + 1}.bin` : base;
}

export interface SavedFile {
  path: string;
  size: number;
  encoding: string;
}

/** Writes every file to `dir` (created if needed); `name.ext` becomes `name-1.ext` when taken. */
export async function saveFiles(files: AttachedFile[], dir: string): Promise<SavedFile[]> {
  await mkdir(dir, { recursive: true });
  const saved: SavedFile[] = [];
  for (const [i, f] of files.entries()) {
    const name = safeFileName(f.filename, i);
    const ext = extname(name);
    const stem = name.slice(0, name.length - ext.length);
    for (let k = 0; ; k++) {
      const path = join(dir, k === 0 ? name : `${stem}-${k}${ext}`);
      try {
        await writeFile(path, f.content, { flag: 'wx' });
        saved.push({ path, size: f.content.length, encoding: f.encoding });
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') throw e;
      }
    }
  }
  return saved;
}
