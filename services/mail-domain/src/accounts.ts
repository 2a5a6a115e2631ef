/**
 * A domain's accounts and aliases, from the lab definition: who is local,
 * what an alias expands to (EXPN), and password checks for SMTP AUTH, POP3
 * and IMAP logins. Logins may be `user` or `user@domain`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DomainConfig } from '../../core/src/config';
import { verifyPassword } from '../../core/src/password';

export interface AccountDirectory {
  readonly domain: string;
  /** Local user names, in lab-definition order. */
  users(): string[];
  /** `mbrain` or `mbrain@garudayaksa.com` (any case) -> `mbrain`; null when not an account here. */
  localUser(login: string): string | null;
  /** Display name of a local user, if the lab definition gives one. */
  displayName(user: string): string | undefined;
  /** Expansion of an alias (local part), as full addresses; null when it is not an alias. */
  expandAlias(localPart: string): string[] | null;
  /** Checks a login; returns the local user on success, null on any failure. */
  verify(login: string, password: string): Promise<string | null>;
  /**
   * The plain shared secret for APOP (RFC 1939 section 7), available only
   * for accounts whose lab definition keeps a plain `password`; hashed
   * accounts cannot do APOP.
   */
  apopSecret(user: string): string | null;
  /** A new password hash for an account (generated student accounts, new passwords on the cards); a remembered login is forgotten. */
  setPasswordHash(user: string, hash: string): void;
  /**
   * The domain's accounts and aliases anew (`npx mail-lab reload`): from the next call on,
   * logins, RCPT and EXPN see them; a remembered login of an account that changed or went is forgotten.
   */
  replace(domain: DomainConfig): void;
}

export interface AccountDirectoryOptions {
  /** The slow hash check (default: scrypt, core/src/password.ts); tests count its calls. */
  verifyHash?: (password: string, stored: string) => Promise<boolean>;
  /** How long a successful login is remembered (default 10 minutes; 0: never). */
  cacheMs?: number;
  now?: () => number;
}

/**
 * A successful login is remembered for a while, as Dovecot's auth cache
 * does: mail programs log in again every few minutes (30 of them in a
 * class, and POP3 clients once per check), and each scrypt check costs
 * 16 MB of memory and tens of milliseconds of CPU. Only successes are kept,
 * as an HMAC of user and password under a key made at start-up (never the
 * password); a wrong password always goes through scrypt, so failures take
 * as long as before and the failed-login throttle sees them all.
 */
export function createAccountDirectory(first: DomainConfig, options: AccountDirectoryOptions = {}): AccountDirectory {
  let domain = first;
  let byUser = new Map(domain.accounts.map((a) => [a.user, a]));
  const verifyHash = options.verifyHash ?? verifyPassword;
  const cacheMs = options.cacheMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const cacheKey = randomBytes(32);
  const remembered = new Map<string, { digest: Buffer; until: number }>();
  const digest = (user: string, password: string) => createHmac('sha256', cacheKey).update(user).update('\0').update(password).digest();
  const checkHash = async (user: string, password: string, stored: string): Promise<boolean> => {
    const d = digest(user, password);
    const r = remembered.get(user);
    if (r && r.until > now() && timingSafeEqual(r.digest, d)) return true;
    const ok = await verifyHash(password, stored);
    if (ok && cacheMs > 0) remembered.set(user, { digest: d, until: now() + cacheMs });
    return ok;
  };
  const localUser = (login: string): string | null => {
    const lower = login.trim().toLowerCase();
    const at = lower.lastIndexOf('@');
    if (at >= 0 && lower.slice(at + 1) !== domain.name) return null;
    const user = at >= 0 ? lower.slice(0, at) : lower;
    return byUser.has(user) ? user : null;
  };
  return {
    domain: domain.name,
    users: () => [...byUser.keys()],
    localUser,
    displayName: (user) => byUser.get(user)?.name,
    expandAlias: (localPart) => {
      // Own keys only: `constructor` or `__proto__` is nobody's alias.
      const name = localPart.toLowerCase();
      const targets = Object.hasOwn(domain.aliases, name) ? domain.aliases[name] : undefined;
      return targets ? targets.map((t) => (t.includes('@') ? t : `${t}@${domain.name}`)) : null;
    },
    verify: async (login, password) => {
      const user = localUser(login);
      const account = user ? byUser.get(user) : undefined;
      if (!user || !account) return null;
      if (account.passwordHash) return (await checkHash(user, password, account.passwordHash)) ? user : null;
      return account.password === password ? user : null;
    },
    apopSecret: (user) => byUser.get(user)?.password ?? null,
    setPasswordHash: (user, hash) => {
      const a = byUser.get(user);
      if (!a) return;
      byUser.set(user, { ...a, passwordHash: hash, password: undefined });
      remembered.delete(user);
    },
    replace: (next) => {
      const before = byUser;
      byUser = new Map(next.accounts.map((a) => [a.user, a]));
      domain = next;
      for (const user of [...remembered.keys()]) {
        const a = before.get(user);
        const b = byUser.get(user);
        if (!a || !b || a.passwordHash !== b.passwordHash || a.password !== b.password) remembered.delete(user);
      }
    },
  };
}
