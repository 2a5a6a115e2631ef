/**
 * VERB, Sendmail's verbose mode (the lesson: "VERB - Verbose, memperbanyak
 * kata"): after VERB a hand-typed session is told, in 050 lines before the
 * 250, what the server does with the message: the local append, the DNS MX
 * answer, the connection to the other domain's server and its reply; with
 * the other server down, the deferral and the next attempt. A session
 * without VERB gets the plain 250 and nothing else.
 */
import { startTestLab, Wire, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(() => lab.close());

const submission = () => lab.config.domains.find((x) => x.name === 'garudayaksa.com')!.ports.submission;
const plain = Buffer.from('\0mbrain@garudayaksa.com\0rahasia123').toString('base64');

/** Logs in on garudayaksa.com's submission port (VERB first when `verbose`) and sends one message; returns every line after the final dot, up to the 250. */
async function sendTyped(rcpts: string[], subject: string, verbose: boolean): Promise<string[]> {
  const w = await Wire.connect(submission());
  await w.reply();
  await w.send('EHLO pc-siswa');
  expect(await w.send(`AUTH PLAIN ${plain}`)).toMatch(/^235 /);
  if (verbose) expect(await w.send('VERB')).toBe('250 2.0.0 Verbose mode: after DATA this server delivers while you wait and tells each step (050 lines), then says 250');
  expect(await w.send('MAIL FROM:<mbrain@garudayaksa.com>')).toMatch(/^250 /);
  for (const r of rcpts) expect(await w.send(`RCPT TO:<${r}>`)).toMatch(/^250 /);
  expect(await w.send('DATA')).toMatch(/^354 /);
  w.write(`Subject: ${subject}\r\n\r\nMarsel, bisakah kita makan siang hari Senin? Joko\r\n.\r\n`);
  const lines: string[] = [];
  for (;;) {
    const line = await w.reply(15_000);
    lines.push(line);
    if (!line.startsWith('050')) break;
  }
  expect(await w.send('QUIT')).toMatch(/^221 /);
  w.close();
  return lines;
}

test('after VERB: the local append, the DNS MX answer, the connection and the other server\'s reply, each in a 050 line before the 250', async () => {
  const lines = await sendTyped(['siswa1@garudayaksa.com', 'jpri@dadali.com'], 'Makan siang', true);
  const id = /^250 2\.6\.0 Ok: queued as (\S+)$/.exec(lines[lines.length - 1])![1];
  expect(lines[0]).toBe(`050 ${id}: queued; delivering now while you wait (verbose mode)`);
  const told = lines.slice(1, -1);
  expect(told).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^050 <siswa1@garudayaksa\.com>\.\.\. Delivered: appended to the mailbox file \(local delivery\)/),
      '050 <jpri@dadali.com>... DNS: MX dadali.com -> 10 mail.dadali.com',
      expect.stringMatching(/^050 <jpri@dadali\.com>\.\.\. Connecting to mail\.dadali\.com\S* via esmtp/),
      expect.stringMatching(/^050 <jpri@dadali\.com>\.\.\. Sent \(.*250 .*queued as \S+\)$/),
    ]),
  );
  expect(told).toHaveLength(4);
});

test('after VERB with the other server down: the deferral and the next attempt; without VERB only the 250', async () => {
  await lab.stopDomain('dadali.com');
  try {
    const lines = await sendTyped(['jpri@dadali.com'], 'Ditunda', true);
    expect(lines[lines.length - 1]).toMatch(/^250 2\.6\.0 Ok: queued as /);
    expect(lines).toContainEqual(expect.stringMatching(/^050 <jpri@dadali\.com>\.\.\. Deferred: .*connection refused.*; it waits in the queue, next attempt at \d\d:\d\d:\d\d UTC$/));
    expect(await sendTyped(['jpri@dadali.com'], 'Tanpa VERB', false)).toEqual([expect.stringMatching(/^250 2\.6\.0 Ok: queued as /)]);
  } finally {
    await lab.startDomain('dadali.com');
  }
});
