/**
 * "Show the protocol": the IMAP and SMTP commands and replies one click of a
 * student caused, for the webmail's drawer. imapflow and nodemailer both
 * log their conversation (imapflow: `{ src: 'c'|'s', msg }` at debug/trace;
 * nodemailer with `transactionLog`: `{ tnx: 'client'|'server' }`); a
 * {@link ProtocolLog} is handed to them as their logger for one request and
 * keeps the lines, the password masked (the libraries mask the login
 * already; this masks again, also its base64 forms).
 *
 *   const log = new ProtocolLog('Open INBOX', [session.password]);
 *   const imap = await openStudentImap(lab, session, { logger: log.imapLogger() });
 *   …
 *   rememberClick(session, [log]);        // the drawer of the next page shows it
 *
 * What a click caused is kept per session (in memory, the last click only):
 * a POST's log is shown by the page it redirects to, together with that
 * page's own.
 */
import { format } from 'node:util';

export type Protocol = 'IMAP' | 'SMTP';

export interface ProtocolLine {
  proto: Protocol;
  /** C: the web server as the client; S: the mail server; '-': a note (connect, TLS, close). */
  dir: 'C' | 'S' | '-';
  text: string;
  /** ms since the log began. */
  at: number;
}

export interface ProtocolRecord {
  /** What was done, in words (the click). */
  label: string;
  lines: ProtocolLine[];
  /** Lines dropped past the cap. */
  dropped: number;
  startedAt: number;
}

/** The most lines kept per log, and the longest line (a FETCH of a whole message is cut). */
export const MAX_LINES = 400;
export const MAX_LINE = 300;

type LogFn = (...args: unknown[]) => void;
export interface LibraryLogger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  level: (level: string) => void;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export class ProtocolLog implements ProtocolRecord {
  readonly lines: ProtocolLine[] = [];
  dropped = 0;
  readonly startedAt = Date.now();
  private readonly secrets: string[];

  /** `secrets`: every text to mask wherever it shows (the password), also base64-encoded. */
  constructor(
    readonly label: string,
    secrets: (string | undefined)[] = [],
    private readonly user?: string,
  ) {
    const out = new Set<string>();
    for (const s of secrets) {
      if (!s) continue;
      out.add(s);
      out.add(b64(s));
      if (user) {
        out.add(b64(`\0${user}\0${s}`));
        out.add(b64(`${user}\0${user}\0${s}`));
      }
    }
    // The longest first, so a base64 form is masked whole.
    this.secrets = [...out].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  }

  /** Masks the secrets in a text. */
  mask(text: string): string {
    let t = text;
    for (const s of this.secrets) t = t.split(s).join('****');
    return t;
  }

  /**
   * A SASL PLAIN response the library already hid (`\0user\0(* value hidden *)`, base64) shown
   * as what it is, so it does not look like a real base64 of the password.
   */
  private hiddenLogin(line: string): string {
    return line.replace(/[A-Za-z0-9+/]{16,}={0,2}/g, (token) => {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const m = /^([^\0]*)\0([^\0]+)\0(\(\* value hidden \*\)|\/\* secret \*\/)$/.exec(decoded);
      return m ? `<base64 of "${m[1] ? `${m[1]}\\0` : ''}\\0${m[2]}\\0****", the password hidden>` : token;
    });
  }

  add(proto: Protocol, dir: ProtocolLine['dir'], text: string): void {
    for (const raw of text.split(/\r?\n/)) {
      if (raw === '' && dir !== '-') continue;
      if (this.lines.length >= MAX_LINES) {
        this.dropped++;
        continue;
      }
      let line = this.mask(dir === 'C' ? this.hiddenLogin(raw) : raw);
      if (line.length > MAX_LINE) line = `${line.slice(0, MAX_LINE)} … (${line.length} characters)`;
      this.lines.push({ proto, dir, text: line, at: Date.now() - this.startedAt });
    }
  }

  /** A logger for imapflow's `logger` option. */
  imapLogger(): LibraryLogger {
    const take = (entry: unknown) => {
      if (!entry || typeof entry !== 'object') return;
      const e = entry as { src?: string; msg?: unknown; err?: { message?: string } };
      const msg = typeof e.msg === 'string' ? e.msg : '';
      if (e.src === 'c') this.add('IMAP', 'C', msg);
      else if (e.src === 's') this.add('IMAP', 'S', msg);
      else if (/^(Connection established|Established secure TLS|Connection closed|Failed to)/i.test(msg)) this.add('IMAP', '-', msg);
    };
    const fn: LogFn = (entry) => take(entry);
    return { trace: fn, debug: fn, info: fn, warn: fn, error: fn, fatal: fn, level: () => undefined };
  }

  /** A logger for nodemailer's `logger` option (with `transactionLog: true`). */
  smtpLogger(): LibraryLogger {
    const take = (meta: unknown, message: unknown, ...args: unknown[]) => {
      const tnx = meta && typeof meta === 'object' ? (meta as { tnx?: string }).tnx : undefined;
      const text = typeof message === 'string' ? format(message, ...args) : '';
      if (tnx === 'client') this.add('SMTP', 'C', text);
      else if (tnx === 'server') this.add('SMTP', 'S', text);
      else if (tnx === 'network' && /^(Connection established|Connection upgraded|Connection closed)/.test(text)) this.add('SMTP', '-', text);
      else if (tnx === 'message' && /bytes encoded mime message/.test(text)) this.add('SMTP', 'C', `(${text.replace(/^<|>$/g, '')})`);
    };
    const fn: LogFn = (meta, message, ...args) => take(meta, message, ...args);
    return { trace: fn, debug: fn, info: fn, warn: fn, error: fn, fatal: fn, level: () => undefined };
  }
}

// ---------------------------------------------------------------------------
// the last click of each session

/** Per session object (gone with it): what the last click caused, and what a POST left for the page it redirects to. */
const clicks = new WeakMap<object, { shown: ProtocolRecord[]; pending: ProtocolRecord[] }>();

const slot = (session: object) => {
  let s = clicks.get(session);
  if (!s) clicks.set(session, (s = { shown: [], pending: [] }));
  return s;
};

/** A POST's records: shown by the next page of the same session (with that page's own). */
export function carryToNextPage(session: object, records: ProtocolRecord[]): void {
  slot(session).pending = records.filter((r) => r.lines.length);
}

/** The records of this click: what a POST before it left, then this request's own; remembered as the last click. */
export function rememberClick(session: object, own: ProtocolRecord[]): ProtocolRecord[] {
  const s = slot(session);
  const all = [...s.pending, ...own.filter((r) => r.lines.length)];
  s.pending = [];
  // A request that talked to no server (an error page) does not wipe the last click.
  if (all.length) s.shown = all;
  return s.shown;
}

/** The last click's records (the drawer asks again after a download). */
export function lastClick(session: object): ProtocolRecord[] {
  return clicks.get(session)?.shown ?? [];
}
