/**
 * The one page layout (projector-friendly: large type, high contrast, fits
 * 1280x720): the header with the lab, the navigation of the role, the
 * language switch and the logout; htmx with its SSE extension and our own
 * CSS/JS, all from this server. Everything is rendered with hono/jsx, which
 * escapes every string: a subject or a name with markup shows as text.
 *
 *   return page(c, { title: c.var.t('nav.topology'), nav: 'topology', lab: lab.n, body: <Topology … /> });
 */
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { WebContext } from './context';
import { LANGS, type Lang } from './i18n';
import { navFor } from './nav';
import { assetUrl } from './static';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface PageOptions {
  title: string;
  /** The id of the nav entry this page is (nav.ts). */
  nav?: string;
  /** The lab this page is about: shown in the header, used by the lab nav entries. */
  lab?: number | null;
  body: Child;
  /** A line above the page (a result, a warning). */
  notice?: { kind: 'info' | 'error'; text: string };
  status?: ContentfulStatusCode;
  /** The page's own static files (services/web/public/: `queue.css`, `queue.js`), after web.css / web.js. */
  assets?: string[];
}

/** The current URL with `lang` set (the language switch). */
function withLang(c: WebContext, lang: Lang): string {
  const u = new URL(c.req.url);
  u.searchParams.set('lang', lang);
  return u.pathname + u.search;
}

const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, selfRequestsOnly: true, historyCacheSize: 0 });

export function Layout(props: { c: WebContext } & PageOptions) {
  const { c } = props;
  const t = c.var.t;
  const lang = c.var.lang;
  const session = c.var.session;
  const other = LANGS.find((l) => l !== lang)!;
  const labShown = props.lab ?? (session?.role === 'student' ? (session.lab ?? null) : null);
  const nav = navFor(session?.role);
  const hxHeaders = session ? JSON.stringify({ 'X-CSRF-Token': session.csrf }) : undefined;
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · ${t('app.name')}`}</title>
        <link rel="icon" href={assetUrl('icon.svg')} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl('web.css')} />
        <script src={assetUrl('htmx.min.js')} defer></script>
        <script src={assetUrl('htmx-ext-sse.min.js')} defer></script>
        <script src={assetUrl('web.js')} defer></script>
        {(props.assets ?? []).map((a) => (a.endsWith('.css') ? <link rel="stylesheet" href={assetUrl(a)} /> : <script src={assetUrl(a)} defer></script>))}
      </head>
      <body hx-ext="sse" hx-headers={hxHeaders} data-lang={lang}>
        <header class="top">
          <a class="brand" href="/">
            {t('app.name')}
          </a>
          {labShown !== null && <span class="lab-chip">{t('lab.n', { n: labShown })}</span>}
          {nav.length > 0 && (
            <nav aria-label={t('nav.label')}>
              {nav.map((e) => (
                <a href={e.href(labShown)} class={e.id === props.nav ? 'current' : undefined} aria-current={e.id === props.nav ? 'page' : undefined}>
                  {t(e.label)}
                </a>
              ))}
            </nav>
          )}
          <span class="spacer"></span>
          <a class="lang" href={withLang(c, other)} hreflang={other} lang={other}>
            {t('lang.switch')}
          </a>
          {session && (
            <form method="post" action="/logout" class="logout">
              <input type="hidden" name="_csrf" value={session.csrf} />
              <span class="who" title={t('nav.signedInAs', { name: session.name })}>
                {session.name}
              </span>
              <button type="submit">{t('nav.logout')}</button>
            </form>
          )}
        </header>
        <main id="main">
          {props.notice && (
            <p class={`notice ${props.notice.kind}`} role={props.notice.kind === 'error' ? 'alert' : 'status'}>
              {props.notice.text}
            </p>
          )}
          {props.body}
        </main>
      </body>
    </html>
  );
}

/** Answers with a whole page in the layout. */
export async function page(c: WebContext, o: PageOptions): Promise<Response> {
  return c.html(html`<!DOCTYPE html>${<Layout c={c} {...o} />}`, o.status ?? 200);
}

/** A hidden field with the session's CSRF token, for every POST form. */
export function CsrfField(props: { c: WebContext }) {
  const s = props.c.var.session;
  return s ? <input type="hidden" name="_csrf" value={s.csrf} /> : null;
}
