/**
 * Every page of the web server, registered in one place. To add a page:
 *
 * 1. a route file in pages/ (`pages/queue.tsx`) with its messages
 *    (`addMessages({ 'queue.title': { en, id } })`) and
 *    `export function registerQueuePages(app: WebApp)`: routes with their
 *    guards (auth/middleware.ts: requireInstructor, requireStudent,
 *    requireLab, requireAccount), answering `page(c, { title, nav, lab, body })`
 *    (layout.tsx); live parts with `liveUrl`/`liveTrigger` (live/tabs.ts);
 * 2. its call below, instead of its placeholder line (pages/placeholders.tsx);
 * 3. its nav entry in nav.ts (the entries of all planned pages are there).
 */
import type { WebApp } from '../context';
import { registerClassPages } from './class';
import { registerHomePages } from './home';
import { registerPlaceholderPages } from './placeholders';
import { registerQueuePages } from './queue';
import { registerMailboxPages } from './mailbox';
import { registerDnsPages } from './dns';
import { registerPathPages } from './path';
import { registerTopologyPages } from './topology';
import { registerWebmailPages } from './webmail';
import { registerMyLabPages } from './mylab';

export function registerPages(app: WebApp): void {
  registerHomePages(app);
  registerClassPages(app);
  registerTopologyPages(app);
  registerQueuePages(app);
  registerMailboxPages(app);
  registerDnsPages(app);
  registerPathPages(app);
  registerWebmailPages(app);
  registerMyLabPages(app);
  registerPlaceholderPages(app);
}
