/**
 * Scenario steps about reading mail: a POP3 session typed by hand, IMAP
 * clients working with folders and server-side search (imapflow, a real
 * client), and the mailbox file itself (how many messages, did it shrink).
 */
import { Socket } from 'node:net';
import { ImapFlow } from 'imapflow';
import { requireDomain, type LabConfig } from '../../services/core/src/config';
import { MAIL_API } from '../../services/core/src/admin/api';
import type { LabTarget } from '../lab-target';
import type { Step } from './schema';
import { messages } from './messages';
import type { Lang } from './lang';
import { StepFailure } from './step-types';

type Pick<K extends string> = Extract<Step, Record<K, unknown>>;

const MULTILINE = /^(LIST|UIDL|CAPA)$|^(RETR|TOP)\b/i;

/** A POP3 session: each command sent, each reply shown (multi-line answers abbreviated) and checked. */
export async function pop3Dialogue(config: LabConfig, step: Pick<'pop3'>['pop3'], lang: Lang = 'en'): Promise<string[]> {
  const said = messages(lang).reading;
  const port = requireDomain(config, step.domain).ports.pop3;
  const socket = new Socket();
  const transcript: string[] = [];
  let buffer = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (buffer += d));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => resolve());
  });
  const read = async (multi: boolean) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const firstEnd = buffer.indexOf('\r\n');
      if (firstEnd >= 0) {
        const first = buffer.slice(0, firstEnd);
        if (!multi || !first.startsWith('+OK')) {
          buffer = buffer.slice(firstEnd + 2);
          return [first];
        }
        const end = buffer.indexOf('\r\n.\r\n', firstEnd - 2);
        if (end >= 0) {
          const lines = buffer.slice(0, end).split('\r\n');
          buffer = buffer.slice(end + 5);
          return [...lines, '.'];
        }
      }
      if (Date.now() > deadline) throw new StepFailure(said.pop3NoAnswer, transcript);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const send = async (command: string, expect: string) => {
    transcript.push(`C: ${command.replace(/^(PASS) .*/i, '$1 ****')}`);
    socket.write(command + '\r\n');
    const reply = await read(MULTILINE.test(command.trim()));
    const shown = reply.length > 8 ? [...reply.slice(0, 6), messages(lang).client.moreLines(reply.length - 7), reply[reply.length - 1]] : reply;
    transcript.push(...shown.map((x) => `S: ${x}`));
    if (!new RegExp('^' + expect).test(reply[0])) throw new StepFailure(said.expectedReply(expect), transcript);
    return reply;
  };
  try {
    if (step.download) {
      const greeting = await read(false);
      transcript.push(`S: ${greeting[0]}`);
      await send(`USER ${step.download.user}`, '\\+OK');
      await send(`PASS ${step.download.password}`, '\\+OK');
      const stat = await send('STAT', '\\+OK');
      const count = Number(/^\+OK (\d+)/.exec(stat[0])?.[1] ?? 0);
      if (step.download.count !== undefined && count !== step.download.count) throw new StepFailure(said.statSays(step.download.count, count), transcript);
      await send('LIST', '\\+OK');
      for (let n = 1; n <= count; n++) await send(`RETR ${n}`, '\\+OK');
      for (let n = 1; n <= count; n++) await send(`DELE ${n}`, '\\+OK');
      await send('QUIT', '\\+OK');
      return transcript;
    }
    for (const l of step.dialogue ?? []) {
      if (l.send !== undefined) {
        await send(l.send, l.expect);
        continue;
      }
      const greeting = await read(false);
      transcript.push(`S: ${greeting[0]}`);
      if (!new RegExp('^' + l.expect).test(greeting[0])) throw new StepFailure(said.expectedReply(l.expect), transcript);
    }
  } finally {
    socket.destroy();
  }
  return transcript;
}

