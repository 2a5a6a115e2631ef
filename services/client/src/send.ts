/**
 * Sending: the message is built with nodemailer ({@link composeMessage}:
 * its bytes, Message-ID and Date fixed once, so a message kept in the
 * outbox goes out later exactly as it was written) and submitted to the
 * sender's own server on the submission port, logging in as the sender
 * (AUTH PLAIN or LOGIN, whichever the server offers; {@link submitMessage}).
 * Files go as MIME base64 parts, or with `uuencode` inside the text body the
 * pre-MIME way.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createTransport } from 'nodemailer';
import { ClientError, loginFailed, messageOf, networkError, UnreachableError, UsageError } from './errors';
import { resolveHost, type Endpoint } from './endpoint';
import { nodemailerLogger } from './transcript';
import { uuencode } from './uuencode';

/** What a composed message needs besides its bytes: who it is from and to (the envelope). */
export interface Envelope {
  from: string;
  /** Every recipient: To and Cc. */
  to: string[];
}

export interface ComposedMessage {
  envelope: Envelope;
  messageId: string;
  /** The whole message as it goes on the wire (CRLF line ends). */
  raw: Buffer;
}

export interface SendRequest {
  from: string;
  /** Display name for the From header. */
  name?: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  /** Paths of files to attach. */
  attachments: string[];
  /** Embed the files uuencoded in the body instead of MIME parts. */
  uuencode: boolean;
  /** The submission server, logged in as `from`. */
  endpoint: Endpoint;
}

export interface SendResult {
  /** The server's last reply, e.g. `250 Ok: queued as 1a2b3c`. */
  response: string;
  messageId: string;
  accepted: string[];
  /** Recipients the server refused, with its reply. */
  rejected: string[];
}

/** Reads a file the user named, with a usage error when it is not there. */
export async function readUserFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const c = (e as { code?: string }).code;
    const why = c === 'ENOENT' ? 'no such file' : c === 'EISDIR' ? 'it is a directory' : c === 'EACCES' ? 'permission denied' : messageOf(e);
    throw new UsageError(`cannot read ${what} ${path}: ${why}`);
  }
}

function addressOf(a: unknown): string {
  return typeof a === 'string' ? a : ((a as { address?: string })?.address ?? String(a));
}

function smtpError(e: unknown, ep: Endpoint): ClientError {
  const x = e as { code?: string; response?: string; responseCode?: number; rejectedErrors?: { recipient?: string; response?: string }[] };
  if (x?.code === 'EAUTH') return loginFailed(ep.user);
  if (x?.code === 'EENVELOPE') {
    const why = x.rejectedErrors?.map((r) => `${r.recipient}: ${r.response}`).join('; ') ?? x.response ?? messageOf(e);
    return new ClientError(`the server refused the recipients: ${why}`);
  }
  if (x?.code === 'EMESSAGE' && x.response) return new ClientError(`the server refused the message: ${x.response}`);
  const net = networkError(e, ep);
  if (net) return net;
  // RFC 5321 §3.8/§4.2.3: 421 is "service not available, closing"; the client should try again later.
  if (x?.responseCode === 421) return new UnreachableError(`${ep.host}:${ep.port} is not available now: ${x.response ?? '421'}`);
  if (x?.response) return new ClientError(`the server said: ${x.response}`);
  return new ClientError(`sending through ${ep.host}:${ep.port} failed: ${messageOf(e)}`);
}

/** Builds the message (headers, text, attachments) once; nothing is sent. */
export async function composeMessage(req: Omit<SendRequest, 'endpoint'>): Promise<ComposedMessage> {
  if (req.to.length === 0) throw new UsageError('give at least one recipient with --to');
  const files = await Promise.all(req.attachments.map(async (p) => ({ filename: basename(p), content: await readUserFile(p, 'the attachment') })));
  let text = req.body;
  if (req.uuencode && files.length > 0) {
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    text += files.map((f) => '\n' + uuencode(f.content, f.filename)).join('');
  }
  const composer = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await composer.sendMail({
    from: req.name ? { name: req.name, address: req.from } : req.from,
    to: req.to,
    cc: req.cc.length > 0 ? req.cc : undefined,
    subject: req.subject,
    text,
    attachments: req.uuencode ? [] : files.map((f) => ({ filename: f.filename, content: f.content })),
    headers: { 'X-Mailer': 'mail-lab-client' },
  });
  return { envelope: { from: req.from, to: [...req.to, ...req.cc] }, messageId: info.messageId, raw: info.message as Buffer };
}

/** Submits a composed message as it is (MAIL FROM, RCPT TO for each recipient, DATA). */
export async function submitMessage(ep: Endpoint, message: ComposedMessage): Promise<SendResult> {
  const address = await resolveHost(ep);
  const logger = nodemailerLogger(ep.transcript);
  const transport = createTransport({
    host: address,
    port: ep.port,
    secure: false,
    ignoreTLS: true,
    auth: { user: ep.user, pass: ep.password },
    connectionTimeout: ep.timeoutMs,
    greetingTimeout: ep.timeoutMs,
    socketTimeout: ep.timeoutMs,
    logger: logger === false ? false : (logger as never),
    debug: logger !== false,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: message.envelope.from, to: message.envelope.to }, raw: message.raw });
    return {
      response: info.response,
      messageId: message.messageId,
      accepted: info.accepted.map(addressOf),
      rejected: info.rejected.map(addressOf).map((a) => {
        const why = (info as { rejectedErrors?: { recipient?: string; response?: string }[] }).rejectedErrors?.find((r) => r.recipient === a)?.response;
        return why ? `${a} (${why})` : a;
      }),
    };
  } catch (e) {
    throw smtpError(e, ep);
  } finally {
    transport.close();
  }
}

export async function sendMessage(req: SendRequest): Promise<SendResult> {
  return submitMessage(req.endpoint, await composeMessage(req));
}
