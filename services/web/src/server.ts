/**
 * The web server of the lab (`npx mail-lab web`): the instructor's live
 * pages and the students' pages, the only HTTP door of the lab meant for
 * the classroom LAN. It is given its labs ({@link LabSource}, labs.ts) and
 * the instructor login; it reaches the labs only over their admin APIs,
 * IMAP and SMTP submission; the browser never calls an admin API.
 *
 *   const web = await startWebServer({ labs, instructor: config.instructor, port: 8080, host: '127.0.0.1' });
 *   console.log(web.url); … await web.close();
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { InstructorConfig } from '../../core/src/config';
import { createLogger, type Logger } from '../../core/src/logger';
import { DraftStore } from './auth/drafts';
import { csrfGuard, languageAndSession, requireLogin } from './auth/middleware';
import { registerAuthRoutes } from './auth/routes';
import { SessionStore, type SessionOptions } from './auth/sessions';
import type { WebDeps, WebEnv } from './context';
import { errorPage } from './error-page';
import type { Lang } from './i18n';
import type { LabSource } from './labs';
import { LiveHub, type LiveHubOptions } from './live/tabs';
import { UpstreamHub, type UpstreamOptions } from './live/upstream';
import { registerPages } from './pages/index';
import { registerStatic } from './static';
import { LabStatusCache } from './status/lab-status';
import { RecentMessages } from './status/recent-messages';

export interface WebServerOptions {
  labs: LabSource;
  /** The instructor's login (the lab definition's `instructor:`); without it only students log in. */
  instructor?: InstructorConfig;
  /** @default 8080 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** When neither ?lang=, the cookie nor Accept-Language decide. @default 'en' */
  defaultLang?: Lang;
  sessions?: SessionOptions;
  live?: Pick<UpstreamOptions, 'graceMs' | 'bufferSize'> & Pick<LiveHubOptions, 'keepAliveMs' | 'tabTtlMs'>;
  /** How long a lab's state is reused by the Class and Topology pages. @default 5000 */
  statusTtlMs?: number;
  /** The largest request body (uploads included). @default 32 MiB */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface WebApplication {
  app: Hono<WebEnv>;
  deps: WebDeps;
  upstream: UpstreamHub;
  close(): void;
}

/**
 * Content-Security-Policy: only this server's scripts, styles, images and
 * connections; no inline script; frames only from here (webmail's sandboxed
 * frame for HTML mail); nobody may frame these pages.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The Hono app with every route, and its shared services (no socket yet). */
export function createWebApp(o: WebServerOptions): WebApplication {
  const logger = o.logger ?? createLogger({}, 'web');
  const upstream = new UpstreamHub({ labs: o.labs, graceMs: o.live?.graceMs, bufferSize: o.live?.bufferSize, logger });
  const deps: WebDeps = {
    labs: o.labs,
    sessions: new SessionStore(o.sessions),
    drafts: new DraftStore(),
    live: new LiveHub({ labs: o.labs, upstream, keepAliveMs: o.live?.keepAliveMs, tabTtlMs: o.live?.tabTtlMs }),
    status: new LabStatusCache({ labs: o.labs, upstream, ttlMs: o.statusTtlMs }),
    recent: new RecentMessages(upstream),
    instructor: o.instructor,
    defaultLang: o.defaultLang ?? 'en',
    logger,
  };
  const app = new Hono<WebEnv>();
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
    c.header('content-security-policy', CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    c.header('x-frame-options', 'DENY');
    if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
  });
  registerStatic(app);
  app.use('*', bodyLimit({ maxSize: o.maxBodyBytes ?? 32 * 1024 * 1024, onError: (c) => c.text('request body too large', 413) }));
  app.use('*', languageAndSession);
  app.use('*', csrfGuard);
  registerAuthRoutes(app);
  app.get('/live', requireLogin, (c) => deps.live.handle(c));
  registerPages(app);
  app.notFound((c) => errorPage(c, 404, 'error.notFound'));
  app.onError((e, c) => {
    if (e instanceof HTTPException) return e.getResponse();
    logger.error('web request failed', { path: c.req.path, error: e.stack ?? e.message });
    if (!c.get('t')) return c.text('internal error', 500);
    return errorPage(c, 500, 'error.internal', { detail: e.message });
  });
  return {
    app,
    deps,
    upstream,
    close() {
      deps.status.close();
      deps.recent.close();
      upstream.close();
      deps.sessions.clear();
    },
  };
}

export interface StartedWebServer {
  url: string;
  host: string;
  port: number;
  web: WebApplication;
  close(): Promise<void>;
}

/** Starts the web server; resolves once it listens. */
export async function startWebServer(o: WebServerOptions): Promise<StartedWebServer> {
  const web = createWebApp(o);
  const host = o.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: web.app.fetch, port: o.port ?? 8080, hostname: host }) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    host,
    port,
    web,
    close: () =>
      new Promise<void>((resolve) => {
        web.close();
        server.close(() => resolve());
        // Event streams stay open until told: end them too.
        server.closeAllConnections();
      }),
  };
}
