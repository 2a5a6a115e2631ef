/**
 * Drafts kept across a login: a form posted just after its session ended
 * (a student's half-written mail) is not lost. The server keeps the form's
 * text fields for the person whose session it was, sends the browser to the
 * login, and after the login back to the page with `?draft=<id>`; the page
 * then calls {@link takeDraft} (auth/middleware.ts re-exports it) to fill
 * its form again. Files in the form are not kept (say so on the page).
 *
 * Where to come back to: a hidden `_next` field in the form (a path of this
 * site), else the page the form was on (Referer), else the form's own path.
 */
import { newId, samePerson, type Identity } from './sessions';

export type DraftFields = Record<string, string | string[]>;

interface Draft {
  owner: Identity;
  fields: DraftFields;
  at: number;
}

export class DraftStore {
  private readonly drafts = new Map<string, Draft>();

  constructor(private readonly o: { ttlMs?: number; max?: number; now?: () => number } = {}) {}

  /** Keeps the fields for `owner`; returns the draft id. */
  keep(owner: Identity, fields: DraftFields): string {
    const now = this.o.now?.() ?? Date.now();
    for (const [id, d] of this.drafts) if (now - d.at > (this.o.ttlMs ?? 3600_000)) this.drafts.delete(id);
    while (this.drafts.size >= (this.o.max ?? 1000)) this.drafts.delete(this.drafts.keys().next().value!);
    const id = newId(12);
    this.drafts.set(id, { owner: { role: owner.role, user: owner.user, lab: owner.lab }, fields, at: now });
    return id;
  }

  /** The fields, once, if `who` is the person the draft was kept for. */
  take(id: string | undefined, who: Identity): DraftFields | null {
    if (!id) return null;
    const d = this.drafts.get(id);
    if (!d || !samePerson(d.owner, who)) return null;
    this.drafts.delete(id);
    return d.fields;
  }
}

/** A path of this site to come back to (no scheme, no host, no `//`), or null. */
export function safeNext(next: unknown): string | null {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || /[\\\r\n\0]/.test(next) || next.length > 2000) return null;
  if (next.startsWith('/login') || next.startsWith('/logout') || next.startsWith('/live')) return null;
  return next;
}