/** An IMAP client (imapflow) doing what a mail program does; every action is shown. */
export async function imapActions(config: LabConfig, step: Pick<'imap'>['imap'], fill: (t: string) => string, lang: Lang = 'en'): Promise<string[]> {
  const said = messages(lang).reading;
  const d = requireDomain(config, step.domain);
  // Plain IMAP on 143 as the lesson shows it (imapflow would switch to STARTTLS, and it does not trust the lab CA).
  const client = new ImapFlow({ host: '127.0.0.1', port: d.ports.imap, secure: false, doSTARTTLS: false, auth: { user: step.user, pass: step.password }, logger: false, disableAutoIdle: true });
  const out: string[] = [];
  const who = `[${step.client}]`;
  try {
    await client.connect();
  } catch (e) {
    throw new StepFailure(said.imapLogin(who, `127.0.0.1:${d.ports.imap}`, step.user, (e as Error).message));
  }
  try {
    for (const a of step.actions) {
      if ('create' in a) {
        await client.mailboxCreate(fill(a.create));
        out.push(said.done(who, `CREATE ${fill(a.create)}`));
      } else if ('delete' in a) {
        await client.mailboxDelete(fill(a.delete));
        out.push(said.done(who, `DELETE ${fill(a.delete)}`));
      } else if ('folders' in a) {
        const names = (await client.list()).map((m) => m.path);
        out.push(`${who} LIST: ${names.join(', ')}`);
        const missing = a.folders.includes.filter((f) => !names.includes(fill(f)));
        if (missing.length) throw new StepFailure(said.foldersMissing(who, missing.join(', ')), out);
      } else if ('move' in a) {
        const lock = await client.getMailboxLock(fill(a.move.from));
        try {
          const uids = (await client.search({ subject: fill(a.move.subject) }, { uid: true })) || [];
          if (!uids.length) throw new StepFailure(said.noSubject(who, fill(a.move.subject), fill(a.move.from)), out);
          await client.messageMove(uids, fill(a.move.to), { uid: true });
          out.push(said.moved(who, fill(a.move.subject), fill(a.move.from), uids.join(','), fill(a.move.to)));
        } finally {
          lock.release();
        }
      } else {
        const s = a.search;
        const folder = fill(s.folder);
        const lock = await client.getMailboxLock(folder, { readOnly: true });
        try {
          const query = { ...(s.subject ? { subject: fill(s.subject) } : {}), ...(s.from ? { from: fill(s.from) } : {}), ...(s.body ? { body: fill(s.body) } : {}) };
          const uids = (await client.search(query, { uid: true })) || [];
          out.push(said.searched(who, JSON.stringify(query), folder, uids.length, uids.join(',')));
          if (uids.length !== s.count) throw new StepFailure(said.expectedMessages(who, s.count), out);
        } finally {
          lock.release();
        }
      }
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
  return out;
}

/** Counts the messages in a user's mailbox file, as `grep -c '^From '` would. */
export async function mailboxFile(target: LabTarget, step: Pick<'mailbox-file'>['mailbox-file'], values: Map<string, number>, lang: Lang = 'en'): Promise<string[]> {
  const said = messages(lang).reading;
  const { path, text } = await target.mail(step.domain).call(MAIL_API.mailbox, { user: step.user });
  const count = (text.match(/(^|\n\n)From /g) ?? []).length;
  const size = Buffer.byteLength(text, 'latin1');
  const detail = [said.fileSize(path, size, count)];
  if (step.smaller !== undefined) {
    const before = values.get(step.smaller);
    if (before === undefined) throw new StepFailure(said.noSavedSize(step.smaller));
    detail.push(said.wasBytes(before));
    if (size >= before) throw new StepFailure(said.notShrunk, detail);
  }
  if (step.same !== undefined) {
    const before = values.get(step.same);
    if (before === undefined) throw new StepFailure(said.noSavedSize(step.same));
    if (size !== before) throw new StepFailure(said.changed(before), detail);
    detail.push(said.unchanged(before));
  }
  if (step.save) values.set(step.save, size);
  if (step.last) detail.push(...lastMessage(text));
  if (step.messages !== undefined && count !== step.messages) throw new StepFailure(said.fileCount(step.messages), detail);
  return detail;
}

/** Headers of the last message shown by `last: true`: the lesson's "From: jpri To: mbrain" and the subject. */
const SHOWN_HEADERS = /^(from|to|subject):/i;

/**
 * The message at the bottom of an mbox text: its "From " separator line, the
 * From:, To: and Subject: headers (the others counted), and its text (at most
 * 12 lines). RFC 4155: a message starts at a line "From " after an empty line.
 */
export function lastMessage(text: string): string[] {
  const sep = text.lastIndexOf('\n\nFrom ');
  const start = sep >= 0 ? sep + 2 : text.startsWith('From ') ? 0 : -1;
  if (start < 0) return [];
  const lines = text.slice(start).replace(/\n+$/, '').split(/\r?\n/);
  const blank = lines.indexOf('');
  const headers = lines.slice(1, blank < 0 ? undefined : blank);
  // A folded header continues on lines that start with white space (RFC 5322 §2.2.3).
  const shown: string[] = [];
  let keep = false;
  for (const h of headers) {
    if (/^[ \t]/.test(h)) {
      if (keep) shown.push(h);
      continue;
    }
    keep = SHOWN_HEADERS.test(h);
    if (keep) shown.push(h);
  }
  const body = blank < 0 ? [] : lines.slice(blank + 1);
  return [
    '| ' + lines[0],
    ...(headers.length > shown.length ? [`| … (${headers.length - shown.length} more header lines)`] : []),
    ...shown.map((h) => '| ' + h),
    '|',
    ...body.slice(0, 12).map((b) => '| ' + b),
    ...(body.length > 12 ? [`| … (${body.length - 12} more lines)`] : []),
  ];
}
