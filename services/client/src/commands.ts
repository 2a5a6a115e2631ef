/**
 * What each subcommand does once commander has parsed its options: work
 * out the endpoint, call the protocol module, print the result. The
 * options arrive as commander gives them; the environment and the output
 * come from `ClientIo`, so tests drive these with any env and capture output.
 */
import { addressList, endpointFor, fullAddress, type ConnectionOptions, type Env, type Service } from './endpoint';
import { ClientError, UnreachableError, UsageError } from './errors';
import { formatDownload, formatFolders, formatLocalFolders, formatMessage, formatOutbox, formatSummaries, formatSync } from './format';
import { listFolders, moveMessage, searchMessages } from './imap-ops';
import { syncImap } from './imap-sync';
import { listLocal, localFolder, localFolders, pop3Dir, readLocal, syncedAt } from './local-mail';
import { listDir, localRoot, shownPath } from './local-store';
import { deleteMessage, fetchMessage, listMessages, type MailboxTarget, type Protocol } from './mailbox';
import { parseMessage, saveFiles } from './message';
import { Outbox, stillWaiting, type OutboxEntry } from './outbox';
import { downloadMail } from './pop3-download';
import { composeMessage, readUserFile, submitMessage } from './send';
import { setup } from './setup';
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
  /** Read the copy on this computer (`download`, `sync`) instead of the server. */
  offline?: boolean;
  localDir?: string;
}

function endpoint(service: Service, user: string, o: CommonOptions, io: ClientIo) {
  return endpointFor(service, user, o, io.env, o.verbose ? transcriptTo((t) => io.err(t)) : undefined);
}

function mailbox(o: MailboxOptions, io: ClientIo): MailboxTarget {
  const user = fullAddress(o.user, io.env);
  if (o.protocol === 'pop3' && o.folder !== 'INBOX') throw new UsageError('POP3 sees only the INBOX; add --protocol imap to use other folders');
  return { protocol: o.protocol, folder: o.folder, endpoint: endpoint(o.protocol, user, o, io) };
}

