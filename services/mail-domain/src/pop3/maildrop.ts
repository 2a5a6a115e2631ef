/**
 * A POP3 session's view of the maildrop: the INBOX snapshot taken at login
 * (so message numbers stay stable for the whole session, and mail delivered
 * meanwhile waits for the next session) plus the deletion marks of DELE.
 * Pure bookkeeping; the store is touched only at RETR/TOP and at QUIT.
 */
import type { MessageInfo } from '../store/types';

export type Lookup = { readonly ok: true; readonly info: MessageInfo } | { readonly ok: false; readonly error: string };

export class Maildrop {
  private readonly deleted = new Set<number>();

  constructor(
    readonly user: string,
    private readonly messages: readonly MessageInfo[],
  ) {}

  /** The message with number `msg`, unless out of range or marked deleted. */
  lookup(msg: number): Lookup {
    if (msg < 1 || msg > this.messages.length) {
      const has = this.messages.length === 0 ? 'the maildrop is empty' : `the maildrop has messages 1 to ${this.messages.length}`;
      return { ok: false, error: `no such message ${msg}: ${has}` };
    }
    if (this.deleted.has(msg)) return { ok: false, error: `message ${msg} is already deleted` };
    return { ok: true, info: this.messages[msg - 1] };
  }

  /** Message numbers and infos of the messages not marked deleted. */
  live(): { msg: number; info: MessageInfo }[] {
    return this.messages.map((info, i) => ({ msg: i + 1, info })).filter((m) => !this.deleted.has(m.msg));
  }

  stat(): { count: number; octets: number } {
    // Counted in place: a big maildrop's STAT and LIST need no list of its messages.
    let count = 0;
    let octets = 0;
    this.messages.forEach((info, i) => {
      if (this.deleted.has(i + 1)) return;
      count++;
      octets += info.size;
    });
    return { count, octets };
  }

  /** Marks a message deleted; the caller has checked it with `lookup`. */
  markDeleted(msg: number): void {
    this.deleted.add(msg);
  }

  /** Unmarks everything (RSET). */
  reset(): void {
    this.deleted.clear();
  }

  /** The store UIDs of the marked messages, for the UPDATE state. */
  deletedUids(): number[] {
    return [...this.deleted].sort((a, b) => a - b).map((msg) => this.messages[msg - 1].uid);
  }
}
