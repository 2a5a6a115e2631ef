/**
 * The pages not built yet, so the navigation and the guards already work:
 * the instructor's Queue, Message path, Mailbox file and DNS of a lab, the
 * students' Webmail and My lab. Each is one line in
 * {@link registerPlaceholderPages}; whoever builds a page removes its line
 * and registers the real routes (pages/index.ts), with the same guards.
 */
import type { MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { requireAccount, requireInstructor, requireLab, requireLogin, requireStudent } from '../auth/middleware';
import type { WebApp, WebEnv } from '../context';
import { currentLab } from '../context';
import { page } from '../layout';

function placeholder(app: WebApp, path: string, nav: string, label: string, ...guards: MiddlewareHandler<WebEnv>[]) {
  app.get(path, every(...guards), (c) => {
    const lab = c.get('lab') ? currentLab(c) : null;
    const t = c.var.t;
    return page(c, {
      title: t('placeholder.title', { page: t(label) }),
      nav,
      lab: lab?.n ?? null,
      body: (
        <section class="placeholder" data-placeholder={nav}>
          <h1>{t(label)}</h1>
          <p>{t('placeholder.text')}</p>
        </section>
      ),
    });
  });
}

export function registerPlaceholderPages(app: WebApp): void {
  // The instructor's pages of one lab.
  // The students' pages.
}
