/**
 * What command handlers work with: the session's mutable state (`Pop3State`)
 * and its fixed surroundings (`Pop3Env`: store, accounts, throttle, the
 * APOP timestamp of the greeting). Kept apart from the session class so the
 * handler files depend on data, not on the dispatcher.
 */
import type { AccountDirectory } from '../accounts';
import type { Logger } from '../../../core/src/logger';
import type { MailStore } from '../store/types';
import type { AuthThrottle } from '../auth-throttle';
import type { Maildrop } from './maildrop';
import type { State } from './state';

/** The folder POP3 serves (RFC 1939 knows only the maildrop). */
export const POP3_FOLDER = 'INBOX';

export interface Pop3Env {
  readonly store: MailStore;
  readonly accounts: AccountDirectory;
  readonly hostname: string;
  readonly throttle: AuthThrottle;
  readonly logger: Logger;
  /** Client IP address, for the per-address failure count. */
  readonly clientAddress: string;
  /** Who holds the maildrop lock, e.g. `pop3 #3 127.0.0.1:51234`. */
  readonly holder: string;
  /** The APOP timestamp `<...@hostname>` sent in the greeting; null when APOP is not offered. */
  readonly apopTimestamp: string | null;
  readonly sleep: (ms: number) => Promise<void>;
  /** STLS is offered (the server has a certificate and the session is not TLS from the start). */
  readonly tlsOffered?: boolean;
  /** USER, PASS and APOP are refused until the session is TLS. */
  readonly requireTls?: boolean;
}

export interface Pop3State {
  state: State;
  /** Login given by USER, waiting for PASS. */
  pendingLogin: string | null;
  /** Failed logins in this session. */
  authFailures: number;
  /** Set in TRANSACTION and UPDATE. */
  maildrop: Maildrop | null;
  /** Releases the maildrop lock; idempotent; null when no lock is held. */
  releaseLock: (() => void) | null;
  /** The connection is gone: nothing more will be sent. */
  closed: boolean;
  /** The session is TLS (after STLS, or on the implicit TLS port). */
  tls: boolean;
}

export function initialState(): Pop3State {
  return { state: 'AUTHORIZATION', pendingLogin: null, authFailures: 0, maildrop: null, releaseLock: null, closed: false, tls: false };
}

/** Wraps a release function so calling it twice is harmless. */
export function once(release: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    release();
  };
}
