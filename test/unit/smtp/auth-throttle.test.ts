/** The failed-login delay shared by SMTP AUTH, POP3 and IMAP: per session, per address and per account. */
import { AuthThrottle } from '../../../services/mail-domain/src/auth-throttle';
import { startTestLab, Wire } from '../helpers/test-lab';

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
