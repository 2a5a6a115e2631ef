/**
 * Live updates in the browser's place: `GET /live` (one event stream per
 * tab) fed from the lab's admin event streams, one upstream follower per lab
 * and source shared by all tabs and stopped when no tab needs it, a tab that
 * reconnects gets what happened meanwhile (by its tab id, or by
 * Last-Event-ID), and a student's tab gets only their own lab and their own
 * mailbox's events.
 */
import nodemailer from 'nodemailer';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { eventually } from '../helpers/test-lab';
import { startWebTestBed, WebClient, type WebTestBed } from './helpers';

let bed: WebTestBed;
let guru: WebClient;

beforeAll(async () => {
  bed = await startWebTestBed({ live: { graceMs: 300, keepAliveMs: 60_000 } });
  guru = new WebClient(bed.web.url);
  await guru.login('guru', 'rahasia123');
});
afterAll(() => bed.close());

const upstream = () => bed.web.web.upstream.stats();
const mail = (d: string) => bed.lab.target().mail(d);
const data = (m: { data: string }) => JSON.parse(m.data) as { type: string; lab: number; source: string; data: Record<string, unknown>; id: number };
const cut = () => Promise.all([mail('garudayaksa.com').call(MAIL_API.cutLink, { peer: 'dadali.com' }), mail('dadali.com').call(MAIL_API.cutLink, { peer: 'garudayaksa.com' })]);
const restore = () => Promise.all([mail('garudayaksa.com').call(MAIL_API.restoreLink, { peer: 'dadali.com' }), mail('dadali.com').call(MAIL_API.restoreLink, { peer: 'garudayaksa.com' })]);
const noFollowers = () => eventually('the upstream followers stopped', () => upstream().followers === 0, 5000);

test('a tab gets the lab events of its types as they happen, named by type, with the lab', async () => {
  const tab = await guru.stream('/live?lab=42&types=link&tab=tab-one-0001');
  try {
    expect(tab.status).toBe(200);
    const ready = data(await tab.waitFor((m) => m.event === 'ready') as never) as unknown as { labs: number[]; sources: string[] };
    expect(ready.sources).toEqual(['42/garudayaksa.com', '42/dadali.com', '42/dns']);
    await mail('dadali.com').call(MAIL_API.applyFault, { kind: 'greylist', domain: 'dadali.com' });
    await cut();
    const e = data(await tab.waitFor((m) => m.event === 'link.cut'));
    expect(e).toMatchObject({ type: 'link.cut', lab: 42 });
    expect(['garudayaksa.com', 'dadali.com']).toContain(e.source);
    // Only the types asked for: no fault.applied.
    expect(tab.messages.filter((m) => m.event.startsWith('fault.'))).toEqual([]);
    // Each frame has an id for Last-Event-ID.
    expect(tab.messages.find((m) => m.event === 'link.cut')!.id).toMatch(/^\d+$/);
    // After the burst (two link.cut, one per side), `changed` comes: at once, and once more after the last event.
    await tab.waitFor((m) => m.event === 'changed');
    await new Promise((r) => setTimeout(r, 400));
    const order = tab.messages.map((m) => m.event).filter((e) => e === 'link.cut' || e === 'changed');
    expect(order[order.length - 1]).toBe('changed');
    expect(order.filter((e) => e === 'changed').length).toBeLessThanOrEqual(2);
    expect(JSON.parse(tab.messages.find((m) => m.event === 'changed')!.data)).toEqual({ labs: [42], types: ['link'] });
  } finally {
    tab.close();
    await restore();
    await mail('dadali.com').call(MAIL_API.clearFault, { kind: 'greylist', domain: 'dadali.com' });
  }
  await noFollowers();
});

