/**
 * Local delivery: a recipient of this domain gets the message appended to
 * its INBOX (with Return-Path and Delivered-To on top), and after a
 * restart the queue asks whether a pending local delivery had in fact
 * reached the mailbox before the crash (so it is not delivered twice).
 */
import type { MailStore } from '../store/types';
import { isStoreError } from '../store/types';
import { headerPart } from '../message-headers';
import type { Outcome } from './outbound';

const userOf = (address: string) => address.slice(0, address.lastIndexOf('@'));

/** Appends `message` from envelope sender `from` to the INBOX of `address`; the outcome as the queue records it. */
export async function deliverLocal(store: Pick<MailStore, 'append'>, from: string, address: string, message: Buffer): Promise<Outcome> {
  const user = userOf(address);
  // RFC 5321 4.4: the final delivery adds Return-Path; Delivered-To records the mailbox.
  const headers = `Return-Path: <${from}>\r\nDelivered-To: ${address}\r\n`;
  try {
    const info = await store.append(user, 'INBOX', Buffer.concat([Buffer.from(headers), message]), { envelopeFrom: from || 'MAILER-DAEMON' });
    return { address, result: 'delivered', detail: `delivered to mailbox ${user} (uid ${info.uid})`, status: '2.0.0' };
  } catch (e) {
    if (isStoreError(e, 'NO_SUCH_USER')) return { address, result: 'bounced', detail: `550 5.1.1 no mailbox here by that name`, status: '5.1.1' };
    if (isStoreError(e, 'TOO_BIG')) return { address, result: 'bounced', detail: `552 5.2.2 ${(e as Error).message}`, status: '5.2.2' };
    return { address, result: 'deferred', detail: `452 4.2.2 mailbox unavailable: ${(e as Error).message}`, status: '4.2.2' };
  }
}

/** Was queue id `id` already appended to the INBOX of `address`? (Looks at the newest messages.) */
export async function alreadyInMailbox(store: Pick<MailStore, 'snapshot' | 'read'>, id: string, address: string): Promise<boolean> {
  const user = userOf(address);
  try {
    const snap = await store.snapshot(user, 'INBOX');
    for (const m of snap.messages.slice(-50)) {
      const raw = await store.read(user, 'INBOX', m.uid);
      if (raw && new RegExp(`^Received:[^]*?\\bid ${id}\\b`, 'mi').test(headerPart(raw.toString('latin1'), { breaks: 'any', upTo: 'fields' }))) return true;
    }
  } catch {
    return false;
  }
  return false;
}
