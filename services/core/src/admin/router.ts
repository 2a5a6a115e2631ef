/**
 * The admin APIs' server side: one small JSON router used by the lab DNS
 * and the mail domains. It does, for every route, what the routes must not
 * each do for themselves:
 *
 * - authentication: every route but `GET /health` needs
 *   `Authorization: Bearer <the lab's admin token>` (token.ts); a wrong or
 *   missing token gets 401 and nothing is done;
 * - routing by the route objects of api.ts: an unknown path is 404, a known
 *   path with another method 405 (with `Allow`);
 * - input: path parameters, the query (GET) or the JSON body (POST, at most
 *   64 KiB) checked by the route's zod schema; a malformed body is 400
 *   `bad-json`, a bad field 400 `bad-argument` naming the field;
 * - answers: the handler's value as JSON, an {@link ApiError} as its status
 *   and code, anything else as 500 `internal` (logged).
 * A {@link JsonArrayStream} answer is written a batch of items at a time,
 * between turns of the event loop. Streaming routes (`/events`) get the
 * request and response themselves.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Logger } from '../logger';
import { drainOrClose } from '../drain';
import { ApiError, type ApiErrorBody } from './errors';
import { matchPath, type Route, type RouteParsed, type RouteResponse } from './route';

export interface RouterOptions {
  /** For messages, e.g. `dadali.com` or `the lab DNS`. */
  service: string;
  /** The lab's admin token; null only in tests that check the routes themselves. */
  token: string | null;
  logger?: Logger;
  /** @default 65536 */
  maxBodyBytes?: number;
}

export interface RequestContext {
  req: IncomingMessage;
}

/**
 * A JSON array answer made as it is written: `GET /queue` of 100,000
 * messages built as one array and one string held 130 MB more for the 2.3 s
 * it blocked the server; written 500 items at a time it holds one batch, and
 * SMTP goes on between two batches.
 */
export class JsonArrayStream<T> {
  constructor(readonly items: Iterable<T>) {}
}

/** A route's answer: its value, or a stream of its items where it is an array. */
type Answer<R> = R | (R extends readonly (infer U)[] ? JsonArrayStream<U> : never);

/** Items of a {@link JsonArrayStream} serialised between two turns of the event loop. */
const STREAM_BATCH = 500;

type Handler = (input: unknown, ctx: RequestContext) => unknown;
type StreamHandler = (input: unknown, req: IncomingMessage, res: ServerResponse) => void;

interface Registered {
  route: Route;
  handler?: Handler;
  stream?: StreamHandler;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The first problem zod found, as `field: message`. */
function zodProblem(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') || 'input';
  return { field, message: `${field}: ${issue?.message ?? 'invalid'}` };
}

export class AdminRouter {
  private readonly routes: Registered[] = [];
  private readonly tokenDigest: Buffer | null;

  constructor(private readonly o: RouterOptions) {
    this.tokenDigest = o.token === null ? null : digest(o.token);
  }

  /** Registers a JSON route. */
  on<T extends Route>(route: T, handler: (input: RouteParsed<T>, ctx: RequestContext) => Answer<RouteResponse<T>> | Promise<Answer<RouteResponse<T>>>): this {
    this.routes.push({ route, handler: handler as Handler });
    return this;
  }

  /** Registers a streaming route (server-sent events): the handler owns the response. */
  stream<T extends Route>(route: T, handler: (input: RouteParsed<T>, req: IncomingMessage, res: ServerResponse) => void): this {
    this.routes.push({ route, stream: handler as StreamHandler });
    return this;
  }

