/**
 * Error answers of the web pages: a page in the layout (a fragment for an
 * htmx request) with the message of an i18n key and the status.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isHtmx, type WebContext } from './context';
import { page } from './layout';

export async function errorPage(c: WebContext, status: ContentfulStatusCode, key: string, params: Record<string, string | number> = {}): Promise<Response> {
  const text = c.var.t(key, params);
  if (isHtmx(c)) return c.html(<p class="notice error" role="alert">{text}</p>, status);
  return page(c, {
    title: text,
    status,
    body: (
      <section class="error-page">
        <p class="notice error" role="alert">
          {text}
        </p>
        <p>
          <a href="/">{c.var.t('error.back')}</a>
        </p>
      </section>
    ),
  });
}
