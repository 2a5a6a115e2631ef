/**
 * A domain's SMTP service (smtp-server): port 25 for mail from anywhere to
 * this domain's users, port 587 (submission, AUTH PLAIN/LOGIN) for this
 * domain's own users to send anywhere. Application logic lives in the
 * hooks: the relay policy at RCPT, the checks and trace header at DATA, and
 * then the queue, which answers 250 only once the message is on disk.
 * With a certificate (`tls`) both offer STARTTLS (RFC 3207); with
 * `implicitTls` the server is submission on 465 (TLS from the first byte,
 * RFC 8314). A TLS session shows as ESMTPS / ESMTPSA in Received (RFC 3848).
 */
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../../core/src/logger';
import { bunyanAdapter } from '../../../core/src/logger';
import type { AccountDirectory } from '../accounts';
import type { OutboundQueue, RelayAdmission } from '../queue/queue';
import { LabSMTPServer, type VerboseSession } from './lab-connection';
import { followDelivery } from './verbose';
import { countHops, headerSection, missingHeaders, receivedHeader, refuseReason } from './message';
import { localSenderRefusal, parseMailbox, type LocalSenderPolicy } from './commands';
import { AuthThrottle } from '../auth-throttle';
import { messageIdentity, type TraceJournal } from '../trace/journal';
import { sessionRecording, type SessionRecorder } from '../trace/sessions';
import { SessionTranscripts } from './transcripts';
import { attachmentCount } from '../trace/message-summary';
import type { MailFaults } from '../faults/state';
import type { ServerTls } from '../tls/server-tls';
import type { BackupMx } from '../backup-mx';

export interface SmtpOptions {
  domain: string;
  hostname: string;
  accounts: AccountDirectory;
  queue: OutboundQueue;
  /** true: the submission service (587), AUTH required. */
  submission: boolean;
  limits: { maxMessageSize: number; maxRecipients: number; maxHops: number; maxConnectionsPerClient: number; maxUnauthenticatedCommands: number; maxQueueSize: number };
  /** Connections per client address, shared by the domain's SMTP services. */
  connections?: Map<string, number>;
  /** Failed-login delays, shared with the domain's other services. */
  throttle?: AuthThrottle;
  vrfy: boolean;
  expn: boolean;
  /** Wait before the greeting, catching clients that talk too soon (lab.yaml `smtp.greetDelay`). @default 0 */
  greetDelayMs?: number;
  /** Port 25: MAIL FROM a sender of this domain without login (lab.yaml `smtp.localSenders`). @default 'accept' */
  localSenders?: LocalSenderPolicy;
  /** PTR lookups through the lab DNS. */
  reverse: (ip: string) => Promise<string[]>;
  logger: Logger;
  now?: () => Date;
  /** Where accepted messages' sessions are recorded for `trace`. */
  trace?: TraceJournal;
  /** The instructor's faults: greylist and reject answer at RCPT. */
  faults?: MailFaults;
  /** Key and certificate: STARTTLS is offered (and required before AUTH when `requireTls`). */
  tls?: ServerTls;
  /** TLS from the first byte (submission on 465); needs `tls`. */
  implicitTls?: boolean;
  /** The other lab domains this server is a backup MX for (lab.yaml `relayDomains`; backup-mx.ts). */
  backupMx?: BackupMx;
}

interface LabRecipient {
  address: string;
  local: boolean;
}

const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

