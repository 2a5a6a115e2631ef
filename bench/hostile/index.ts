/**
 * Bad input under load (issue 15): the measured traffic (bench/load.ts:
 * `clients` SMTP sessions sending `total` messages to garudayaksa.com's port
 * 25) run twice on the bench's own no-Docker lab, once alone and once while
 * three hostile clients, each from a loopback address of its own
 * (127.0.0.2-4, so the per-address connection limit they run into is
 * theirs, not the measured clients') do what the issue names:
 *
 * - `idle`: opens `idleConnections` connections and sends nothing (the
 *   server takes `maxConnectionsPerClient` of them and refuses the rest);
 * - `big`: sends a message of `bigMB` MB to the 10 MB limit (552 at the end
 *   of DATA, or cut off);
 * - `rcpt`: pipelines `rcpts` RCPT TO commands in one write (each past
 *   `maxRecipients` refused with 452).
 *
 * Each hostile client reports what the server answered; the report gives the
 * measured rate with and without them. Bounded: every socket has a deadline,
 * the load stops after `maxSeconds`; nothing leaves 127.0.0.0/8.
 */
import { rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { runLoad, type LoadResult } from '../load';
import { startLocalTarget } from '../targets';

export interface HostileBenchOptions {
  clients: number;
  total: number;
  maxSeconds: number;
  idleConnections: number;
  bigMB: number;
  rcpts: number;
  log: (line: string) => void;
}

export interface HostileOutcome {
  name: string;
  what: string;
  /** What the server did, in words with counts. */
  result: string;
}

export interface HostileBenchResults {
  alone: LoadResult | null;
  underAttack: LoadResult | null;
  hostile: HostileOutcome[];
  errors: string[];
}

/** Each hostile client from a loopback address of its own, so each runs into its own per-address limit. */
const FROM = { idle: '127.0.0.2', big: '127.0.0.3', rcpt: '127.0.0.4' } as const;
const DEADLINE_MS = 20_000;
const USERS = ['siswa1', 'siswa2', 'siswa3'];

function connect(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    s.setTimeout(DEADLINE_MS);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    s.connect({ port, host: '127.0.0.1', localAddress });
  });
}

/** Reads until `done` matches the text received so far (or the socket ends); resolves with the text. */
function readUntil(s: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    if (s.destroyed || s.readyState !== 'open') return resolve(text);
    const finish = () => {
      s.off('data', onData);
      resolve(text);
    };
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      if (done(text)) finish();
    };
    s.on('data', onData);
    s.once('close', finish);
    s.once('timeout', () => {
      s.destroy();
      finish();
    });
  });
}

/** `n` connections that say nothing, held until `release` resolves. */
async function idleClient(port: number, n: number, release: Promise<void>): Promise<HostileOutcome> {
  const sockets: Socket[] = [];
  let greeted = 0;
  let refused = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const s = await connect(port, FROM.idle);
        sockets.push(s);
        s.on('error', () => undefined);
        const first = await readUntil(s, (t) => /\r\n/.test(t));
        if (/^220/.test(first)) greeted++;
        else refused++;
      } catch {
        failed++;
      }
    }),
  );
  await release;
  const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
  for (const s of sockets) s.destroy();
  return { name: 'idle', what: `${n} connections that send nothing`, result: `${greeted} greeted (220), ${refused} refused at once (421), ${failed} not connected; ${stillOpen} still open when the load ended` };
}

/** One message of `mb` MB in DATA. */
async function bigClient(port: number, mb: number): Promise<HostileOutcome> {
  const s = await connect(port, FROM.big);
  s.on('error', () => undefined);
  const line = (re: RegExp) => readUntil(s, (t) => re.test(t));
  const greeting = await line(/^\d{3} .*\r\n/m);
  if (!/^220/.test(greeting)) {
    s.destroy();
    return { name: 'big', what: `a ${mb} MB message to the 10 MB limit`, result: `not greeted: ${greeting.trim() || '(closed)'}` };
  }
  s.write('EHLO besar.invalid\r\n');
  await line(/^250 [^\r\n]*\r\n/m);
  s.write('MAIL FROM:<besar@besar.invalid>\r\n');
  await line(/\r\n/);
  s.write('RCPT TO:<siswa4@garudayaksa.com>\r\n');
  await line(/\r\n/);
  s.write('DATA\r\n');
  const data = await line(/\r\n/);
  if (!/^354/.test(data)) {
    s.destroy();
    return { name: 'big', what: `a ${mb} MB message to the 10 MB limit`, result: `DATA refused: ${data.trim()}` };
  }
  const chunk = Buffer.from('Subject: besar\r\n\r\n' + ('x'.repeat(998) + '\r\n').repeat(1024)); // ≈ 1 MB
  const t0 = Date.now();
  let sent = 0;
  let reply = '';
  const answered = readUntil(s, (t) => /^\d{3} [^\r\n]*\r\n/m.test(t)).then((t) => (reply = t));
  for (let i = 0; i < mb && !s.destroyed && !reply; i++) {
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r).once('close', r));
    sent += chunk.length;
  }
  if (!s.destroyed && !reply) s.write('\r\n.\r\n');
  await answered;
  s.destroy();
  return { name: 'big', what: `a ${mb} MB message to the 10 MB limit`, result: `${(sent / 1048576).toFixed(0)} MB written in ${((Date.now() - t0) / 1000).toFixed(1)} s; the server: ${reply.trim().split('\r\n').at(-1) || '(no reply; connection closed)'}` };
}

