/**
 * Tagged command results and the mapping of store errors to NO responses
 * with RFC 5530 response codes (NONEXISTENT, ALREADYEXISTS, CANNOT, ...)
 * and RFC 3501's TRYCREATE for APPEND/COPY into a missing mailbox.
 */
import type { AccountDirectory } from '../accounts';
import type { AuthThrottle } from '../auth-throttle';
import type { Logger } from '../../../core/src/logger';
import type { MailStore } from '../store/types';
import { isStoreError } from '../store/types';
import type { HeaderCache } from './header-cache';
import type { RecentTracker } from './view';
import type { ServerTls } from '../tls/server-tls';

export interface Result {
  readonly status: 'OK' | 'NO' | 'BAD';
  readonly text: string;
  /** Response code without brackets, e.g. `READ-WRITE`, `APPENDUID 3 7`. */
  readonly code?: string;
}

export const ok = (text: string, code?: string): Result => ({ status: 'OK', text, code });
export const no = (text: string, code?: string): Result => ({ status: 'NO', text, code });
export const bad = (text: string, code?: string): Result => ({ status: 'BAD', text, code });

export interface Limits {
  maxLineLength: number;
  imapMaxLiteral: number;
  /** Milliseconds of silence before autologout. */
  sessionIdle: number;
}

/** What every session shares: the store, the accounts, limits, the \Recent tracker, the failed-login throttle and the header cache. */
export interface ServerContext {
  readonly store: MailStore;
  readonly accounts: AccountDirectory;
  readonly hostname: string;
  readonly logger: Logger;
  readonly limits: Limits;
  readonly recent: RecentTracker;
  readonly throttle: AuthThrottle;
  readonly headers: HeaderCache;
  /** Key and certificate: STARTTLS is offered; `requireTls` refuses logins before it. */
  readonly tls?: ServerTls;
}

/** Turns a thrown error into a tagged NO; `missingCode` is TRYCREATE for APPEND/COPY/MOVE targets. */
export function failure(error: unknown, logger: Logger, missingCode = 'NONEXISTENT'): Result {
  if (isStoreError(error)) {
    switch (error.code) {
      case 'NO_SUCH_FOLDER':
        return no(`No such mailbox (${error.message})`, missingCode);
      case 'NO_SUCH_USER':
        return no(error.message, 'NONEXISTENT');
      case 'FOLDER_EXISTS':
        return no(`Mailbox already exists (${error.message})`, 'ALREADYEXISTS');
      case 'INVALID_FOLDER_NAME':
        return no(`Invalid mailbox name (${error.message})`, 'CANNOT');
      case 'CANNOT_DELETE_INBOX':
        return no(error.message, 'CANNOT');
      case 'LOCKED':
        return no(error.message, 'INUSE');
      case 'NO_SPACE':
        return no(error.message, 'OVERQUOTA');
      case 'TOO_BIG':
        return no(error.message, 'LIMIT');
    }
  }
  logger.error('imap command failed', { error: error instanceof Error ? error.stack ?? error.message : String(error) });
  return no('Internal server error', 'SERVERBUG');
}