  /** A node:http server answering with this router. */
  server(): Server {
    return createServer((req, res) => this.handle(req, res));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.dispatch(req, res).catch((e: unknown) => this.fail(res, e));
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.tokenDigest === null) return true;
    const m = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]), this.tokenDigest);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const method = req.method ?? 'GET';
    if (!(method === 'GET' && url.pathname === '/health') && !this.authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="mail-lab admin"');
      throw new ApiError(
        401,
        'unauthorized',
        req.headers.authorization
          ? `the admin token of ${this.o.service} is not that one (\`npx mail-lab admin-token\` prints the right one)`
          : `the admin API of ${this.o.service} needs "Authorization: Bearer <token>" (\`npx mail-lab admin-token\` prints it)`,
      );
    }
    for (const segment of url.pathname.split('/')) {
      try {
        decodeURIComponent(segment);
      } catch {
        throw new ApiError(400, 'bad-argument', `the path ${url.pathname} is not valid URL encoding`, 'path');
      }
    }
    const candidates = this.routes.map((r) => ({ r, params: matchPath(r.route.path, url.pathname) })).filter((c) => c.params !== null);
    if (!candidates.length) throw new ApiError(404, 'not-found', `no such admin endpoint on ${this.o.service}: ${method} ${url.pathname}`);
    const hit = candidates.find((c) => c.r.route.method === method);
    if (!hit) {
      const allow = [...new Set(candidates.map((c) => c.r.route.method))].join(', ');
      res.setHeader('Allow', allow);
      throw new ApiError(405, 'method-not-allowed', `${url.pathname} on ${this.o.service} takes ${allow}, not ${method}`);
    }
    const raw: Record<string, unknown> = method === 'GET' ? Object.fromEntries(url.searchParams) : await this.body(req);
    const parsed = hit.r.route.input.safeParse({ ...raw, ...hit.params });
    if (!parsed.success) {
      const p = zodProblem(parsed.error);
      throw new ApiError(400, 'bad-argument', p.message, p.field);
    }
    if (hit.r.stream) {
      hit.r.stream(parsed.data, req, res);
      return;
    }
    const out = await hit.r.handler!(parsed.data, { req });
    if (out instanceof JsonArrayStream) return this.sendArray(res, out.items as Iterable<unknown>);
    this.send(res, 200, out ?? {});
  }

  /**
   * `[`, the items a batch at a time, `]`, with backpressure: a slow reader
   * holds one batch, not the answer. An error half-way can no longer become
   * an error answer (the 200 is out): the connection is cut, so the client
   * sees a truncated answer rather than a short list taken for the whole.
   */
  private async sendArray(res: ServerResponse, items: Iterable<unknown>): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    let sep = '[';
    let batch: string[] = [];
    try {
      for (const item of items) {
        batch.push(JSON.stringify(item));
        if (batch.length < STREAM_BATCH) continue;
        const ok = res.write(sep + batch.join(','));
        sep = ',';
        batch = [];
        if (res.destroyed) return;
        await (ok ? new Promise((r) => setImmediate(r)) : drainOrClose(res));
        if (res.destroyed) return;
      }
      res.end((batch.length ? sep + batch.join(',') : sep === '[' ? '[' : '') + ']');
    } catch (e) {
      this.o.logger?.error(`admin answer cut off half-way`, { error: (e as Error).message });
      res.destroy(e as Error);
    }
  }

  /** The JSON body of a POST ({} when empty). */
  private body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const max = this.o.maxBodyBytes ?? 65_536;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        // Past the limit the rest is read and dropped, so the client gets the 413 rather than a reset.
        if (size <= max) chunks.push(c);
      });
      req.on('error', reject);
      req.on('end', () => {
        if (size > max) return reject(new ApiError(413, 'body-too-large', `the request body is over ${max} octets`));
        const text = Buffer.concat(chunks).toString('utf8').trim();
        if (!text) return resolve({});
        try {
          const v: unknown = JSON.parse(text);
          if (typeof v !== 'object' || v === null || Array.isArray(v)) return reject(new ApiError(400, 'bad-json', 'the request body must be a JSON object'));
          resolve(v as Record<string, unknown>);
        } catch (e) {
          reject(new ApiError(400, 'bad-json', `the request body is not JSON: ${(e as Error).message}`));
        }
      });
    });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (e instanceof ApiError) return this.send(res, e.status, e.body());
    this.o.logger?.error(`admin request failed`, { error: (e as Error).message });
    const body: ApiErrorBody = { error: (e as Error).message || 'internal error', code: 'internal' };
    this.send(res, 500, body);
  }
}
