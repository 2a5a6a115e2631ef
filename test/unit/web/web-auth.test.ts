/**
 * The web server's doors, over real HTTP in front of a real lab: the
 * instructor's and the students' logins (a student's checked by IMAP LOGIN),
 * one message for any wrong login, 401 for the instructor's pages and
 * actions without the instructor, 403 for another lab's or another account's
 * pages, CSRF refused, markup shown as text, the language choice, an expired
 * session back to the login with the draft kept.
 */
import { MAIL_API } from '../../../services/core/src/admin/api';
import { noticeOf, startWebTestBed, WebClient, type WebTestBed } from './helpers';

let bed: WebTestBed;
let base: string;
const STUDENT = '<script>alert(1)</script> Siti & "Nur"';

beforeAll(async () => {
  bed = await startWebTestBed({ students: { 42: STUDENT } });
  base = bed.web.url;
});
afterAll(() => bed.close());

const linkCut = async () => (await bed.lab.target().mail('garudayaksa.com').call(MAIL_API.links)).peers.some((p) => p.cut);

describe('login', () => {
  test('the instructor logs in with the login of the lab definition; the session cookie is HttpOnly and SameSite=Lax', async () => {
    const b = new WebClient(base);
    const form = await b.get('/login');
    expect(form.status).toBe(200);
    expect(form.text).toContain('name="password"');
    const r = await b.login('guru', 'rahasia123');
    expect(r.status).toBe(303);
    expect(r.location).toBe('/class');
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('ml_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie.split(';')[0].length).toBeGreaterThan(30);
    const page = await b.get('/class');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Lab 42');
    expect(page.text).toContain('Lab 43');
  });

  test('every wrong login gets the same message, whichever part was wrong', async () => {
    const tries: [string, string, number?][] = [
      ['guru', 'rahasia124'],
      ['kepala', 'rahasia123'],
      ['siswa1@garudayaksa.com', 'salah', 42],
      ['siswa1@nowhere.example', 'rahasia123', 42],
      ['siswa1@garudayaksa.com', 'rahasia123', 77],
      ['siswa1@garudayaksa.com', 'rahasia123'],
      ['nobody@dadali.com', 'rahasia123', 42],
    ];
    const messages = new Set<string | null>();
    for (const [account, password, lab] of tries) {
      const b = new WebClient(base);
      const r = await b.login(account, password, lab);
      expect(r.status).toBe(401);
      expect(b.cookies.has('ml_session')).toBe(false);
      messages.add(noticeOf(r.text));
    }
    expect([...messages]).toEqual(['Login failed: the account, the password or the lab is not right.']);
    // A browser gets the form again with the same message (200: its console would call a 401 an error).
    const b = new WebClient(base);
    const form = await b.get('/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
    const r = await b.post('/login', { _csrf: token, account: 'guru', password: 'x' }, { 'sec-fetch-mode': 'navigate' });
    expect([r.status, noticeOf(r.text)]).toEqual([200, 'Login failed: the account, the password or the lab is not right.']);
  });

  test("a student logs in with their lab account (the lab's IMAP server says yes) and lands in their lab", async () => {
    const b = new WebClient(base);
    const r = await b.login('Siswa1@garudayaksa.com', 'rahasia123', 42);
    expect(r.status).toBe(303);
    expect(r.location).toBe('/lab/42/');
    const home = await b.get('/lab/42/');
    expect(home.status).toBe(200);
    // The password never reaches the browser.
    expect(home.text).not.toContain('rahasia123');
    // A student's login to /lab/N/login with the lab fixed.
    const c = new WebClient(base);
    const page = await c.get('/lab/43/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const r2 = await c.post('/lab/43/login', { _csrf: token, account: 'jpri@dadali.com', password: 'rahasia123' });
    expect(r2.location).toBe('/lab/43/');
  });

  test('the login comes back to the page it was asked for (next), never to another site', async () => {
    const b = new WebClient(base);
    const page = await b.get('/lab/42/topology');
    expect(page.status).toBe(401);
    expect(page.text).toContain('name="next" value="/lab/42/topology"');
    expect((await b.login('guru', 'rahasia123', undefined, '/lab/42/topology')).location).toBe('/lab/42/topology');
    const c = new WebClient(base);
    expect((await c.login('guru', 'rahasia123', undefined, '//evil.example/x')).location).toBe('/class');
    // A browser opening the page is sent to the login page instead (no error page in the browser).
    const nav = await new WebClient(base).get('/class', { 'sec-fetch-mode': 'navigate' });
    expect(nav.status).toBe(303);
    expect(nav.location).toBe('/login?next=%2Fclass&need=instructor');
  });

  test('logout ends the session', async () => {
    const b = new WebClient(base);
    await b.login('guru', 'rahasia123');
    const old = b.cookies.get('ml_session')!;
    const token = await b.csrf('/class');
    expect((await b.post('/logout', { _csrf: token })).location).toBe('/login?out=1');
    b.cookies.set('ml_session', old);
    expect((await b.get('/class')).status).toBe(401);
  });
});

describe('roles', () => {
  test('without the instructor login, instructor pages and actions answer 401 and nothing is done', async () => {
    const anon = new WebClient(base);
    for (const path of ['/class', '/class/grid', '/lab/42/topology', '/lab/42/topology/drawing', '/lab/42/queue', '/topology']) {
      expect([path, (await anon.get(path)).status]).toEqual([path, 401]);
    }
    const student = new WebClient(base);
    await student.login('siswa1@garudayaksa.com', 'rahasia123', 42);
    const token = await student.csrf('/lab/42/');
    for (const path of ['/class', '/lab/42/topology', '/lab/42/dns']) expect([path, (await student.get(path)).status]).toEqual([path, 401]);
    const form = { _csrf: token, op: 'apply', kind: 'link', a: 'garudayaksa.com', b: 'dadali.com' };
    expect((await student.post('/lab/42/action', form)).status).toBe(401);
    expect((await student.post('/class/action', { _csrf: token, op: 'apply', fault: 'kind=link&a=garudayaksa.com&b=dadali.com' })).status).toBe(401);
    expect((await anon.post('/lab/42/action', { op: 'apply', kind: 'link', a: 'garudayaksa.com', b: 'dadali.com' })).status).toBe(401);
    expect(await linkCut()).toBe(false);
  });

  test("a student cannot open another lab's pages nor another account's mailbox (403)", async () => {
    const b = new WebClient(base);
    await b.login('siswa1@garudayaksa.com', 'rahasia123', 42);
    expect((await b.get('/lab/42/')).status).toBe(200);
    expect((await b.get('/lab/42/webmail')).status).toBe(200);
    expect((await b.get('/lab/42/mailbox/siswa1@garudayaksa.com')).status).toBe(200);
    expect((await b.get('/lab/42/mailbox/siswa1')).status).toBe(200);
    const other = await b.get('/lab/43/');
    expect(other.status).toBe(403);
    expect(noticeOf(other.text)).toBe('This page belongs to another lab or another account.');
    expect((await b.get('/lab/43/webmail')).status).toBe(403);
    expect((await b.get('/lab/42/mailbox/jpri@dadali.com')).status).toBe(403);
    expect((await b.get('/lab/42/mailbox/siswa2')).status).toBe(403);
    expect((await b.get('/lab/42/mailbox/siswa1@dadali.com')).status).toBe(403);
    expect((await b.get('/live?lab=43')).status).toBe(403);
    expect((await b.get('/live?lab=all')).status).toBe(403);
    // The instructor may open every lab's pages.
    const guru = new WebClient(base);
    await guru.login('guru', 'rahasia123');
    expect((await guru.get('/lab/43/mailbox/jpri@dadali.com')).status).toBe(200);
    expect((await guru.get('/lab/99/topology')).status).toBe(404);
  });
});

describe('CSRF', () => {
  test('a cross-site POST, or one without the session token, is refused and changes nothing', async () => {
    const b = new WebClient(base);
    await b.login('guru', 'rahasia123');
    const token = await b.csrf('/lab/42/topology');
    const form = { op: 'apply', kind: 'link', a: 'garudayaksa.com', b: 'dadali.com' };
    const host = new URL(base).host;
    const refused = [
      await b.post('/lab/42/action', { ...form, _csrf: token }, { origin: 'http://evil.example' }),
      await b.post('/lab/42/action', { ...form, _csrf: token }, { 'sec-fetch-site': 'cross-site' }),
      await b.post('/lab/42/action', { ...form, _csrf: token }, { origin: 'null' }),
      await b.post('/lab/42/action', form, { origin: `http://${host}` }),
      await b.post('/lab/42/action', { ...form, _csrf: 'x'.repeat(token.length) }),
      await b.post('/class/action', { op: 'apply', fault: 'kind=link&a=garudayaksa.com&b=dadali.com' }),
      await b.post('/login', { account: 'guru', password: 'rahasia123' }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 403]);
    expect(noticeOf(refused[0].text)).toMatch(/another site/);
    expect(await linkCut()).toBe(false);
    // The same form from our own page (same origin, the token, or the header htmx sends) works.
    const ok = await b.post('/lab/42/action', { ...form, _csrf: token }, { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(200);
    expect(await linkCut()).toBe(true);
    const healed = await b.post('/lab/42/action', { ...form, op: 'clear' }, { 'x-csrf-token': token, 'hx-request': 'true' });
    expect(healed.status).toBe(200);
    expect(healed.text).toContain('healed');
    expect(await linkCut()).toBe(false);
  });
});

describe('escaping', () => {
  test('a name or a fault text with markup is shown as text', async () => {
    const b = new WebClient(base);
    await b.login('guru', 'rahasia123');
    const evil = '<img src=x onerror=alert(1)> "q"';
    await bed.lab.target().mail('dadali.com').call(MAIL_API.applyFault, { kind: 'reject', address: 'jpri@dadali.com', code: 550, text: `5.1.1 ${evil}` });
    try {
      bed.web.web.deps.status.invalidate();
      const grid = await b.get('/class');
      expect(grid.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Siti &amp; &quot;Nur&quot;');
      expect(grid.text).not.toContain('<script>alert(1)');
      const topo = await b.get('/lab/42/topology');
      expect(topo.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(topo.text).not.toContain('<img src=x');
      expect(topo.text).toContain('&lt;script&gt;alert(1)');
      // A login name with markup comes back escaped in the form.
      const c = new WebClient(base);
      const r = await c.login('<b>guru</b>', 'x');
      expect(r.text).toContain('value="&lt;b&gt;guru&lt;/b&gt;"');
    } finally {
      await bed.lab.target().mail('dadali.com').call(MAIL_API.clearFault, { kind: 'reject', address: 'jpri@dadali.com' });
    }
  });
});

describe('languages', () => {
  test('?lang= (remembered in a cookie), then the cookie, then Accept-Language, else English', async () => {
    const title = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
    const lang = (html: string) => /<html lang="([a-z]+)"/.exec(html)?.[1];
    const b = new WebClient(base);
    let r = await b.get('/login');
    expect([lang(r.text), title(r.text)]).toEqual(['en', 'Log in']);
    r = await b.get('/login', { 'accept-language': 'id-ID,id;q=0.9,en;q=0.5' });
    expect([lang(r.text), title(r.text)]).toEqual(['id', 'Masuk']);
    r = await b.get('/login', { 'accept-language': 'fr, en;q=0.4' });
    expect(lang(r.text)).toBe('en');
    r = await b.get('/login?lang=id');
    expect(title(r.text)).toBe('Masuk');
    expect(b.cookies.get('ml_lang')).toBe('id');
    r = await b.get('/login', { 'accept-language': 'en' });
    expect(title(r.text)).toBe('Masuk');
    expect(r.text).toContain('href="/login?lang=en"');
    r = await b.get('/login?lang=en');
    expect(title(r.text)).toBe('Log in');
    r = await b.get('/login?lang=xx');
    expect(title(r.text)).toBe('Log in');
    // Every page: the instructor's Class page in Indonesian.
    await b.login('guru', 'rahasia123');
    r = await b.get('/class?lang=id');
    expect(r.text).toContain('<h1>Kelas</h1>');
    expect(r.text).toContain('Di semua lab sekaligus');
    const wrong = await new WebClient(base).send('POST', '/login?lang=id', { form: { account: 'a', password: 'b' } });
    expect(wrong.status).toBe(403);
    expect(noticeOf(wrong.text)).toMatch(/Formulir ini dikirim/);
  });
});

describe('sessions', () => {
  test('an expired session goes back to the login, then to the page; a form sent then is kept as a draft', async () => {
    const short = await startWebTestBed({ sessions: { idleMs: 400 } });
    try {
      const b = new WebClient(short.web.url);
      await b.login('siswa2@garudayaksa.com', 'rahasia123', 42);
      const token = await b.csrf('/lab/42/webmail');
      await new Promise((r) => setTimeout(r, 600));
      const page = await b.get('/lab/42/webmail');
      expect(page.status).toBe(401);
      expect(noticeOf(page.text)).toBe('Your session has ended. Log in again to continue where you were.');
      expect(page.text).toContain('name="next" value="/lab/42/webmail"');
      // A form sent after the end: kept for the same student, the login form brings it back.
      const sent = await b.post('/lab/42/webmail', { _csrf: token, _next: '/lab/42/webmail', to: 'jpri@dadali.com', subject: 'Halo <b>', body: 'Pak Joko ...' });
      expect(sent.status).toBe(401);
      const next = /name="next" value="([^"]+)"/.exec(sent.text)![1].replace(/&amp;/g, '&');
      expect(next).toMatch(/^\/lab\/42\/webmail\?draft=[A-Za-z0-9_-]+$/);
      const id = next.split('draft=')[1];
      // Somebody else cannot have it.
      expect(short.web.web.deps.drafts.take(id, { role: 'student', user: 'siswa3@garudayaksa.com', lab: 42 })).toBeNull();
      const back = await b.login('siswa2@garudayaksa.com', 'rahasia123', 42, next);
      expect(back.location).toBe(next);
      expect(short.web.web.deps.drafts.take(id, { role: 'student', user: 'siswa2@garudayaksa.com', lab: 42 })).toEqual({ _next: '/lab/42/webmail', to: 'jpri@dadali.com', subject: 'Halo <b>', body: 'Pak Joko ...' });
      // A student's next may only be a page of their own lab.
      const c = new WebClient(short.web.url);
      expect((await c.login('siswa2@garudayaksa.com', 'rahasia123', 42, '/lab/43/webmail')).location).toBe('/lab/42/');
    } finally {
      await short.close();
    }
  });
});

describe('static files', () => {
  test('htmx, its SSE extension and our CSS/JS from this server, cached for a year under a content hash', async () => {
    const b = new WebClient(base);
    const page = await b.get('/login');
    const urls = [...page.text.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
    expect(urls.map((u) => u.split('/').pop())).toEqual(['icon.svg', 'web.css', 'htmx.min.js', 'htmx-ext-sse.min.js', 'web.js']);
    for (const u of urls) {
      const r = await b.get(u);
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    const htmx = await b.get(urls[2]);
    expect(htmx.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(htmx.text).toContain('htmx');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await b.get('/static/0/nope.js')).status).toBe(404);
  });
});
