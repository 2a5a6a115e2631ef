/**
 * A message written in the webmail: its recipients checked, the message
 * built (nodemailer's MailComposer: MIME, base64 attachments, encoded
 * words, a Message-ID), its size checked against the lab's
 * `limits.maxMessageSize` (what the server's SIZE says) before anything is
 * sent, then handed to the lab's submission server (587 with AUTH,
 * mail-session.ts) and kept in Sent over IMAP.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import { safeContentType, safeFilename } from './files';

export interface Upload {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface Draft {
  to: string;
  cc: string;
  subject: string;
  body: string;
  inReplyTo?: string;
  references?: string;
}

export interface BuiltMessage {
  raw: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
}

export class ComposeError extends Error {
  override readonly name = 'ComposeError';
  constructor(
    /** i18n key of the message shown. */
    readonly key: string,
    readonly params: Record<string, string | number> = {},
  ) {
    super(key);
  }
}

const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;

/** The addresses of a To/Cc line (`Joko <jpri@dadali.com>, siswa1@dadali.com`); throws ComposeError naming a bad one. */
export function parseRecipients(line: string): { name: string; address: string }[] {
  if (!line.trim()) return [];
  const out: { name: string; address: string }[] = [];
  for (const a of addressparser(line, { flatten: true })) {
    const address = (a.address ?? '').trim();
    if (!ADDRESS.test(address)) throw new ComposeError('compose.badAddress', { address: address || a.name || line.trim() });
    out.push({ name: a.name ?? '', address });
  }
  return out;
}

/** Builds the message; throws ComposeError (no recipient, a bad address, too big). */
export async function buildMessage(o: { from: { name: string; address: string }; draft: Draft; uploads: Upload[]; maxMessageSize: number }): Promise<BuiltMessage> {
  const to = parseRecipients(o.draft.to);
  const cc = parseRecipients(o.draft.cc);
  if (!to.length && !cc.length) throw new ComposeError('compose.noRecipient');
  if (to.length + cc.length > 100) throw new ComposeError('compose.tooManyRecipients', { n: to.length + cc.length });
  const uploaded = o.uploads.reduce((n, u) => n + u.content.length, 0) + Buffer.byteLength(o.draft.body);
  if (uploaded > o.maxMessageSize) throw new ComposeError('compose.tooBig', { size: uploaded, limit: o.maxMessageSize });
  const composer = new MailComposer({
    from: o.from,
    to,
    cc,
    subject: o.draft.subject,
    text: o.draft.body,
    inReplyTo: o.draft.inReplyTo || undefined,
    references: o.draft.references || undefined,
    attachments: o.uploads.map((u) => ({ filename: safeFilename(u.filename), contentType: safeContentType(u.contentType), content: u.content })),
    headers: { 'User-Agent': 'mail-lab webmail' },
  });
  const node = composer.compile();
  const raw = await node.build();
  // The encoded message is what the server's SIZE limit counts (base64 makes a file a third bigger).
  if (raw.length > o.maxMessageSize) throw new ComposeError('compose.tooBigEncoded', { size: raw.length, limit: o.maxMessageSize });
  const messageId = node.messageId();
  return { raw, messageId, envelope: { from: o.from.address, to: [...to, ...cc].map((a) => a.address) } };
}

/** The reply's subject (`Re: …` once), forward's (`Fwd: …`). */
export const replySubject = (s: string) => (/^\s*re\s*:/i.test(s) ? s.trim() : `Re: ${s.trim()}`);
export const forwardSubject = (s: string) => (/^\s*(fwd?|fw)\s*:/i.test(s) ? s.trim() : `Fwd: ${s.trim()}`);

/** The quoted text of a reply: `> ` before each line, after a line saying who wrote it. */
export function quote(text: string, intro: string): string {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  return `\n\n${intro}\n${lines.map((l) => (l.startsWith('>') ? `>${l}` : `> ${l}`)).join('\n')}\n`;
}
