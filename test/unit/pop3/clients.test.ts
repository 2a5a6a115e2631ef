/**
 * Real POP3 clients against the server and the real mbox store: Python's
 * poplib, curl, and (when installed: Debian packages `fetchmail`, `mpop`)
 * fetchmail and mpop downloading and deleting everything. Clients run as
 * child processes with async execFile, so the server keeps serving.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountDirectory } from '../../../services/mail-domain/src/accounts';
import { makeAccounts, message, PASSWORD, startServer, tempStore, type StartedServer, type TempStore } from './helpers';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000, env, maxBuffer: 16 * 1024 * 1024, encoding: 'latin1' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function installed(binary: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((d) => {
    try {
      return readdirSync(d).includes(binary);
    } catch {
      return false;
    }
  });
}

const PYTHON = installed('python3') ? 'python3' : 'python';
const HAS_FETCHMAIL = installed('fetchmail');
const HAS_MPOP = installed('mpop');
if (!HAS_FETCHMAIL) console.warn('pop3 clients: fetchmail is not installed, its test is skipped (apt-get install -y fetchmail)');
if (!HAS_MPOP) console.warn('pop3 clients: mpop is not installed, its test is skipped (apt-get install -y mpop)');

const BODIES = {
  satu: 'Halo Marsel,\n.a line starting with a dot\n..and two dots\n.\nFrom the desk of Joko\n',
  dua: 'Kedua.\n',
  tiga: 'Ketiga.\n',
};

let hashedAccounts: AccountDirectory;
let mixedAccounts: AccountDirectory;
let t: TempStore;
let srv: StartedServer;

beforeAll(async () => {
  hashedAccounts = await makeAccounts({ plain: false });
  mixedAccounts = await makeAccounts();
});
beforeEach(async () => {
  t = await tempStore();
  for (const [subject, body] of Object.entries(BODIES)) {
    await t.store.append('mbrain', 'INBOX', message(subject, body), { envelopeFrom: 'jpri@dadali.com' });
  }
  // Like the shipped lab: only hashed passwords, so the greeting carries no APOP timestamp.
  srv = await startServer(t.store, hashedAccounts);
});
afterEach(async () => {
  await srv.close();
  await t.cleanup();
});

const wireText = (subject: keyof typeof BODIES) => message(subject, BODIES[subject]).toString('latin1');

describe("Python's poplib", () => {
  const poplib = (port: number, user: string, secret: string, mode: 'user' | 'apop', ...dele: number[]) =>
    run(PYTHON, [join(__dirname, 'poplib_client.py'), String(port), user, secret, mode, ...dele.map(String)]);

  test('lists, retrieves (dot lines intact), reads TOP, deletes; QUIT shrinks the mbox file', async () => {
    const snap = await t.store.snapshot('mbrain', 'INBOX');
    const before = t.mboxSize('mbrain');
    const r = await poplib(srv.port, 'mbrain', PASSWORD, 'user', 1, 3);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.greeting).toBe('+OK mail.lab.test POP3 server ready');
    expect(Object.keys(out.capa)).toEqual(['TOP', 'UIDL', 'USER', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE', 'IMPLEMENTATION']);
    expect(out.login).toBe("+OK mbrain's maildrop has 3 messages (" + snap.messages.reduce((a, m) => a + m.size, 0) + ' octets)');
    expect(out.stat).toEqual([3, snap.messages.reduce((a, m) => a + m.size, 0)]);
    expect(out.list).toEqual(snap.messages.map((m, i) => `${i + 1} ${m.size}`));
    expect(out.uidl).toEqual(snap.messages.map((m, i) => `${i + 1} ${m.uniqueId}`));
    // poplib strips the final CRLF of each message.
    expect(out.messages).toEqual([wireText('satu'), wireText('dua'), wireText('tiga')].map((m) => m.slice(0, -2)));
    expect(out.top).toBe('From: jpri@dadali.com\r\nTo: mbrain@lab.test\r\nSubject: satu\r\nMessage-ID: <satu@dadali.com>\r\n');
    expect(out.quit).toBe('+OK mail.lab.test POP3 server signing off (2 messages deleted, 1 left)');
    expect(t.mboxSize('mbrain')).toBeLessThan(before);
    const left = await t.store.snapshot('mbrain', 'INBOX');
    expect(left.messages.map((m) => m.uid)).toEqual([snap.messages[1].uid]);
  });

  test('a wrong password raises poplib.error_proto with -ERR [AUTH]', async () => {
    const r = await poplib(srv.port, 'mbrain', 'salah', 'user');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: '-ERR [AUTH] authentication failed: wrong user name or password' });
  });

  test('APOP with poplib for an account with a plain password', async () => {
    const apopServer = await startServer(t.store, mixedAccounts);
    try {
      await t.store.append('siswa1', 'INBOX', message('dua', BODIES.dua));
      const r = await poplib(apopServer.port, 'siswa1', PASSWORD, 'apop');
      const out = JSON.parse(r.stdout);
      expect(out.greeting).toMatch(/^\+OK mail\.lab\.test POP3 server ready <.+@mail\.lab\.test>$/);
      expect(out.login).toMatch(/^\+OK siswa1's maildrop has 1 message /);
      expect(out.messages).toEqual([wireText('dua').slice(0, -2)]);
      const denied = await poplib(apopServer.port, 'mbrain', PASSWORD, 'apop');
      expect(JSON.parse(denied.stdout)).toEqual({ error: '-ERR [AUTH] APOP is not available for this account' });
    } finally {
      await apopServer.close();
    }
  });
});

describe('curl', () => {
  const url = (port: number, path = '') => `pop3://127.0.0.1:${port}/${path}`;
  const curl = (...args: string[]) => run('curl', ['-s', '-S', '--max-time', '20', ...args]);

  test('LIST, RETR (dot-unstuffed byte for byte), UIDL, TOP, DELE', async () => {
    const snap = await t.store.snapshot('mbrain', 'INBOX');
    const auth = ['-u', `mbrain:${PASSWORD}`];
    const list = await curl(url(srv.port), ...auth);
    expect(list.stdout).toBe(snap.messages.map((m, i) => `${i + 1} ${m.size}\r\n`).join(''));
    const retr = await curl(url(srv.port, '1'), ...auth);
    expect(retr.stdout).toBe(wireText('satu'));
    const uidl = await curl(url(srv.port), '-X', 'UIDL', ...auth);
    expect(uidl.stdout).toBe(snap.messages.map((m, i) => `${i + 1} ${m.uniqueId}\r\n`).join(''));
    const top = await curl(url(srv.port), '-X', 'TOP 2 0', ...auth);
    expect(top.stdout).toBe('From: jpri@dadali.com\r\nTo: mbrain@lab.test\r\nSubject: dua\r\nMessage-ID: <dua@dadali.com>\r\n\r\n');

    const before = t.mboxSize('mbrain');
    const dele = await curl(url(srv.port, '2'), '-X', 'DELE', '-I', ...auth);
    expect(dele.code).toBe(0);
    expect(t.mboxSize('mbrain')).toBeLessThan(before); // curl sent QUIT before exiting
    expect((await t.store.snapshot('mbrain', 'INBOX')).messages.map((m) => m.uid)).toEqual([snap.messages[0].uid, snap.messages[2].uid]);
  });

  test('a wrong password: curl reports a login failure', async () => {
    const r = await curl(url(srv.port), '-u', 'mbrain:salah');
    expect(r.code).toBe(67); // CURLE_LOGIN_DENIED
  });

  test('with an APOP timestamp in the greeting curl uses APOP: fine for plain-password accounts only', async () => {
    const apopServer = await startServer(t.store, mixedAccounts);
    try {
      await t.store.append('siswa1', 'INBOX', message('tiga', BODIES.tiga));
      const ok = await curl(url(apopServer.port, '1'), '-u', `siswa1:${PASSWORD}`);
      expect(ok.stdout).toBe(wireText('tiga'));
      expect(apopServer.logger.lines.join('\n')).toMatch(/C: APOP siswa1 \*\*\*\*/);
      const hashed = await curl(url(apopServer.port), '-u', `mbrain:${PASSWORD}`);
      expect(hashed.code).toBe(67);
      expect(apopServer.logger.lines.join('\n')).toContain('S: -ERR [AUTH] APOP is not available for this account');
    } finally {
      await apopServer.close();
    }
  });
});

