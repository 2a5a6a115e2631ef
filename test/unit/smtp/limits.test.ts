/** Limits from the lab definition, each with a clear reply when hit; and a full disk. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestLab, Wire, eventually } from '../helpers/test-lab';

const dadali = (lab: Awaited<ReturnType<typeof startTestLab>>) => lab.config.domains.find((d) => d.name === 'dadali.com')!;

test('connections per client: the one over the limit gets 421 4.7.0, and a slot frees when a session ends', async () => {
  const lab = await startTestLab({ limits: { maxConnectionsPerClient: 2 } });
  try {
    const a = await Wire.connect(dadali(lab).ports.smtp);
    const b = await Wire.connect(dadali(lab).ports.submission);
    expect(await a.reply()).toMatch(/^220 /);
    expect(await b.reply()).toMatch(/^220 /);
    const c = await Wire.connect(dadali(lab).ports.smtp);
    expect(await c.reply()).toMatch(/^421 4\.7\.0 Too many connections from \S+ \(at most 2\)/);
    c.close();
    await a.send('QUIT');
    a.close();
    // The slot frees when the server has seen the session end (asynchronously).
    await eventually('a free slot after QUIT', async () => {
      const d = await Wire.connect(dadali(lab).ports.smtp);
      const greeting = await d.reply();
      d.close();
      return /^220 /.test(greeting);
    });
    b.close();
  } finally {
    await lab.close();
  }
});

test('commands before logging in on 587 are limited', async () => {
  const lab = await startTestLab({ limits: { maxUnauthenticatedCommands: 3 } });
  try {
    const w = await Wire.connect(dadali(lab).ports.submission);
    await w.reply();
    expect(await w.send('EHLO pc')).toMatch(/^250/);
    expect(await w.send('NOOP')).toMatch(/^250/);
    expect(await w.send('NOOP')).toMatch(/^421 .*too many unauthenticated commands/i);
    w.close();
  } finally {
    await lab.close();
  }
});

test('a full queue answers 452 4.3.1 at MAIL FROM, and the message waiting in it is kept', async () => {
  const lab = await startTestLab({ limits: { maxQueueSize: 1 }, timing: { retryInterval: '1h' } });
  try {
    await lab.cut('dadali.com', 'garudayaksa.com');
    const w = await Wire.connect(dadali(lab).ports.submission);
    await w.reply();
    await w.send('EHLO pc');
    await w.send('AUTH PLAIN ' + Buffer.from('\0jpri\0rahasia123').toString('base64'));
    await w.send('MAIL FROM:<jpri@dadali.com>');
    await w.send('RCPT TO:<mbrain@garudayaksa.com>');
    await w.send('DATA');
    expect(await w.send('Subject: pertama\r\n\r\nsatu\r\n.')).toMatch(/^250 /);
    expect(await w.send('MAIL FROM:<jpri@dadali.com>')).toMatch(/^452 4\.3\.1 The queue of dadali\.com is full \(1 messages\)/);
    w.close();
    expect(lab.domains['dadali.com'].queue.list()).toHaveLength(1);
  } finally {
    await lab.close();
  }
});

const isRoot = process.getuid?.() === 0;
(isRoot ? test : test.skip)('disk full: SMTP answers 452, nothing acknowledged is lost (a 2 MB tmpfs as the data disk; needs root)', async () => {
  const mount = mkdtempSync(join(tmpdir(), 'mail-lab-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
  const lab = await startTestLab({ dataDir: mount });
  try {
    const w = await Wire.connect(dadali(lab).ports.smtp);
    await w.reply();
    await w.send('EHLO pc');
    await w.send('MAIL FROM:<mbrain@garudayaksa.com>');
    await w.send('RCPT TO:<jpri@dadali.com>');
    await w.send('DATA');
    expect(await w.send('Subject: sebelum penuh\r\n\r\naman\r\n.')).toMatch(/^250 /);
    await eventually('first delivered', async () => (await lab.domains['dadali.com'].store.snapshot('jpri', 'INBOX')).messages.length === 1);
    // Fill the disk.
    try {
      writeFileSync(join(mount, 'filler'), Buffer.alloc(4 * 1024 * 1024, 1));
    } catch {
      // ENOSPC is the point.
    }
    await w.send('MAIL FROM:<mbrain@garudayaksa.com>');
    await w.send('RCPT TO:<jpri@dadali.com>');
    await w.send('DATA');
    expect(await w.send('Subject: disk penuh\r\n\r\n' + 'x'.repeat(60_000) + '\r\n.')).toMatch(/^452 4\.3\.1 Insufficient system storage/);
    w.close();
    expect(readdirSync(join(mount, 'dadali.com', 'queue')).filter((f) => !f.includes('.tmp'))).toEqual([]);
    rmSync(join(mount, 'filler'), { force: true });
    const snap = await lab.domains['dadali.com'].store.snapshot('jpri', 'INBOX');
    expect(snap.messages).toHaveLength(1);
    expect((await lab.domains['dadali.com'].store.read('jpri', 'INBOX', snap.messages[0].uid))!.toString()).toContain('Subject: sebelum penuh');
  } finally {
    await lab.close();
    execFileSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  }
});
