/**
 * The relay matrix, driven with swaks (a real SMTP client) through every
 * cell on both domains and both settings of `smtp.localSenders` (lab.yaml):
 * who may send what to whom, as whom, on port 25 and 587.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestLab, type TestLab } from '../helpers/test-lab';

const run = promisify(execFile);

beforeAll(async () => {
  const haveSwaks = await run('swaks', ['--version']).then(() => true, () => false);
  if (!haveSwaks) throw new Error('the relay matrix is driven with swaks: apt-get install swaks (.ci/run installs it)');
});

/** The server's replies to MAIL and RCPT of a swaks session that stops after RCPT. */
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

/** What the session came to: the first refusal (MAIL or RCPT), else the RCPT reply. */
const outcome = (r: { mail: string; rcpt: string }) => (/^2/.test(r.mail) ? r.rcpt : r.mail);

const ACCEPTED = /^250 /;
const NO_RELAY = /^554 5\.7\.1 .*Relay access denied/;
const MUST_LOG_IN = (domain: string) => new RegExp(`^550 5\\.7\\.1 <[^>]+>: senders of ${domain.replace(/\./g, '\\.')} must log in \\(submission on port 587\\)`);

describe.each(['accept', 'require-auth'] as const)('smtp.localSenders: %s', (policy) => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab();
    expect(lab.config.smtp.localSenders).toBe('accept'); // lab.yaml's default: the telnet exercises forge local senders
    if (policy !== 'accept') {
      // As an instructor would: change the setting, restart the mail servers.
      lab.config.smtp.localSenders = policy;
      for (const d of lab.config.domains) {
        await lab.stopDomain(d.name);
        await lab.startDomain(d.name);
      }
    }
  });
  afterAll(() => lab?.close());

  describe.each([
    ['garudayaksa.com', 'mbrain', 'dadali.com'],
    ['dadali.com', 'jpri', 'garudayaksa.com'],
  ])('%s', (domain, user, other) => {
    const ports = () => lab.config.domains.find((d) => d.name === domain)!.ports;
    const forged = policy === 'accept' ? ACCEPTED : MUST_LOG_IN(domain);
    const forgedOut = policy === 'accept' ? NO_RELAY : MUST_LOG_IN(domain);
    // [cell, port, MAIL FROM, RCPT TO, log in, what the session comes to]
    const cells: [string, 'smtp' | 'submission', string, string, boolean, RegExp][] = [
      ['25, no login: to a local user (mail arriving from anywhere)', 'smtp', `siswa1@${other}`, `${user}@${domain}`, false, ACCEPTED],
      ['25, no login, null sender (a bounce): to a local user', 'smtp', '<>', `${user}@${domain}`, false, ACCEPTED],
      ['25, no login, sender outside the lab: to a local user', 'smtp', 'someone@example.org', `${user}@${domain}`, false, ACCEPTED],
      ['25, no login, forged local sender: to a local user', 'smtp', `${user}@${domain}`, `siswa3@${domain}`, false, forged],
      ['25, no login, forged local sender in capitals: to a local user', 'smtp', `${user.toUpperCase()}@${domain.toUpperCase()}`, `siswa3@${domain}`, false, forged],
      ['25, no login, forged sender that is no account here: to a local user', 'smtp', `budi@${domain}`, `${user}@${domain}`, false, forged],
      ['25, no login: to the other lab domain', 'smtp', `siswa1@${other}`, `siswa2@${other}`, false, NO_RELAY],
      ['25, no login, local sender: to the other lab domain', 'smtp', `${user}@${domain}`, `siswa2@${other}`, false, forgedOut],
      ['25, no login: to a domain outside the lab', 'smtp', `${user}@${domain}`, 'someone@example.org', false, forgedOut],
      ['587, logged in: to the other lab domain', 'submission', `${user}@${domain}`, `siswa2@${other}`, true, ACCEPTED],
      ['587, logged in: to a domain outside the lab (accepted, bounced inside the lab)', 'submission', `${user}@${domain}`, 'someone@example.org', true, ACCEPTED],
      ['587, logged in: to a local user', 'submission', `${user}@${domain}`, `siswa3@${domain}`, true, ACCEPTED],
    ];
    test.each(cells)('%s', async (_what, port, from, to, login, expected) => {
      const r = await swaks(ports()[port], from, to, login ? `${user}@${domain}` : undefined);
      expect(outcome(r)).toMatch(expected);
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
});
