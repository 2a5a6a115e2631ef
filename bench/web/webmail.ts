/**
 * The students' Webmail and the web process under load (issue 12): on a
 * no-Docker lab 46 started here with the CLI (`up --local --lab 46`, taken
 * down with its data at the end when it was started here) and `mail-lab web`
 * on a free loopback port, as a classroom runs it:
 *
 * 1. requests per second for the webmail message list: jpri@dadali.com logged
 *    in (the login form), `messages` messages in the INBOX, then `GET
 *    /lab/46/webmail` (folders with STATUS, a page of 20 messages: every
 *    request its own IMAP login, LIST, STATUS, EXAMINE, FETCH, LOGOUT on the
 *    lab's IMAP server) by `concurrency` keep-alive clients for `seconds`
 *    seconds each; requests per second, latency median / p95 / max, errors;
 * 2. the memory of the web process (VmRSS of its /proc status) with 30
 *    dashboards open: the instructor logged in, `dashboards` tabs each
 *    loading the Class page and holding its live stream (`/live?lab=all…&tab=`
 *    from the page, an EventSource-like HTTP client), while messages flow
 *    (queue events reach every tab); RSS before, with the tabs open (after
 *    `holdSeconds`), and per tab; every tab still live at the end.
 *
 * Bounded (counts, durations and a deadline); nothing leaves 127.0.0.1.
 *
 *   node dist/bench/web/webmail.js [--concurrency 1,4,8] [--seconds 5] [--dashboards 30] [--hold 15]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { loadLabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = join(__dirname, '..', '..', ...(__dirname.includes(`${join('dist', 'bench')}`) ? ['..'] : []));

export const WEBMAIL_BENCH_LAB = 46;

export interface ListRate {
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** What the first failed request said. */
  firstError?: string;
}

export interface WebmailBenchResults {
  lab: number;
  inbox: number;
  messageList: ListRate[];
  /** RSS of the web process just after it started (no request yet), MiB. */
  rssStartMiB: number;
  dashboards: {
    tabs: number;
    rssBeforeMiB: number;
    rssWithTabsMiB: number;
    rssPeakMiB: number;
    perTabKiB: number;
    /** Tabs that got a live event during the hold (queue events of the messages sent then). */
    tabsLive: number;
    /** Tabs that got one in the hold's last minute (or its last half, when shorter): still live at the end. */
    tabsLiveAtEnd: number;
    holdSeconds: number;
  } | null;
  errors: string[];
  /** The machine's 1-minute load average at the start and the end (the numbers depend on it). */
  load: { start: number; end: number; cores: number };
}

export interface WebmailBenchOptions {
  /** Concurrent clients for the message list, one run each. @default [1, 4, 8] */
  concurrency?: number[];
  /** Seconds per run. @default 5 */
  seconds?: number;
  /** Messages put in jpri's INBOX first. @default 40 */
  messages?: number;
  /** Dashboards (Class page + live stream). @default 30 */
  dashboards?: number;
  /** Seconds the dashboards stay open. @default 15 */
  holdSeconds?: number;
  /** Stops whatever is left after this long. @default 240 s */
  deadlineMs?: number;
  log?: (line: string) => void;
}

const quantile = (v: number[], q: number) => (v.length ? [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] : NaN);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const cli = (args: string[], timeoutMs = 120_000) => run(process.execPath, [join(ROOT, 'bin/mail-lab.js'), ...args], { cwd: ROOT, timeout: timeoutMs });

