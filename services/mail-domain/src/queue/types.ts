/**
 * What the outbound queue keeps about each message, on disk as JSON: the
 * first line of the message's spool file, then the `.json` beside it once
 * an attempt changed it (queue/spool.ts). The admin API has its own types
 * (services/core/src/admin/api.ts); the admin server maps these to them.
 */

export type RecipientStatus = 'pending' | 'delivered' | 'bounced';

export interface RecipientState {
  /** Final address (aliases already expanded). */
  address: string;
  /** Delivered into this domain's store rather than over SMTP. */
  local: boolean;
  status: RecipientStatus;
  attempts: number;
  lastError?: string;
  /** ISO time of the next attempt while pending. */
  nextAttempt?: string;
  /** ISO time of delivery or bounce. */
  doneAt?: string;
  /** The remote server's reply, or the mailbox it went to. */
  detail?: string;
}

export interface AttemptRecord {
  time: string;
  recipients: string[];
  result: 'delivered' | 'deferred' | 'bounced';
  /** MX records the sender looked up, in the order it tried them. */
  mx?: { exchange: string; priority: number }[];
  /** The host it talked to, with address and port. */
  host?: string;
  /** TLS of that SMTP session, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`, or `none` (plain text). */
  tls?: string;
  detail: string;
  /** DNS answers and the SMTP conversation of a remote attempt. */
  transcript?: string[];
}

export interface QueueEntry {
  id: string;
  /** The message's Message-ID header and Subject, for traces. */
  messageId?: string;
  subject?: string;
  /** Envelope sender; empty for notices (bounces), which never get a notice themselves (RFC 5321 6.1). */
  from: string;
  arrival: string;
  size: number;
  recipients: RecipientState[];
  /** The delay notice (RFC 3464 `delayed`) was sent. */
  warned: boolean;
  held: boolean;
  history: AttemptRecord[];
  /** A relayed copy's identity (dedupe.ts), kept with the entry so the record survives a crash before the index line. */
  relayKey?: string;
  /** For messages the queue made itself: 'delay' or 'failure' notices. */
  notice?: 'delay' | 'failure';
}
