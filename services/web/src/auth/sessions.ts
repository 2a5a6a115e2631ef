/**
 * Login sessions, in the web server's memory only: a random id in an
 * HttpOnly, SameSite=Lax cookie; the instructor or a student with their lab
 * and account. A student's password stays here, server-side, for the IMAP
 * and SMTP connections of their pages (mail-session.ts); it never goes back
 * to the browser.
 *
 * A session ends after `idleMs` without a request or `maxAgeMs` in all. An
 * ended session leaves a small tombstone (who it was, never the password) for
 * a day, so the next request can say "your session ended" and a form sent
 * just then can be kept as a draft for the same person (drafts.ts).
 */
import { randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'ml_session';

export type Role = 'instructor' | 'student';

/** Who a session is, without secrets. */
export interface Identity {
  role: Role;
  /** The instructor's user name, or the student's full address (`siswa1@garudayaksa.com`). */
  user: string;
  /** Student: their lab. */
  lab?: number;
}

export interface Session extends Identity {
  id: string;
  /** Display name (from the lab definition): text, never markup. */
  name: string;
  /** Student: the domain of their account. */
  domain?: string;
  /** Student: the local part (`siswa1`). */
  localPart?: string;
  /** Student only: the password, for IMAP/SMTP with their own account. Server memory only. */
  password?: string;
  /** The per-session CSRF token every form and htmx request carries. */
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

export interface EndedSession extends Identity {
  id: string;
  endedAt: number;
  why: 'expired' | 'logout';
}

export interface SessionOptions {
  /** A session ends after this long without a request. @default 2 hours */
  idleMs?: number;
  /** …and after this long in all. @default 12 hours */
  maxAgeMs?: number;
  /** Tombstones are kept this long. @default 1 day */
  tombstoneMs?: number;
  now?: () => number;
}

export const newId = (bytes = 24) => randomBytes(bytes).toString('base64url');

export class SessionStore {
  private readonly live = new Map<string, Session>();
  private readonly ended = new Map<string, EndedSession>();
  private readonly idleMs: number;
  private readonly maxAgeMs: number;
  private readonly tombstoneMs: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(o: SessionOptions = {}) {
    this.idleMs = o.idleMs ?? 2 * 3600_000;
    this.maxAgeMs = o.maxAgeMs ?? 12 * 3600_000;
    this.tombstoneMs = o.tombstoneMs ?? 24 * 3600_000;
    this.now = o.now ?? Date.now;
    this.timer = setInterval(() => this.prune(), 60_000);
    this.timer.unref();
  }

  get size(): number {
    return this.live.size;
  }

  create(data: Omit<Session, 'id' | 'csrf' | 'createdAt' | 'lastSeen'>): Session {
    const now = this.now();
    const s: Session = { ...data, id: newId(), csrf: newId(), createdAt: now, lastSeen: now };
    this.live.set(s.id, s);
    return s;
  }

  /** The session of a cookie value (touched: its idle time starts again), the tombstone of an ended one, or nothing. */
  lookup(id: string | undefined): { session: Session } | { ended: EndedSession } | null {
    if (!id) return null;
    const s = this.live.get(id);
    if (s) {
      const now = this.now();
      if (now - s.lastSeen > this.idleMs || now - s.createdAt > this.maxAgeMs) {
        return { ended: this.end(s, 'expired') };
      }
      s.lastSeen = now;
      return { session: s };
    }
    const e = this.ended.get(id);
    return e ? { ended: e } : null;
  }

  /** Ends a session (logout); its tombstone stays. */
  destroy(id: string): void {
    const s = this.live.get(id);
    if (s) this.end(s, 'logout');
  }

  /** Ends every session (server stop). */
  clear(): void {
    clearInterval(this.timer);
    for (const s of this.live.values()) s.password = undefined;
    this.live.clear();
    this.ended.clear();
  }

  private end(s: Session, why: EndedSession['why']): EndedSession {
    this.live.delete(s.id);
    s.password = undefined;
    const e: EndedSession = { id: s.id, role: s.role, user: s.user, lab: s.lab, endedAt: this.now(), why };
    this.ended.set(s.id, e);
    return e;
  }

  private prune(): void {
    const now = this.now();
    for (const s of this.live.values()) if (now - s.lastSeen > this.idleMs || now - s.createdAt > this.maxAgeMs) this.end(s, 'expired');
    for (const [id, e] of this.ended) if (now - e.endedAt > this.tombstoneMs) this.ended.delete(id);
  }
}

/** Same person: the same role, user and lab. */
export const samePerson = (a: Identity, b: Identity) => a.role === b.role && a.user === b.user && (a.lab ?? -1) === (b.lab ?? -1);
