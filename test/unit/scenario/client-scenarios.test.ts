/**
 * The scenarios that use the lab's own mail program (`client`, `make-file`,
 * `compare-files` steps): `attachments` and `pop3-vs-imap` run against a
 * whole lab in the test process (no-Docker mode, free loopback ports), the
 * client as a real Node process (dist/, so `npm run build` first). The
 * assertions are on what a student sees in the runner's output.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labTarget, type LabTarget } from '../../../scripts/lab-target';
import { clientMain, localEndpointArgs, shellQuote } from '../../../scripts/scenario/client-steps';
import { runScenario } from '../../../scripts/scenario/runner';
import { scenarioSchema } from '../../../scripts/scenario/schema';
import { runCollect } from './run-collect';
import { startTestLab, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
let target: LabTarget;
beforeAll(async () => {
  if (!existsSync(clientMain())) throw new Error(`${clientMain()} is missing: run \`npm run build\` first`);
  lab = await startTestLab();
  target = lab.target();
}, 30_000);
afterAll(() => lab.close());

const run = (names: string[], lang?: 'en' | 'id') => runCollect(target, names, lang);

const port = (domain: string, service: 'submission' | 'pop3' | 'imap') => lab.config.domains.find((d) => d.name === domain)!.ports[service];

test('attachments: the same file sent MIME and uuencoded, both saved back with the same sha256', async () => {
  const r = await run(['attachments']);
  expect(r.ok).toBe(true);
  // the client ran as a process on this machine, pointed at the test lab's own ports
  expect(r.text).toContain(`$ mail-lab-client send --from mbrain@garudayaksa.com --to siswa5@dadali.com --subject "Lampiran MIME `);
  expect(r.text).toContain(`--attach foto.bin --password rahasia123 --server 127.0.0.1 --port ${port('garudayaksa.com', 'submission')}`);
  expect(r.text).toContain(`--server 127.0.0.1 --port ${port('dadali.com', 'pop3')}`);
  expect(r.text).toMatch(/^ {11}250 .*queued as \S+$/m);
  // the raw messages: MIME headers and base64 lines, then begin 644 ... end
  expect(r.text).toMatch(/^ {11}Content-Transfer-Encoding: base64$/m);
  expect(r.text).toMatch(/^ {11}Content-Disposition: attachment; filename=foto\.bin$/m);
  expect(r.text).toMatch(/^ {11}[A-Za-z0-9+/]{76}$/m);
  expect(r.text).toMatch(/^ {11}begin 644 foto\.bin\n( {11}M[!-`]{60}\n){4} {11}4[!-`]+\n {11}`\n {11}end$/m);
  expect(r.text).toMatch(/^ {11}saved mime\/foto\.bin \(200 bytes, MIME base64\)$/m);
  expect(r.text).toMatch(/^ {11}saved uu\/foto\.bin \(200 bytes, uuencode\)$/m);
  // one sha256 for the file made, and the same for both recovered copies
  const made = /^ {9}sha256 ([0-9a-f]{64}) {2}foto\.bin$/m.exec(r.text)![1];
  const sums = [...r.text.matchAll(/^ {9}sha256 ([0-9a-f]{64}) {2}(\S+)$/gm)].map((m) => [m[2], m[1]]);
  expect(sums).toEqual([
    ['foto.bin', made],
    ['foto.bin', made],
    ['mime/foto.bin', made],
    ['uu/foto.bin', made],
  ]);
  expect(r.text).toContain('all 3 files are the same bytes (the same sha256)');
  // the made file is binary: its first bytes are shown in hex
  expect(r.text).toMatch(/its first bytes \(hex\): ([0-9a-f]{2} ){15}[0-9a-f]{2}$/m);
  expect(r.text).toMatch(/^== attachments: passed/m);
  // the scenario's temporary folder is gone once it has ended
  const dir = /made foto\.bin: 200 random bytes \(not text, like a photo\) in (\S+)$/m.exec(r.text)![1];
  expect(dir.startsWith(tmpdir())).toBe(true);
  expect(existsSync(dir)).toBe(false);
}, 90_000);

test('pop3-vs-imap: IMAP leaves the file unchanged, POP3 shrinks it, then IMAP sees an empty INBOX', async () => {
  const r = await run(['pop3-vs-imap']);
  expect(r.ok).toBe(true);
  const sizes = [...r.text.matchAll(/siswa4: (\d+) bytes, (\d) message\(s\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  expect(sizes.length).toBe(3);
  const [start, afterImap, afterPop3] = sizes;
  expect(start[1]).toBe(2);
  expect(afterImap).toEqual(start);
  expect(r.text).toContain(`unchanged: it was ${start[0]} bytes before too`);
  expect(afterPop3[1]).toBe(0);
  expect(afterPop3[0]).toBeLessThan(start[0]);
  expect(r.text).toMatch(/\[laptop\] SEARCH \{"subject":"\w+"\} in INBOX \(on the server\) -> 2 message\(s\)/);
  expect(r.text).toMatch(/\[laptop\] SEARCH \{"subject":"\w+"\} in INBOX \(on the server\) -> 0 message\(s\)/);
  expect(r.text).toContain(`--protocol imap --user siswa4@garudayaksa.com --password rahasia123 --server 127.0.0.1 --port ${port('garudayaksa.com', 'imap')}`);
  expect(r.text).toMatch(/siswa4@garudayaksa\.com INBOX \(IMAP\): 2 messages, \d+ octets/);
  expect(r.text).toContain('siswa4@garudayaksa.com INBOX (IMAP): no messages');
  expect(r.text).toContain('S: +OK mail.garudayaksa.com POP3 server signing off (2 messages deleted, 0 left)');
  expect(r.text).toMatch(/\[16\/22\] a POP3 mail program downloads the mail of siswa4@garudayaksa\.com \(RETR, DELE, QUIT\) \.\.\./);
  // The phone's offline copy, synced before the POP3 download, still reads both messages after it, without a server.
  expect(r.text).toMatch(/^ +INBOX +2 new, 0 removed \(gone from the server\), 2 messages in the copy$/m);
  expect(r.text).toContain('$ mail-lab-client list --offline --protocol imap --user siswa4@garudayaksa.com --local-dir phone\n');
  expect(r.text).toMatch(/siswa4@garudayaksa\.com INBOX \(offline copy, synced [\d-]+ [\d:]+ UTC\): 2 messages, \d+ octets/);
}, 90_000);

test('a failing client step fails the scenario, saying why in the client\'s own words', async () => {
  const scenario = scenarioSchema.parse({
    name: 'client-gagal',
    title: 'Wrong password',
    explain: 'The client cannot log in.',
    steps: [{ client: { args: ['list', '--user', 'siswa1@dadali.com', '--password', 'salah'] } }, { say: 'never reached' }],
  });
  for (const [lang, failed, exited] of [
    ['en', 'FAILED', 'mail-lab-client exited with status 1: '],
    ['id', 'GAGAL', 'mail-lab-client berakhir dengan status 1: '],
  ] as const) {
    const lines: string[] = [];
    const outcome = await runScenario(target, scenario, (l) => lines.push(l), lang);
    expect(outcome.ok).toBe(false);
    const text = lines.join('\n');
    expect(outcome.error).toMatch(new RegExp(`^${exited}.*siswa1@dadali\\.com`));
    expect(text).toContain(`         ${failed}: ${exited}`);
    expect(text).toContain(`$ mail-lab-client list --user siswa1@dadali.com --password salah --server 127.0.0.1 --port ${port('dadali.com', 'pop3')}`);
    expect(text).not.toContain('never reached');
  }
}, 60_000);

test('an expected output that does not come fails the step; a file that was never saved fails compare-files', async () => {
  const scenario = scenarioSchema.parse({
    name: 'client-cocok',
    title: 'x',
    explain: 'x',
    steps: [
      { client: { args: ['list', '--user', 'siswa2@dadali.com', '--password', 'rahasia123'], expect: 'tidak akan ada' } },
    ],
  });
  const lines: string[] = [];
  expect((await runScenario(target, scenario, (l) => lines.push(l))).error).toBe('the output of mail-lab-client does not match /tidak akan ada/');
  const files = scenarioSchema.parse({ name: 'x', title: 'x', explain: 'x', steps: [{ 'make-file': { name: 'a.bin', bytes: 50 } }, { 'compare-files': { files: ['a.bin', 'b.bin'] } }] });
  const out: string[] = [];
  const o = await runScenario(target, files, (l) => out.push(l), 'id');
  expect(o.error).toBe('file tidak ada: b.bin (apakah mail-lab-client sudah menyimpannya?)');
  expect(out.join('\n')).toMatch(/sha256 [0-9a-f]{64} {2}a\.bin\n {9}- b\.bin: file tidak ada/);
}, 60_000);

test('the no-Docker endpoint: the host ports of the domain the command talks to', () => {
  const c = lab.config;
  expect(localEndpointArgs(c, ['send', '--from', 'jpri@dadali.com', '--to', 'x@garudayaksa.com'])).toEqual(['--server', '127.0.0.1', '--port', String(port('dadali.com', 'submission'))]);
  expect(localEndpointArgs(c, ['read', '--user', 'siswa1', '1'])).toEqual(['--server', '127.0.0.1', '--port', String(port('garudayaksa.com', 'pop3'))]);
  expect(localEndpointArgs(c, ['list', '--protocol=imap', '--user=siswa1@dadali.com'])).toEqual(['--server', '127.0.0.1', '--port', String(port('dadali.com', 'imap'))]);
  expect(localEndpointArgs(c, ['folders', '--user', 'siswa1@dadali.com'])).toEqual(['--server', '127.0.0.1', '--port', String(port('dadali.com', 'imap'))]);
  expect(localEndpointArgs(c, ['list', '--user', 'siswa1@dadali.com', '--port', '110'])).toEqual([]);
  expect(shellQuote('Lampiran MIME x')).toBe('"Lampiran MIME x"');
  expect(shellQuote('siswa5@dadali.com')).toBe('siswa5@dadali.com');
});

/**
 * The Docker path without Docker: a target whose exec() runs the command on
 * this machine the way `docker exec mail-lab-client …` runs it in the client
 * container: through sh, with `mail-lab-client` on the PATH (the image's
 * wrapper) and the client finding its servers by itself (here through the
 * environment, as the container's resolver and standard ports would). So the
 * step's own commands (sh -c "cd … && exec mail-lab-client", head, od,
 * sha256sum) really run.
 */
