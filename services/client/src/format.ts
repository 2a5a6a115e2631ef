/**
 * How results look on the terminal: the message table of `list` and
 * `search`, one message for `read`, the folder tables, what `download`,
 * `sync` and the outbox did. Plain text, fixed columns, dates as
 * `YYYY-MM-DD HH:MM` in UTC (the lab's clocks agree on it).
 */
import type { FolderInfo } from './imap-ops';
import type { SyncResult } from './imap-sync';
import type { LocalFolderInfo } from './local-mail';
import type { OutboxEntry } from './outbox';
import type { DownloadResult } from './pop3-download';
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

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const isoShort = (iso: string) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-'.padEnd(16));

/** `download`: each message of the server, then what is left there. */
export function formatDownload(user: string, dir: string, r: DownloadResult): string {
  const lines = [`POP3 ${user} -> ${dir}`];
  for (const m of r.messages) {
    const uidl = m.uidl ? `UIDL ${m.uidl}` : 'no UIDL';
    lines.push(
      m.fetched
        ? `  RETR ${m.n}: saved as ${m.local}.eml  ${fit(m.subject || '(no subject)', 32).trimEnd()}  (${m.size} octets, ${uidl})`
        : `  message ${m.n}: already downloaded as ${m.local}.eml (${uidl}), not fetched again`,
    );
  }
  const fetched = r.messages.filter((m) => m.fetched).length;
  const already = r.messages.length - fetched;
  lines.push(`downloaded ${count(fetched, 'new message')}${already ? `, ${already} already here` : ''}`);
  lines.push(
    r.kept
      ? `left on the server (--keep): ${count(r.messages.length, 'message')}; the next download fetches only new ones (by UIDL)`
      : r.deleted
        ? `deleted from the server: ${count(r.deleted, 'message')} (DELE, removed at QUIT: +OK ${r.quit})`
        : 'nothing on the server to delete',
  );
  return lines.join('\n') + '\n';
}

/** `sync`: per folder what came and went. */
export function formatSync(user: string, dir: string, r: SyncResult): string {
  const lines = [`IMAP ${user} -> offline copy in ${dir}`];
  for (const f of r.folders) {
    const parts = [`${f.added.length} new`, `${f.removed.length} removed (gone from the server)`, `${count(f.total, 'message')} in the copy`];
    if (f.reset) parts.push('UIDVALIDITY changed: copied afresh');
    lines.push(`  ${fit(f.folder, 16)}  ${parts.join(', ')}`);
  }
  for (const d of r.dropped) lines.push(`  ${fit(d, 16)}  no longer on the server: removed from the copy`);
  lines.push(`read it without the server: mail-lab-client list --offline --protocol imap --user ${user} [--folder NAME]`);
  return lines.join('\n') + '\n';
}

/** `outbox list`: the waiting messages of each account. */
export function formatOutbox(boxes: { address: string; dir: string; entries: OutboxEntry[] }[]): string {
  if (boxes.length === 0) return 'no outbox on this computer yet\n';
  const lines: string[] = [];
  for (const b of boxes) {
    if (b.entries.length === 0) {
      lines.push(`outbox of ${b.address}: empty`);
      continue;
    }
    lines.push(`outbox of ${b.address} (${b.dir}): ${count(b.entries.length, 'message')} waiting`);
    lines.push(`  ${'Id'.padEnd(28)}  ${'Written (UTC)'.padEnd(16)}  ${'To'.padEnd(24)}  ${'Subject'.padEnd(24)}  Tries`);
    for (const e of b.entries) {
      lines.push(`  ${e.id.padEnd(28)}  ${isoShort(e.queuedAt)}  ${fit(e.to.join(', '), 24)}  ${fit(e.subject || '(no subject)', 24)}  ${String(e.attempts).padStart(5)}`);
      if (e.lastError) lines.push(`      last try ${isoShort(e.lastAttempt ?? '')}: ${e.lastError}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `folders --offline`: the folders of the offline copy. */
export function formatLocalFolders(folders: LocalFolderInfo[]): string {
  const lines = [`${'Folder'.padEnd(24)}  ${'Messages'.padStart(8)}  ${'Unseen'.padStart(6)}  Synced (UTC)`];
  for (const f of folders) lines.push(`${fit(f.path, 24)}  ${String(f.messages).padStart(8)}  ${String(f.unseen).padStart(6)}  ${isoShort(f.synced)}`);
  return lines.join('\n') + '\n';
}
