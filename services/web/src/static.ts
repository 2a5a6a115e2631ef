/**
 * The web pages' static files, served by the web server itself (classrooms
 * are offline: no CDN): htmx and its SSE extension from node_modules, and
 * our own files from services/web/public/ (every file there is served; add
 * yours and link it with {@link assetUrl}). URLs carry a hash of the
 * content (`/static/3f2a9c1b/web.css`), so they are cached for a year and a
 * changed file gets a new URL.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Hono } from 'hono';

interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** services/web/public, from the sources (ts-jest) or from dist/services/web/src. */
export function publicDir(): string {
  for (const d of [join(__dirname, '..', 'public'), join(__dirname, '..', '..', '..', '..', 'services', 'web', 'public')]) if (existsSync(d)) return d;
  throw new Error(`services/web/public not found near ${__dirname}`);
}

/** The vendored files: name in our URLs -> module path. */
const VENDOR: Record<string, string> = {
  'htmx.min.js': 'htmx.org/dist/htmx.min.js',
  'htmx-ext-sse.min.js': 'htmx-ext-sse/dist/sse.min.js',
};

let assets: Map<string, Asset> | null = null;

function load(): Map<string, Asset> {
  if (assets) return assets;
  const m = new Map<string, Asset>();
  const add = (name: string, file: string) => {
    const body = readFileSync(file);
    m.set(name, { body, type: TYPES[extname(name)] ?? 'application/octet-stream', hash: createHash('sha256').update(body).digest('hex').slice(0, 10) });
  };
  for (const [name, mod] of Object.entries(VENDOR)) add(name, require.resolve(mod));
  const dir = publicDir();
  for (const f of readdirSync(dir)) if (statSync(join(dir, f)).isFile()) add(f, join(dir, f));
  assets = m;
  return m;
}

/** The URL of a static file (`web.css`, `htmx.min.js`); throws for an unknown one. */
export function assetUrl(name: string): string {
  const a = load().get(name);
  if (!a) throw new Error(`no static file ${name} (services/web/public/ or the vendored htmx files)`);
  return `/static/${a.hash}/${name}`;
}

/** Serves `/static/:hash/:name`: a year of caching when the hash is the current one. */
export function registerStatic(app: Hono<any>): void {
  app.get('/static/:hash/:name', (c) => {
    const a = load().get(c.req.param('name'));
    if (!a) return c.text('no such file', 404);
    const current = a.hash === c.req.param('hash');
    return c.body(new Uint8Array(a.body), 200, {
      'content-type': a.type,
      'cache-control': current ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
  });
}
