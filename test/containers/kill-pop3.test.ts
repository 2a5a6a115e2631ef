/**
 * `docker kill` (SIGKILL) of a mail container while POP3 QUIT commits the
 * deletions of a big mailbox: after the restart the mailbox file is exactly
 * the one before QUIT or the one after it, every message whole, never a
 * mix and never cut off. If the client got QUIT's +OK, it is the one after.
 * (test/unit/durability/ kills the same commits, and IMAP EXPUNGE and
 * RENAME, many times over in plain processes; this is the container.)
 */
import { Socket } from 'node:net';
import { MAIL_API } from '../../services/core/src/admin/api';
import { mail, cli, docker, eventually, sleep } from './helpers';

const MESSAGES = 3000;
const DELETE = 1000;
const MBOX = '/var/mail-lab/mail/siswa5';

beforeAll(async () => {
  const up = await cli(['up', '--offline']);
  if (up.code !== 0) throw new Error(`mail-lab up failed:\n${up.out}`);
}, 900_000);

afterAll(async () => {
  await cli(['down', '--volumes']);
}, 120_000);

/** Writes a mailbox of MESSAGES numbered messages (about 12 MB) as the mail-lab user, as a hand edit. */
async function fillMailbox(): Promise<void> {
  const script = `
    const fs = require('fs');
    const line = 'Isi surat uji, baris yang panjangnya cukup untuk membuat kotak surat besar.\\n';
    const parts = [];
    for (let n = 1; n <= ${MESSAGES}; n++) {
      parts.push('From uji@garudayaksa.com Thu Nov 26 10:00:00 2026\\nFrom: uji@garudayaksa.com\\nTo: siswa5@dadali.com\\nSubject: nomor ' + n + '\\nX-Nomor: ' + n + '\\n\\n' + line.repeat(50) + 'AKHIR ' + n + '\\n\\n');
    }
    fs.writeFileSync('${MBOX}.new', parts.join(''));
    fs.renameSync('${MBOX}.new', '${MBOX}');`;
  await docker(['exec', 'mail-lab-dadali', 'node', '-e', script]);
}

/** The message numbers in the mailbox file, checking that each message ends whole. */
async function numbersInFile(): Promise<number[]> {
  const out = await docker(['exec', 'mail-lab-dadali', 'sh', '-c', `grep -E '^(X-Nomor:|AKHIR) ' ${MBOX} || true`]);
  const lines = out.trim() ? out.trim().split('\n') : [];
  const numbers: number[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const n = /^X-Nomor: (\d+)$/.exec(lines[i])?.[1];
    // Every message is whole: its header is followed by its own last body line.
    expect([lines[i], lines[i + 1]]).toEqual([`X-Nomor: ${n}`, `AKHIR ${n}`]);
    numbers.push(Number(n));
  }
  return numbers;
}

/**
 * A POP3 session: log in, DELE the first DELETE messages, send QUIT, and
 * `docker kill` the container `killAfterMs` after QUIT was sent; a negative
 * value starts `docker kill` that long before QUIT (the docker CLI needs
 * some 100 ms to deliver the SIGKILL, so this is what lands it during the commit).
 */
async function quitAndKill(killAfterMs: number): Promise<{ gotOk: boolean }> {
  const s = new Socket();
  let buf = '';
  s.on('data', (d) => (buf += d.toString('latin1')));
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.connect(20110, '127.0.0.1', () => r()));
  // Waits on the socket's data events (a polling wait would add its interval to each of 1000 DELEs).
  const reply = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${what} within 30 s`)), 30_000);
      const check = () => {
        const end = buf.indexOf('\r\n');
        if (end < 0) return;
        s.off('data', check);
        clearTimeout(timer);
        const line = buf.slice(0, end);
        buf = buf.slice(end + 2);
        resolve(line);
      };
      s.on('data', check);
      check();
    });
  await reply('greeting');
  for (const cmd of ['USER siswa5', 'PASS rahasia123']) {
    s.write(cmd + '\r\n');
    expect(await reply(cmd)).toMatch(/^\+OK/);
  }
  for (let n = 1; n <= DELETE; n++) {
    s.write(`DELE ${n}\r\n`);
    expect(await reply(`DELE ${n}`)).toMatch(/^\+OK/);
  }
  let kill: Promise<string>;
  if (killAfterMs < 0) {
    kill = docker(['kill', 'mail-lab-dadali']);
    await sleep(-killAfterMs);
    s.write('QUIT\r\n');
  } else {
    s.write('QUIT\r\n');
    await sleep(killAfterMs);
    kill = docker(['kill', 'mail-lab-dadali']);
  }
  await kill;
  const gotOk = /^\+OK/.test(buf);
  s.destroy();
  return { gotOk };
}

test('docker kill around POP3 QUIT of a 3000-message mailbox, 8 times: before or after, never torn', async () => {
  const all = Array.from({ length: MESSAGES }, (_, i) => i + 1);
  const after = all.slice(DELETE);
  const seen: string[] = [];
  for (const killAfterMs of [-60, -20, 0, 10, 20, 30, 45, 70]) {
    await fillMailbox();
    expect(await numbersInFile()).toEqual(all);
    const { gotOk } = await quitAndKill(killAfterMs);
    await docker(['start', 'mail-lab-dadali']);
    await eventually('dadali back', () => mail('dadali.com').call(MAIL_API.health), 90_000);
    const now = await numbersInFile();
    const state = now.length === MESSAGES ? 'before' : 'after';
    expect(now).toEqual(state === 'before' ? all : after);
    if (gotOk) expect(state).toBe('after');
    // The server agrees with the file after the restart.
    const msgs = await mail('dadali.com').call(MAIL_API.mailboxMessages, { user: 'siswa5' });
    expect(msgs).toHaveLength(now.length);
    seen.push(`kill ${killAfterMs} ms after QUIT: ${state}${gotOk ? ' (client had +OK)' : ''}`);
  }
  console.log(seen.join('\n'));
}, 600_000);