export function createSmtpServer(o: SmtpOptions): LabSMTPServer {
  const now = o.now ?? (() => new Date());
  const recipients = new WeakMap<SMTPServerSession['envelope'], LabRecipient[]>();
  const connections = o.connections ?? new Map<string, number>();
  const throttle = o.throttle ?? new AuthThrottle();
  const authFailures = new Map<string, number>();
  const log = o.logger.child(o.submission ? 'submission' : 'smtp');
  // Each session's wire transcript (smtp-server logs `C:`/`S:` lines with the
  // session id as cid; AUTH arguments are already masked), kept until the
  // session ends so an accepted message's trace can show how it came in.
  const transcripts = new SessionTranscripts();
  // Each session's record for the trace journal (trace/sessions.ts): its commands with their
  // replies and times, written when the session closes, whether or not a message was accepted.
  const port = o.implicitTls ? 465 : o.submission ? 587 : 25;
  const record = sessionRecording(o.trace, o.domain, now);
  const recorders = new Map<string, SessionRecorder>();
  const capture = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) => {
    const cid = fields?.cid as string | undefined;
    if (cid && /^[CS]: /.test(message)) {
      transcripts.line(cid, message);
      const recorder = recorders.get(cid);
      if (message[0] === 'C') recorder?.command(message.slice(3));
      else recorder?.reply(message.slice(3));
    }
    log[level](message, fields);
  };
  const sessionLog: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error'), child: (c, f) => log.child(c, f) };

  const server = new LabSMTPServer(
    {
      name: o.hostname,
      banner: 'mail-lab, ready (type HELP for the commands)',
      size: o.limits.maxMessageSize,
      rejectOversized: true,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: true,
      ...(o.tls ? { key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.2' as const, secure: !!o.implicitTls, hideSTARTTLS: false } : { hideSTARTTLS: true }),
      disabledCommands: [...(o.tls ? [] : ['STARTTLS']), ...(o.submission ? [] : ['AUTH'])],
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !o.submission,
      allowInsecureAuth: true,
      resolver: {
        reverse: (ip: string, cb: (err: Error | null, names?: string[]) => void) => {
          o.reverse(ip).then(
            (names) => cb(null, names),
            // An address with no PTR record (NXDOMAIN, or no PTR data: the Docker gateway every
            // connection from the host comes from) has no name, which is no error: the Received
            // line says "unknown [address]" as Postfix writes it. smtp-server logged each as an `error` line in the
            // class's `docker logs`. A DNS that fails (timeout, SERVFAIL) is still reported.
            (err: NodeJS.ErrnoException) => (err.code === 'ENOTFOUND' || err.code === 'ENODATA' ? cb(null, []) : cb(err)),
          );
        },
      },
      logger: bunyanAdapter(sessionLog) as never,
      onClose(session) {
        const recorder = recorders.get(session.id);
        if (recorder) {
          recorder.user = session.user ? String(session.user) : undefined;
          recorder.helo = session.hostNameAppearsAs || undefined;
          recorder.finish();
          recorders.delete(session.id);
        }
        transcripts.drop(session.id);
        authFailures.delete(session.id);
        const left = (connections.get(session.remoteAddress) ?? 1) - 1;
        if (left > 0) connections.set(session.remoteAddress, left);
        else connections.delete(session.remoteAddress);
      },
      maxAllowedUnauthenticatedCommands: o.limits.maxUnauthenticatedCommands,
      onConnect(session, callback) {
        const ip = session.remoteAddress;
        const count = (connections.get(ip) ?? 0) + 1;
        connections.set(ip, count);
        if (count > o.limits.maxConnectionsPerClient) {
          return callback(smtpError(421, `4.7.0 Too many connections from ${ip} (at most ${o.limits.maxConnectionsPerClient}); try again later`));
        }
        callback();
      },
      onAuth(auth: SMTPServerAuthentication, session, callback) {
        const login = auth.username ?? '';
        o.accounts.verify(login, auth.password ?? '').then(
          (user) => {
            if (user) {
              throttle.succeed(session.remoteAddress, user);
              return callback(null, { user });
            }
            // Like POP3 and IMAP: each wrong password is answered later than the last (per session, address and account).
            const failures = (authFailures.get(session.id) ?? 0) + 1;
            authFailures.set(session.id, failures);
            const delay = throttle.fail(session.remoteAddress, failures, o.accounts.localUser(login) ?? login);
            log.warn('login failed', { login, client: session.remoteAddress, failures, delayMs: delay });
            setTimeout(() => callback(smtpError(535, '5.7.8 Authentication failed: wrong user name or password')), delay);
          },
          (err: Error) => callback(err),
        );
      },
      onMailFrom(address: SMTPServerAddress, session, callback) {
        recipients.set(session.envelope, []);
        if (o.queue.size >= o.limits.maxQueueSize) {
          return callback(smtpError(452, `4.3.1 The queue of ${o.domain} is full (${o.limits.maxQueueSize} messages); try again later`));
        }
        const forged = localSenderRefusal(address.address, { domain: o.domain, submission: o.submission, localSenders: o.localSenders }, !!session.user);
        if (forged) return callback(smtpError(forged.code, forged.lines[0]));
        if (o.submission && address.address) {
          const box = parseMailbox(address.address);
          if (!box || box.domain !== o.domain) {
            return callback(smtpError(553, `5.7.1 <${address.address}>: as ${session.user}@${o.domain} you can send only from an address @${o.domain}`));
          }
        }
        callback();
      },
      onRcptTo(address: SMTPServerAddress, session, callback) {
        const fault = o.faults?.checkRcpt({ client: session.remoteAddress, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: address.address, submission: o.submission });
        if (fault) return callback(smtpError(fault.code, fault.text));
        const list = recipients.get(session.envelope) ?? [];
        recipients.set(session.envelope, list);
        if (list.length >= o.limits.maxRecipients) {
          return callback(smtpError(452, `4.5.3 Too many recipients: at most ${o.limits.maxRecipients} per message`));
        }
        const box = parseMailbox(address.address);
        if (!box || !box.domain) return callback(smtpError(501, `5.1.3 <${address.address}>: give a full address, user@domain`));
        if (box.domain === o.domain) {
          const user = o.accounts.localUser(box.local);
          if (user) {
            list.push({ address: `${user}@${o.domain}`, local: true });
            return callback();
          }
          const members = o.accounts.expandAlias(box.local);
          if (members) {
            for (const m of members) list.push({ address: m, local: m.endsWith('@' + o.domain) });
            return callback();
          }
          return callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: no such user here`));
        }
        if (!session.user && o.backupMx?.accepts(box.domain)) {
          // Backup MX: mail for that domain's known recipients, passed on by the queue to its better MX hosts (RFC 5321 5.1).
          if (!o.backupMx.knows(box.domain, box.local)) {
            return callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: ${box.domain} has no such user (this server is its backup MX)`));
          }
          list.push({ address: `${box.local.toLowerCase()}@${box.domain}`, local: false });
          return callback();
        }
        if (!session.user) {
          // No open relay: only authenticated users of this domain may send elsewhere.
          return callback(smtpError(554, `5.7.1 <${address.address}>: Relay access denied (${o.domain} delivers only its own mail; log in on port 587 to send elsewhere)`));
        }
        list.push({ address: `${box.local}@${box.domain}`, local: false });
        callback();
      },
      onData(stream: SMTPServerDataStream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (stream.sizeExceeded) return callback(smtpError(552, `5.3.4 Message too big: the limit is ${o.limits.maxMessageSize} octets`));
          const message = Buffer.concat(chunks);
          const refused = refuseReason(message);
          if (refused) return callback(smtpError(refused.code, refused.text));
          const headers = headerSection(message);
          const hops = countHops(headers);
          if (hops >= o.limits.maxHops) {
            return callback(smtpError(554, `5.4.6 Too many hops (${hops} Received: headers): mail loop? (RFC 5321 6.3)`));
          }
          const all = dedupe(recipients.get(session.envelope) ?? []);
          const date = now();
          // A relayed copy accepted before (its sender died between our 250 and recording it, RFC 5321 6.1):
          // once per recipient; the queue decides (admitRelay). Mail submitted by our own users is never a relayed copy.
          const admitted: RelayAdmission<LabRecipient> = o.submission ? { fresh: all, already: [] } : o.queue.admitRelay(message, all);
          const { fresh: list, already, duplicateOf, relay } = admitted;
          if (duplicateOf !== undefined && already.length) {
            log.info(`duplicate of ${duplicateOf}: relayed message ${relay!.hopId} was accepted before for ${already.map((r) => r.address).join(', ')}; not queued again for them`, {
              messageId: relay!.messageId,
              ...(list.length ? { queuedFor: list.map((r) => r.address).join(', ') } : {}),
            });
          }
          if (duplicateOf !== undefined && !list.length) {
            const reply = `Ok: duplicate of ${duplicateOf} (accepted before; not queued again)`;
            o.trace?.add({
              kind: 'smtp-in',
              time: date.toISOString(),
              domain: o.domain,
              queueId: duplicateOf,
              ...messageIdentity(message),
              port,
              peer: `${session.clientHostname} ${session.remoteAddress}`,
              helo: session.hostNameAppearsAs,
              user: session.user ? String(session.user) : undefined,
              transcript: [...transcripts.of(session.id), 'C: [message, ' + message.length + ' octets]', 'C: .', `S: 250 2.6.0 ${reply}`],
            });
            return callback(null, reply);
          }
          const id = o.queue.newId();
          const trace = receivedHeader({
            helo: session.hostNameAppearsAs,
            ptr: session.clientHostname && !session.clientHostname.startsWith('[') ? session.clientHostname : null,
            ip: session.remoteAddress.replace(/^::ffff:/, ''),
            hostname: o.hostname,
            protocol: transmissionType(session),
            id,
            recipient: list.length === 1 ? list[0].address : undefined,
            date,
          });
          const full = Buffer.concat([Buffer.from(trace + missingHeaders(headers, id, o.hostname, date), 'latin1'), message]);
          // After VERB: follow the message from before it is queued (its first attempt may start at once).
          const narrate = (session as VerboseSession).narrate;
          const following = narrate ? followDelivery(o.queue, id, list.map((r) => r.address), narrate) : null;
          o.queue
            .enqueue({ id, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', recipients: list, message: full, relay })
            .then(
              () => {
                recorders.get(session.id)?.accepted({ queueId: id, ...messageIdentity(full), hops, attachments: attachmentCount(message) });
                o.trace?.add({
                  kind: 'smtp-in',
                  time: date.toISOString(),
                  domain: o.domain,
                  queueId: id,
                  ...messageIdentity(full),
                  port,
                  peer: `${session.clientHostname} ${session.remoteAddress}`,
                  helo: session.hostNameAppearsAs,
                  user: session.user ? String(session.user) : undefined,
                  transcript: [...transcripts.of(session.id), 'C: [message, ' + message.length + ' octets]', 'C: .', `S: 250 2.6.0 Ok: queued as ${id}`],
                });
                following?.queued();
                if (following) void following.done.then(() => callback(null, `Ok: queued as ${id}`));
                else callback(null, `Ok: queued as ${id}`);
              },
              (err: NodeJS.ErrnoException) => {
                following?.stop();
                log.error('could not queue a message', { error: err.message });
                callback(err.code === 'ENOSPC' ? smtpError(452, '4.3.1 Insufficient system storage; try again later') : smtpError(451, '4.3.0 Local error while queueing; try again later'));
              },
            );
        });
      },
    },
    {
      accounts: o.accounts,
      settings: { domain: o.domain, hostname: o.hostname, vrfy: o.vrfy, expn: o.expn, submission: o.submission, starttls: !!o.tls && !o.implicitTls },
      requireTls: o.tls?.requireTls,
      greetDelayMs: () => o.faults?.greetDelayMs(o.submission) ?? o.greetDelayMs ?? 0,
      onEarlyTalker: (address) => o.faults?.earlyTalker(address),
      onOpen: (id, address) => recorders.set(id, record('smtp', port, address)),
    },
  );
  server.on('error', (err: Error) => log.warn(`SMTP error: ${err.message}`));
  return server;
}

/** RFC 3848 `with` keyword: SMTP, ESMTP, ESMTPS (TLS), ESMTPA (AUTH), ESMTPSA (both). */
function transmissionType(session: SMTPServerSession): string {
  if (session.user) return session.secure ? 'ESMTPSA' : 'ESMTPA';
  if (session.openingCommand !== 'EHLO') return 'SMTP';
  return session.secure ? 'ESMTPS' : 'ESMTP';
}

function dedupe(list: LabRecipient[]): LabRecipient[] {
  const seen = new Set<string>();
  return list.filter((r) => !seen.has(r.address) && seen.add(r.address));
}
