/**
 * The admin API's router and client (services/core/src/admin): a real
 * server on loopback, driven by the typed client and by curl (a client of
 * someone else's), for what every route gets from the router: the token,
 * 404/405, malformed JSON, bad arguments naming the field, stable codes.
 */
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { z } from 'zod';
import { AdminClient, AdminCallError, AdminUnreachableError } from '../../../services/core/src/admin/client';
import { ApiError } from '../../../services/core/src/admin/errors';
import { route } from '../../../services/core/src/admin/route';
import { AdminRouter, JsonArrayStream } from '../../../services/core/src/admin/router';
import { freePort } from '../helpers/test-lab';

const run = promisify(execFile);
const TOKEN = 'test-token-0123456789abcdefghij';

const API = {
  health: route<{ ok: true }>()('GET', '/health', z.object({})),
  item: route<{ id: string; n: number }>()('GET', '/items/:id', z.object({ id: z.string().regex(/^[a-z]+$/), n: z.coerce.number().int().default(1) })),
  act: route<{ did: string }>()('POST', '/items/:id/:action', z.object({ id: z.string(), action: z.enum(['hold', 'drop']), why: z.string().min(1).optional() })),
  boom: route<never>()('GET', '/boom', z.object({})),
  many: route<{ i: number; text: string }[]>()('GET', '/many', z.object({ n: z.coerce.number().int(), breakAt: z.coerce.number().int().optional() })),
};

let port: number;
let close: () => Promise<void>;
let done: string[];

beforeAll(async () => {
  done = [];
  const router = new AdminRouter({ service: 'test.example', token: TOKEN })
    .on(API.health, () => ({ ok: true as const }))
    .on(API.item, ({ id, n }) => {
      if (id === 'gone') throw new ApiError(404, 'unknown-queue-id', `no message ${id}`);
      return { id, n };
    })
    .on(API.act, ({ id, action, why }) => {
      done.push(`${action} ${id} ${why ?? ''}`.trim());
      return { did: action };
    })
    .on(API.boom, () => {
      throw new Error('kaputt');
    })
    .on(API.many, ({ n, breakAt }) =>
      new JsonArrayStream(
        (function* () {
          for (let i = 0; i < n; i++) {
            if (i === breakAt) throw new Error('the store went away');
            yield { i, text: `pesan "${i}"\n` };
          }
        })(),
      ),
    );
  const server = router.server();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  close = () => new Promise((r) => server.close(() => r()));
});
afterAll(() => close());

const client = (token = TOKEN) => new AdminClient({ who: 'test.example', port, token });
const curl = async (...args: string[]) => {
  const r = await run('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', ...args]);
  const lines = r.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join('\n') || '{}') as Record<string, unknown> };
};

test('typed calls: path parameters filled, the rest as query (GET) or JSON body (POST)', async () => {
  expect(await client().call(API.item, { id: 'abc', n: 3 })).toEqual({ id: 'abc', n: 3 });
  expect(await client().call(API.act, { id: 'x y', action: 'hold', why: 'karena' })).toEqual({ did: 'hold' });
  expect(done).toContain('hold x y karena');
});

