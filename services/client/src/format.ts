/**
 * How results look on the terminal: the message table of `list` and
 * `search`, one message for `read`, the folder table. Plain text, fixed
 * columns, dates as `YYYY-MM-DD HH:MM` in UTC (the lab's clocks agree on it).
 */
import type { FolderInfo } from './imap-ops';
import type { Summary } from './mailbox';
import type { ParsedMessage } from './message';

function fit(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? flat.slice(0, width - 1) + '…' : flat.padEnd(width);
}

export function shortDate(d: Date | null): string {
  if (!d || Number.isNaN(d.getTime())) return '-'.padEnd(16);
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** The table of `list`: number (POP3) or UID (IMAP), date, from, subject, size. */
export function formatSummaries(rows: Summary[], idLabel: '#' | 'UID', where: string): string {
  if (rows.length === 0) return `${where}: no messages\n`;
  const total = rows.reduce((s, r) => s + r.size, 0);
  const lines = [`${idLabel.padStart(5)}  ${'Date (UTC)'.padEnd(16)}  ${'From'.padEnd(32)}  ${'Subject'.padEnd(32)}  ${'Size'.padStart(8)}`];
  for (const r of rows) {
    lines.push(`${String(r.id).padStart(5)}  ${shortDate(r.date)}  ${fit(r.from, 32)}  ${fit(r.subject || '(no subject)', 32)}  ${String(r.size).padStart(8)}`);
  }
  lines.push(`${where}: ${rows.length} message${rows.length === 1 ? '' : 's'}, ${total} octets`);
  return lines.join('\n') + '\n';
}

/** `read`: headers, attached files, a blank line, the text. */
export function formatMessage(m: ParsedMessage): string {
  const out = m.headers.map(([k, v]) => `${k}: ${v}`);
  for (const f of m.files) out.push(`Attachment: ${f.filename || '(no name)'} (${f.contentType}, ${f.content.length} bytes, ${f.encoding})`);
  const text = m.text.endsWith('\n') || m.text === '' ? m.text : m.text + '\n';
  return out.join('\n') + '\n\n' + text;
}

export function formatFolders(folders: FolderInfo[]): string {
  const lines = [`${'Folder'.padEnd(24)}  ${'Messages'.padStart(8)}  ${'Unseen'.padStart(6)}  Special use`];
  for (const f of folders) lines.push(`${fit(f.path, 24)}  ${String(f.messages).padStart(8)}  ${String(f.unseen).padStart(6)}  ${f.specialUse}`.trimEnd());
  return lines.join('\n') + '\n';
}
