/**
 * The instructor's first two pages over real HTTP in front of a real lab:
 * the Class grid (services, links, faults, queues of every lab) with its
 * class-wide actions, and the Topology of one lab (the drawing's states, the
 * buttons' actions through the admin APIs); both in either language. Also
 * the message catalogue: every message in both languages.
 */
import { MAIL_API } from '../../../services/core/src/admin/api';
import { messageKeys, t } from '../../../services/web/src/i18n';
import { startWebTestBed, WebClient, type WebTestBed } from './helpers';

let bed: WebTestBed;
let guru: WebClient;
let token: string;

beforeAll(async () => {
  bed = await startWebTestBed({ statusTtlMs: 0 });
  guru = new WebClient(bed.web.url);
  await guru.login('guru', 'rahasia123');
  token = await guru.csrf('/class');
});
afterAll(() => bed.close());

const htmx = () => ({ 'x-csrf-token': token, 'hx-request': 'true' });
const cards = (html: string) => [...html.matchAll(/<article class="lab-card[^"]*" data-lab="(\d+)" data-healthy="(true|false)">([\s\S]*?)<\/article>/g)].map((m) => ({ lab: Number(m[1]), healthy: m[2] === 'true', html: m[3] }));
const linkState = (html: string) => /data-link-state="([a-z]+)"/.exec(html)?.[1];

test('the Class grid: every lab with its services, link, faults and queues', async () => {
  const page = await guru.get('/class');
  expect(page.status).toBe(200);
  expect(page.text).toContain('sse-connect="/live?lab=all&amp;types=link%2Cfault%2Cqueue&amp;tab=');
  const grid = cards(page.text);
  expect(grid.map((c) => [c.lab, c.healthy])).toEqual([
    [42, true],
    [43, true],
  ]);
  expect(grid[0].html).toContain('data-service="dns"');
  expect(grid[0].html.match(/<li class="up"/g)).toHaveLength(3);
  expect(linkState(grid[0].html)).toBe('up');
  expect(grid[0].html).toContain('garudayaksa.com: 0 in queue');
  expect(grid[0].html).toContain('profile test');
});

test('class-wide actions: break, a fault, the queue profile and clear all, in every lab at once', async () => {
  const broke = await guru.post('/class/action', { op: 'apply', fault: 'kind=link&a=garudayaksa.com&b=dadali.com' }, htmx());
  expect(broke.status).toBe(200);
  // Labs 42 and 43 are the same servers here: the second finds it already done.
  expect(broke.text).toContain('Done in 2 of 2 lab(s).');
  expect(broke.text).toContain('link garudayaksa.com ↔ dadali.com: broken');
  let grid = cards((await guru.get('/class/grid')).text);
  expect(grid.map((c) => linkState(c.html))).toEqual(['cut', 'cut']);
  expect(grid[0].healthy).toBe(false);

  await guru.post('/class/action', { op: 'apply', fault: 'kind=greylist&domain=dadali.com' }, htmx());
  const profile = await guru.post('/class/action', { op: 'profile', profile: 'demo' }, htmx());
  expect(profile.text).toContain('queue profile demo');
  grid = cards((await guru.get('/class/grid?lang=id')).text);
  expect(grid[0].html).toContain('Greylisting dadali.com');
  expect(grid[0].html).toContain('jalur PUTUS');
  expect(grid[0].html).toContain('profil demo');
  expect((await mail('dadali.com').call(MAIL_API.queueProfile)).name).toBe('demo');
  // ?lang=id stays (a cookie) until ?lang=en.
  expect((await guru.get('/class/grid')).text).toContain('jalur PUTUS');
  await guru.get('/class/grid?lang=en');

  const cleared = await guru.post('/class/action', { op: 'clear-all' }, htmx());
  expect(cleared.text).toContain('Lab 42</strong> cleared 2 fault(s)');
  expect(cleared.text).toContain('Lab 43</strong> no fault was active');
  await guru.post('/class/action', { op: 'profile', profile: 'test' }, htmx());
  grid = cards((await guru.get('/class/grid')).text);
  expect(grid.map((c) => c.healthy)).toEqual([true, true]);
  const bad = await guru.post('/class/action', { op: 'apply', fault: 'kind=greylist&domain=example.org' }, htmx());
  expect(bad.text).toContain('failed: unknown domain');
});

const mail = (d: string) => bed.lab.target().mail(d);

test('the Topology drawing: nodes with their addresses, the link up, cut and healed by the buttons, isolation, fault badges', async () => {
  const page = await guru.get('/lab/42/topology');
  expect(page.status).toBe(200);
  for (const text of ['mail.garudayaksa.com', 'mail.dadali.com', 'client.garudayaksa.com', '172.29.25.10', '172.29.25.20', '172.29.25.53', '172.29.25.100', 'lab network 172.29.25.0/24']) expect(page.text).toContain(text);
  expect(page.text).toContain('data-link="garudayaksa.com dadali.com" data-link-state="up"');
  const act = (form: Record<string, string>) => guru.post('/lab/42/action', form, htmx());
  const drawing = async () => (await guru.get('/lab/42/topology/drawing')).text;

  expect((await act({ op: 'apply', kind: 'link', a: 'garudayaksa.com', b: 'dadali.com' })).text).toContain('broken');
  expect(await drawing()).toContain('data-link-state="cut"');
  expect(await drawing()).toContain('CUT');
  expect((await act({ op: 'clear', kind: 'link', a: 'garudayaksa.com', b: 'dadali.com' })).text).toContain('healed');
  expect(await drawing()).toContain('data-link-state="up"');

  await act({ op: 'apply', kind: 'isolate', domain: 'dadali.com' });
  let d = await drawing();
  expect(d).toContain('data-node="dadali.com" data-up="true" data-isolated="true"');
  expect(d).toContain('ISOLATED');
  await act({ op: 'clear', kind: 'isolate', domain: 'dadali.com' });
  expect(await drawing()).toContain('data-node="dadali.com" data-up="true" data-isolated="false"');

  await act({ op: 'apply', kind: 'server-down', domain: 'garudayaksa.com' });
  await act({ op: 'apply', kind: 'dns-down' });
  await act({ op: 'apply', kind: 'reject', address: 'jpri@dadali.com', code: '550' });
  d = await drawing();
  expect(d).toContain('PORT 25 DOWN');
  expect(d).toContain('DNS DOWN');
  expect(d).toContain('REJECTS jpri');
  const faults = (await guru.get('/lab/42/topology/drawing?part=faults&lang=id')).text;
  expect(faults).toContain('Port SMTP 25 mati: garudayaksa.com');
  expect(faults).toContain('DNS mati');
  await guru.get('/class/grid?lang=en');
  // slow-link needs Docker (tc): the failure is said, not hidden.
  const slow = await act({ op: 'apply', kind: 'slow-link', a: 'garudayaksa.com', b: 'dadali.com', rate: '64kbit', loss: '10' });
  expect(slow.text).toMatch(/class="failed"[^>]*><strong>Lab 42<\/strong> failed: /);
  expect((await act({ op: 'clear-all' })).text).toContain('cleared 3 fault(s)');
  expect(await drawing()).not.toContain('badge');
});

test('a domain that does not answer: greyed out, its link unknown, said in words', async () => {
  await bed.lab.stopDomain('dadali.com');
  try {
    const d = (await guru.get('/lab/42/topology/drawing')).text;
    expect(d).toContain('data-node="dadali.com" data-up="false"');
    expect(d).toContain('NOT ANSWERING');
    expect(d).toContain('data-link-state="unknown"');
    const grid = cards((await guru.get('/class/grid')).text);
    expect(grid[0].html).toContain('<li class="down" data-service="dadali.com"');
    expect(grid[0].html).toContain('dadali.com: queue ?');
  } finally {
    await bed.lab.startDomain('dadali.com');
  }
});

test('every message of the catalogue has both languages and its words', () => {
  expect(messageKeys().length).toBeGreaterThan(100);
  for (const key of messageKeys()) {
    expect(t('en', key)).not.toBe(key);
    expect(t('id', key)).not.toBe(key);
  }
  expect(t('id', 'topology.title', { n: 7 })).toBe('Topologi lab 7');
});