test('every route but GET /health needs the token: none or a wrong one is 401 and nothing is done', async () => {
  expect((await curl(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  const none = await curl('-X', 'POST', `http://127.0.0.1:${port}/items/a/drop`);
  expect(none).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
  const wrong = await curl('-X', 'POST', '-H', 'Authorization: Bearer not-the-token-at-all-0000', `http://127.0.0.1:${port}/items/a/drop`);
  expect(wrong.status).toBe(401);
  expect(done.some((d) => d.startsWith('drop'))).toBe(false);
  await expect(client('wrong-token-0123456789abcdef').call(API.item, { id: 'abc' })).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
});

test('unknown route 404, wrong method 405 with Allow, each with its code', async () => {
  const auth = ['-H', `Authorization: Bearer ${TOKEN}`];
  expect(await curl(...auth, `http://127.0.0.1:${port}/nothing`)).toMatchObject({ status: 404, body: { code: 'not-found' } });
  const r = await run('curl', ['-s', '-i', '-X', 'DELETE', ...auth, `http://127.0.0.1:${port}/items/abc`]);
  expect(r.stdout).toMatch(/^HTTP\/1\.1 405/);
  expect(r.stdout).toMatch(/^Allow: GET\r?$/im);
  expect(r.stdout).toContain('"code":"method-not-allowed"');
});

test('malformed JSON is 400 bad-json; a bad argument is 400 bad-argument naming the field', async () => {
  const auth = ['-H', `Authorization: Bearer ${TOKEN}`];
  const bad = await curl('-X', 'POST', ...auth, '-d', '{"why": ', `http://127.0.0.1:${port}/items/a/hold`);
  expect(bad).toMatchObject({ status: 400, body: { code: 'bad-json' } });
  const arr = await curl('-X', 'POST', ...auth, '-d', '[1]', `http://127.0.0.1:${port}/items/a/hold`);
  expect(arr).toMatchObject({ status: 400, body: { code: 'bad-json' } });
  const action = await curl('-X', 'POST', ...auth, `http://127.0.0.1:${port}/items/a/explode`);
  expect(action).toMatchObject({ status: 400, body: { code: 'bad-argument', field: 'action' } });
  const err = await client()
    .call(API.item, { id: 'ABC' })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AdminCallError);
  expect(err).toMatchObject({ status: 400, code: 'bad-argument', field: 'id' });
  expect((err as Error).message).toMatch(/^id: /);
});

test("a handler's ApiError keeps its status and code; anything else is 500 internal", async () => {
  await expect(client().call(API.item, { id: 'gone' })).rejects.toMatchObject({ status: 404, code: 'unknown-queue-id', message: 'no message gone' });
  await expect(client().call(API.boom)).rejects.toMatchObject({ status: 500, code: 'internal', message: 'kaputt' });
});

test('a body over the limit is refused with 413 body-too-large', async () => {
  const big = JSON.stringify({ why: 'x'.repeat(70_000) });
  const r = await curl('-X', 'POST', '-H', `Authorization: Bearer ${TOKEN}`, '--data-binary', big, `http://127.0.0.1:${port}/items/a/hold`);
  expect(r).toMatchObject({ status: 413, body: { code: 'body-too-large' } });
});

test('nothing listening: AdminUnreachableError says where it looked and what to try', async () => {
  const c = new AdminClient({ who: 'dadali.com', port: await freePort(), token: TOKEN });
  const e = await c.call(API.health).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(AdminUnreachableError);
  expect((e as Error).message).toMatch(/cannot reach the admin API of dadali\.com on 127\.0\.0\.1:\d+ \(ECONNREFUSED\); is the lab up\?/);
});

test('after a 401 the client asks for a fresh token once (a lab made anew)', async () => {
  let asked = 0;
  const c = new AdminClient({ who: 'test.example', port, token: 'stale-token-0123456789abcdefg', refreshToken: async () => (asked++, TOKEN) });
  expect(await c.call(API.item, { id: 'ok' })).toEqual({ id: 'ok', n: 1 });
  expect(asked).toBe(1);
});

test('a streamed list arrives whole, whatever its length against the batch; an error half-way cuts it off rather than shortening it', async () => {
  for (const n of [0, 1, 499, 500, 501, 1000, 2345]) {
    const got = await client().call(API.many, { n });
    expect(got).toHaveLength(n);
    expect(got.every((x, i) => x.i === i && x.text === `pesan "${i}"\n`)).toBe(true);
  }
  // curl sees the same JSON, sent chunked.
  const r = await run('curl', ['-s', '-D', '-', '-H', `Authorization: Bearer ${TOKEN}`, `http://127.0.0.1:${port}/many?n=3`]);
  expect(r.stdout).toMatch(/transfer-encoding: chunked/i);
  expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('\r\n\r\n') + 4))).toEqual([0, 1, 2].map((i) => ({ i, text: `pesan "${i}"\n` })));
  // Broken after two batches went out: the client gets no list at all.
  await expect(client().call(API.many, { n: 2000, breakAt: 1200 })).rejects.toThrow(/^the answer of test\.example to GET \/many was cut off half-way \(ECONNRESET\)/);
  // and the server goes on answering.
  expect(await client().call(API.many, { n: 2 })).toHaveLength(2);
});