/** `n` RCPT TO commands in one write after MAIL FROM. */
async function rcptClient(port: number, n: number): Promise<HostileOutcome> {
  const s = await connect(port, FROM.rcpt);
  s.on('error', () => undefined);
  const greeting = await readUntil(s, (t) => /^\d{3} .*\r\n/m.test(t));
  if (!/^220/.test(greeting)) {
    s.destroy();
    return { name: 'rcpt', what: `${n} pipelined RCPT TO`, result: `not greeted: ${greeting.trim() || '(closed)'}` };
  }
  s.write('EHLO banyak.invalid\r\n');
  await readUntil(s, (t) => /^250 [^\r\n]*\r\n/m.test(t));
  s.write('MAIL FROM:<banyak@banyak.invalid>\r\n');
  await readUntil(s, (t) => /\r\n/.test(t));
  const lines = Array.from({ length: n }, (_, i) => `RCPT TO:<siswa${(i % 5) + 1}@garudayaksa.com>\r\n`).join('');
  s.write(lines + 'QUIT\r\n');
  const replies = await readUntil(s, (t) => /^221 /m.test(t) || (t.match(/\r\n/g) ?? []).length >= n + 1);
  s.destroy();
  const codes = new Map<string, number>();
  for (const l of replies.split('\r\n').filter(Boolean)) codes.set(l.slice(0, 3), (codes.get(l.slice(0, 3)) ?? 0) + 1);
  const counted = [...codes.entries()].map(([c, k]) => `${k}× ${c}`).join(', ');
  return { name: 'rcpt', what: `${n} pipelined RCPT TO`, result: `replies: ${counted || 'none'}` };
}

export async function runHostileBench(o: HostileBenchOptions): Promise<HostileBenchResults> {
  const dir = join('/tmp', `mail-lab-hostile-bench-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const r: HostileBenchResults = { alone: null, underAttack: null, hostile: [], errors: [] };
  const lab = await startLocalTarget({ dir, distRoot: join(__dirname, '..', '..'), offset: 'bench', log: o.log });
  try {
    const garuda = lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;
    const port = garuda.ports.smtp;
    const boxes = await Promise.all(USERS.map((u) => lab.mailbox(garuda.name, u)));
    const load = (runId: string) =>
      runLoad({ port, recipients: USERS.map((u) => `${u}@${garuda.name}`), from: 'load@bench.invalid', clients: o.clients, total: o.total, maxMs: o.maxSeconds * 1000, size: 2048, runId, mailboxes: boxes, queueEmpty: () => lab.queueEmpty(garuda.name) });
    o.log(`hostile bench: the measured load alone (${o.clients} clients, ${o.total} messages)`);
    r.alone = await load('alone');
    o.log(`  alone: ${rate(r.alone)}`);
    o.log('hostile bench: the same load with the three hostile clients from 127.0.0.2-4');
    let release!: () => void;
    const released = new Promise<void>((res) => (release = res));
    const idle = idleClient(port, o.idleConnections, released).finally(() => o.log('  idle: done'));
    const big = bigClient(port, o.bigMB).finally(() => o.log('  big: done')).catch((e: Error) => ({ name: 'big', what: `a ${o.bigMB} MB message`, result: `error: ${e.message}` }));
    const rcpt = rcptClient(port, o.rcpts).finally(() => o.log('  rcpt: done')).catch((e: Error) => ({ name: 'rcpt', what: `${o.rcpts} pipelined RCPT TO`, result: `error: ${e.message}` }));
    try {
      r.underAttack = await load('attacked');
    } finally {
      release();
    }
    o.log('hostile bench: load done; waiting for the hostile clients to finish');
    r.hostile = [await idle, await big, await rcpt];
  } catch (e) {
    r.errors.push((e as Error).message);
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

const rate = (l: LoadResult | null) => (l ? `${l.accepted}/${l.accepted + l.failed} accepted, ${l.acceptedPerSec.toFixed(0)} msg/s accepted, ${l.deliveredPerSec.toFixed(0)} msg/s delivered${l.errors.length ? ` (${l.errors[0]})` : ''}` : '-');

export function formatHostileReport(r: HostileBenchResults): string {
  const ratio = r.alone && r.underAttack && r.alone.acceptedPerSec > 0 ? (r.underAttack.acceptedPerSec / r.alone.acceptedPerSec).toFixed(2) : '-';
  return [
    'bad input under load (garudayaksa.com port 25, no-Docker bench lab):',
    `  measured load alone:          ${rate(r.alone)}`,
    `  with the hostile clients:     ${rate(r.underAttack)}  (accepted rate ${ratio}× of alone)`,
    ...r.hostile.map((h) => `  ${h.name.padEnd(5)} ${h.what}: ${h.result}`),
    ...r.errors.map((e) => `  error: ${e}`),
  ].join('\n');
}
