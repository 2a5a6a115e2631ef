/**
 * What each subcommand does once commander has parsed its options: work
 * out the endpoint, call the protocol module, print the result. The
 * options arrive as commander gives them; the environment and the output
 * come from `ClientIo`, so tests drive these with any env and capture output.
 */
import { addressList, endpointFor, fullAddress, type ConnectionOptions, type Env, type Service } from './endpoint';
import { UsageError } from './errors';
import { formatFolders, formatMessage, formatSummaries } from './format';
import { listFolders, moveMessage, searchMessages } from './imap-ops';
import { deleteMessage, fetchMessage, listMessages, type MailboxTarget, type Protocol } from './mailbox';
import { parseMessage, saveFiles } from './message';
import { readUserFile, sendMessage } from './send';
import { transcriptTo } from './transcript';

export interface ClientIo {
  env: Env;
  out(data: string | Uint8Array): void;
  err(text: string): void;
  /** All of standard input, for `--body-file -`. */
  readStdin(): Promise<Buffer>;
}

export interface CommonOptions extends ConnectionOptions {
  verbose?: boolean;
}

export interface MailboxOptions extends CommonOptions {
  user: string;
  protocol: Protocol;
  folder: string;
}

function endpoint(service: Service, user: string, o: CommonOptions, io: ClientIo) {
  return endpointFor(service, user, o, io.env, o.verbose ? transcriptTo((t) => io.err(t)) : undefined);
}

function mailbox(o: MailboxOptions, io: ClientIo): MailboxTarget {
  const user = fullAddress(o.user, io.env);
  if (o.protocol === 'pop3' && o.folder !== 'INBOX') throw new UsageError('POP3 sees only the INBOX; add --protocol imap to use other folders');
  return { protocol: o.protocol, folder: o.folder, endpoint: endpoint(o.protocol, user, o, io) };
}

export interface SendOptions extends CommonOptions {
  from: string;
  name?: string;
  to: string[];
  cc?: string[];
  subject: string;
  body?: string;
  bodyFile?: string;
  attach?: string[];
  uuencode?: boolean;
}

export async function send(o: SendOptions, io: ClientIo): Promise<void> {
  if (o.body !== undefined && o.bodyFile !== undefined) throw new UsageError('give the text with --body or --body-file, not both');
  const body =
    o.bodyFile === undefined ? (o.body ?? '') : (o.bodyFile === '-' ? await io.readStdin() : await readUserFile(o.bodyFile, 'the body file')).toString('utf8');
  const from = fullAddress(o.from, io.env);
  const result = await sendMessage({
    from,
    name: o.name,
    to: addressList(o.to, io.env),
    cc: addressList(o.cc, io.env),
    subject: o.subject,
    body,
    attachments: o.attach ?? [],
    uuencode: o.uuencode === true,
    endpoint: endpoint('submission', from, o, io),
  });
  io.out(result.response + '\n');
  for (const r of result.rejected) io.err(`refused by the server: ${r}\n`);
}

export async function list(o: MailboxOptions, io: ClientIo): Promise<void> {
  const t = mailbox(o, io);
  const rows = await listMessages(t);
  const where = t.protocol === 'pop3' ? `${t.endpoint.user} (POP3)` : `${t.endpoint.user} ${t.folder} (IMAP)`;
  io.out(formatSummaries(rows, t.protocol === 'pop3' ? '#' : 'UID', where));
}

export async function read(n: number, o: MailboxOptions & { raw?: boolean }, io: ClientIo): Promise<void> {
  const source = await fetchMessage(mailbox(o, io), n);
  if (o.raw) io.out(source);
  else io.out(formatMessage(await parseMessage(source)));
}

export async function saveAttachments(n: number, o: MailboxOptions & { dir: string }, io: ClientIo): Promise<void> {
  const source = await fetchMessage(mailbox(o, io), n);
  const { files } = await parseMessage(source);
  if (files.length === 0) {
    io.out(`message ${n} has no attached files\n`);
    return;
  }
  for (const f of await saveFiles(files, o.dir)) io.out(`saved ${f.path} (${f.size} bytes, ${f.encoding})\n`);
}

export async function remove(n: number, o: MailboxOptions, io: ClientIo): Promise<void> {
  io.out((await deleteMessage(mailbox(o, io), n)) + '\n');
}

export async function folders(o: CommonOptions & { user: string }, io: ClientIo): Promise<void> {
  io.out(formatFolders(await listFolders(endpoint('imap', fullAddress(o.user, io.env), o, io))));
}

export interface SearchOptions extends CommonOptions {
  user: string;
  folder: string;
  from?: string;
  subject?: string;
  text?: string;
}

export async function search(query: string | undefined, o: SearchOptions, io: ClientIo): Promise<void> {
  const user = fullAddress(o.user, io.env);
  if (query !== undefined && o.text !== undefined) throw new UsageError('give the text to look for as QUERY or with --text, not both');
  const q = { from: o.from, subject: o.subject, text: query ?? o.text };
  const ep = endpoint('imap', user, o, io);
  const rows = await searchMessages(ep, o.folder, q);
  io.out(formatSummaries(rows, 'UID', `${user} ${o.folder} (IMAP SEARCH)`));
}

export async function move(uid: number, to: string, o: CommonOptions & { user: string; folder: string }, io: ClientIo): Promise<void> {
  const ep = endpoint('imap', fullAddress(o.user, io.env), o, io);
  const r = await moveMessage(ep, o.folder, uid, to);
  io.out(`moved UID ${r.uid} from ${r.from} to ${r.to}${r.newUid ? ` (now UID ${r.newUid} there)` : ''}\n`);
}
