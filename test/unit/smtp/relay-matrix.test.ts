/**
 * The relay matrix, driven with swaks (a real SMTP client) through every
 * cell on both domains: who may send what to whom, on port 25 and 587.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestLab, type TestLab } from '../helpers/test-lab';

const run = promisify(execFile);
let lab: TestLab;
let haveSwaks = false;

beforeAll(async () => {
  haveSwaks = await run('swaks', ['--version']).then(() => true, () => false);
  if (!haveSwaks) throw new Error('the relay matrix is driven with swaks: apt-get install swaks (.ci/run installs it)');
  lab = await startTestLab();
});
afterAll(() => lab?.close());

/** The server's reply to a stage (MAIL or RCPT) of a swaks session that stops after RCPT. */
async function swaks(port: number, from: string, to: string, auth?: string): Promise<{ mail: string; rcpt: string }> {
  const args = ['--server', '127.0.0.1', '--port', String(port), '--from', from, '--to', to, '--quit-after', 'RCPT', '--helo', 'pc-siswa'];
  if (auth) args.push('--auth', 'PLAIN', '--auth-user', auth, '--auth-password', 'rahasia123');
  const out = await run('swaks', args, { timeout: 20_000 }).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? '',
  );
  const replyTo = (verb: string) => {
    const lines = out.split('\n');
    const i = lines.findIndex((l) => l.startsWith(' -> ') && l.slice(4).startsWith(verb));
    const reply = i < 0 ? undefined : lines.slice(i + 1).find((l) => /^(<-|<\*\*) /.test(l));
    return reply ? reply.replace(/^(<-|<\*\*) +/, '') : `(no ${verb}: ${out.split('\n').filter((l) => l.startsWith('<')).pop() ?? out.trim()})`;
  };
  return { mail: replyTo('MAIL FROM'), rcpt: replyTo('RCPT TO') };
}

describe.each([
  ['garudayaksa.com', 'mbrain', 'dadali.com'],
  ['dadali.com', 'jpri', 'garudayaksa.com'],
])('%s', (domain, user, other) => {
  const ports = () => lab.config.domains.find((d) => d.name === domain)!.ports;
  const cells: [string, 'smtp' | 'submission', string, string, boolean, RegExp][] = [
    ['25, no login: to a local user (mail arriving from anywhere)', 'smtp', `siswa1@${other}`, `${user}@${domain}`, false, /^250 /],
    ['25, no login: to the other lab domain', 'smtp', `siswa1@${other}`, `siswa2@${other}`, false, /^554 5\.7\.1 /],
    ['25, no login, local sender: to the other lab domain', 'smtp', `${user}@${domain}`, `siswa2@${other}`, false, /^554 5\.7\.1 /],
    ['25, no login: to a domain outside the lab', 'smtp', `${user}@${domain}`, 'someone@example.org', false, /^554 5\.7\.1 /],
    ['587, logged in: to the other lab domain', 'submission', `${user}@${domain}`, `siswa2@${other}`, true, /^250 /],
    ['587, logged in: to a domain outside the lab (accepted, bounced inside the lab)', 'submission', `${user}@${domain}`, 'someone@example.org', true, /^250 /],
    ['587, logged in: to a local user', 'submission', `${user}@${domain}`, `siswa3@${domain}`, true, /^250 /],
  ];
  test.each(cells)('%s', async (_what, port, from, to, login, expected) => {
    const r = await swaks(ports()[port], from, to, login ? `${user}@${domain}` : undefined);
    expect(r.rcpt).toMatch(expected);
  });

  test('587 without logging in: MAIL is refused (530), nothing can be sent', async () => {
    const r = await swaks(ports().submission, `${user}@${domain}`, `siswa2@${other}`);
    expect(r.mail).toMatch(/^530 /);
  });

  test('587, logged in: a sender of another domain is refused (553 5.7.1)', async () => {
    const r = await swaks(ports().submission, `siswa1@${other}`, `siswa2@${other}`, `${user}@${domain}`);
    expect(r.mail).toMatch(/^553 5\.7\.1 /);
  });
});
