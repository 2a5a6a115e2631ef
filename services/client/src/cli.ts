/**
 * The command line of `mail-lab-client` (commander): subcommands, options,
 * help texts, and the exit status: 0 done, 1 the lab said no or could not
 * be reached (one clear sentence, no stack trace), 2 bad usage.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import * as cmd from './commands';
import type { ClientIo } from './commands';
import { isClientError, messageOf } from './errors';

function positiveInt(what: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError(`${what} must be a whole number from 1 up.`);
    return Number(value);
  };
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) throw new InvalidArgumentError('a port is a number from 1 to 65535.');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('give a positive number of seconds.');
  return n;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** --server, --port, --password, --timeout, --verbose. */
function connection(c: Command, service: string): Command {
  const portEnv = { submission: 'MAIL_LAB_SUBMISSION_PORT', pop3: 'MAIL_LAB_POP3_PORT', imap: 'MAIL_LAB_IMAP_PORT' }[service];
  return c
    .option('--server <host>', 'server to use (default: $MAIL_LAB_SERVER, else mail.<domain of the address>)')
    .option('--port <n>', `port (default: $${portEnv ?? 'MAIL_LAB_POP3_PORT / MAIL_LAB_IMAP_PORT'}, else the standard port)`, portNumber)
    .option('--password <p>', 'password (default: $MAIL_LAB_PASSWORD)')
    .option('--timeout <seconds>', 'give up waiting after this long (default: $MAIL_LAB_TIMEOUT, else 20)', seconds)
    .option('-v, --verbose', 'show the protocol conversation (C: and S: lines) on stderr');
}

const LOCAL_DIR = ['--local-dir <dir>', "this computer's copy of the mail and the outbox (default: $MAIL_LAB_CLIENT_DIR, else ~/.mail-lab-client)"] as const;

/** --offline and --local-dir: read the copy on this computer instead of the server. */
function offlineOptions(c: Command): Command {
  return c
    .option('--offline', 'read the copy on this computer (made by download for POP3, sync for IMAP) without connecting')
    .option(...LOCAL_DIR);
}

/** --user, --protocol, --folder. */
function mailboxOptions(c: Command): Command {
  return connection(
    c
      .requiredOption('--user <address>', 'whose mailbox (user@domain)')
      .addOption(new Option('--protocol <protocol>', 'how to read it').choices(['pop3', 'imap']).default('pop3'))
      .option('--folder <name>', 'IMAP folder', 'INBOX'),
    'pop3/imap',
  );
}

