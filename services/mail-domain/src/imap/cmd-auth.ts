/**
 * Authentication: LOGIN (RFC 3501 section 6.2.3) and AUTHENTICATE PLAIN
 * (RFC 3501 section 6.2.2, RFC 4616) with or without the SASL-IR initial
 * response (RFC 4959). Credentials never reach the transcript. A failed
 * login is answered after the shared throttle's delay; the third one closes
 * the connection. When the lab requires TLS, both are refused before
 * STARTTLS with [PRIVACYREQUIRED] (RFC 5530), and CAPABILITY says
 * LOGINDISABLED.
 */
import { MAX_AUTH_FAILURES } from '../auth-throttle';
import type { Command, CommandOf } from './commands';
import { bad, no, ok, type Result } from './result';
import type { Session } from './session';

type Cmd<N extends Command['name']> = CommandOf<N>;

async function authenticated(s: Session, login: string, password: string, how: string): Promise<Result> {
  const user = await s.ctx.accounts.verify(login, password);
  const address = s.socket.remoteAddress ?? 'unknown';
  if (!user || !s.ctx.store.hasUser(user)) {
    // Like POP3: the answer waits (1 s, 2 s, 4 s, ... per session, client address and account); the third failure ends the session.
    s.authFailures += 1;
    const delay = s.ctx.throttle.fail(address, s.authFailures, s.ctx.accounts.localUser(login) ?? login);
    s.log.warn('login failed', { login, how, failures: s.authFailures, delayMs: delay });
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (s.authFailures >= MAX_AUTH_FAILURES) {
      s.writeText('* BYE Too many authentication failures');
      s.state = 'logout';
      return no('Invalid credentials; too many failures, closing the connection', 'AUTHENTICATIONFAILED');
    }
    return no('Invalid credentials', 'AUTHENTICATIONFAILED');
  }
  s.ctx.throttle.succeed(address, user);
  s.user = user;
  s.state = 'authenticated';
  s.log.info('login', { user, how });
  return ok(`${how} completed, welcome ${user}`, `CAPABILITY ${s.capabilities().join(' ')}`);
}

/** requireTls and not TLS yet: the refusal, else null. */
function needsTls(s: Session, what: string): Result | null {
  if (!s.ctx.tls?.requireTls || s.tls) return null;
  return no(`${what} over an unencrypted connection is not allowed here: use STARTTLS first`, 'PRIVACYREQUIRED');
}

export async function login(s: Session, _tag: string, cmd: Cmd<'LOGIN'>): Promise<Result> {
  return needsTls(s, 'LOGIN') ?? authenticated(s, cmd.user, cmd.password, 'LOGIN');
}

export async function authenticate(s: Session, _tag: string, cmd: Cmd<'AUTHENTICATE'>): Promise<Result> {
  const refused = needsTls(s, 'AUTHENTICATE');
  if (refused) return refused;
  if (cmd.mechanism !== 'PLAIN') return no(`Unsupported mechanism ${cmd.mechanism} (AUTH=PLAIN only)`, 'CANNOT');
  let response = cmd.initial;
  if (response === null) {
    s.writeText('+ ');
    response = await s.readLine(true);
    if (response === null) return bad('Connection closed');
  }
  if (response.trim() === '*') return bad('AUTHENTICATE cancelled');
  if (response === '=') response = '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(response.trim())) return bad('Invalid base64 in AUTHENTICATE response');
  const parts = Buffer.from(response.trim(), 'base64').toString('utf8').split('\u0000');
  if (parts.length !== 3) return bad('Malformed PLAIN response (authzid NUL authcid NUL password)');
  const [authzid, authcid, password] = parts;
  if (authzid && s.ctx.accounts.localUser(authzid) !== s.ctx.accounts.localUser(authcid)) {
    return no('Authorization identity must match the login', 'AUTHORIZATIONFAILED');
  }
  return authenticated(s, authcid, password, 'AUTHENTICATE');
}
