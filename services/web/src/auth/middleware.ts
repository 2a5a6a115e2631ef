/**
 * The web server's request guards, in the order they run:
 *
 * - {@link languageAndSession}: the request's language (i18n.ts) and its
 *   session from the cookie (or the tombstone of an ended one);
 * - {@link csrfGuard}: every POST (PUT, PATCH, DELETE) must come from our
 *   own pages: a cross-site Origin or Sec-Fetch-Site is refused, and the
 *   form field `_csrf` or the header `X-CSRF-Token` (htmx sends it, see
 *   layout.tsx) must be the session's token (the login form: its own token,
 *   in a cookie of its own);
 * - per route: {@link requireLogin}, {@link requireInstructor} (401 with the
 *   login form otherwise), {@link requireLab} (`/lab/:n/…`: a student only in
 *   their own lab, 403 otherwise; loads the lab), {@link requireAccount}
 *   (a student only their own account, 403 otherwise).
 *
 * Without a session a page answers 401 with the login form (a browser
 * opening the page is sent to `/login?next=<page>` instead, htmx with
 * HX-Redirect), which posts back `next` so the login returns there; a form posted just
 * after the session ended is kept as a draft (drafts.ts) and comes back
 * with `?draft=<id>`: read it with {@link takeDraft}.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { WebContext, WebEnv } from '../context';
import { isHtmx, isNavigation } from '../context';
import { chooseLang, LANG_COOKIE, t as translate } from '../i18n';
import { labNumberParam } from '../labs';
import { safeNext, type DraftFields } from './drafts';
import { SESSION_COOKIE } from './sessions';
import { LOGIN_COOKIE, loginPage } from './login-page';
import { errorPage } from '../error-page';

/** Sets c.var.lang, c.var.t, c.var.session, c.var.ended. */
export const languageAndSession: MiddlewareHandler<WebEnv> = async (c, next) => {
  const deps = c.var.deps;
  const query = c.req.query('lang');
  const lang = chooseLang(query, getCookie(c, LANG_COOKIE), c.req.header('accept-language'), deps.defaultLang);
  if (query === lang) setCookie(c, LANG_COOKIE, lang, { path: '/', sameSite: 'Lax', maxAge: 365 * 86400 });
  c.set('lang', lang);
  c.set('t', (key, params) => translate(lang, key, params));
  const found = deps.sessions.lookup(getCookie(c, SESSION_COOKIE));
  c.set('session', found && 'session' in found ? found.session : null);
  c.set('ended', found && 'ended' in found ? found.ended : null);
  await next();
};

const UNSAFE = /^(POST|PUT|PATCH|DELETE)$/;

const sameToken = (a: string | undefined, b: string | undefined) => {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The request's own origin as the browser sees it (Host header; we serve plain HTTP). */
const ownOrigin = (c: WebContext) => `http://${c.req.header('host') ?? new URL(c.req.url).host}`;

/** The browser says the request came from another site. */
function crossSite(c: WebContext): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = c.req.header('origin');
  return origin !== undefined && origin !== ownOrigin(c);
}

/** The form's fields (text only), or {} when the body is not a form. */
export async function formFields(c: WebContext): Promise<DraftFields> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return {};
  const body = await c.req.parseBody({ all: true });
  const out: DraftFields = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) {
      const texts = v.filter((x): x is string => typeof x === 'string');
      if (texts.length) out[k] = texts;
    }
  }
  return out;
}

const field = (f: DraftFields, name: string) => (typeof f[name] === 'string' ? (f[name] as string) : undefined);

/** Refuses cross-site and token-less unsafe requests (403). */
export const csrfGuard: MiddlewareHandler<WebEnv> = async (c, next) => {
  if (!UNSAFE.test(c.req.method)) return next();
  if (crossSite(c)) return errorPage(c, 403, 'error.csrf');
  const fields = await formFields(c);
  const sent = c.req.header('x-csrf-token') ?? field(fields, '_csrf');
  const session = c.var.session;
  if (session) {
    if (!sameToken(sent, session.csrf)) return errorPage(c, 403, 'error.csrf');
  } else if (c.req.path === '/login' || /^\/lab\/\d+\/login$/.test(c.req.path)) {
    if (!sameToken(sent, getCookie(c, LOGIN_COOKIE))) return errorPage(c, 403, 'error.csrf');
  } else if (c.var.ended && c.req.path !== '/logout') {
    // A form sent just after the session ended, whatever its route: back to the login, the form kept.
    return needLogin(c);
  }
  // No session and not the login: the route's guard answers (401).
  await next();
};

