/**
 * Commands valid in several states: CAPABILITY, NOOP, LOGOUT (RFC 3501
 * section 6.1), ID (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342),
 * STARTTLS (6.2.1: OK, then the session does the handshake; NO when the
 * server has no certificate), CHECK (6.4.1) and IDLE (RFC 2177).
 */
import type { Command, CommandOf } from './commands';
import { bad, no, ok, type Result } from './result';
import type { Session } from './session';
import { raw } from './wire';

type Cmd<N extends Command['name']> = CommandOf<N>;

/** RFC 2177 advises clients to re-IDLE within 29 minutes; allow 30 while idling. */
const IDLE_TIMEOUT = 30 * 60_000;
const IDLE_POLL = 5_000;

export async function capability(s: Session): Promise<Result> {
  s.untagged([raw('CAPABILITY'), ...s.capabilities().map(raw)]);
  return ok('CAPABILITY completed');
}

export async function noop(s: Session, _tag: string, cmd: Cmd<'NOOP' | 'CHECK'>): Promise<Result> {
  if (s.view) s.view.dirty = true; // poll the store: EXISTS / EXPUNGE / FLAGS follow
  return ok(`${cmd.name} completed`);
}

export async function logout(s: Session): Promise<Result> {
  s.writeText('* BYE Logging out');
  s.state = 'logout';
  s.view = null;
  return ok('LOGOUT completed');
}

export async function id(s: Session): Promise<Result> {
  s.untagged([raw('ID'), ['name', 'mail-lab', 'vendor', 'mail-lab', 'support-url', 'https://localhost/']]);
  return ok('ID completed');
}

/** RFC 5161: we offer no ENABLE-able extensions, so the ENABLED list is empty. */
export async function enable(s: Session): Promise<Result> {
  s.untagged([raw('ENABLED')]);
  return ok('ENABLE completed');
}

/** RFC 2342: one personal namespace, no prefix, `/` separator. */
export async function namespace(s: Session): Promise<Result> {
  s.untagged([raw('NAMESPACE'), [['', '/']], null, null]);
  return ok('NAMESPACE completed');
}

export async function starttls(s: Session): Promise<Result> {
  if (!s.ctx.tls) return no('TLS is not available on this server (it has no certificate)');
  if (s.tls) return bad('TLS is already active');
  s.pendingTls = true;
  return ok('Begin TLS negotiation now');
}

/** RFC 2177: `+ idling`, updates as they happen, until the client sends DONE. */
export async function idle(s: Session): Promise<Result> {
  s.idling = true;
  s.setIdleTimeout(Math.max(IDLE_TIMEOUT, s.ctx.limits.sessionIdle));
  s.writeText('+ idling');
  await s.flushUpdates(true, true);
  // Store events cover changes made through the store; polling also catches hand edits of the mbox file.
  const poll = setInterval(() => void s.flushUpdates(true, true), IDLE_POLL);
  const line = await s.readLine(false);
  clearInterval(poll);
  s.idling = false;
  s.setIdleTimeout(s.ctx.limits.sessionIdle);
  if (line === null) return ok('IDLE terminated');
  if (line.trim().toUpperCase() !== 'DONE') return bad('Expected DONE to end IDLE');
  return ok('IDLE terminated');
}
