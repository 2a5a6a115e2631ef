/**
 * `/`: where each person starts. Not logged in: the login form; the
 * instructor: the Class page; a student: their lab (`/lab/N/`).
 */
import { loginPage } from '../auth/login-page';
import type { WebApp } from '../context';

export function registerHomePages(app: WebApp): void {
  app.get('/', (c) => {
    const s = c.var.session;
    if (!s) return loginPage(c, { message: c.var.ended?.why === 'expired' ? 'login.expired' : undefined });
    return c.redirect(s.role === 'instructor' ? '/class' : `/lab/${s.lab}/`, 302);
  });
}
