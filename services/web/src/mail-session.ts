/**
 * IMAP and SMTP submission with a student's own account, for the student's
 * pages (webmail): the lab's own servers on the lab's host ports, logged in
 * with the credentials kept in the server-side session (auth/sessions.ts),
 * never a side door into the mailbox files.
 *
 *   const imap = await openStudentImap(lab, session);   // logged in; the caller closes it
 *   try { await imap.mailboxOpen('INBOX'); … } finally { await closeStudentImap(imap); }
 *   await studentSubmission(lab, session).sendMail({ from: session.user, to, subject, text });
 *
 * The labs' servers are on this host: 127.0.0.1 (published ports). TLS is
 * used when a server offers STARTTLS; its certificate (from the lab CA) is
 * not checked here, the connection never leaves the host.
 */
import { ImapFlow, type Logger as ImapLogger } from 'imapflow';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger as SmtpLogger } from 'nodemailer/lib/shared';
import type { Session } from './auth/sessions';
import type { WebLab } from './labs';

const LOOPBACK = '127.0.0.1';
const TLS = { rejectUnauthorized: false, servername: 'localhost' };

export interface ImapLogin {
  host?: string;
  port: number;
  user: string;
  password: string;
  timeoutMs?: number;
  /** imapflow's logger (the webmail's protocol drawer: webmail/protocol-log.ts); none by default. */
  logger?: ImapLogger;
}

/** A connected, logged-in imapflow client (throws the library's error: `authenticationFailed` for a wrong login). */
export async function openImap(o: ImapLogin): Promise<ImapFlow> {
  const t = o.timeoutMs ?? 10_000;
  const client = new ImapFlow({
    host: o.host ?? LOOPBACK,
    port: o.port,
    secure: false,
    auth: { user: o.user, pass: o.password },
    tls: TLS,
    logger: o.logger ?? false,
    disableAutoIdle: true,
    connectionTimeout: t,
    greetingTimeout: t,
    socketTimeout: 5 * t,
  });
  // Errors also arrive as events; without a listener they would end the web server.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    client.close();
    throw e;
  }
  return client;
}

export async function closeStudentImap(client: ImapFlow): Promise<void> {
  await client.logout().catch(() => client.close());
}

/** The student's domain in their lab (ports), or an error naming what is wrong. */
function domainOf(lab: WebLab, session: Session) {
  if (session.role !== 'student' || session.lab !== lab.n || !session.domain || session.password === undefined) throw new Error('not a student session of this lab');
  const d = lab.config.domains.find((x) => x.name === session.domain);
  if (!d) throw new Error(`lab ${lab.n} has no domain ${session.domain}`);
  return d;
}

/** IMAP with the student's own account on their domain's IMAP port. */
export function openStudentImap(lab: WebLab, session: Session, o: { logger?: ImapLogger } = {}): Promise<ImapFlow> {
  const d = domainOf(lab, session);
  return openImap({ port: d.ports.imap, user: session.user, password: session.password!, logger: o.logger });
}

/** SMTP submission (587 with AUTH) with the student's own account. */
export function studentSubmission(lab: WebLab, session: Session, o: { logger?: SmtpLogger } = {}): Transporter {
  const d = domainOf(lab, session);
  // With a logger: the commands and replies (transactionLog), never the message itself.
  const log = o.logger ? { logger: o.logger, transactionLog: true } : {};
  return createTransport({ host: LOOPBACK, port: d.ports.submission, secure: false, auth: { user: session.user, pass: session.password! }, tls: TLS, connectionTimeout: 10_000, greetingTimeout: 10_000, ...log });
}
