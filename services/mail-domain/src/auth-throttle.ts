/**
 * Slows down password guessing, shared by POP3 (USER/PASS, APOP), IMAP
 * (LOGIN, AUTHENTICATE) and SMTP AUTH. Each failed login is answered only
 * after a delay that doubles with every failure (base, 2x, 4x, capped at 4x
 * base: 1s, 2s, 4s, 4s with the default base), counted within the session,
 * per client address and per account across sessions, so neither
 * reconnecting nor guessing one account from many addresses resets it. A
 * count is forgotten after a successful login (for that address and
 * account) or after `forgetAfterMs` without failures. The session closes the connection after
 * `MAX_AUTH_FAILURES` failures.
 */

/** Failed logins after which the session closes the connection. */
export const MAX_AUTH_FAILURES = 3;

/** Default base delay after a failed login. */
export const DEFAULT_AUTH_FAILURE_DELAY_MS = 1000;

export interface AuthThrottleOptions {
  /** Delay after the first failure. @default 1000 */
  baseDelayMs?: number;
  /** The delay never exceeds base * this factor. @default 4 */
  capFactor?: number;
  /** An address's failures are forgotten after this long without another. @default 15 minutes */
  forgetAfterMs?: number;
  now?: () => number;
}

export class AuthThrottle {
  private readonly byAddress = new Map<string, { failures: number; last: number }>();
  private readonly byAccount = new Map<string, { failures: number; last: number }>();
  private readonly base: number;
  private readonly cap: number;
  private readonly forgetAfter: number;
  private readonly now: () => number;

  constructor(options: AuthThrottleOptions = {}) {
    this.base = options.baseDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS;
    this.cap = this.base * (options.capFactor ?? 4);
    this.forgetAfter = options.forgetAfterMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Records a failure (of `account`, the login as typed, when known); returns how long to wait before answering it. */
  fail(address: string, sessionFailures: number, account?: string): number {
    const now = this.now();
    this.prune(now);
    const count = (map: Map<string, { failures: number; last: number }>, key: string) => {
      const entry = map.get(key) ?? { failures: 0, last: now };
      entry.failures += 1;
      entry.last = now;
      map.set(key, entry);
      return entry.failures;
    };
    const byAddress = count(this.byAddress, address);
    const byAccount = account ? count(this.byAccount, account.trim().toLowerCase()) : 0;
    const n = Math.max(sessionFailures, byAddress, byAccount);
    return Math.min(this.base * 2 ** Math.min(n - 1, 30), this.cap);
  }

  succeed(address: string, account?: string): void {
    this.byAddress.delete(address);
    if (account) this.byAccount.delete(account.trim().toLowerCase());
  }

  private prune(now: number): void {
    for (const map of [this.byAddress, this.byAccount]) {
      for (const [key, entry] of map) if (now - entry.last > this.forgetAfter) map.delete(key);
    }
  }
}