/** The message itself, from the local copy when `offline`, else from the server. */
async function messageSource(n: number, o: MailboxOptions, io: ClientIo): Promise<Buffer> {
  if (o.offline) {
    const user = fullAddress(o.user, io.env);
    return readLocal(localFolder(localRoot(o.localDir, io.env), user, o.protocol, o.folder), n);
  }
  return fetchMessage(mailbox(o, io), n);
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
  /** Straight into the outbox, without connecting (Thunderbird's "Send Later"). */
  later?: boolean;
  /** false (`--no-outbox`): an unreachable server is an error, nothing is kept. @default true */
  outbox?: boolean;
  localDir?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the outbox holds now, and how to send it. */
function outboxHint(box: Outbox, io: ClientIo): string {
  return `it goes out with the next send, or now with: mail-lab-client outbox flush --from ${box.address} (the outbox: ${shownPath(box.dir, io.env)})\n`;
}

/** Sends what the outbox holds (oldest first), saying what happened to each. */
async function sendWaiting(box: Outbox, ep: ReturnType<typeof endpoint>, io: ClientIo) {
  const report = await box.flush(ep, (e, r) => io.out(`outbox: sent ${e.id} "${e.subject}" (written ${e.queuedAt}): ${r.response}\n`));
  for (const r of report.refused) io.err(`outbox: ${r.entry.id} "${r.entry.subject}" was not sent: ${r.error}; it stays in the outbox (mail-lab-client outbox delete ${r.entry.id} --from ${box.address} removes it)\n`);
  return report;
}

export async function send(o: SendOptions, io: ClientIo): Promise<void> {
  if (o.body !== undefined && o.bodyFile !== undefined) throw new UsageError('give the text with --body or --body-file, not both');
  if (o.later && o.outbox === false) throw new UsageError('--later puts the message in the outbox; it cannot go with --no-outbox');
  const body =
    o.bodyFile === undefined ? (o.body ?? '') : (o.bodyFile === '-' ? await io.readStdin() : await readUserFile(o.bodyFile, 'the body file')).toString('utf8');
  const from = fullAddress(o.from, io.env);
  const message = await composeMessage({
    from,
    name: o.name,
    to: addressList(o.to, io.env),
    cc: addressList(o.cc, io.env),
    subject: o.subject,
    body,
    attachments: o.attach ?? [],
    uuencode: o.uuencode === true,
  });
  const box = new Outbox(localRoot(o.localDir, io.env), from);
  const keep = async (why?: string) => {
    const entry = await box.add(message, o.subject, why);
    if (why) io.out(`not sent now: ${why}\n`);
    io.out(`kept in the outbox of ${from} as ${entry.id} (${plural((await box.list()).length, 'message')} waiting)\n`);
    io.out(outboxHint(box, io));
  };
  if (o.later) return keep();
  const ep = endpoint('submission', from, o, io);
  if (o.outbox !== false && (await box.list()).length > 0) {
    // Mail written earlier goes first, as a mail program sends its Outbox when it is back online.
    const report = await sendWaiting(box, ep, io);
    // The server is away: the new one waits behind them, not tried on its own.
    if (report.unreachable) return keep(report.unreachable.message);
  }
  let result: Awaited<ReturnType<typeof submitMessage>>;
  try {
    result = await submitMessage(ep, message);
  } catch (e) {
    if (e instanceof UnreachableError && o.outbox !== false) return keep(e.message);
    throw e;
  }
  io.out(result.response + '\n');
  for (const r of result.rejected) io.err(`refused by the server: ${r}\n`);
}

export interface OutboxOptions extends CommonOptions {
  from?: string;
  localDir?: string;
}

/** `outbox list`: what waits, per account (one account with --from). */
export async function outboxList(o: OutboxOptions, io: ClientIo): Promise<void> {
  const root = localRoot(o.localDir, io.env);
  const addresses = o.from ? [fullAddress(o.from, io.env)] : await accountsWithOutbox(root);
  const boxes: { box: Outbox; entries: OutboxEntry[] }[] = [];
  for (const a of addresses) {
    const box = new Outbox(root, a);
    const entries = await box.list();
    // Every account: only the outboxes with mail in them; one account: also when empty.
    if (o.from || entries.length > 0) boxes.push({ box, entries });
  }
  if (boxes.length === 0) {
    io.out(`no message waits in an outbox on this computer (${shownPath(root, io.env)})\n`);
    return;
  }
  io.out(formatOutbox(boxes.map((b) => ({ address: b.box.address, dir: shownPath(b.box.dir, io.env), entries: b.entries }))));
}

async function accountsWithOutbox(root: string): Promise<string[]> {
  return (await listDir(root)).filter((d) => d.includes('@')).sort();
}

/** `outbox flush`: send everything that waits for one account; exit 1 when some is left. */
export async function outboxFlush(o: OutboxOptions & { from: string }, io: ClientIo): Promise<void> {
  const from = fullAddress(o.from, io.env);
  const box = new Outbox(localRoot(o.localDir, io.env), from);
  if ((await box.list()).length === 0) {
    io.out(`the outbox of ${from} is empty; nothing to send\n`);
    return;
  }
  const report = await sendWaiting(box, endpoint('submission', from, o, io), io);
  io.out(`outbox of ${from}: ${plural(report.sent.length, 'message')} sent, ${report.waiting} still waiting\n`);
  if (report.waiting > 0) throw new ClientError(stillWaiting(box, report));
}

/** `outbox delete <id>`: a message the user gives up on. */
export async function outboxDelete(id: string, o: OutboxOptions & { from: string }, io: ClientIo): Promise<void> {
  const from = fullAddress(o.from, io.env);
  const box = new Outbox(localRoot(o.localDir, io.env), from);
  if (!(await box.remove(id))) throw new ClientError(`the outbox of ${from} has no message ${id} (see: mail-lab-client outbox list --from ${from})`);
  io.out(`deleted ${id} from the outbox of ${from}\n`);
}

/** `download`: the POP3 mail program's check for new mail. */
export async function download(o: CommonOptions & { user: string; keep?: boolean; localDir?: string }, io: ClientIo): Promise<void> {
  const user = fullAddress(o.user, io.env);
  const dir = pop3Dir(localRoot(o.localDir, io.env), user);
  const r = await downloadMail(endpoint('pop3', user, o, io), dir, o.keep === true);
  io.out(formatDownload(user, shownPath(dir, io.env), r));
}

/** `setup`: where a mail program finds the settings of an address by itself (autoconfig, SRV). */
export async function setupCmd(address: string, o: { autoconfigUrl?: string; dns?: string; timeout?: number }, io: ClientIo): Promise<void> {
  const user = fullAddress(address, io.env);
  const seconds = o.timeout ?? (io.env.MAIL_LAB_TIMEOUT ? Number(io.env.MAIL_LAB_TIMEOUT) : 10);
  if (!(seconds > 0)) throw new UsageError(`the timeout must be a positive number of seconds, not "${io.env.MAIL_LAB_TIMEOUT}"`);
  if (o.autoconfigUrl !== undefined && !/^http:\/\/[^\s/]+/.test(o.autoconfigUrl)) throw new UsageError(`--autoconfig-url must be an http:// address, not "${o.autoconfigUrl}"`);
  const dnsServer = o.dns ?? (io.env.MAIL_LAB_DNS || undefined);
  await setup(user, { autoconfigUrl: o.autoconfigUrl, dnsServer, timeoutMs: Math.round(seconds * 1000) }, (l) => io.out(l + '\n'));
}

/** `sync`: the offline copy of IMAP folders. */
export async function sync(o: CommonOptions & { user: string; folder?: string[]; localDir?: string }, io: ClientIo): Promise<void> {
  const user = fullAddress(o.user, io.env);
  const root = localRoot(o.localDir, io.env);
  const r = await syncImap(endpoint('imap', user, o, io), root, o.folder && o.folder.length > 0 ? o.folder : undefined);
  io.out(formatSync(user, shownPath(r.dir, io.env), r));
}

export async function list(o: MailboxOptions, io: ClientIo): Promise<void> {
  if (o.offline) {
    const user = fullAddress(o.user, io.env);
    const f = localFolder(localRoot(o.localDir, io.env), user, o.protocol, o.folder);
    const when = await syncedAt(f);
    const where = f.protocol === 'pop3' ? `${user} (downloaded over POP3, on this computer)` : `${user} ${f.folder} (offline copy${when ? `, synced ${when.slice(0, 16).replace('T', ' ')} UTC` : ''})`;
    io.out(formatSummaries(await listLocal(f), f.protocol === 'pop3' ? '#' : 'UID', where));
    return;
  }
  const t = mailbox(o, io);
  const rows = await listMessages(t);
  const where = t.protocol === 'pop3' ? `${t.endpoint.user} (POP3)` : `${t.endpoint.user} ${t.folder} (IMAP)`;
  io.out(formatSummaries(rows, t.protocol === 'pop3' ? '#' : 'UID', where));
}

export async function read(n: number, o: MailboxOptions & { raw?: boolean }, io: ClientIo): Promise<void> {
  const source = await messageSource(n, o, io);
  if (o.raw) io.out(source);
  else io.out(formatMessage(await parseMessage(source)));
}

export async function saveAttachments(n: number, o: MailboxOptions & { dir: string }, io: ClientIo): Promise<void> {
  const source = await messageSource(n, o, io);
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

export async function folders(o: CommonOptions & { user: string; offline?: boolean; localDir?: string }, io: ClientIo): Promise<void> {
  const user = fullAddress(o.user, io.env);
  if (o.offline) {
    io.out(formatLocalFolders(await localFolders(localRoot(o.localDir, io.env), user)));
    return;
  }
  io.out(formatFolders(await listFolders(endpoint('imap', user, o, io))));
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
