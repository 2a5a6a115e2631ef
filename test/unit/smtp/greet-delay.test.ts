/**
 * smtp.greetDelay (issue 15): by default the server greets at once (as
 * Postfix's smtpd does), where smtp-server alone waits 100 ms; a lab that
 * teaches early-talker detection sets a delay, and a client that talks
 * before the greeting is refused with 421 "You talk too soon".
 */
import { Socket } from 'node:net';
import { startTestLab, type TestLab } from '../helpers/test-lab';

let lab: TestLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** Connects, optionally says something at once, and collects what the server says for `ms`. */
function talk(port: number, early: string | null, ms: number): Promise<{ firstByteMs: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    let text = '';
    let first = -1;
    const t0 = performance.now();
    s.on('data', (d) => {
      if (first < 0) first = performance.now() - t0;
      text += d.toString('latin1');
    });
    s.once('error', reject);
    s.connect(port, '127.0.0.1', () => {
      if (early) s.write(early);
      setTimeout(() => {
        s.destroy();
        resolve({ firstByteMs: first, text });
      }, ms);
    });
  });
}

test("greetDelay 0 (the default): the greeting comes at once, well under smtp-server's own 100 ms", async () => {
  lab = await startTestLab();
  const port = lab.config.domains[1].ports.smtp;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await talk(port, null, 150);
    expect(r.text).toMatch(/^220 mail\.dadali\.com ESMTP/);
    times.push(r.firstByteMs);
  }
  expect(Math.min(...times)).toBeLessThan(60);
});

test('greetDelay 400ms: a client that talks before the greeting gets 421 "You talk too soon"', async () => {
  lab = await startTestLab({ edit: (t) => t.replace(/^smtp:\n/m, 'smtp:\n  greetDelay: 400ms\n') });
  const port = lab.config.domains[1].ports.smtp;
  const polite = await talk(port, null, 700);
  expect(polite.firstByteMs).toBeGreaterThanOrEqual(380);
  expect(polite.text).toMatch(/^220 /);
  const early = await talk(port, 'EHLO tergesa-gesa\r\n', 700);
  expect(early.text).toMatch(/^421 mail\.dadali\.com You talk too soon/m);
});