export function buildProgram(io: ClientIo): Command {
  const program = new Command('mail-lab-client')
    .description('The mail-lab client: send mail (an outbox keeps it while the server is away), read it over POP3 or IMAP, keep a copy on this computer, save attachments.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  mail-lab-client send --from mbrain@garudayaksa.com --to jpri@dadali.com --subject Halo --body "Apa kabar?" --attach foto.jpg
  mail-lab-client list --user jpri@dadali.com --protocol imap
  mail-lab-client read --user jpri@dadali.com 1
  mail-lab-client save-attachments --user jpri@dadali.com 1 --dir ./lampiran
  mail-lab-client download --user jpri@dadali.com --keep        (POP3; --keep: leave it on the server)
  mail-lab-client sync --user jpri@dadali.com                   (IMAP folders copied to this computer)
  mail-lab-client list --offline --protocol imap --user jpri@dadali.com
  mail-lab-client outbox list                                   (mail written while the server was away)
  mail-lab-client setup siswa1@garudayaksa.com                  (the settings a mail program finds by itself)
  mail-lab-client outbox flush --from jpri@dadali.com

The password comes from --password or $MAIL_LAB_PASSWORD. Bare user names
(mbrain) get $MAIL_LAB_HOME_DOMAIN. From the host, point at the published
ports: --server 127.0.0.1 --port 10587 (or MAIL_LAB_SERVER, MAIL_LAB_*_PORT).`,
    );

  connection(
    program
      .command('send')
      .description("submit a message through the sender's own server (submission port, AUTH as the sender)")
      .requiredOption('--from <address>', 'sender; also the login')
      .option('--name <text>', 'display name of the sender (From: Name <address>)')
      .requiredOption('--to <addresses>', 'recipients, comma-separated (repeatable)', collect)
      .option('--cc <addresses>', 'copy recipients, comma-separated (repeatable)', collect)
      .requiredOption('--subject <text>', 'subject line')
      .option('--body <text>', 'message text')
      .option('--body-file <file>', 'message text from a file (- for standard input)')
      .option('--attach <files...>', 'files to attach')
      .option('--uuencode', 'put the files uuencoded in the text (begin 644 ... end) instead of MIME parts')
      .option('--later', 'put it in the outbox without connecting (send later: outbox flush, or the next send)')
      .option('--no-outbox', 'when the server cannot be reached, fail instead of keeping the message in the outbox')
      .option(...LOCAL_DIR)
      .addHelpText(
        'after',
        `
When the server cannot be reached (nothing listens, no answer, the DNS does
not answer), the message is kept in the outbox on this computer and the
command still succeeds; it goes out, oldest first, with the next send or
with: mail-lab-client outbox flush --from <address>.`,
      ),
    'submission',
  ).action((o: cmd.SendOptions) => cmd.send(o, io));

  mailboxOptions(offlineOptions(program.command('list').description('list the messages: number (POP3) or UID (IMAP), date, from, subject, size'))).action(
    (o: cmd.MailboxOptions) => cmd.list(o, io),
  );

  mailboxOptions(
    offlineOptions(
      program
        .command('read')
        .description('show one message: headers and text (--raw: the source as stored)')
        .argument('<n>', 'message number (POP3; with --offline the number of the download) or UID (IMAP)', positiveInt('the message number'))
        .option('--raw', 'print the message source exactly as the server sends it'),
    ),
  ).action((n: number, o: cmd.MailboxOptions & { raw?: boolean }) => cmd.read(n, o, io));

  mailboxOptions(
    offlineOptions(
      program
        .command('save-attachments')
        .description('save the attached files of one message (MIME parts and uuencoded blocks)')
        .argument('<n>', 'message number (POP3) or UID (IMAP)', positiveInt('the message number'))
        .requiredOption('--dir <directory>', 'where to save them (created if missing)'),
    ),
  ).action((n: number, o: cmd.MailboxOptions & { dir: string }) => cmd.saveAttachments(n, o, io));

  mailboxOptions(
    program
      .command('delete')
      .description('delete one message (POP3: DELE then QUIT; IMAP: \\Deleted then EXPUNGE)')
      .argument('<n>', 'message number (POP3) or UID (IMAP)', positiveInt('the message number')),
  ).action((n: number, o: cmd.MailboxOptions) => cmd.remove(n, o, io));

  program
    .command('setup')
    .description('find the settings of an address as a mail program (Thunderbird) does: the autoconfig file and the DNS SRV records; logs in nowhere')
    .argument('<address>', 'the e-mail address (user@domain)')
    .option('--autoconfig-url <url>', 'ask only this URL for the configuration file (default: http://autoconfig.<domain>/mail/config-v1.1.xml, then http://<domain>/.well-known/autoconfig/mail/config-v1.1.xml)')
    .option('--dns <host:port>', 'the DNS server to ask (default: $MAIL_LAB_DNS, else the system resolver)')
    .option('--timeout <seconds>', 'give up waiting after this long (default: $MAIL_LAB_TIMEOUT, else 10)', seconds)
    .action((address: string, o: { autoconfigUrl?: string; dns?: string; timeout?: number }) => cmd.setupCmd(address, o, io));

  connection(
    offlineOptions(program.command('folders').description('list the IMAP folders with their message counts').requiredOption('--user <address>', 'whose folders')),
    'imap',
  ).action((o: cmd.CommonOptions & { user: string; offline?: boolean; localDir?: string }) => cmd.folders(o, io));

  connection(
    program
      .command('download')
      .description('POP3: copy every new message to this computer, then delete them from the server (--keep: leave them there)')
      .requiredOption('--user <address>', 'whose mailbox')
      .option('--keep', 'leave the messages on the server; the next download fetches only new ones (by UIDL)')
      .option(...LOCAL_DIR)
      .addHelpText(
        'after',
        `
The messages go to <local-dir>/<address>/pop3/ as 1.eml, 2.eml, ... (read
them with list --offline and read --offline). The UIDL of each message is
remembered, so a message is never downloaded twice.`,
      ),
    'pop3',
  ).action((o: cmd.CommonOptions & { user: string; keep?: boolean; localDir?: string }) => cmd.download(o, io));

  connection(
    program
      .command('sync')
      .description('IMAP: bring the offline copy of the folders on this computer up to date (new messages fetched, expunged ones removed)')
      .requiredOption('--user <address>', 'whose folders')
      .option('--folder <name>', 'only this folder (repeatable; default: every folder)', collect)
      .option(...LOCAL_DIR)
      .addHelpText(
        'after',
        `
The copy is <local-dir>/<address>/imap/<folder>/<uid>.eml. Messages are
fetched with BODY.PEEK[], so syncing marks nothing as read. Read the copy
without the server: list --offline --protocol imap, read --offline, folders --offline.`,
      ),
    'imap',
  ).action((o: cmd.CommonOptions & { user: string; folder?: string[]; localDir?: string }) => cmd.sync(o, io));

  const outbox = program.command('outbox').description('the mail written while the server could not be reached: list, send (flush) or delete it');
  outbox
    .command('list')
    .description('the messages waiting in the outbox (every account, or one with --from)')
    .option('--from <address>', 'only this sender')
    .option(...LOCAL_DIR)
    .action((o: cmd.OutboxOptions) => cmd.outboxList(o, io));
  connection(
    outbox
      .command('flush')
      .description('send every waiting message of a sender now, oldest first (exit status 1 when some are still waiting)')
      .requiredOption('--from <address>', 'the sender; also the login')
      .option(...LOCAL_DIR),
    'submission',
  ).action((o: cmd.OutboxOptions & { from: string }) => cmd.outboxFlush(o, io));
  outbox
    .command('delete')
    .description('remove one waiting message without sending it')
    .argument('<id>', 'its id (see: outbox list)')
    .requiredOption('--from <address>', 'the sender')
    .option(...LOCAL_DIR)
    .action((id: string, o: cmd.OutboxOptions & { from: string }) => cmd.outboxDelete(id, o, io));

  connection(
    program
      .command('search')
      .description('search on the IMAP server (SEARCH): QUERY anywhere in the message, or by --from / --subject / --text')
      .argument('[query]', 'text to find anywhere in the message (IMAP TEXT)')
      .requiredOption('--user <address>', 'whose mailbox')
      .option('--from <text>', 'From header contains')
      .option('--subject <text>', 'Subject contains')
      .option('--text <text>', 'headers or body contain')
      .option('--folder <name>', 'IMAP folder', 'INBOX'),
    'imap',
  ).action((q: string | undefined, o: cmd.SearchOptions) => cmd.search(q, o, io));

  connection(
    program
      .command('move')
      .description('move one message to another IMAP folder')
      .argument('<uid>', 'UID of the message', positiveInt('the UID'))
      .argument('<folder>', 'destination folder')
      .requiredOption('--user <address>', 'whose mailbox')
      .option('--folder <name>', 'the folder it is in now', 'INBOX'),
    'imap',
  ).action((uid: number, to: string, o: cmd.CommonOptions & { user: string; folder: string }) => cmd.move(uid, to, o, io));

  return program;
}

/** Runs one command line (without `node` and the script); resolves to the exit status. */
export async function run(argv: string[], io: ClientIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help asked for (--help, `help send`) exits 0; every usage error, and help shown because of one, 2.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isClientError(e)) {
      io.err(`error: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`error: ${messageOf(e)}\n`);
    return 1;
  }
}
