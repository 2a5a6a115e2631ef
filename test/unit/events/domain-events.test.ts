/**
 * The live events of a whole lab (GET /events on every admin API), followed
 * as the CLI and the coming web pages follow them (followEvents, with the
 * lab's token), across a real delivery from garudayaksa.com to dadali.com:
 * the SMTP session, the queue, the DNS questions and answers the sender
 * used, the mailbox append, a POP3 read and its expunge; faults and links
 * as they change; every query on the lab DNS. Also `npx mail-lab events`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import type { LabEvent } from '../../../services/core/src/admin/api';
import { followEvents } from '../../../services/core/src/admin/event-stream';
import { faultFromArgs } from '../../../services/core/src/faults';
import { setFault } from '../../../scripts/faults/apply';
import { performance } from 'node:perf_hooks';
import { eventually, LAB_YAML, startTestLab, type TestLab } from '../helpers/test-lab';

const run = promisify(execFile);
let lab: TestLab;
const seen: LabEvent[] = [];
const stop = new AbortController();
let following: Promise<unknown>[];

beforeAll(async () => {
  lab = await startTestLab({ timing: { retryInterval: '1h' } });
  const t = lab.target();
  following = [t.mail('garudayaksa.com'), t.mail('dadali.com'), t.dns()].map((c) => followEvents(c, { onEvent: (e) => seen.push(e), signal: stop.signal }));
  await eventually('streams open', () => lab.domains['dadali.com'].events.clients === 1 && lab.domains['garudayaksa.com'].events.clients === 1 && lab.dnsAdmin.events.clients === 1);
});
afterAll(async () => {
  stop.abort();
  await Promise.all(following);
  await lab.close();
});

const of = (source: string, type: string, match: (d: Record<string, unknown>) => boolean = () => true) => seen.filter((e) => e.source === source && e.type === type && match(e.data));
const port = (d: string) => lab.config.domains.find((x) => x.name === d)!.ports;

async function send(subject: string): Promise<string> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: port('garudayaksa.com').submission, secure: false, ignoreTLS: true, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
  try {
    return /queued as (\S+)/.exec((await t.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject, text: 'Makan siang?\n' })).response)![1];
  } finally {
    t.close();
  }
}

test('a delivery across domains, event by event: SMTP in, queued, the DNS answers, the hop, the mailbox append', async () => {
  const id = await send('Makan siang');
  const delivered = await eventually('delivered event at dadali', () => of('dadali.com', 'queue.delivered', (d) => d.recipient === 'jpri@dadali.com' && d.subject === 'Makan siang')[0]);
  const bySubject = (d: Record<string, unknown>) => d.subject === 'Makan siang';
  expect(of('garudayaksa.com', 'trace.smtp-in', (d) => d.queueId === id)[0].data).toMatchObject({ port: 587, user: 'mbrain' });
  expect(of('garudayaksa.com', 'queue.queued', (d) => d.id === id)[0].data).toMatchObject({ from: 'mbrain@garudayaksa.com', recipients: ['jpri@dadali.com'] });
  const attempt = of('garudayaksa.com', 'queue.attempt', (d) => d.id === id)[0].data;
  expect(attempt).toMatchObject({ domain: 'dadali.com', mx: [{ exchange: 'mail.dadali.com', priority: 10 }], outcomes: [{ address: 'jpri@dadali.com', result: 'delivered' }] });
  expect(attempt.lookups).toEqual([
    { type: 'MX', name: 'dadali.com', answers: ['10 mail.dadali.com'], ms: expect.any(Number) },
    { type: 'A', name: 'mail.dadali.com', answers: ['127.0.0.1'], ms: expect.any(Number) },
  ]);
  expect(of('garudayaksa.com', 'queue.delivered', (d) => d.id === id)).toHaveLength(1);
  expect(of('dadali.com', 'trace.smtp-in', bySubject)[0].data).toMatchObject({ port: 25, helo: 'mail.garudayaksa.com' });
  expect(of('dadali.com', 'mailbox.append', (d) => d.user === 'jpri' && d.folder === 'INBOX')).toHaveLength(1);
  // The lab DNS saw the same questions.
  expect(of('dns', 'dns.query', (d) => d.type === 'MX' && d.name === 'dadali.com')[0].data).toMatchObject({ rcode: 'NOERROR', answers: ['10 mail.dadali.com'] });
  // In order on each server, with rising ids.
  const dadali = seen.filter((e) => e.source === 'dadali.com');
  expect(dadali.map((e) => e.id)).toEqual([...dadali.map((e) => e.id)].sort((a, b) => a - b));
  expect(dadali.indexOf(of('dadali.com', 'mailbox.append')[0])).toBeLessThan(dadali.indexOf(delivered));
});

test('a POP3 download: retrieved, then the expunge at QUIT', async () => {
  const script = ['import poplib, sys', 'p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=10)', 'p.user("jpri"); p.pass_("rahasia123")', 'n = len(p.list()[1])', 'for i in range(1, n + 1): p.retr(i); p.dele(i)', 'p.quit()'].join('\n');
  await run('python3', ['-c', script, String(port('dadali.com').pop3)]);
  await eventually('expunge event', () => of('dadali.com', 'mailbox.expunge', (d) => d.user === 'jpri').length === 1);
  expect(of('dadali.com', 'trace.retrieved', (d) => d.user === 'jpri')[0].data).toMatchObject({ protocol: 'pop3', folder: 'INBOX' });
});

test('faults and links as they change, and only when they change', async () => {
  const t = lab.target();
  const greylist = faultFromArgs(lab.config, 'greylist', ['dadali.com'], { delay: '2m' });
  await setFault(t, greylist, true);
  await setFault(t, greylist, true);
  await setFault(t, faultFromArgs(lab.config, 'greylist', ['dadali.com'], {}, true), false);
  const link = faultFromArgs(lab.config, 'link', ['garudayaksa.com', 'dadali.com']);
  await setFault(t, link, true);
  await setFault(t, link, false);
  await setFault(t, faultFromArgs(lab.config, 'dns-down', []), true);
  await setFault(t, faultFromArgs(lab.config, 'dns-down', [], {}, true), false);
  await eventually('all seen', () => of('dns', 'fault.cleared').length === 1 && of('dadali.com', 'link.restored').length === 1);
  expect(of('dadali.com', 'fault.applied').map((e) => e.data.spec)).toEqual([{ kind: 'greylist', domain: 'dadali.com', delayMs: 120_000 }]);
  expect(of('dadali.com', 'fault.cleared')).toHaveLength(1);
  expect(of('garudayaksa.com', 'link.cut')[0].data).toMatchObject({ domain: 'garudayaksa.com', peer: 'dadali.com', reason: 'break' });
  expect(of('dadali.com', 'link.cut')[0].data).toMatchObject({ peer: 'garudayaksa.com' });
  expect(of('dns', 'fault.applied')[0].data).toMatchObject({ spec: { kind: 'dns-down' } });
});

test('npx mail-lab events: the same stream as lines on the terminal, and --json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mail-lab-events-cli-'));
  try {
    // lab.yaml with this lab's ports, so the CLI talks to it.
    let text = readFileSync(LAB_YAML, 'utf8');
    for (const d of lab.config.domains) {
      const ports = Object.entries(d.ports).map(([k, v]) => `${k}: ${v}`).join(', ');
      text = text.replace(new RegExp(`(- name: ${d.name.replace('.', '\\.')}\\n(?:.*\\n)*?    ports: )\\{[^}]*\\}`), `$1{ ${ports} }`);
    }
    text = text.replace(/^( {2}hostPort: )\d+/m, `$1${lab.config.dns.hostPort}`).replace(/^( {2}adminPort: )\d+/m, `$1${lab.config.dns.adminPort}`);
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, text);
    const env = { ...process.env, MAIL_LAB_CONFIG: file, MAIL_LAB_ADMIN_TOKEN: lab.adminToken };
    const cli = join(__dirname, '../../../bin/mail-lab.js');
    const lines = run(process.execPath, [cli, 'events', 'dadali.com', '--count', '2', '--types', 'queue', '--for', '20s'], { env });
    const json = run(process.execPath, [cli, 'events', '--json', '--count', '1', '--types', 'mailbox.append', '--for', '20s'], { env });
    await new Promise((r) => setTimeout(r, 1500));
    await send('Lewat CLI');
    const out = (await lines).stdout.trim().split('\n');
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} dadali\.com +queue\.queued +\S+ from mbrain@garudayaksa\.com to jpri@dadali\.com \(\d+ octets\) "Lewat CLI"$/);
    expect(out.join('\n')).toMatch(/queue\.delivered +\S+ jpri@dadali\.com: delivered to mailbox jpri/);
    const event = JSON.parse((await json).stdout) as LabEvent;
    expect(event).toMatchObject({ source: 'dadali.com', type: 'mailbox.append', data: { user: 'jpri', folder: 'INBOX' } });
    const bad = await run(process.execPath, [cli, 'events', 'nowhere.example'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown source "nowhere.example": give a lab domain (garudayaksa.com, dadali.com) or dns') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test('100 event clients on one mail domain for a minute: every client gets every event, in order, none dropped', async () => {
  const hub = lab.domains['dadali.com'].events;
  const CLIENTS = 100;
  const EVENTS = 600;
  const stop100 = new AbortController();
  const got = new Array<number>(CLIENTS).fill(0);
  let outOfOrder = 0;
  const last = new Array<number>(CLIENTS).fill(0);
  const latencies: number[] = [];
  const sentAt = new Map<number, number>();
  const follows = Array.from({ length: CLIENTS }, (_, i) =>
    followEvents(lab.target().mail('dadali.com'), {
      types: ['queue.attempt'],
      signal: stop100.signal,
      onEvent: (e) => {
        if (e.data.marker !== 'seratus') return;
        if (e.id <= last[i]) outOfOrder++;
        last[i] = e.id;
        got[i]++;
        latencies.push(performance.now() - (sentAt.get(e.id) ?? performance.now()));
      },
    }),
  );
  await eventually('100 clients attached', () => hub.clients >= CLIENTS + 1, 20_000);
  const dropped0 = hub.stats().droppedSlow;
  const t0 = Date.now();
  for (let n = 1; n <= EVENTS; n++) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + n * 100 - Date.now())));
    const e = hub.publish('queue.attempt', { id: `seratus-${n}`, marker: 'seratus', domain: 'garudayaksa.com', outcomes: [] });
    sentAt.set(e.id, performance.now());
  }
  await eventually('every event at every client', () => got.every((g) => g === EVENTS), 15_000);
  stop100.abort();
  await Promise.all(follows);
  const s = [...latencies].sort((a, b) => a - b);
  console.log(`100 clients on dadali.com's admin API × ${EVENTS} events in ${((Date.now() - t0) / 1000).toFixed(1)} s: median ${s[Math.floor(s.length / 2)].toFixed(2)} ms, p95 ${s[Math.floor(s.length * 0.95)].toFixed(2)} ms`);
  expect(outOfOrder).toBe(0);
  expect(hub.stats().droppedSlow).toBe(dropped0);
}, 120_000);
