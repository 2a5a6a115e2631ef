/**
 * The admin APIs' client side: the one typed client the CLI, the scenario
 * runner, the bench and the tests use (no URL is built anywhere else). A
 * call names a route object of api.ts and its input; the client fills the
 * path, sends the rest as the query (GET) or a JSON body (POST), adds the
 * lab's bearer token, and returns the typed answer or throws:
 *
 * - {@link AdminCallError}: the server answered with an error (status,
 *   stable `code`, the field at fault);
 * - {@link AdminUnreachableError}: nothing answered (the lab is down, a
 *   wrong port), with a sentence saying what to try.
 *
 * node:http, not fetch(): fetch refuses "bad ports" such as 10080
 * (garudayaksa.com's admin port).
 */
import { request, type IncomingMessage } from 'node:http';
import type { ApiErrorBody, ApiErrorCode } from './errors';
import { fillPath, pathParams, type Route, type RouteInput, type RouteResponse } from './route';

export class AdminCallError extends Error {
  override readonly name = 'AdminCallError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class AdminUnreachableError extends Error {
  override readonly name = 'AdminUnreachableError';
}

export const isAdminCallError = (e: unknown, code?: ApiErrorCode): e is AdminCallError => e instanceof AdminCallError && (code === undefined || e.code === code);

export interface AdminClientOptions {
  /** Who answers, for messages: `dadali.com`, `the lab DNS`. */
  who: string;
  /** @default '127.0.0.1' */
  host?: string;
  port: number;
  /** The lab's admin token, or how to get it. */
  token: string | (() => Promise<string>);
  /** Called once after a 401: a fresh token (e.g. the lab was recreated), or null to give up. */
  refreshToken?: () => Promise<string | null>;
  /** @default 10000 */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  text: string;
}

export class AdminClient {
  private token: string | null = null;

  constructor(readonly o: AdminClientOptions) {
    if (typeof o.token === 'string') this.token = o.token;
  }

  get who(): string {
    return this.o.who;
  }

  get port(): number {
    return this.o.port;
  }

  async currentToken(): Promise<string> {
    if (this.token === null) this.token = await (this.o.token as () => Promise<string>)();
    return this.token;
  }

  /** Calls `route` with `input`; resolves with the typed answer. */
  async call<T extends Route>(route: T, ...args: {} extends RouteInput<T> ? [input?: RouteInput<T>] : [input: RouteInput<T>]): Promise<RouteResponse<T>> {
    const input = (args[0] ?? {}) as Record<string, unknown>;
    const path = fillPath(route.path, input);
    const rest = Object.fromEntries(Object.entries(input).filter(([k, v]) => !pathParams(route.path).includes(k) && v !== undefined));
    let target = path;
    let body: string | undefined;
    if (route.method === 'GET') {
      const q = new URLSearchParams(Object.entries(rest).map(([k, v]): [string, string] => [k, String(v)]));
      if ([...q].length) target += `?${q}`;
    } else {
      body = JSON.stringify(rest);
    }
    let answer = await this.send(route.method, target, body, await this.currentToken());
    if (answer.status === 401 && this.o.refreshToken) {
      const fresh = await this.o.refreshToken();
      if (fresh && fresh !== this.token) {
        this.token = fresh;
        answer = await this.send(route.method, target, body, fresh);
      }
    }
    return this.parse(answer, `${route.method} ${route.path}`) as RouteResponse<T>;
  }

  /** An open HTTP response of a streaming route (for the SSE reader, events.ts). */
  async open(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
    const token = await this.currentToken();
    return new Promise((resolve, reject) => {
      const req = request({ host: this.o.host ?? '127.0.0.1', port: this.o.port, path, method: 'GET', headers: { ...headers, authorization: `Bearer ${token}` }, signal }, (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              reject(this.errorOf({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
            } catch (e) {
              reject(e);
            }
          });
          return;
        }
        resolve(res);
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.unreachable(e)));
      req.end();
    });
  }

  private unreachable(e: NodeJS.ErrnoException): AdminUnreachableError {
    return new AdminUnreachableError(
      `cannot reach the admin API of ${this.o.who} on ${this.o.host ?? '127.0.0.1'}:${this.o.port} (${e.code ?? e.message}); is the lab up? (\`npx mail-lab status\`)`,
    );
  }

  private send(method: string, path: string, body: string | undefined, token: string): Promise<Answer> {
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      const req = request({ host: this.o.host ?? '127.0.0.1', port: this.o.port, path, method, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
        // The server got the request and began to answer: not unreachable, but an answer it could not finish (router.ts, sendArray).
        res.on('error', (e: NodeJS.ErrnoException) => reject(new AdminCallError(500, 'internal', `the answer of ${this.o.who} to ${method} ${path.split('?')[0]} was cut off half-way (${e.code ?? e.message}); its log says why`)));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.unreachable(e)));
      req.end(body);
    });
  }

  private parse(a: Answer, what: string): unknown {
    if (a.status >= 200 && a.status < 300) {
      try {
        return JSON.parse(a.text);
      } catch {
        throw new AdminCallError(a.status, 'internal', `${this.o.who} answered ${what} with something that is not JSON`);
      }
    }
    throw this.errorOf(a);
  }

  private errorOf(a: Answer): AdminCallError {
    let body: Partial<ApiErrorBody> = {};
    try {
      body = JSON.parse(a.text) as ApiErrorBody;
    } catch {
      // not our server, or not JSON: said below
    }
    const message = body.error ?? `${this.o.who} answered HTTP ${a.status}`;
    return new AdminCallError(a.status, body.code ?? (a.status === 404 ? 'not-found' : 'internal'), message, body.field);
  }
}