describe('mail retrieval agents', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mail-lab-pop3-agent-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  (HAS_FETCHMAIL ? test : test.skip)('fetchmail downloads and deletes everything (skipped when fetchmail is not installed)', async () => {
    const mda = join(dir, 'mda.sh');
    writeFileSync(mda, `#!/bin/sh\ncat > "${dir}/msg.$(date +%s%N)"\n`);
    chmodSync(mda, 0o755);
    const rc = join(dir, 'fetchmailrc');
    writeFileSync(rc, `poll 127.0.0.1 proto pop3 port ${srv.port} auth password user "mbrain" password "${PASSWORD}" fetchall nokeep sslproto "" mda "${mda}"\n`);
    chmodSync(rc, 0o600);
    const r = await run('fetchmail', ['-f', rc, '-v', '--nosyslog', '--pidfile', join(dir, 'fetchmail.pid'), '--idfile', join(dir, 'fetchids')], { ...process.env, HOME: dir, FETCHMAILHOME: dir });
    expect([r.code, r.stderr]).toEqual([0, expect.anything()]);
    const files = readdirSync(dir).filter((f) => f.startsWith('msg.')).sort();
    expect(files).toHaveLength(3);
    const got = files.map((f) => readFileSync(join(dir, f), 'latin1'));
    // fetchmail adds a Received header and hands the MDA LF line endings.
    for (const subject of ['satu', 'dua', 'tiga'] as const) {
      const expected = wireText(subject).replace(/\r\n/g, '\n');
      expect(got.some((g) => g.endsWith(expected))).toBe(true);
    }
    expect(r.stderr + r.stdout).toMatch(/POP3> QUIT/);
    expect((await t.store.snapshot('mbrain', 'INBOX')).messages).toHaveLength(0);
    expect(t.mboxSize('mbrain')).toBe(0);
  });

  (HAS_MPOP ? test : test.skip)('mpop downloads (pipelined) and deletes everything (skipped when mpop is not installed)', async () => {
    const out = join(dir, 'out.mbox');
    writeFileSync(out, '');
    const r = await run(
      'mpop',
      [
        '--host=127.0.0.1',
        `--port=${srv.port}`,
        '--user=mbrain',
        `--passwordeval=echo ${PASSWORD}`,
        '--tls=off',
        '--auth=user',
        `--delivery=mbox,${out}`,
        '--keep=off',
        `--uidls-file=${join(dir, 'uidls')}`,
        '--only-new=off',
      ],
      { ...process.env, HOME: dir },
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    const mbox = readFileSync(out, 'latin1');
    for (const subject of ['satu', 'dua', 'tiga'] as const) expect(mbox).toContain(`Subject: ${subject}\n`);
    expect(mbox).toContain('\n.a line starting with a dot\n..and two dots\n.\n>From the desk of Joko\n');
    expect(t.mboxSize('mbrain')).toBe(0);
    expect(srv.logger.lines.join('\n')).toMatch(/signing off \(3 messages deleted, 0 left\)/);
  });
});
