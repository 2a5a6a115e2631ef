/** The failed-login delay shared by SMTP AUTH, POP3 and IMAP: per session, per address and per account. */
import { Socket } from 'node:net';
import { AuthThrottle } from '../../../services/mail-domain/src/auth-throttle';
import { startTestLab, Wire, type TestLab } from '../helpers/test-lab';

test('the delay doubles per failure, capped, counted per address and per account across sessions', () => {
  let now = 0;
  const t = new AuthThrottle({ baseDelayMs: 100, now: () => now });
  expect(t.fail('10.0.0.1', 1, 'mbrain')).toBe(100);
  expect(t.fail('10.0.0.1', 1, 'siswa1')).toBe(200); // the same address, a new session
  // Another address guessing the same account is slowed down too.
  expect(t.fail('10.0.0.2', 1, 'MBrain')).toBe(200);
  expect(t.fail('10.0.0.3', 1, 'mbrain')).toBe(400);
  expect(t.fail('10.0.0.4', 1, 'mbrain')).toBe(400); // capped at 4x
  t.succeed('10.0.0.4', 'mbrain');
  expect(t.fail('10.0.0.5', 1, 'mbrain')).toBe(100);
  now += 16 * 60_000; // forgotten after 15 minutes without failures
  expect(t.fail('10.0.0.1', 1, 'siswa1')).toBe(100);
});

test('SMTP AUTH on 587: a wrong password gets 535 5.7.8, then the right one still logs in', async () => {
  const lab = await startTestLab();
  try {
    const d = lab.config.domains.find((x) => x.name === 'dadali.com')!;
    const w = await Wire.connect(d.ports.submission);
    await w.reply();
    await w.send('EHLO pc');
    expect(await w.send('AUTH PLAIN ' + Buffer.from('\0jpri\0salah').toString('base64'))).toMatch(/^535 5\.7\.8 /);
    expect(await w.send('AUTH PLAIN ' + Buffer.from('\0jpri\0rahasia123').toString('base64'))).toMatch(/^235 /);
    w.close();
  } finally {
    await lab.close();
  }
});

/** A plain-text session (what a student types over telnet), from a chosen loopback address. */
async function connectFrom(port: number, localAddress: string) {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = new Socket();
    s.once('error', reject);
    s.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
  });
  socket.setEncoding('latin1');
  let buffer = '';
  socket.on('data', (d: string) => (buffer += d));
  /** Sends `line` (if any) and waits for text matching `until`; returns it and how long the answer took. */
  const send = async (line: string | null, until: RegExp): Promise<{ text: string; ms: number }> => {
    const start = Date.now();
    if (line !== null) socket.write(line + '\r\n');
    for (let i = 0; i < 200; i++) {
      const m = until.exec(buffer);
      if (m) {
        buffer = buffer.slice(m.index + m[0].length);
        return { text: m[0], ms: Date.now() - start };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${until} in ${JSON.stringify(buffer)}`);
  };
  return { send, close: () => socket.destroy() };
}

describe('one throttle for POP3, IMAP and SMTP AUTH (per account and per client address)', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab(); // failed-login delay base 10 ms: 10, 20, 40, 40 ms
  });
  afterAll(() => lab?.close());
  const ports = () => lab.config.domains.find((x) => x.name === 'dadali.com')!.ports;
  /** The delay the server chose for the last failed login of `login` on a protocol (its log line). */
  const loggedDelay = (component: string, login: string) => {
    const line = lab.lines.filter((l) => l.includes(` ${component} login failed `) && l.includes(` login=${login} `)).pop();
    return line ? Number(/delayMs=(\d+)/.exec(line)?.[1]) : undefined;
  };

  const pop3Fail = async (from: string, login: string) => {
    const c = await connectFrom(ports().pop3, from);
    await c.send(null, /^\+OK.*\r\n/m);
    await c.send(`USER ${login}`, /^[+-].*\r\n/m);
    const r = await c.send('PASS salah', /^-ERR.*\r\n/m);
    c.close();
    return r;
  };
  const imapFail = async (from: string, login: string) => {
    const c = await connectFrom(ports().imap, from);
    await c.send(null, /^\* OK.*\r\n/m);
    const r = await c.send(`a1 LOGIN ${login} salah`, /^a1 .*\r\n/m);
    c.close();
    return r;
  };
  const smtpFail = async (from: string, login: string) => {
    const c = await connectFrom(ports().submission, from);
    await c.send(null, /^220 .*\r\n/m);
    await c.send('EHLO pc-siswa', /^250 .*\r\n/m);
    const r = await c.send('AUTH PLAIN ' + Buffer.from(`\0${login}\0salah`).toString('base64'), /^\d{3} .*\r\n/m);
    c.close();
    return r;
  };

  test('failed POP3 logins of an account slow down its IMAP LOGIN and SMTP AUTH, even from other addresses', async () => {
    // Two wrong POP3 passwords for siswa4, each from its own address and session.
    expect((await pop3Fail('127.0.0.2', 'siswa4')).text).toMatch(/^-ERR \[AUTH\] /);
    expect(loggedDelay('pop3', 'siswa4')).toBe(10);
    await pop3Fail('127.0.0.3', 'siswa4');
    expect(loggedDelay('pop3', 'siswa4')).toBe(20);
    // The third failure of the account, now on IMAP from yet another address: 4x the base, not a fresh 1x.
    const imap = await imapFail('127.0.0.4', 'siswa4');
    expect(imap.text).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\] /);
    expect(loggedDelay('imap', 'siswa4')).toBe(40);
    expect(imap.ms).toBeGreaterThanOrEqual(35);
    // The fourth, on SMTP AUTH (587): capped at 4x.
    const smtp = await smtpFail('127.0.0.5', 'siswa4');
    expect(smtp.text).toMatch(/^535 5\.7\.8 /);
    expect(loggedDelay('submission', 'siswa4')).toBe(40);
    expect(smtp.ms).toBeGreaterThanOrEqual(35);
  });

  test('failed POP3 logins from an address slow down IMAP and SMTP AUTH from it, whatever the account', async () => {
    await pop3Fail('127.0.0.9', 'tamu1');
    await imapFail('127.0.0.9', 'tamu2');
    expect(loggedDelay('imap', 'tamu2')).toBe(20);
    const smtp = await smtpFail('127.0.0.9', 'tamu3');
    expect(smtp.text).toMatch(/^535 5\.7\.8 /);
    expect(loggedDelay('submission', 'tamu3')).toBe(40);
    // Another address guessing another account starts from the base delay.
    await imapFail('127.0.0.10', 'tamu4');
    expect(loggedDelay('imap', 'tamu4')).toBe(10);
  });
});
