/**
 * The client's kinds of failure and how socket, DNS and library errors
 * become one sentence a student can act on (never a stack trace):
 * `ClientError` (exit status 1: the lab said no, or could not be reached),
 * `UnreachableError`, the ClientError that means "the server cannot be
 * reached right now" (nothing listens, no answer, no route, the DNS does
 * not answer, 421 service not available), which `send` answers by keeping
 * the message in the outbox, and `UsageError` (exit status 2: the command
 * line itself is wrong).
 */

/** Something went wrong talking to the lab; exit status 1. */
export class ClientError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The command line is wrong (missing password, bad address, bad number); exit status 2. */
export class UsageError extends ClientError {
  override readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The server cannot be reached now; trying again later may work (the outbox waits for it). */
export class UnreachableError extends ClientError {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

export function isClientError(e: unknown): e is ClientError {
  return e instanceof ClientError;
}

/** Where a connection was going, for the messages. */
export interface Target {
  host: string;
  port: number;
  timeoutMs: number;
}

export function loginFailed(user: string): ClientError {
  return new ClientError(`login failed for ${user}: wrong user name or password`);
}

export function notInDns(host: string): ClientError {
  return new ClientError(`cannot find host ${host}: not in the lab DNS`);
}

export function timedOut(t: Target, what = 'an answer'): ClientError {
  return new UnreachableError(`timed out after ${t.timeoutMs / 1000}s waiting for ${what} from ${t.host}:${t.port}`);
}

const code = (e: unknown): string | undefined => {
  if (typeof e !== 'object' || e === null) return undefined;
  const o = e as { code?: unknown; originalCode?: unknown };
  // nodemailer keeps the system error's code in originalCode (its own code is ESOCKET/EDNS).
  if (typeof o.originalCode === 'string') return o.originalCode;
  return typeof o.code === 'string' ? o.code : undefined;
};

/**
 * A socket-level error as a sentence, or null when `e` is not one.
 * Covers what net.connect, nodemailer and imapflow throw.
 */
export function networkError(e: unknown, t: Target): ClientError | null {
  if (isClientError(e)) return e;
  const where = `${t.host}:${t.port}`;
  switch (code(e)) {
    case 'ECONNREFUSED':
      return new UnreachableError(`nothing listens on ${where} (is the lab up?)`);
    case 'ENOTFOUND':
    case 'EREFUSED':
    case 'ENODATA':
      return notInDns(t.host);
    case 'ETIMEDOUT':
    case 'ETIMEOUT':
    case 'CONNECT_TIMEOUT':
    case 'GREETING_TIMEOUT':
    case 'SOCKET_TIMEOUT':
      return timedOut(t);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UnreachableError(`cannot reach ${where}: no route (is the link between the networks broken?)`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'NoConnection':
    case 'ECONNECTION':
      return new UnreachableError(`${where} closed the connection unexpectedly`);
    default:
      return null;
  }
}

/** The message of anything thrown, for the last-resort report. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
