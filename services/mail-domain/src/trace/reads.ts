/**
 * "Who retrieved it, by which protocol": a view of the mailbox store for
 * one protocol (POP3 or IMAP) that records in the trace journal each message
 * a user reads. A client that reads the same message again within ten
 * minutes (IMAP clients fetch headers, then the body) is recorded once.
 */
import type { MailStore } from '../store/types';
import { messageIdentity, type TraceJournal } from './journal';

export function recordingReads(store: MailStore, protocol: 'pop3' | 'imap', domain: string, journal: TraceJournal, now: () => Date = () => new Date()): MailStore {
  const recent = new Map<string, number>();
  const view = Object.create(store) as MailStore;
  view.read = async (user, folder, uid) => {
    const message = await store.read(user, folder, uid);
    if (message) {
      const key = `${user}\0${folder}\0${uid}`;
      const t = now().getTime();
      if ((recent.get(key) ?? -Infinity) < t - 600_000) {
        recent.set(key, t);
        if (recent.size > 10_000) recent.delete(recent.keys().next().value as string);
        journal.add({ kind: 'retrieved', time: now().toISOString(), domain, messageId: messageIdentity(message).messageId, protocol, user, folder, uid });
      }
    }
    return message;
  };
  return view;
}
