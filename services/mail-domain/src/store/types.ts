/**
 * The mailbox store's contract, shared by SMTP delivery, POP3 and IMAP.
 *
 * One Node process owns a domain's mailboxes, so every protocol goes through
 * one `MailStore` instance and sees the same state. On disk each folder is an
 * mbox file (mboxrd quoting, LF line endings, `From sender date` separator
 * lines) that a student can `cat`; INBOX is `<dataDir>/mail/<user>`, other
 * folders live under `<dataDir>/folders/<user>/`. IMAP state (UIDVALIDITY,
 * UIDNEXT, per-message UID and flags) is kept in a sidecar under
 * `<dataDir>/state/<user>/` (a compacted JSON part and an append-only log of
 * the changes since, folder-state.ts) and is rebuilt when the mbox file is
 * edited by hand.
 *
 * Messages cross this interface in wire form: CRLF line endings, no mbox
 * quoting, no `From ` separator line.
 */

/** One message as the store knows it. Immutable snapshot. */
export interface MessageInfo {
  /** IMAP UID, unique and ascending within the folder for one uidValidity. */
  readonly uid: number;
  /** IMAP flags, e.g. `\\Seen`, `\\Deleted`, keywords. Sorted. */
  readonly flags: readonly string[];
  /** When the message was stored (IMAP INTERNALDATE, mbox `From ` line date). */
  readonly internalDate: Date;
  /** Size in octets of the wire form (CRLF), as POP3 LIST and RFC822.SIZE report it. */
  readonly size: number;
  /** Stable per-message id, for POP3 UIDL: `<uidValidity>.<uid>`. */
  readonly uniqueId: string;
}

/** A consistent view of a folder at one moment. */
export interface FolderSnapshot {
  readonly user: string;
  readonly folder: string;
  readonly uidValidity: number;
  readonly uidNext: number;
  /** In mailbox order (oldest first); sequence number = index + 1. */
  readonly messages: readonly MessageInfo[];
}

/** What a change to a folder was, for IMAP untagged responses and IDLE. */
export type FolderChange =
  | { kind: 'append'; uids: number[] }
  | { kind: 'expunge'; uids: number[] }
  | { kind: 'flags'; uids: number[] }
  | { kind: 'reset' } // rebuilt (hand edit, new UIDVALIDITY): sessions must re-read everything
  | { kind: 'deleted'; renamedTo?: string }; // the folder itself was deleted or renamed away (to `renamedTo`)

export interface FolderChangeEvent {
  readonly user: string;
  readonly folder: string;
  readonly change: FolderChange;
}

export interface AppendOptions {
  /** Envelope sender for the mbox `From ` line; `MAILER-DAEMON` when empty. */
  readonly envelopeFrom?: string;
  readonly flags?: readonly string[];
  readonly internalDate?: Date;
}

export type FlagOperation = 'set' | 'add' | 'remove';

/** Errors the store throws carry one of these codes. */
export type StoreErrorCode =
  | 'NO_SUCH_USER'
  | 'NO_SUCH_FOLDER'
  | 'FOLDER_EXISTS'
  | 'INVALID_FOLDER_NAME'
  | 'CANNOT_DELETE_INBOX'
  | 'LOCKED'
  | 'NO_SPACE'
  | 'TOO_BIG';

export interface MailStore {
  /** Is this a local account (not an alias)? */
  hasUser(user: string): boolean;

  /** Folder names of a user, INBOX first, hierarchy separator `/`. */
  listFolders(user: string): Promise<string[]>;
  createFolder(user: string, folder: string): Promise<void>;
  deleteFolder(user: string, folder: string): Promise<void>;
  /** RFC 3501 6.3.5: renaming INBOX moves its messages to the new folder and leaves INBOX empty. */
  renameFolder(user: string, from: string, to: string): Promise<void>;

  /** Current state of a folder (re-reads the mbox if it changed on disk). */
  snapshot(user: string, folder: string): Promise<FolderSnapshot>;
  /** The message in wire form (CRLF). Throws NO_SUCH_FOLDER; returns null if the UID is gone. */
  read(user: string, folder: string, uid: number): Promise<Buffer | null>;
  /**
   * Several messages of one folder in one pass (IMAP FETCH and SEARCH over
   * many messages): one result per UID, in the order given, null for a UID
   * that is gone. `part: 'header'` returns only the header section, up to
   * and including its empty line. Not a retrieval by the user: the trace
   * journal records `read` only.
   */
  readMany(user: string, folder: string, uids: readonly number[], part?: 'whole' | 'header'): Promise<(Buffer | null)[]>;
  /** Appends at the bottom of the mbox file, fsynced before it resolves. */
  append(user: string, folder: string, message: Buffer, options?: AppendOptions): Promise<MessageInfo>;
  /** Changes flags; returns the updated infos of the UIDs that still exist. */
  setFlags(user: string, folder: string, uids: readonly number[], op: FlagOperation, flags: readonly string[]): Promise<MessageInfo[]>;
  /**
   * Removes messages: the mbox file is rewritten atomically (temp file, fsync,
   * rename), so a crash leaves it before or after, never torn.
   */
  expunge(user: string, folder: string, uids: readonly number[]): Promise<number[]>;
  /** Copies messages (keeping flags and internal date); returns the new UIDs in the same order. */
  copy(user: string, from: string, uids: readonly number[], to: string): Promise<{ uidValidity: number; uids: number[] }>;

  /**
   * Exclusive POP3 maildrop lock on a user's INBOX (RFC 1939 section 8).
   * Returns a release function, or throws LOCKED. SMTP delivery and IMAP
   * are not blocked by it; their changes appear in the next POP3 session.
   */
  lockMaildrop(user: string, holder: string): () => void;

  /** Subscribe to changes of any folder (IMAP EXISTS/EXPUNGE/FETCH, IDLE). */
  onChange(listener: (event: FolderChangeEvent) => void): () => void;

  /** Subscriptions (IMAP SUBSCRIBE/LSUB), persisted. */
  subscriptions(user: string): Promise<string[]>;
  setSubscribed(user: string, folder: string, subscribed: boolean): Promise<void>;
}

export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** A full disk (ENOSPC, EDQUOT) as the store's NO_SPACE; any other error is thrown as it is. */
export function noSpace(e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') throw new StoreError('NO_SPACE', 'no space left on the mail disk');
  throw e;
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}
