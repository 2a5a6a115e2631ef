/**
 * The login form, shared by `/login`, `/lab/N/login` and every page that
 * needs a login (answered 401 with this form): account, password and, for
 * students, the lab (a chooser of the running labs, or fixed by
 * `/lab/N/login`). It posts back `next`, the page to return to (with a kept
 * draft), and its own CSRF token (a cookie of its own: there is no session yet).
 */
import { getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { WebContext } from '../context';
import { page } from '../layout';
import { newId } from './sessions';

/** The login form's own CSRF token (double submit: this cookie and the form field). */
export const LOGIN_COOKIE = 'ml_login';

export interface LoginPageOptions {
  next?: string;
  /** An i18n key: why the form is shown (login.failed, login.expired, …). */
  message?: string;
  /** Lab fixed by `/lab/N/login`. */
  lab?: number;
  account?: string;
  status?: ContentfulStatusCode;
}

export async function loginPage(c: WebContext, o: LoginPageOptions = {}): Promise<Response> {
  const t = c.var.t;
  let token = getCookie(c, LOGIN_COOKIE);
  if (!token || !/^[A-Za-z0-9_-]{20,64}$/.test(token)) {
    token = newId();
    setCookie(c, LOGIN_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'Lax' });
  }
  const labs = o.lab === undefined ? await c.var.deps.labs.list().catch(() => []) : [];
  const error = o.message === 'login.failed';
  return page(c, {
    title: t('login.title'),
    lab: o.lab ?? null,
    status: o.status,
    notice: o.message ? { kind: error ? 'error' : 'info', text: t(o.message) } : undefined,
    body: (
      <section class="login">
        <h1>{t('login.title')}</h1>
        <p class="intro">{t('login.intro')}</p>
        <form method="post" action={o.lab === undefined ? '/login' : `/lab/${o.lab}/login`} class="login-form">
          <input type="hidden" name="_csrf" value={token} />
          {o.next && <input type="hidden" name="next" value={o.next} />}
          <label>
            <span>{t('login.account')}</span>
            <input name="account" autocomplete="username" required autofocus value={o.account ?? ''} placeholder={t('login.accountHint')} />
          </label>
          <label>
            <span>{t('login.password')}</span>
            <input name="password" type="password" autocomplete="current-password" required />
          </label>
          {o.lab === undefined ? (
            <label>
              <span>{t('login.lab')}</span>
              <select name="lab">
                <option value="">–</option>
                {labs.map((l) => (
                  <option value={String(l.n)} selected={labs.length === 1}>
                    {t('lab.n', { n: l.n })}
                  </option>
                ))}
              </select>
              <small>{t('login.labHint')}</small>
            </label>
          ) : (
            <input type="hidden" name="lab" value={String(o.lab)} />
          )}
          <button type="submit">{t('login.submit')}</button>
        </form>
      </section>
    ),
  });
}
