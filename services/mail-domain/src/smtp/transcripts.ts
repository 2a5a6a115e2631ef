/**
 * The wire transcript of each inbound SMTP session, as an accepted
 * message's trace shows how it came in (`mail-lab trace`, the `smtp-in`
 * record and event). A session can carry many messages: a sending server
 * reuses its connection (RSET, then the next MAIL FROM). A message's
 * transcript is the session's opening (greeting, EHLO, STARTTLS, AUTH),
 * a line saying how many transactions came before it on this connection,
 * and its own transaction from its MAIL FROM (or the RSET before it) on.
 * Before, the session's first 500 lines went with every message: the 100th
 * message on a reused connection showed the first ones' commands, and each
 * record was 500 lines long.
 */

/** Lines kept of a session's opening, and of one transaction. */
export const TRANSCRIPT_LIMITS = { opening: 100, transaction: 400 } as const;

interface Session {
  opening: string[];
  current: string[];
  /** The current transaction has its MAIL FROM. */
  mail: boolean;
  /** Transactions before the current one. */
  earlier: number;
}

const MAIL = /^C: MAIL\b/i;
const RSET = /^C: RSET\b/i;

export class SessionTranscripts {
  private readonly sessions = new Map<string, Session>();

  /** A `C: ` or `S: ` line of session `cid`. */
  line(cid: string, text: string): void {
    let s = this.sessions.get(cid);
    if (!s) this.sessions.set(cid, (s = { opening: [], current: [], mail: false, earlier: 0 }));
    const mail = MAIL.test(text);
    if (s.mail && (mail || RSET.test(text))) {
      // The next transaction on the same connection (RFC 5321 4.1.1.5: RSET ends the one before).
      s.earlier++;
      s.current = [];
      s.mail = false;
    }
    if (mail) s.mail = true;
    // Until the first MAIL FROM, the lines are the opening.
    if (!s.mail && !s.earlier) {
      if (s.opening.length < TRANSCRIPT_LIMITS.opening) s.opening.push(text);
    } else if (s.current.length < TRANSCRIPT_LIMITS.transaction) s.current.push(text);
  }

  /** What the message of the current transaction of `cid` went through, so far. */
  of(cid: string): string[] {
    const s = this.sessions.get(cid);
    if (!s) return [];
    return [...s.opening, ...(s.earlier ? [`[... ${s.earlier} earlier message transaction(s) on this connection left out ...]`] : []), ...s.current];
  }

  /** The session ended. */
  drop(cid: string): void {
    this.sessions.delete(cid);
  }
}