async function startWeb(lab: number): Promise<{ base: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(ROOT, 'bin/mail-lab.js'), 'web', '--labs', String(lab), '--port', String(port), '--lang', 'en'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mail-lab web did not start: ${out}`)), 30_000);
    const read = (b: Buffer) => {
      out += b.toString();
      const m = /mail-lab web: (http:\/\/\S+?)\/? /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', read);
    proc.stderr!.on('data', read);
    proc.once('exit', (code) => reject(new Error(`mail-lab web exited (${code}): ${out}`)));
  });
  return { base, proc };
}

/** VmRSS of a process, MiB. */
function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Answer {
  status: number;
  text: string;
  headers: IncomingMessage['headers'];
}

/** A browser-like HTTP client of the web server: its cookies, keep-alive. */
class Client {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly agent = new Agent({ keepAlive: true, maxSockets: 1 }),
  ) {}

  private cookieHeader = () => [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

  send(method: string, path: string, form?: Record<string, string>): Promise<Answer> {
    const u = new URL(this.base + path);
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers: Record<string, string> = { cookie: this.cookieHeader() };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) });
    return new Promise((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair] = c.split(';');
            const eq = pair.indexOf('=');
            if (/max-age=0/i.test(c) || pair.slice(eq + 1) === '') this.cookies.delete(pair.slice(0, eq));
            else this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
          }
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async login(account: string, password: string, lab?: number): Promise<void> {
    const form = await this.send('GET', '/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    const r = await this.send('POST', '/login', { _csrf: token, account, password, ...(lab !== undefined ? { lab: String(lab) } : {}) });
    if (r.status !== 303) throw new Error(`login of ${account} failed: HTTP ${r.status}`);
  }

  /** An event stream held open: counts its events; close() ends it. */
  stream(path: string): Promise<{ events: () => number; ready: Promise<void>; close(): void }> {
    const u = new URL(this.base + path);
    return new Promise((resolve, reject) => {
      let events = 0;
      let buffer = '';
      let markReady: () => void = () => undefined;
      const ready = new Promise<void>((r) => (markReady = r));
      const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { accept: 'text/event-stream', cookie: this.cookieHeader() }, agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`live stream: HTTP ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buffer += c;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const type = /^event: (.+)$/m.exec(block)?.[1];
            if (type === 'ready') markReady();
            else if (type && type !== 'upstream') events++;
          }
        });
        res.on('error', () => undefined);
        resolve({ events: () => events, ready, close: () => req.destroy() });
      });
      req.on('error', (e) => reject(e));
      req.end();
    });
  }
}

/** Sends `n` messages from mbrain to jpri over submission. */
async function fill(config: ReturnType<typeof deriveLab>, n: number, tag: string): Promise<void> {
  const port = config.domains.find((d) => d.name === 'garudayaksa.com')!.ports.submission;
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, pool: true, maxConnections: 2, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' }, tls: { rejectUnauthorized: false } });
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject: `${tag} ${i + 1}`, text: `Pesan ${i + 1} untuk bench webmail.\n`.repeat(20) })));
  } finally {
    t.close();
  }
}

/** Concurrent keep-alive clients on one path for `seconds`: rate and latencies. */
async function rate(clients: Client[], path: string, seconds: number): Promise<Omit<ListRate, 'concurrency'>> {
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const failed = (why: string) => {
    errors++;
    firstError ??= why;
  };
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const r = await c.send('GET', path);
          if (r.status !== 200 || !r.text.includes('class="messages"')) failed(`HTTP ${r.status}: ${/<p class="notice [a-z]+"[^>]*>([^<]*)</.exec(r.text)?.[1] ?? r.text.slice(0, 200)}`);
          else times.push(performance.now() - t0);
        } catch (e) {
          failed((e as Error).message);
        }
      }
    }),
  );
  const took = (performance.now() - started) / 1000;
  return { requests: times.length, errors, seconds: round(took, 2), perSecond: round(times.length / took), medianMs: round(quantile(times, 0.5)), p95Ms: round(quantile(times, 0.95)), maxMs: round(Math.max(...times, 0)), firstError };
}

