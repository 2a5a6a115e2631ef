/**
 * Live events over server-sent events (services/core/src/admin/events.ts,
 * event-stream.ts): a real node:http server with the AdminRouter (token)
 * whose `/events` route attaches to an EventHub, read by followEvents, by
 * raw sockets and by curl: order and ids, the wire format, resume with
 * Last-Event-ID, `lost`, type filters, keep-alives, a client that never
 * reads, clean-up, the client limit, and 100 clients for a minute.
 */
import { execFile, spawn } from 'node:child_process';
import { get, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { LabEvent } from '../../../services/core/src/admin/api';
import { AdminClient } from '../../../services/core/src/admin/client';
import { followEvents, SseParser, type FollowOptions, type FollowState, type SseMessage } from '../../../services/core/src/admin/event-stream';
import { EventHub, parseTypes, type EventHubOptions, type LostEvents } from '../../../services/core/src/admin/events';
import { route } from '../../../services/core/src/admin/route';
import { AdminRouter } from '../../../services/core/src/admin/router';

const run = promisify(execFile);
const TOKEN = 'test-token-0123456789abcdefghij';
const EVENTS = route<never>()('GET', '/events', z.object({ types: z.string().optional() }), { stream: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Lab {
  hub: EventHub;
  port: number;
  client: AdminClient;
  /** The Last-Event-ID of each request to /events. */
  lastIds: (string | undefined)[];
  /** The server's sockets, to cut connections. */
  sockets: Set<Socket>;
}
const labs: { hub: EventHub; server: Server }[] = [];

async function start(o: Partial<EventHubOptions> = {}): Promise<Lab> {
  const hub = new EventHub({ source: 'dadali.com', ...o });
  const lastIds: (string | undefined)[] = [];
  const router = new AdminRouter({ service: 'dadali.com', token: TOKEN }).stream(EVENTS, (input, req, res) => {
    lastIds.push(req.headers['last-event-id'] as string | undefined);
    hub.attach(req, res, { types: parseTypes(input.types) });
  });
  const server = router.server();
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  labs.push({ hub, server });
  const port = (server.address() as AddressInfo).port;
  return { hub, port, lastIds, sockets, client: new AdminClient({ who: 'dadali.com', port, token: TOKEN }) };
}

afterEach(async () => {
  for (const { hub, server } of labs.splice(0)) {
    hub.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

function follow(lab: Lab, o: Partial<FollowOptions> = {}) {
  const got: LabEvent[] = [];
  const states: FollowState[] = [];
  const lost: LostEvents[] = [];
  const ac = new AbortController();
  const done = followEvents(lab.client, {
    onEvent: (e) => got.push(e),
    onState: (s) => states.push(s),
    onLost: (l) => lost.push(l),
    signal: ac.signal,
    retryMs: 50,
    ...o,
  });
  done.catch(() => undefined);
  return { got, states, lost, done, ids: () => got.map((e) => e.id), stop: () => (ac.abort(), done) };
}
const opened = (f: { states: FollowState[] }, n = 1) => until('the stream to open', () => f.states.filter((s) => s === 'open').length >= n);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

test('the parser: lines split anywhere, LF/CRLF/CR, comments, multi-line data, id carried over', () => {
  const wire = ': hello\r\nretry: 700\r\n\r\nid: 7\nevent: queue.queued\ndata: {"a":\ndata: 1}\n\n: keep-alive\r\rdata: x\r\n\r\nid: 8\n\nevent: empty\n\n';
  for (const step of [1, 2, 3, 5, wire.length]) {
    const msgs: SseMessage[] = [];
    const comments: string[] = [];
    const retries: number[] = [];
    const p = new SseParser({ onMessage: (m) => msgs.push(m), onComment: (c) => comments.push(c), onRetry: (r) => retries.push(r) });
    for (let i = 0; i < wire.length; i += step) p.push(wire.slice(i, i + step));
    expect(msgs).toEqual([
      { id: '7', event: 'queue.queued', data: '{"a":\n1}' },
      { id: '7', event: 'message', data: 'x' },
    ]);
    expect(comments).toEqual(['hello', 'keep-alive']);
    expect(retries).toEqual([700]);
  }
});

test('events arrive in order with their ids, time and source', async () => {
  const lab = await start({ clock: () => new Date('2025-03-04T05:06:07.000Z') });
  const f = follow(lab);
  await opened(f);
  const sent = [lab.hub.publish('queue.queued', { id: 'q1' }), lab.hub.publish('queue.attempt', { id: 'q1', n: 1 }), lab.hub.publish('queue.delivered', { id: 'q1' })];
  for (let i = 0; i < 7; i++) sent.push(lab.hub.publish('mailbox.append', { user: 'siswa1', n: i }));
  await until('10 events', () => f.got.length === 10);
  expect(f.got).toEqual(sent);
  expect(f.ids()).toEqual(range(1, 10));
  expect(f.got[0]).toEqual({ id: 1, type: 'queue.queued', time: '2025-03-04T05:06:07.000Z', source: 'dadali.com', data: { id: 'q1' } });
  expect(lab.hub.stats()).toMatchObject({ clients: 1, published: 10, droppedSlow: 0 });
  expect(await f.stop()).toEqual({ lastEventId: 10, connections: 1 });
  expect(f.states).toEqual(['open', 'closed']);
});

test('curl -N sees the SSE wire format; without the token it gets 401', async () => {
  const lab = await start({ clock: () => new Date('2025-03-04T05:06:07.000Z'), retryMs: 1500 });
  const url = `http://127.0.0.1:${lab.port}/events`;
  const curl = spawn('curl', ['-sN', '-D', '-', '--max-time', '20', '-H', `Authorization: Bearer ${TOKEN}`, url]);
  let out = '';
  curl.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  try {
    await until('the retry line', () => out.includes('retry:'));
    const a = lab.hub.publish('queue.queued', { id: 'q1', from: 'mbrain@garudayaksa.com' });
    const b = lab.hub.publish('dns.query', { name: 'dadali.com', type: 'MX' });
    const frame = (e: LabEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
    await until('both frames', () => out.includes(frame(b)));
    expect(out).toMatch(/^HTTP\/1\.1 200/);
    expect(out).toMatch(/^content-type: text\/event-stream/im);
    expect(out).toMatch(/^cache-control: no-store\r?$/im);
    expect(out).toMatch(/^x-accel-buffering: no\r?$/im);
    const body = out.slice(out.indexOf('\r\n\r\n') + 4);
    expect(body).toBe(`retry: 1500\n\n${frame(a)}${frame(b)}`);
  } finally {
    curl.kill();
  }
  await until('curl to be gone from the hub', () => lab.hub.clients === 0);
  const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url]);
  expect(r.stdout).toBe('401');
});

test('a dropped connection resumes with Last-Event-ID and gets exactly the missed events', async () => {
  const lab = await start();
  const f = follow(lab);
  await opened(f);
  for (let i = 1; i <= 3; i++) lab.hub.publish('queue.queued', { n: i });
  await until('3 events', () => f.got.length === 3);
  for (const s of lab.sockets) s.destroy();
  for (let i = 4; i <= 6; i++) lab.hub.publish('queue.deferred', { n: i });
  await until('the missed events', () => f.got.length >= 6);
  lab.hub.publish('queue.delivered', { n: 7 });
  await until('the 7th', () => f.got.length >= 7);
  expect(f.ids()).toEqual(range(1, 7));
  expect(f.states.slice(0, 3)).toEqual(['open', 'reconnecting', 'open']);
  expect(lab.lastIds).toEqual([undefined, '3']);
  // a new follower that saw up to 4 gets 5, 6, 7 and nothing else
  const g = follow(lab, { lastEventId: 4 });
  await until('the replay', () => g.got.length >= 3);
  await sleep(100);
  expect(g.ids()).toEqual([5, 6, 7]);
  expect((await f.stop()).connections).toBe(2);
  await g.stop();
});

test('Last-Event-ID older than the buffer: a lost event says how many, then what is left', async () => {
  const lab = await start({ bufferSize: 5 });
  for (let i = 1; i <= 12; i++) lab.hub.publish('mailbox.append', { n: i });
  const f = follow(lab, { lastEventId: 2 });
  await until('the replay', () => f.got.length === 5);
  expect(f.lost).toEqual([{ after: 2, missed: 5, reason: 'too-old' }]);
  expect(f.ids()).toEqual([8, 9, 10, 11, 12]);
  // an id the hub never gave (the server restarted): everything it has, and say so
  const g = follow(lab, { lastEventId: 50 });
  await until('the replay', () => g.got.length === 5);
  expect(g.lost).toEqual([{ after: 50, missed: null, reason: 'restarted' }]);
  // still within the buffer: no lost event
  const h = follow(lab, { lastEventId: 9 });
  await until('the replay', () => h.got.length === 3);
  expect(h.lost).toEqual([]);
  await Promise.all([f.stop(), g.stop(), h.stop()]);
});

test('types=queue,mailbox passes only queue.* and mailbox.*, live and on replay', async () => {
  const lab = await start();
  lab.hub.publish('dns.query', { n: 0 });
  const f = follow(lab, { types: ['queue', 'mailbox'] });
  const d = follow(lab, { types: ['dns'], lastEventId: 0 });
  await opened(f);
  await opened(d);
  for (const t of ['queue.queued', 'dns.query', 'mailbox.append', 'link.cut', 'fault.applied', 'mailbox.expunge', 'queue.flushed'] as const) lab.hub.publish(t, {});
  await until('the filtered events', () => f.got.length >= 4 && d.got.length >= 2);
  await sleep(100);
  expect(f.got.map((e) => e.type)).toEqual(['queue.queued', 'mailbox.append', 'mailbox.expunge', 'queue.flushed']);
  expect(d.ids()).toEqual([1, 3]);
  expect(lab.lastIds.length).toBe(2);
  expect(parseTypes(' queue, ,mailbox ')).toEqual(['queue', 'mailbox']);
  expect(parseTypes('')).toBeUndefined();
  await Promise.all([f.stop(), d.stop()]);
});

test('a keep-alive comment comes every interval, and keeps followEvents from calling the stream idle', async () => {
  const lab = await start({ keepAliveMs: 100 });
  let text = '';
  const req = get({ port: lab.port, path: '/events', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => res.on('data', (c: Buffer) => (text += c.toString())));
  req.on('error', () => undefined);
  const f = follow(lab, { idleMs: 400 });
  await until('two keep-alives', () => text.split(': keep-alive\n\n').length >= 3);
  await sleep(1000);
  expect(text).toMatch(/^retry: \d+\n\n: keep-alive\n\n/);
  expect(f.states).toEqual(['open']);
  req.destroy();
  await f.stop();
});

test('a client that never reads is dropped; what waits for it stays under the limit; others go on', async () => {
  const LIMIT = 1024 * 1024;
  const lab = await start({ bufferSize: 8 });
  const f = follow(lab);
  await opened(f);
  const slow = connect(lab.port, '127.0.0.1');
  slow.write(`GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
  slow.pause();
  await until('both attached', () => lab.hub.clients === 2);
  const blob = 'x'.repeat(64 * 1024);
  let maxQueued = 0;
  let n = 0;
  for (; n < 1000 && lab.hub.stats().droppedSlow === 0; n++) {
    lab.hub.publish('trace.smtp-in', { n, blob });
    maxQueued = Math.max(maxQueued, lab.hub.stats().queuedBytes);
    await until('the reader to get it', () => f.got.length === n + 1);
  }
  const st = lab.hub.stats();
  console.log(`slow client dropped after ${n} events of 64 KiB; peak unsent for one client ${(st.peakQueuedBytes / 1024).toFixed(0)} KiB`);
  expect(st).toMatchObject({ droppedSlow: 1, clients: 1 });
  expect(st.peakQueuedBytes).toBeLessThanOrEqual(LIMIT);
  expect(maxQueued).toBeLessThanOrEqual(LIMIT + 70 * 1024);
  expect(f.ids()).toEqual(range(1, n));
  expect(f.states).toEqual(['open']);
  // the slow client's connection is really over: reading now ends it
  const closed = new Promise((r) => slow.on('close', r));
  slow.on('data', () => undefined).resume();
  await closed;
  await f.stop();
}, 60_000);

test('disconnects leave nothing behind; close() ends every stream and refuses new ones', async () => {
  const lab = await start({ keepAliveMs: 50 });
  const fs = [follow(lab), follow(lab), follow(lab)];
  await Promise.all(fs.map((f) => opened(f)));
  expect(lab.hub.clients).toBe(3);
  await Promise.all(fs.map((f) => f.stop()));
  await until('no clients', () => lab.hub.stats().clients === 0);
  await sleep(150); // keep-alives tick over an empty hub
  const last = follow(lab, { reconnect: false });
  await opened(last);
  lab.hub.close();
  expect(await last.done).toEqual({ lastEventId: undefined, connections: 1 });
  expect(lab.hub.clients).toBe(0);
  await expect(followEvents(lab.client, { onEvent: () => undefined, reconnect: false })).rejects.toMatchObject({ status: 503, code: 'failed' });
});

test('past maxClients: 503 too-many-clients in the JSON error shape; a reconnecting follower gets in later', async () => {
  const lab = await start({ maxClients: 2 });
  const a = follow(lab);
  const b = follow(lab);
  await Promise.all([opened(a), opened(b)]);
  const r = await run('curl', ['-s', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${TOKEN}`, `http://127.0.0.1:${lab.port}/events`]);
  const [body, status] = r.stdout.split('\n');
  expect(status).toBe('503');
  expect(JSON.parse(body)).toEqual({ code: 'too-many-clients', error: expect.stringMatching(/dadali\.com already streams events to 2 clients/) });
  await expect(followEvents(lab.client, { onEvent: () => undefined, reconnect: false })).rejects.toMatchObject({ status: 503, code: 'too-many-clients' });
  const c = follow(lab);
  await until('c to wait', () => c.states.includes('reconnecting'));
  await a.stop();
  await opened(c);
  lab.hub.publish('queue.queued', {});
  await until('the event', () => c.got.length === 1 && b.got.length === 1);
  await Promise.all([b.stop(), c.stop()]);
});