test('Docker mode: the client, make-file and compare-files run as commands in the client container', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'mail-lab-fake-container-'));
  writeFileSync(join(bin, 'mail-lab-client'), `#!/bin/sh\nexec "${process.execPath}" "${clientMain()}" "$@"\n`);
  chmodSync(join(bin, 'mail-lab-client'), 0o755);
  const containers: string[] = [];
  const before = new Set(readdirSync('/tmp').filter((f) => f.startsWith('mail-lab-scenario-')));
  const docker: LabTarget = {
    ...target,
    mode: 'docker',
    exec: (container, cmd) =>
      new Promise((resolve, reject) => {
        containers.push(container);
        const env = { PATH: `${bin}:${process.env.PATH}`, MAIL_LAB_HOME_DOMAIN: 'garudayaksa.com', MAIL_LAB_SERVER: '127.0.0.1', MAIL_LAB_SUBMISSION_PORT: String(port('garudayaksa.com', 'submission')), MAIL_LAB_POP3_PORT: String(port('dadali.com', 'pop3')) };
        const child = spawn(cmd[0], cmd.slice(1), { env, cwd: '/' });
        const chunks: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => chunks.push(c));
        child.stderr.on('data', (c: Buffer) => chunks.push(c));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }));
      }),
  };
  try {
    const { ok, text } = await runCollect(docker, ['attachments']);
    expect(ok).toBe(true);
    expect(new Set(containers)).toEqual(new Set(['mail-lab-client']));
    // as a student types it in the container: no --server / --port
    expect(text).toMatch(/^ {9}\$ mail-lab-client send .* --attach foto\.bin --password rahasia123$/m);
    expect(text).toMatch(/^ {9}\$ mail-lab-client save-attachments --user siswa5@dadali\.com --password rahasia123 2 --dir uu$/m);
    expect(text).toMatch(/made foto\.bin: 200 random bytes \(not text, like a photo\) in \/tmp\/mail-lab-scenario-\w+ in the container mail-lab-client/);
    const made = /^ {9}sha256 ([0-9a-f]{64}) {2}foto\.bin$/m.exec(text)![1];
    expect([...text.matchAll(/^ {9}sha256 ([0-9a-f]{64}) {2}(\S+)$/gm)].map((m) => `${m[1] === made} ${m[2]}`)).toEqual(['true foto.bin', 'true foto.bin', 'true mime/foto.bin', 'true uu/foto.bin']);
    expect(text).toMatch(/its first bytes \(hex\): ([0-9a-f]{2} ){15}[0-9a-f]{2}$/m);
  } finally {
    rmSync(bin, { recursive: true, force: true });
    for (const d of readdirSync('/tmp').filter((f) => f.startsWith('mail-lab-scenario-') && !before.has(f))) rmSync(join('/tmp', d), { recursive: true, force: true });
  }
}, 90_000);
