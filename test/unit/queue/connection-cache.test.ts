/**
 * The outbound connection cache (queue/connection-cache.ts) on a real TLS
 * lab: the next message to the same host goes over the open session (one
 * TLS handshake for several messages, said in the transcript), the session
 * is closed after its idle time, a broken link closes it at once (the next
 * message waits in the queue, nothing sneaks through), and server-down ends
 * the receiving side's idle sessions with 421.
 */
import { setFault } from '../../../scripts/faults/apply';
import { faultFromArgs } from '../../../services/core/src/faults';
import { eventually, startTestLab, type TestLab } from '../helpers/test-lab';
import { inbox, submit, withSubject } from '../faults/helpers';

let lab: TestLab;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lab = await startTestLab({ tls: true, timing: { retryInterval: '1h' } });
});
afterAll(() => lab.close());

const garuda = () => lab.domains['garudayaksa.com'].queue;

/** Sends and waits until jpri has it; returns the sender's delivery record. */
async function deliver(subject: string) {
  const id = await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], subject);
  await eventually(`"${subject}" delivered`, async () => garuda().finished(id) !== undefined, 10_000);
  const entry = garuda().finished(id)!;
  expect(withSubject(await inbox(lab, 'dadali.com', 'jpri'), subject)).toHaveLength(1);
  return entry.history[entry.history.length - 1];
}

test('messages one after another share one session: the second and third say "connection reused", with the TLS of the first', async () => {
  const first = await deliver('Sesi pertama');
  expect(first.result).toBe('delivered');
  expect(first.transcript!.join('\n')).toMatch(/STARTTLS/);
  expect(first.transcript!.some((l) => l.startsWith('connection reused'))).toBe(false);
  const second = await deliver('Sesi kedua');
  const third = await deliver('Sesi ketiga');
  for (const [n, h] of [[2, second], [3, third]] as const) {
    expect(h.result).toBe('delivered');
    const reused = h.transcript!.find((l) => l.startsWith('connection reused'));
    expect(reused).toMatch(new RegExp(`^connection reused: the session to mail\\.dadali\\.com\\[127\\.0\\.0\\.1\\]:\\d+ opened at [\\d:.]+ is still open \\(message ${n} on it, after RSET\\); TLS: TLSv1\\.3`));
    expect(h.transcript!.join('\n')).not.toMatch(/STARTTLS/);
    expect(h.transcript).toEqual(expect.arrayContaining([expect.stringMatching(/RSET/), expect.stringMatching(/MAIL FROM:<mbrain@garudayaksa\.com>/)]));
    expect(h.tls).toBe(first.tls);
  }
});

test('after the idle time the session is gone and the next message opens its own', async () => {
  await deliver('Sebelum jeda');
  await sleep(2600);
  const after = await deliver('Sesudah jeda');
  expect(after.transcript!.some((l) => l.startsWith('connection reused'))).toBe(false);
  expect(after.transcript!.join('\n')).toMatch(/STARTTLS/);
});

test('a broken link closes the cached session: the next message waits in the queue, and goes after heal', async () => {
  const target = lab.target();
  await deliver('Sebelum putus');
  await setFault(target, faultFromArgs(lab.config, 'link', ['garudayaksa.com', 'dadali.com']), true);
  try {
    const id = await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Saat putus');
    await eventually('deferred behind the broken link', async () => (garuda().get(id)?.recipients[0].attempts ?? 0) >= 1, 5_000);
    expect(garuda().get(id)!.recipients[0].status).toBe('pending');
    expect(withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Saat putus')).toHaveLength(0);
  } finally {
    await setFault(target, faultFromArgs(lab.config, 'link', ['garudayaksa.com', 'dadali.com'], {}, true), false);
  }
  garuda().flush();
  await eventually('delivered after heal', async () => withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Saat putus').length === 1, 10_000);
});

test('server-down on the receiver ends the sender\'s idle session with 421: the next message is refused a connection and waits', async () => {
  const target = lab.target();
  await deliver('Sebelum server mati');
  await setFault(target, faultFromArgs(lab.config, 'server-down', ['dadali.com']), true);
  try {
    const id = await submit(lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Saat server mati');
    await eventually('deferred: port 25 down', async () => (garuda().get(id)?.recipients[0].attempts ?? 0) >= 1, 5_000);
    expect(garuda().get(id)!.recipients[0].lastError).toMatch(/connection refused/);
  } finally {
    await setFault(target, faultFromArgs(lab.config, 'server-down', ['dadali.com'], {}, true), false);
  }
  garuda().flush();
  await eventually('delivered after server-up', async () => withSubject(await inbox(lab, 'dadali.com', 'jpri'), 'Saat server mati').length === 1, 10_000);
});
