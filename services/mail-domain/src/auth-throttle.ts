/**
 * Slows down password guessing, shared by POP3 (USER/PASS, APOP) and IMAP
 * (LOGIN, AUTHENTICATE). Each failed login is answered only after a
 * delay that doubles with every failure (base, 2x, 4x, capped at 4x base:
 * 1s, 2s, 4s, 4s with the default base), counted both within the session
 * and per client address across sessions, so reconnecting does not reset
 * it. An address's count is forgotten after a successful login or after
 * `forgetAfterMs` without failures. The session closes the connection after
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

  /** Records a failure; returns how long to wait before answering it. */
  fail(address: string, sessionFailures: number): number {
    const now = this.now();
    this.prune(now);
    const entry = this.byAddress.get(address) ?? { failures: 0, last: now };
    entry.failures += 1;
    entry.last = now;
    this.byAddress.set(address, entry);
    const count = Math.max(sessionFailures, entry.failures);
    return Math.min(this.base * 2 ** Math.min(count - 1, 30), this.cap);
  }

  succeed(address: string): void {
    this.byAddress.delete(address);
  }

  private prune(now: number): void {
    for (const [address, entry] of this.byAddress) {
      if (now - entry.last > this.forgetAfter) this.byAddress.delete(address);
    }
  }
}
