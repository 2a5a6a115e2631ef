/**
 * A domain's accounts and aliases, from the lab definition: who is local,
 * what an alias expands to (EXPN), and password checks for SMTP AUTH, POP3
 * and IMAP logins. Logins may be `user` or `user@domain`.
 */
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
}

export function createAccountDirectory(domain: DomainConfig): AccountDirectory {
  const byUser = new Map(domain.accounts.map((a) => [a.user, a]));
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
      if (account.passwordHash) return (await verifyPassword(password, account.passwordHash)) ? user : null;
      return account.password === password ? user : null;
    },
    apopSecret: (user) => byUser.get(user)?.password ?? null,
  };
}
