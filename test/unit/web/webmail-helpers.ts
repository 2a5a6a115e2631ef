/**
 * Helpers of the webmail tests: a web server in front of an in-process lab
 * with TLS (so the CA route and STARTTLS are real), a multipart upload as a
 * browser sends it, and small readers of the pages.
 */
import { request, type IncomingMessage } from 'node:http';
import { memoryLogger } from '../../../services/core/src/logger';
import { staticLabSource } from '../../../services/web/src/labs';
import { startWebServer, type WebServerOptions } from '../../../services/web/src/server';
import { startTestLab, type TestLabOptions } from '../helpers/test-lab';
import { webLabOf, type Answer, type WebClient, type WebTestBed } from './helpers';

export async function startWebmailBed(o: Partial<WebServerOptions> & { lab?: TestLabOptions } = {}): Promise<WebTestBed> {
  const lab = await startTestLab({ tls: true, ...o.lab });
  const labs = [webLabOf(lab, 42), webLabOf(lab, 43)];
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

export interface FilePart {
  name: string;
  filename: string;
  type: string;
  content: Buffer;
}

/** A multipart/form-data POST (a form with files), with the client's cookies. */
export async function postMultipart(client: WebClient, path: string, fields: Record<string, string>, files: FilePart[] = [], headers: Record<string, string> = {}): Promise<Answer> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append(f.name, new Blob([new Uint8Array(f.content)], { type: f.type }), f.filename);
  const req = new Request('http://x/', { method: 'POST', body: form });
  const body = Buffer.from(await req.arrayBuffer());
  const u = new URL(client.base + path);
  const h: Record<string, string> = { 'content-type': req.headers.get('content-type')!, 'content-length': String(body.length), ...headers };
  if (client.cookies.size) h.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: h }, resolve);
    r.on('error', reject);
    r.end(body);
  });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const hs = new Headers();
  for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) hs.append(k, x);
  return { status: res.statusCode ?? 0, headers: hs, text: Buffer.concat(chunks).toString('utf8'), location: hs.get('location') };
}

/** The raw bytes of a GET (a download). */
export async function download(client: WebClient, path: string): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const u = new URL(client.base + path);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } }, resolve);
    r.on('error', reject);
    r.end();
  });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const hs = new Headers();
  for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) hs.append(k, x);
  return { status: res.statusCode ?? 0, headers: hs, body: Buffer.concat(chunks) };
}

/** HTML entities of our templates back to text. */
export const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The messages of a list page: uid, seen, subject (as text). */
export const listed = (html: string) =>
  [...html.matchAll(/<li class="(seen|unseen)[^"]*" data-uid="(\d+)">[\s\S]*?<span class="subject">(?:<span class="clip"[^>]*>[^<]*<\/span>)?([^<]*)<\/span>/g)].map((m) => ({ uid: Number(m[2]), seen: m[1] === 'seen', subject: unescape(m[3]) }));

/** A folder's unread count in the folder list. */
export const unseenOf = (html: string, folder: string) => Number(new RegExp(`data-folder="${folder}" data-unseen="(\\d+)"`).exec(html)?.[1] ?? NaN);

/** The protocol drawer's lines: `IMAP C: …`. */
export const protocolLines = (html: string) =>
  [...html.matchAll(/<li class="p-(imap|smtp) d-(c|s|note)" data-proto="[A-Z]+" data-dir="[^"]*"><span class="proto">[A-Z]+<\/span><span class="dir">[^<]*<\/span><code>([^<]*)<\/code><\/li>/g)].map(
    (m) => `${m[1].toUpperCase()} ${m[2] === 'note' ? '-' : m[2].toUpperCase()}: ${unescape(m[3])}`,
  );