export async function runWebmailBench(o: WebmailBenchOptions = {}): Promise<WebmailBenchResults> {
  const log = o.log ?? (() => undefined);
  const levels = (o.concurrency ?? [1, 4, 8]).map((n) => Math.max(1, Math.min(32, Math.floor(n)))).slice(0, 6);
  const seconds = Math.max(1, Math.min(30, o.seconds ?? 5));
  const messages = Math.max(1, Math.min(200, o.messages ?? 40));
  const tabs = Math.max(1, Math.min(100, o.dashboards ?? 30));
  // Up to 15 minutes: the issue's "30 browsers connected for 10 minutes" is --hold 600.
  const hold = Math.max(1, Math.min(900, o.holdSeconds ?? 15));
  const deadline = Date.now() + (o.deadlineMs ?? Math.max(240_000, hold * 1000 + 180_000));
  const lab = WEBMAIL_BENCH_LAB;
  const r: WebmailBenchResults = { lab, inbox: 0, messageList: [], rssStartMiB: NaN, dashboards: null, errors: [], load: { start: round(loadavg()[0], 2), end: NaN, cores: availableParallelism() } };
  const config = deriveLab(loadLabConfig(join(ROOT, 'lab-scenarios', 'lab.yaml')).config, lab);
  let startedHere = false;
  let web: { base: string; proc: ChildProcess } | null = null;
  const streams: { close(): void }[] = [];
  try {
    const status = await cli(['status', '--lab', String(lab)]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    if (!/no-Docker/.test(status.stdout)) {
      log(`webmail: starting the no-Docker lab ${lab}`);
      await cli(['up', '--local', '--lab', String(lab)]);
      startedHere = true;
    }
    await cli(['fault', 'clear', 'all', '--lab', String(lab)]);
    web = await startWeb(lab);
    const base = web.base;
    const pid = web.proc.pid!;
    await sleep(500);
    r.rssStartMiB = round(rssMiB(pid));

    // 1. The message list.
    log(`webmail: ${messages} messages into jpri's INBOX`);
    await fill(config, messages, 'bench webmail');
    const student = new Client(base);
    await student.login('jpri@dadali.com', 'rahasia123', lab);
    for (let i = 0; i < 100; i++) {
      const page = await student.send('GET', `/lab/${lab}/webmail`);
      r.inbox = Number(/data-total="(\d+)"/.exec(page.text)?.[1] ?? 0);
      if (r.inbox >= messages) break;
      await sleep(200);
    }
    const path = `/lab/${lab}/webmail`;
    for (const concurrency of levels) {
      if (Date.now() > deadline) break;
      // One logged-in client per connection, each with its own session (as students' browsers are).
      const clients = await Promise.all(
        Array.from({ length: concurrency }, async () => {
          const c = new Client(base);
          await c.login('jpri@dadali.com', 'rahasia123', lab);
          await c.send('GET', path);
          return c;
        }),
      );
      const x = await rate(clients, path, seconds);
      r.messageList.push({ concurrency, ...x });
      log(`webmail: message list, ${concurrency} client(s): ${x.perSecond} requests/s, median ${x.medianMs} ms, p95 ${x.p95Ms} ms, ${x.errors} error(s)${x.firstError ? ` (first: ${x.firstError})` : ''}`);
      for (const c of clients) c.agent.destroy();
    }
    student.agent.destroy();

    // 2. 30 dashboards.
    if (Date.now() < deadline) {
      await sleep(1000);
      const before = rssMiB(pid);
      const guru = new Client(base, new Agent({ keepAlive: true, maxSockets: 4 }));
      await guru.login('guru', 'rahasia123');
      let peak = before;
      const counters: (() => number)[] = [];
      for (let i = 0; i < tabs; i++) {
        const page = await guru.send('GET', '/class');
        const live = /sse-connect="([^"]+)"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
        if (!live) throw new Error('the Class page has no live stream');
        const s = await guru.stream(live);
        streams.push(s);
        counters.push(s.events);
        await s.ready;
        peak = Math.max(peak, rssMiB(pid));
      }
      log(`webmail: ${tabs} dashboards open, holding ${hold} s while mail flows`);
      const holdEnd = Date.now() + hold * 1000;
      const start = counters.map((c) => c());
      const lastPart = Math.min(60, hold / 2) * 1000;
      let atLastPart: number[] | null = null;
      let sent = 0;
      while (Date.now() < holdEnd && Date.now() < deadline) {
        if (!atLastPart && Date.now() >= holdEnd - lastPart) atLastPart = counters.map((c) => c());
        await fill(config, 1, `bench dashboards ${++sent}`);
        peak = Math.max(peak, rssMiB(pid));
        await sleep(1000);
      }
      const withTabs = rssMiB(pid);
      peak = Math.max(peak, withTabs);
      const live = counters.filter((c, i) => c() > start[i]).length;
      const liveAtEnd = counters.filter((c, i) => c() > (atLastPart ?? start)[i]).length;
      r.dashboards = { tabs, rssBeforeMiB: round(before), rssWithTabsMiB: round(withTabs), rssPeakMiB: round(peak), perTabKiB: round(((withTabs - before) * 1024) / tabs, 0), tabsLive: live, tabsLiveAtEnd: liveAtEnd, holdSeconds: hold };
      log(`webmail: web process RSS ${round(before)} MiB before, ${round(withTabs)} MiB with ${tabs} dashboards (peak ${round(peak)} MiB); ${live}/${tabs} tabs got live events`);
      guru.agent.destroy();
    }
  } catch (e) {
    r.errors.push((e as Error).message);
  } finally {
    for (const s of streams) s.close();
    if (web && web.proc.exitCode === null) {
      const exited = new Promise((res) => web!.proc.once('exit', res));
      web.proc.kill('SIGINT');
      await Promise.race([exited, sleep(10_000)]);
    }
    if (startedHere) await cli(['down', '--lab', String(lab), '--volumes']).catch((e: Error) => r.errors.push(`down: ${e.message}`));
    r.load.end = round(loadavg()[0], 2);
  }
  return r;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  runWebmailBench({
    concurrency: arg('concurrency')?.split(',').map(Number),
    seconds: num('seconds'),
    messages: num('messages'),
    dashboards: num('dashboards'),
    holdSeconds: num('hold'),
    log: (l) => console.error(l),
  })
    .then((r) => {
      console.log(`Webmail message list (lab ${r.lab}, INBOX of ${r.inbox}, a page of 20; every request: IMAP login, LIST, STATUS, EXAMINE, FETCH):`);
      for (const x of r.messageList) console.log(`  ${String(x.concurrency).padStart(2)} client(s): ${x.perSecond} requests/s  median ${x.medianMs} ms  p95 ${x.p95Ms} ms  max ${x.maxMs} ms  (${x.requests} in ${x.seconds} s, ${x.errors} errors${x.firstError ? `; first: ${x.firstError}` : ''})`);
      const d = r.dashboards;
      if (d) console.log(`Web process memory: RSS ${r.rssStartMiB} MiB just started, ${d.rssBeforeMiB} MiB after the list runs, ${d.rssWithTabsMiB} MiB with ${d.tabs} Class dashboards live (peak ${d.rssPeakMiB} MiB, ~${d.perTabKiB} KiB per tab); ${d.tabsLive}/${d.tabs} tabs got live events during ${d.holdSeconds} s, ${d.tabsLiveAtEnd}/${d.tabs} still in its last ${Math.round(Math.min(60, d.holdSeconds / 2))} s`);
      console.log(`Load average (1 min) ${r.load.start} at the start, ${r.load.end} at the end, on ${r.load.cores} core(s).`);
      for (const e of r.errors) console.log(`error: ${e}`);
      process.exitCode = r.errors.length ? 1 : 0;
    })
    .catch((e: Error) => {
      console.error(e.stack ?? e.message);
      process.exitCode = 1;
    });
}