test('one upstream follower per lab and source, shared by every tab, stopped when no tab needs it', async () => {
  await noFollowers();
  const tabs = await Promise.all([guru.stream('/live?lab=42&types=link'), guru.stream('/live?lab=42&types=queue,link'), guru.stream('/live?lab=42,43')]);
  try {
    for (const t of tabs) await t.waitFor((m) => m.event === 'ready');
    expect(upstream()).toMatchObject({ followers: 6, subscribers: 12 });
    // Each admin API has one event client for this web server (two labs here are the same servers).
    await eventually('upstream open', () => bed.lab.domains['dadali.com'].events.clients === 2);
    await cut();
    for (const t of tabs) await t.waitFor((m) => m.event === 'link.cut');
    expect(tabs[2].messages.filter((m) => m.event === 'link.cut').map((m) => data(m).lab).sort()).toEqual([42, 42, 43, 43]);
  } finally {
    for (const t of tabs) t.close();
    await restore();
  }
  await noFollowers();
  expect(upstream().subscribers).toBe(0);
  await eventually('the admin APIs have no event client left', () => bed.lab.domains['dadali.com'].events.clients === 0);
});

test('a tab that reconnects gets what happened while it was away: from the shared follower, or from the admin API again', async () => {
  const tabId = 'tab-resume-0001';
  const first = await guru.stream(`/live?lab=42&types=link&tab=${tabId}`);
  await first.waitFor((m) => m.event === 'ready');
  await cut();
  await first.waitFor((m) => m.event === 'link.cut');
  first.close();
  // Away, within the follower's grace time: the follower still runs and keeps the events.
  await restore();
  const second = await guru.stream(`/live?lab=42&types=link&tab=${tabId}`);
  const back = await second.waitFor((m) => m.event === 'link.restored');
  expect(data(back).lab).toBe(42);
  expect(second.messages.filter((m) => m.event === 'link.cut')).toEqual([]);
  second.close();
  // Away longer than the grace time: the followers stop; the tab's place is asked of the admin API.
  await noFollowers();
  await cut();
  const third = await guru.stream(`/live?lab=42&types=link&tab=${tabId}`);
  await third.waitFor((m) => m.event === 'link.cut');
  expect(third.messages.filter((m) => m.event === 'link.restored')).toEqual([]);
  expect(third.messages.filter((m) => m.event === 'lost')).toEqual([]);
  // EventSource's own reconnect sends Last-Event-ID: the frames after it come again.
  const firstCut = third.messages.find((m) => m.event === 'link.cut')!;
  const count = third.messages.filter((m) => m.event === 'link.cut').length;
  third.close();
  const fourth = await guru.stream(`/live?lab=42&types=link&tab=${tabId}`, { 'last-event-id': String(Number(firstCut.id) - 1) });
  await fourth.waitFor((m) => m.event === 'ready');
  expect(fourth.messages.filter((m) => m.event === 'link.cut').length).toBe(count);
  fourth.close();
  await restore();
});

test("a student's tab: their own lab only, and of the mailbox events only their own account's", async () => {
  const student = new WebClient(bed.web.url);
  await student.login('siswa1@garudayaksa.com', 'rahasia123', 42);
  expect((await student.stream('/live?lab=43')).status).toBe(403);
  const tab = await student.stream('/live?lab=42&types=mailbox,link,queue');
  const watch = await guru.stream('/live?lab=42&types=mailbox');
  try {
    await tab.waitFor((m) => m.event === 'ready');
    await watch.waitFor((m) => m.event === 'ready');
    const port = bed.lab.config.domains.find((d) => d.name === 'garudayaksa.com')!.ports.smtp;
    const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    await t.sendMail({ from: 'jpri@dadali.com', to: 'mbrain@garudayaksa.com', subject: 'for mbrain', text: 'x\n' });
    await t.sendMail({ from: 'jpri@dadali.com', to: 'siswa1@garudayaksa.com', subject: 'for siswa1', text: 'y\n' });
    await watch.waitFor((m) => m.event === 'mailbox.append' && data(m).data.user === 'siswa1');
    expect(watch.messages.some((m) => m.event === 'mailbox.append' && data(m).data.user === 'mbrain')).toBe(true);
    await tab.waitFor((m) => m.event === 'mailbox.append');
    await cut();
    await tab.waitFor((m) => m.event === 'link.cut');
    const appends = tab.messages.filter((m) => m.event === 'mailbox.append').map((m) => data(m).data.user);
    expect(appends).toEqual(['siswa1']);
    // Queue events name other people's mail: not for a student's tab.
    expect(tab.messages.filter((m) => m.event.startsWith('queue.'))).toEqual([]);
  } finally {
    tab.close();
    watch.close();
    await restore();
  }
});
