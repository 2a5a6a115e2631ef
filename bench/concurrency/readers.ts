/**
 * The readers that run while the concurrency bench sends: a POP3 reader
 * (the project's own client, services/client) that logs in, RETRs and DELEs
 * everything and QUITs, again and again; and IMAP readers (imapflow, a
 * third-party client) that SELECT INBOX, FETCH the headers of new messages
 * and wait in IDLE (RFC 2177) for the next EXISTS, one of them also
 * deleting what it fetched (UID STORE \Deleted + EXPUNGE). A message taken
 * out of a mailbox counts as delivered only once the server confirmed the
 * removal (POP3: +OK to QUIT, RFC 1939 section 6; IMAP: OK to EXPUNGE);
 * anything else it saw stays in the mailbox and is counted in the final
 * read. After `stop()` each reader makes one last pass, so the mailboxes
 * it drains are empty, and ends. Every wait is bounded.
 */
import { ImapFlow } from 'imapflow';
import { Pop3Client } from '../../services/client/src/pop3-client';
import { recognise, type FoundMessage } from './message';

export interface ReaderStats {
  kind: 'pop3' | 'imap-idle' | 'imap-expunge';
  /** user@domain */
  mailbox: string;
  sessions: number;
  /** Messages taken out of the mailbox, confirmed by the server. */
  removed: FoundMessage[];
  /** Messages RETRieved/EXPUNGEd whose removal was not confirmed (session failed before the +OK/OK). */
  unconfirmed: FoundMessage[];
  /** Messages seen (FETCHed or RETRieved), whether removed or not. */
  seen: number;
  /** IDLE: how many times the server announced new messages (untagged EXISTS). */
  announced: number;
  errors: number;
  firstErrors: string[];
}

export interface Reader {
  stats: ReaderStats;
  /** Ask for the last pass; resolves when the reader has ended. */
  stop(): Promise<void>;
}

export interface ReaderOptions {
  host?: string;
  port: number;
  user: string;
  password: string;
  /** Absolute time (Date.now()) after which the reader ends even without stop(). */
  deadline: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newStats(kind: ReaderStats['kind'], mailbox: string): ReaderStats {
  return { kind, mailbox, sessions: 0, removed: [], unconfirmed: [], seen: 0, announced: 0, errors: 0, firstErrors: [] };
}

function noteError(s: ReaderStats, e: unknown): void {
  s.errors++;
  if (s.firstErrors.length < 5) s.firstErrors.push((e as Error).message ?? String(e));
}

/** RETR + DELE of everything (at most `batch` per session), QUIT; repeat. */
export function startPop3Reader(o: ReaderOptions & { batch?: number }): Reader {
  const stats = newStats('pop3', o.user);
  const batch = o.batch ?? 300;
  let stopping = false;
  const run = async () => {
    while (Date.now() < o.deadline) {
      const last = stopping;
      let client: Pop3Client | null = null;
      const got: FoundMessage[] = [];
      try {
        client = await Pop3Client.connect({ host: '127.0.0.1', address: o.host ?? '127.0.0.1', port: o.port, timeoutMs: 20_000 });
        await client.login(o.user, o.password);
        const { count } = await client.stat();
        for (let n = 1; n <= Math.min(count, batch); n++) {
          got.push(recognise((await client.retr(n)).toString('latin1')));
          stats.seen++;
          await client.dele(n);
        }
        await client.quit(); // RFC 1939 6: the DELEs take effect in the UPDATE state, i.e. on +OK to QUIT
        stats.sessions++;
        stats.removed.push(...got);
        if (last && count <= batch) return;
        if (count === 0) await sleep(200);
      } catch (e) {
        client?.close();
        stats.unconfirmed.push(...got);
        noteError(stats, e);
        await sleep(500);
      }
    }
  };
  const done = run();
  return {
    stats,
    stop() {
      stopping = true;
      return done;
    },
  };
}

/** Compresses ascending UIDs into an IMAP sequence set (`3:7,9`), so a long list stays one short line. */
export function uidSet(uids: number[]): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

export function imapClient(o: ReaderOptions): ImapFlow {
  const client = new ImapFlow({
    host: o.host ?? '127.0.0.1',
    port: o.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: o.user, pass: o.password },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 60_000,
  });
  client.on('error', () => undefined); // errors also reject the pending command; without a listener they would end the process
  return client;
}

/** The load messages' headers of `range` (UIDs). */
export async function fetchHeaders(client: ImapFlow, range: string): Promise<{ uid: number; found: FoundMessage }[]> {
  const msgs = await client.fetchAll(range, { uid: true, headers: ['x-load-id', 'x-load-sum', 'content-type'] }, { uid: true });
  return msgs.map((m) => ({ uid: m.uid, found: recognise(m.headers ? m.headers.toString('latin1') : '', false) }));
}

/** SELECT INBOX, FETCH new messages' headers, (optionally) delete them, IDLE until EXISTS; repeat. */
export function startImapReader(o: ReaderOptions & { expunge: boolean }): Reader {
  const stats = newStats(o.expunge ? 'imap-expunge' : 'imap-idle', o.user);
  let stopping = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const run = async () => {
    let lastUid = 0;
    while (Date.now() < o.deadline) {
      const client = imapClient(o);
      try {
        await client.connect();
        await client.mailboxOpen('INBOX');
        stats.sessions++;
        client.on('exists', () => {
          stats.announced++;
          poke();
        });
        if (o.expunge) lastUid = 0; // a new session: what is left (e.g. a delete that was not confirmed) is fetched again
        while (Date.now() < o.deadline) {
          const last = stopping;
          const exists = client.mailbox ? client.mailbox.exists : 0;
          const fresh = exists > 0 ? (await fetchHeaders(client, `${lastUid + 1}:*`)).filter((m) => m.uid > lastUid) : [];
          stats.seen += fresh.length;
          if (fresh.length) {
            if (o.expunge) {
              try {
                // imapflow: UID STORE +FLAGS (\Deleted), then UID EXPUNGE (UIDPLUS) or EXPUNGE.
                if (await client.messageDelete(uidSet(fresh.map((m) => m.uid)), { uid: true })) stats.removed.push(...fresh.map((m) => m.found));
                else throw new Error('the server refused the delete');
              } catch (e) {
                stats.unconfirmed.push(...fresh.map((m) => m.found));
                throw e;
              }
            }
            lastUid = Math.max(lastUid, ...fresh.map((m) => m.uid));
          }
          if (last) return;
          if (fresh.length) continue;
          // RFC 2177: wait in IDLE for an untagged EXISTS (at most 2 s, or until stop()); any next command ends the IDLE with DONE.
          const idling = client.idle();
          await Promise.race([new Promise<void>((r) => (wake = r)), sleep(2000)]);
          wake = null;
          await client.noop();
          await idling;
        }
      } catch (e) {
        noteError(stats, e);
        await sleep(500);
      } finally {
        await client.logout().catch(() => client.close());
      }
    }
  };
  const done = run();
  return {
    stats,
    stop() {
      stopping = true;
      poke();
      return done;
    },
  };
}
