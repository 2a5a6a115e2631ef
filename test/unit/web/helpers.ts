/**
 * The web server on a real socket in front of a whole lab in the test
 * process (test-lab.ts), shown to the web server as two labs, 42 and 43 (the
 * same servers: enough for "another lab"), and a small HTTP client with a
 * cookie jar, as a browser would be.
 */
import { request, type IncomingMessage } from 'node:http';
import type { LabConfig } from '../../../services/core/src/config';
import { SseParser, type SseMessage } from '../../../services/core/src/admin/event-stream';
import { memoryLogger } from '../../../services/core/src/logger';
import { staticLabSource, type WebLab } from '../../../services/web/src/labs';
import { startWebServer, type StartedWebServer, type WebServerOptions } from '../../../services/web/src/server';
import { startTestLab, type TestLab } from '../helpers/test-lab';

export interface WebTestBed {
  lab: TestLab;
  web: StartedWebServer;
  labs: WebLab[];
  close(): Promise<void>;
}

export function webLabOf(lab: TestLab, n: number, student?: string): WebLab {
  const target = lab.target();
  const config: LabConfig = lab.config;
  return { n, config, student, mode: 'local', mail: (d) => target.mail(d), dns: () => target.dns() };
}

export async function startWebTestBed(o: Partial<WebServerOptions> & { students?: Record<number, string> } = {}): Promise<WebTestBed> {
  const lab = await startTestLab();
  const labs = [webLabOf(lab, 42, o.students?.[42]), webLabOf(lab, 43, o.students?.[43])];
  const web = await startWebServer({ labs: staticLabSource(labs), instructor: lab.config.instructor, port: 0, host: '127.0.0.1', logger: memoryLogger('warn'), ...o });
  return {
    lab,
    web,
    labs,
    async close() {
      await web.close();
      await lab.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

/** A browser-like client: keeps cookies, follows nothing by itself. */
export class WebClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async send(method: string, path: string, o: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...o.headers };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    let body: string | undefined;
    if (o.form) {
      body = new URLSearchParams(o.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    // node:http, not fetch(): fetch adds Sec-Fetch-* headers of its own.
    const u = new URL(this.base + path);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, x);
    for (const c of h.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8'), location: h.get('location') };
  }

  get(path: string, headers?: Record<string, string>): Promise<Answer> {
    return this.send('GET', path, { headers });
  }

  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Answer> {
    return this.send('POST', path, { form, headers });
  }

  /** The login form's token (GET /login first), then the login itself. */
  async login(account: string, password: string, lab?: number, next?: string): Promise<Answer> {
    const form = await this.get('/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    return this.post('/login', { _csrf: token, account, password, ...(lab !== undefined ? { lab: String(lab) } : {}), ...(next ? { next } : {}) });
  }

  /** The session's CSRF token, from a page of the session. */
  async csrf(path = '/'): Promise<string> {
    const page = await this.get(path);
    const t = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!t) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    return t;
  }

  /** An event stream; every message goes to `messages`; close() ends it. */
  stream(path: string, headers: Record<string, string> = {}): Promise<LiveStream> {
    return new Promise((resolve, reject) => {
      const messages: SseMessage[] = [];
      const u = new URL(this.base + path);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { accept: 'text/event-stream', cookie: this.cookieHeader(), ...headers } }, (res) => {
        const parser = new SseParser({ onMessage: (m) => messages.push(m) });
        res.setEncoding('utf8');
        res.on('data', (c: string) => parser.push(c));
        resolve({
          status: res.statusCode ?? 0,
          messages,
          close: () => req.destroy(),
          waitFor: async (pred, ms = 10_000) => {
            const end = Date.now() + ms;
            for (;;) {
              const m = messages.find(pred);
              if (m) return m;
              if (Date.now() > end) throw new Error(`no such event within ${ms} ms; got: ${messages.map((x) => x.event).join(', ')}`);
              await new Promise((r) => setTimeout(r, 20));
            }
          },
        });
      });
      req.on('error', reject);
      req.end();
    });
  }
}

export interface LiveStream {
  status: number;
  messages: SseMessage[];
  close(): void;
  waitFor(pred: (m: SseMessage) => boolean, ms?: number): Promise<SseMessage>;
}

/** The text of the page's notice paragraph. */
export const noticeOf = (html: string) => /<p class="notice [a-z]+"[^>]*>([^<]*)<\/p>/.exec(html)?.[1] ?? null;
