/**
 * Delivery status notifications (RFC 3464): the delay warning and the
 * returned-mail notice the queue sends to a sender. A `multipart/report`
 * with a human-readable part (English and Indonesian), the machine-readable
 * `message/delivery-status` part and the original headers
 * (`text/rfc822-headers`, RFC 6522). Sent with an empty envelope sender so
 * that a notice never causes another notice (RFC 5321 section 6.1).
 */
import { randomBytes } from 'node:crypto';

export interface DsnRecipient {
  address: string;
  /** Enhanced status code (RFC 3463), e.g. `5.1.1`, `4.4.1`. */
  status: string;
  /** What the other side said, or what went wrong. */
  diagnostic: string;
  remoteMta?: string;
}

export interface DsnInput {
  kind: 'delay' | 'failure';
  reportingMta: string;
  queueId: string;
  originalSender: string;
  arrival: Date;
  now: Date;
  recipients: DsnRecipient[];
  /** For delay notices: until when the queue keeps trying. */
  willRetryUntil?: Date;
  originalHeaders: string;
}

const rfc822Date = (d: Date) => d.toUTCString().replace('GMT', '+0000');

/** Enhanced status code from a reply like `550 5.1.1 User unknown`, or a default by class. */
export function statusFromReply(reply: string, fallbackClass: 4 | 5): string {
  const m = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(reply.trim());
  return m ? m[1] : `${fallbackClass}.0.0`;
}

export function buildDsn(input: DsnInput): Buffer {
  const boundary = `${input.queueId}/${randomBytes(6).toString('hex')}`;
  const delay = input.kind === 'delay';
  const subject = delay ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender';
  const list = input.recipients.map((r) => `  <${r.address}>: ${r.diagnostic}`).join('\n');
  const human = delay
    ? `This is the mail system at ${input.reportingMta}.\n\n` +
      `Your message could not be delivered yet. It is still in the queue and will be\n` +
      `retried until ${input.willRetryUntil ? rfc822Date(input.willRetryUntil) : 'it expires'}. You do not need to send it again.\n\n${list}\n\n` +
      `-- Bahasa Indonesia --\n` +
      `Pesan Anda belum dapat dikirim. Pesan masih di antrian dan akan dicoba lagi\n` +
      `sampai ${input.willRetryUntil ? rfc822Date(input.willRetryUntil) : 'batas waktunya'}. Anda tidak perlu mengirim ulang.\n`
    : `This is the mail system at ${input.reportingMta}.\n\n` +
      `I'm sorry to have to inform you that your message could not be delivered\n` +
      `to one or more recipients.\n\n${list}\n\n` +
      `-- Bahasa Indonesia --\n` +
      `Mohon maaf, pesan Anda tidak dapat dikirim ke satu atau lebih penerima.\n`;
  const perRecipient = input.recipients
    .map((r) =>
      [
        `Final-Recipient: rfc822; ${r.address}`,
        `Action: ${delay ? 'delayed' : 'failed'}`,
        `Status: ${r.status}`,
        r.remoteMta ? `Remote-MTA: dns; ${r.remoteMta}` : undefined,
        `Diagnostic-Code: smtp; ${r.diagnostic.replace(/\s+/g, ' ')}`,
        `Last-Attempt-Date: ${rfc822Date(input.now)}`,
        delay && input.willRetryUntil ? `Will-Retry-Until: ${rfc822Date(input.willRetryUntil)}` : undefined,
      ]
        .filter(Boolean)
        .join('\r\n'),
    )
    .join('\r\n\r\n');
  const text = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.originalSender}>`,
    `Subject: ${subject}`,
    `Date: ${rfc822Date(input.now)}`,
    `Message-ID: <${input.queueId}.${input.kind}.${randomBytes(4).toString('hex')}@${input.reportingMta}>`,
    `Auto-Submitted: auto-replied`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/report; report-type=delivery-status;`,
    `\tboundary="${boundary}"`,
    ``,
    `This is a MIME-encapsulated message.`,
    ``,
    `--${boundary}`,
    `Content-Description: Notification`,
    `Content-Type: text/plain; charset=utf-8`,
    ``,
    human.replace(/\n/g, '\r\n'),
    `--${boundary}`,
    `Content-Description: Delivery report`,
    `Content-Type: message/delivery-status`,
    ``,
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `X-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc822Date(input.arrival)}`,
    ``,
    perRecipient,
    ``,
    `--${boundary}`,
    `Content-Description: Undelivered message headers`,
    `Content-Type: text/rfc822-headers`,
    ``,
    input.originalHeaders.replace(/\r?\n/g, '\r\n').replace(/(\r\n)*$/, ''),
    ``,
    `--${boundary}--`,
    ``,
  ].join('\r\n');
  return Buffer.from(text, 'utf8');
}
