/**
 * What every request handler of the web server can reach: the Hono
 * environment ({@link WebEnv}: the language, the session, the lab of a
 * `/lab/:n/…` page, the shared services) and small getters for page authors.
 *
 *   app.get('/lab/:n/queue', requireInstructor, requireLab, async (c) => {
 *     const lab = currentLab(c);          // the WebLab (admin clients, ports)
 *     const s = currentSession(c);        // who is logged in (role, user, lab)
 *     return page(c, { title: c.var.t('nav.queue'), body: <p>{lab.n}</p> });
 *   });
 */
import type { Context, Hono } from 'hono';
import type { InstructorConfig } from '../../core/src/config';
import type { Logger } from '../../core/src/logger';
import type { DraftStore } from './auth/drafts';
import type { EndedSession, Session, SessionStore } from './auth/sessions';
import type { Lang } from './i18n';
import type { LabSource, WebLab } from './labs';
import type { LiveHub } from './live/tabs';
import type { LabStatusCache } from './status/lab-status';
import type { RecentMessages } from './status/recent-messages';

/** The shared services of one web server. */
export interface WebDeps {
  labs: LabSource;
  sessions: SessionStore;
  drafts: DraftStore;
  live: LiveHub;
  status: LabStatusCache;
  /** The labs' recent messages and their live events (the Message path page). */
  recent: RecentMessages;
  instructor?: InstructorConfig;
  defaultLang: Lang;
  logger: Logger;
}

export interface WebEnv {
  Variables: {
    deps: WebDeps;
    lang: Lang;
    /** The message of a key in the request's language (i18n.ts). */
    t: (key: string, params?: Record<string, string | number>) => string;
    /** The logged-in session, or null. */
    session: Session | null;
    /** The session the cookie named, when it has ended (expired or logged out). */
    ended: EndedSession | null;
    /** The lab of a `/lab/:n/…` route, set by requireLab. */
    lab: WebLab;
  };
}

export type WebContext = Context<WebEnv>;
export type WebApp = Hono<WebEnv>;

/** The logged-in session; throws when the route did not require one (a programming error). */
export function currentSession(c: WebContext): Session {
  const s = c.get('session');
  if (!s) throw new Error('currentSession: this route has no login guard (use requireLogin, requireInstructor or requireLab)');
  return s;
}

/** The lab of a `/lab/:n/…` route (requireLab loaded it). */
export function currentLab(c: WebContext): WebLab {
  const lab = c.get('lab');
  if (!lab) throw new Error('currentLab: this route has no requireLab guard');
  return lab;
}

export const isHtmx = (c: WebContext) => c.req.header('hx-request') === 'true';

/** A browser loading a page (a link, a typed URL, a form): Sec-Fetch-Mode: navigate. */
export const isNavigation = (c: WebContext) => c.req.header('sec-fetch-mode') === 'navigate';