/** Where to come back to after the login: the page itself (GET), or for a form the page it was on. */
function comeBackTo(c: WebContext, fields: DraftFields): string {
  const own = safeNext(field(fields, '_next'));
  if (own) return own;
  if (c.req.method === 'GET') {
    const u = new URL(c.req.url);
    return safeNext(u.pathname + u.search) ?? '/';
  }
  const ref = c.req.header('referer') ?? (isHtmx(c) ? c.req.header('hx-current-url') : undefined);
  if (ref) {
    try {
      const u = new URL(ref);
      if (`${u.protocol}//${u.host}` === ownOrigin(c)) return safeNext(u.pathname + u.search) ?? '/';
    } catch {
      // not a URL
    }
  }
  return safeNext(c.req.path) ?? '/';
}

/** Why the login form is shown (`/login?need=…`): its message. */
export const NEED_MESSAGE: Record<string, string> = { expired: 'login.expired', instructor: 'login.instructorNeeded', login: 'login.needed' };

/** No session: 401 with the login form (htmx: HX-Redirect to it); a form of an ended session is kept as a draft. */
async function needLogin(c: WebContext, instructor = false): Promise<Response> {
  const fields = UNSAFE.test(c.req.method) ? await formFields(c) : {};
  let next = comeBackTo(c, fields);
  const ended = c.var.ended;
  if (ended && UNSAFE.test(c.req.method) && Object.keys(fields).some((k) => !k.startsWith('_'))) {
    const { _csrf, ...kept } = fields;
    void _csrf;
    const id = c.var.deps.drafts.keep(ended, kept);
    next += `${next.includes('?') ? '&' : '?'}draft=${encodeURIComponent(id)}`;
  }
  const need = ended?.why === 'expired' ? 'expired' : instructor ? 'instructor' : 'login';
  // A browser opening the page or sending a form (a navigation) goes to the login page, which
  // comes back here; htmx is told to go there; anything else gets 401 with the login form.
  const url = `/login?next=${encodeURIComponent(next)}&need=${need}`;
  if (isHtmx(c)) return c.body(null, 401, { 'HX-Redirect': url });
  if (isNavigation(c)) return c.redirect(url, 303);
  return loginPage(c, { next, message: NEED_MESSAGE[need], status: 401 });
}

/** Any logged-in person. */
export const requireLogin: MiddlewareHandler<WebEnv> = async (c, next) => {
  if (!c.var.session) return needLogin(c);
  await next();
};

/** The instructor only: without the instructor login, 401 and the login form. */
export const requireInstructor: MiddlewareHandler<WebEnv> = async (c, next) => {
  if (c.var.session?.role !== 'instructor') return needLogin(c, true);
  await next();
};

/** A student only (the instructor has no mailbox of their own): 403 for the instructor. */
export const requireStudent: MiddlewareHandler<WebEnv> = async (c, next) => {
  const s = c.var.session;
  if (!s) return needLogin(c);
  if (s.role !== 'student') return errorPage(c, 403, 'error.forbidden');
  await next();
};

/**
 * `/lab/:n/…`: a logged-in person who may see lab n (the instructor: any;
 * a student: their own, else 403), and lab n exists (else 404); sets c.var.lab.
 */
export const requireLab: MiddlewareHandler<WebEnv> = async (c, next) => {
  const s = c.var.session;
  if (!s) return needLogin(c);
  const n = labNumberParam(c.req.param('n'));
  if (n === null) return errorPage(c, 404, 'error.notFound');
  if (s.role === 'student' && s.lab !== n) return errorPage(c, 403, 'error.forbidden');
  const lab = await c.var.deps.labs.get(n);
  if (!lab) return errorPage(c, 404, 'error.noLab', { n });
  c.set('lab', lab);
  await next();
};

/**
 * A route with an account in it (`/lab/:n/mailbox/:account`, `user@domain` or
 * the local part of the student's domain): a student only their own (403).
 */
export function requireAccount(param = 'account'): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const s = c.var.session;
    if (!s) return needLogin(c);
    if (s.role === 'student') {
      const raw = decodeURIComponent(c.req.param(param) ?? '').toLowerCase();
      const address = raw.includes('@') ? raw : `${raw}@${s.domain}`;
      if (address !== s.user) return errorPage(c, 403, 'error.forbidden');
    }
    await next();
  };
}

/** The draft a login brought back (`?draft=<id>`), once, for the same person; else null. */
export function takeDraft(c: WebContext): DraftFields | null {
  const s = c.var.session;
  return s ? c.var.deps.drafts.take(c.req.query('draft'), s) : null;
}
