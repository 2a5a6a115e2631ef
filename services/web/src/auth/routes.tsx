/**
 * The login and logout routes. `POST /login` (or `/lab/N/login`) with
 * account, password, lab and next: an account without `@` is the
 * instructor's login (lab definition), one with `@` a student's lab account,
 * checked by IMAP LOGIN in the chosen lab. Any wrong part gets the same
 * message; the answer to a failure waits a little (the mail server's own
 * throttle adds its delays to the students' failures).
 */
import { deleteCookie, setCookie } from 'hono/cookie';
import { isNavigation, type WebApp, type WebContext } from '../context';
import { errorPage } from '../error-page';
import { labNumberParam } from '../labs';
import { safeNext } from './drafts';
import { checkInstructor } from './instructor';
import { loginPage } from './login-page';
import { formFields, NEED_MESSAGE } from './middleware';
import { SESSION_COOKIE, type Session } from './sessions';
import { checkStudent } from './student';

/** Waited before answering a failed login (the IMAP server adds its own for students). */
const FAILURE_DELAY_MS = 400;

const text = (v: unknown) => (typeof v === 'string' ? v : '');

function startSession(c: WebContext, data: Omit<Session, 'id' | 'csrf' | 'createdAt' | 'lastSeen'>, next: string | null): Response {
  const old = c.var.session;
  if (old) c.var.deps.sessions.destroy(old.id);
  const s = c.var.deps.sessions.create(data);
  setCookie(c, SESSION_COOKIE, s.id, { path: '/', httpOnly: true, sameSite: 'Lax' });
  c.var.deps.logger.info('login', { role: s.role, user: s.user, lab: s.lab });
  const home = s.role === 'instructor' ? '/class' : `/lab/${s.lab}/`;
  // A student is sent back only to a page of their own lab.
  const back = next && (s.role === 'instructor' || next.startsWith(`/lab/${s.lab}/`)) ? next : home;
  return c.redirect(back, 303);
}

async function login(c: WebContext, fixedLab: number | undefined): Promise<Response> {
  const f = await formFields(c);
  const account = text(f.account).trim();
  const password = text(f.password);
  const next = safeNext(text(f.next));
  // 401 (a browser gets the form again with 200: its console would call a 401 page an error).
  const refused = isNavigation(c) ? 200 : 401;
  const failed = async (message = 'login.failed') => {
    await new Promise((r) => setTimeout(r, FAILURE_DELAY_MS));
    return loginPage(c, { next: next ?? undefined, message, lab: fixedLab, account, status: refused });
  };
  if (!account || !password || account.length > 320 || password.length > 1024) return failed();
  if (!account.includes('@')) {
    const who = await checkInstructor(c.var.deps.instructor, account, password);
    if (!who) {
      c.var.deps.logger.warn('instructor login failed', { user: account });
      return failed();
    }
    return startSession(c, { role: 'instructor', user: who.user, name: who.name }, next);
  }
  const n = fixedLab ?? labNumberParam(text(f.lab));
  const lab = n === null ? null : await c.var.deps.labs.get(n);
  if (!lab) {
    // The same words as a wrong password, and about the same wait.
    await verifyDelay();
    return failed();
  }
  const r = await checkStudent(lab, account, password);
  if (!r.ok) {
    c.var.deps.logger.warn('student login failed', { account, lab: lab.n, why: r.why, detail: r.detail });
    if (r.why === 'unreachable') return loginPage(c, { next: next ?? undefined, message: 'login.unreachable', lab: fixedLab, account, status: isNavigation(c) ? 200 : 503 });
    return failed();
  }
  return startSession(c, { role: 'student', user: r.address, name: r.name, lab: lab.n, domain: r.domain, localPart: r.localPart, password }, next);
}

/** About as long as an IMAP round trip with a failed LOGIN, so a wrong lab is not told apart by time. */
const verifyDelay = () => new Promise((r) => setTimeout(r, 50 + Math.random() * 50));

export function registerAuthRoutes(app: WebApp): void {
  app.get('/login', (c) => {
    const next = safeNext(c.req.query('next'));
    const need = c.req.query('need');
    return loginPage(c, { next: next ?? undefined, message: need && Object.hasOwn(NEED_MESSAGE, need) ? NEED_MESSAGE[need] : c.req.query('out') ? 'login.loggedOut' : undefined });
  });
  app.get('/lab/:n/login', async (c) => {
    const n = labNumberParam(c.req.param('n'));
    if (n === null || !(await c.var.deps.labs.get(n))) return errorPage(c, 404, 'error.noLab', { n: c.req.param('n') });
    return loginPage(c, { lab: n, next: safeNext(c.req.query('next')) ?? undefined });
  });
  app.post('/login', (c) => login(c, undefined));
  app.post('/lab/:n/login', async (c) => {
    const n = labNumberParam(c.req.param('n'));
    if (n === null) return errorPage(c, 404, 'error.notFound');
    return login(c, n);
  });
  app.post('/logout', (c) => {
    const s = c.var.session;
    if (s) {
      c.var.deps.sessions.destroy(s.id);
      c.var.deps.logger.info('logout', { role: s.role, user: s.user });
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login?out=1', 303);
  });
}
