/**
 * The real command line in a child process, as `mail-lab-client` runs it:
 * the client's sources are compiled to a temporary directory (the same
 * CommonJS that `npm run build` emits) and started with node, so argv
 * handling, standard input/output and exit statuses are the real ones.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { eventually, freePort, startTestLab, type TestLab } from '../helpers/test-lab';
import { hostEnv, PASSWORD } from './harness';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '../../..');
const SRC = join(ROOT, 'services/client/src');
let out: string;
let main: string;
let lab: TestLab;

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): Promise<Exit> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [main, ...args],
      { env: { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'), ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'mail-lab-client-build-'));
  const dir = join(out, 'services/client/src');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(SRC).filter((n) => n.endsWith('.ts'))) {
    const js = ts.transpileModule(readFileSync(join(SRC, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, strict: true },
      fileName: f,
    });
    writeFileSync(join(dir, f.replace(/\.ts$/, '.js')), js.outputText);
  }
  main = join(dir, 'main.js');
  lab = await startTestLab();
});
afterAll(async () => {
  await lab?.close();
  rmSync(out, { recursive: true, force: true });
});

test('help and usage errors: exit 0 and 2', async () => {
  const help = await cli(['--help']);
  expect(help).toMatchObject({ code: 0, stderr: '' });
  expect(help.stdout).toMatch(/^Usage: mail-lab-client \[options\] \[command\]/);
  const sendHelp = await cli(['help', 'send']);
  expect(sendHelp.code).toBe(0);
  expect(sendHelp.stdout).toContain('--uuencode');

  const none = await cli([]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('Usage: mail-lab-client');
  for (const args of [['list'], ['read', '--user', 'jpri@dadali.com', 'x'], ['list', '--user', 'jpri@dadali.com', '--protocol', 'smtp'], ['bogus'], ['list', '--user', 'jpri']]) {
    const r = await cli(args, { MAIL_LAB_PASSWORD: PASSWORD });
    expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^error: /);
  }
});

test('send (body from standard input), list, read --raw through the real process', async () => {
  const env = hostEnv(lab, 'garudayaksa.com', { MAIL_LAB_HOME_DOMAIN: 'garudayaksa.com' });
  const sent = await cli(['send', '--from', 'mbrain', '--to', 'siswa1', '--subject', 'Lewat proses', '--body-file', '-'], env, 'Halo siswa1.\n.\nTitik di atas.\n');
  expect(sent).toMatchObject({ code: 0, stderr: '' });
  expect(sent.stdout).toMatch(/^250 .*queued as \S+\n$/);

  const listed = await eventually('siswa1 has the message', async () => {
    const r = await cli(['list', '--user', 'siswa1', '--protocol', 'imap'], env);
    return r.stdout.includes('Lewat proses') ? r : null;
  });
  expect(listed.code).toBe(0);
  const raw = await cli(['read', '--user', 'siswa1@garudayaksa.com', '1', '--raw'], env);
  expect(raw.code).toBe(0);
  expect(raw.stdout).toMatch(/\r\n\r\nHalo siswa1\.\r\n\.\r\nTitik di atas\.\r\n$/);
});

test('errors: one line on stderr, exit 1, no stack trace', async () => {
  const env = hostEnv(lab, 'garudayaksa.com');
  const wrong = await cli(['list', '--user', 'mbrain@garudayaksa.com', '--password', 'salah'], env);
  expect(wrong).toEqual({ code: 1, stdout: '', stderr: 'error: login failed for mbrain@garudayaksa.com: wrong user name or password\n' });
  const port = await freePort();
  const refused = await cli(['list', '--user', 'mbrain@garudayaksa.com', '--protocol', 'imap'], { ...env, MAIL_LAB_IMAP_PORT: String(port) });
  expect(refused).toEqual({ code: 1, stdout: '', stderr: `error: nothing listens on 127.0.0.1:${port} (is the lab up?)\n` });
  const unknown = await cli(['send', '--from', 'mbrain@garudayaksa.com', '--to', 'jpri@dadali.com', '--subject', 'x', '--server', 'mail.example'], {
    ...env,
    MAIL_LAB_DNS: `127.0.0.1:${lab.dns.port}`,
  });
  expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'error: cannot find host mail.example: not in the lab DNS\n' });
});

test('setup: the configuration file and the RFC 6186 SRV records of an address, as a mail program finds them', async () => {
  const garuda = lab.config.domains.find((d) => d.name === 'garudayaksa.com')!;
  const dns = `127.0.0.1:${lab.config.dns.hostPort}`;
  const url = `http://127.0.0.1:${garuda.ports.admin}/mail/config-v1.1.xml`;
  // The test lab runs without a CA, so the file says plain (with one: STARTTLS, as in autoconfig.test.ts).
  const r = await cli(['setup', 'siswa1@garudayaksa.com', '--dns', dns, '--autoconfig-url', url]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const lines = r.stdout.split('\n');
  expect(lines).toContain(`   GET ${url}?emailaddress=siswa1%40garudayaksa.com  ->  200`);
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^   read with IMAP +127\\.0\\.0\\.1:${garuda.ports.imap} +plain, user siswa1@garudayaksa\\.com, password-cleartext$`)));
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^   read with POP3 +127\\.0\\.0\\.1:${garuda.ports.pop3} +plain, user siswa1@garudayaksa\\.com, password-cleartext, leave messages on the server$`)));
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^   _submission\\._tcp\\.garudayaksa\\.com +SRV 0 1 ${garuda.ports.submission} mail\\.garudayaksa\\.com$`)));
  expect(lines.at(-2)).toBe(`A mail program takes the first of each: read with IMAP at 127.0.0.1:${garuda.ports.imap} (plain), send with SMTP at 127.0.0.1:${garuda.ports.submission} (plain), log in as siswa1@garudayaksa.com.`);

  // Nothing to find: no server at the URL, a DNS that does not answer. Exit 1 with the reasons shown.
  const port = await freePort();
  const none = await cli(['setup', 'siswa1@garudayaksa.com', '--dns', `127.0.0.1:${port}`, '--autoconfig-url', `http://127.0.0.1:${port}/x.xml`, '--timeout', '2']);
  expect(none.code).toBe(1);
  expect(none.stdout).toContain(`->  nothing listens at 127.0.0.1:${port} (connection refused)`);
  expect(none.stdout).toContain('_imap._tcp.garudayaksa.com           no answer');
  expect(none.stderr).toBe('error: no mail settings found for siswa1@garudayaksa.com\n');
  expect((await cli(['setup', 'siswa1@garudayaksa.com', '--autoconfig-url', 'ftp://x'])).code).toBe(2);
});
