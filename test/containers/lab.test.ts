/**
 * The real compose lab: images built offline, containers on the lab
 * network, driven through the same CLI a teacher uses. Starts the lab in
 * beforeAll (`mail-lab up`), takes it down with its volumes at the end.
 */
import { execFile } from 'node:child_process';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAIL_API } from '../../services/core/src/admin/api';
import { mail, cli, docker, eventually, sleep, submit } from './helpers';

const run = promisify(execFile);

const subjects = async (domain: string, user: string, subject: string) =>
  (await mail(domain).call(MAIL_API.mailboxMessages, { user })).filter((m) => m.headers.includes(`\r\nSubject: ${subject}\r\n`) || m.headers.startsWith(`Subject: ${subject}\r\n`)).length;

beforeAll(async () => {
  const up = await cli(['up', '--offline']);
  if (up.code !== 0) throw new Error(`mail-lab up failed:\n${up.out}`);
  console.log(up.out.split('\n').filter((l) => /lab is up|answered/.test(l)).join('\n'));
}, 900_000);

afterAll(async () => {
  await cli(['down', '--volumes']);
}, 120_000);

test('every scenario passes on the real container network (mail-lab scenario --all)', async () => {
  const r = await cli(['scenario', '--all']);
  console.log(r.out);
  expect(r.out).toMatch(/^scenarios: (\d+) passed, 0 failed \(Docker lab\)$/m);
  expect(r.code).toBe(0);
}, 600_000);

test('the client container asks the lab DNS: dig MX dadali.com', async () => {
  expect((await docker(['exec', 'mail-lab-client', 'dig', '+short', 'MX', 'dadali.com'])).trim()).toBe('10 mail.dadali.com.');
  expect((await docker(['exec', 'mail-lab-client', 'dig', '+short', '-x', '172.29.25.20'])).trim()).toBe('mail.dadali.com.');
  const refused = await docker(['exec', 'mail-lab-client', 'dig', 'MX', 'example.org']);
  expect(refused).toContain('status: REFUSED');
}, 60_000);

test('uuencode by hand in the client container (attachments worksheet): the +32 line of "Hi!", pasted into a message, read back and uudecoded', async () => {
  const subject = `uu-${Date.now().toString(36)}`; // short: `list` cuts long subjects
  const script = [
    'set -e',
    'd=$(mktemp -d) && cd "$d"',
    "printf 'Hi!' > hi.txt",
    'uuencode hi.txt hi.txt | tee hi.uu',
    `mail-lab-client send --from mbrain@garudayaksa.com --to siswa3@dadali.com --subject '${subject}' --body-file hi.uu --password rahasia123`,
    // the message's number in siswa3's mailbox, by its subject
    `for i in 1 2 3 4 5 6 7 8 9 10; do n=$(mail-lab-client list --user siswa3@dadali.com --password rahasia123 | grep '${subject}' | awk '{print $1}'); [ -n "$n" ] && break; sleep 1; done`,
    'mail-lab-client read --raw --user siswa3@dadali.com --password rahasia123 "$n" > surat.txt',
    'uudecode -o hasil.txt surat.txt',
    'cmp hi.txt hasil.txt && echo sama',
  ].join('\n');
  const out = await docker(['exec', 'mail-lab-client', 'sh', '-c', script]);
  expect(out).toContain('begin 644 hi.txt\n#2&DA\n`\nend\n');
  expect(out.trim().split('\n').at(-1)).toBe('sama');
}, 60_000);

test('break and heal are reported by status, and doing one twice says so', async () => {
  expect((await cli(['break', 'garudayaksa.com', 'dadali.com'])).out).toContain('BROKEN');
  expect((await cli(['break', 'dadali.com', 'garudayaksa.com'])).out).toContain('already broken');
  expect((await cli(['status'])).out).toContain('link garudayaksa.com <-> dadali.com: BROKEN');
  expect((await cli(['heal', 'garudayaksa.com', 'dadali.com'])).out).toContain('healed');
  expect((await cli(['heal', 'garudayaksa.com', 'dadali.com'])).out).toContain('already healthy');
  const bad = await cli(['break', 'garudayaksa.com', 'nowhere.example']);
  expect(bad.code).toBe(2);
  expect(bad.out).toContain('unknown domain "nowhere.example"');
}, 120_000);

test('docker kill of the sending server with a message in its queue: after restart it is delivered exactly once', async () => {
  expect((await cli(['break', 'garudayaksa.com', 'dadali.com'])).code).toBe(0);
  const subject = `kill-queue-${Date.now()}`;
  const id = await submit('mbrain@garudayaksa.com', 'jpri@dadali.com', subject);
  await eventually('message deferred', async () => (await mail('garudayaksa.com').call(MAIL_API.queue)).some((e) => e.id === id && e.attempts >= 1));
  const q = await cli(['queue', 'garudayaksa.com']);
  expect(q.out).toContain(id);
  expect(q.out).toMatch(/timed out/);
  await docker(['kill', 'mail-lab-garudayaksa']);
  await docker(['start', 'mail-lab-garudayaksa']);
  await eventually('garudayaksa admin back', () => mail('garudayaksa.com').call(MAIL_API.health));
  expect((await mail('garudayaksa.com').call(MAIL_API.queue)).map((e) => e.id)).toContain(id);
  // A restarted container gets a fresh network namespace: heal makes sure, either way.
  await cli(['heal', 'garudayaksa.com', 'dadali.com']);
  expect((await cli(['flush', 'garudayaksa.com'])).out).toContain(id);
  await eventually('delivered at dadali', async () => (await subjects('dadali.com', 'jpri', subject)) === 1);
  await sleep(1500);
  expect(await subjects('dadali.com', 'jpri', subject)).toBe(1);
}, 180_000);

test('docker kill of the receiving server during DATA: nothing half-written is delivered, nothing acknowledged is lost', async () => {
  const subject = `kill-data-${Date.now()}`;
  const socket = new Socket();
  await new Promise<void>((r) => socket.connect(20025, '127.0.0.1', () => r()));
  let seen = '';
  socket.on('data', (d) => (seen += d.toString()));
  socket.on('error', () => undefined);
  const say = async (line: string, expect: RegExp) => {
    socket.write(line + '\r\n');
    await eventually(`reply to ${line}`, async () => expect.test(seen), 10_000);
  };
  await eventually('greeting', async () => /^220 /m.test(seen), 10_000);
  await say('HELO tes', /^250 /m);
  await say('MAIL FROM:<mbrain@garudayaksa.com>', /^250 2\.1\.0/m);
  await say('RCPT TO:<siswa4@dadali.com>', /^250 2\.1\.5/m);
  await say('DATA', /^354 /m);
  socket.write(`Subject: ${subject}\r\n\r\nsetengah pesan, belum selesai\r\n`);
  await sleep(300);
  await docker(['kill', 'mail-lab-dadali']);
  socket.destroy();
  await docker(['start', 'mail-lab-dadali']);
  await eventually('dadali admin back', () => mail('dadali.com').call(MAIL_API.health));
  expect(await subjects('dadali.com', 'siswa4', subject)).toBe(0);
  const queue = await mail('dadali.com').call(MAIL_API.queue);
  expect(queue).toEqual([]);
  // The mailbox file itself holds no fragment either.
  expect(await docker(['exec', 'mail-lab-dadali', 'cat', '/var/mail-lab/mail/siswa4'])).not.toContain('setengah pesan');
}, 180_000);

test('isolation: services run as the unprivileged mail-lab user, the lab network does not masquerade to the outside', async () => {
  for (const c of ['mail-lab-dns', 'mail-lab-garudayaksa', 'mail-lab-dadali', 'mail-lab-client']) {
    const users = (await docker(['exec', c, 'ps', '-eo', 'user=,comm='])).trim().split('\n');
    expect(users.filter((l) => /\b(node|sleep)$/.test(l)).every((l) => l.startsWith('mail-lab '))).toBe(true);
  }
  const net = JSON.parse(await docker(['network', 'inspect', 'mail-lab_backbone'])) as { Options: Record<string, string>; IPAM: { Config: { Subnet: string }[] } }[];
  expect(net[0].Options['com.docker.network.bridge.enable_ip_masquerade']).toBe('false');
  expect(net[0].IPAM.Config[0].Subnet).toBe('172.29.25.0/24');
  const ports = await docker(['port', 'mail-lab-dadali']);
  expect(ports.trim().split('\n').every((l) => / -> 127\.0\.0\.1:\d+$/.test(l))).toBe(true);
}, 60_000);

test('docker logs are bounded: every service keeps at most 3 files of 10 MB (a day of wire transcripts cannot fill the disk), and still shows the session', async () => {
  for (const c of ['mail-lab-dns', 'mail-lab-garudayaksa', 'mail-lab-dadali', 'mail-lab-client']) {
    const log = JSON.parse(await docker(['inspect', '--format', '{{json .HostConfig.LogConfig}}', c])) as { Type: string; Config: Record<string, string> };
    expect(log).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  }
  const id = await submit('siswa1@garudayaksa.com', 'siswa2@garudayaksa.com', 'log rotation');
  await eventually('the session in docker logs', async () => (await docker(['logs', '--tail', '300', 'mail-lab-garudayaksa'])).includes(`queued as ${id}`));
}, 60_000);

test('TLS: one lab CA in the lab-ca volume, exported by `mail-lab ca`; the implicit-TLS ports and STARTTLS inside the lab verify against it', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'mail-lab-ca-'));
  try {
    const caFile = join(dir, 'lab-ca.crt');
    const ca = await cli(['ca', '--out', caFile]);
    expect(ca.code).toBe(0);
    expect(ca.out).toMatch(/Thunderbird: .*Import/);
    const pem = readFileSync(caFile, 'utf8');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    // Both domains and the client see the same CA.
    for (const c of ['mail-lab-garudayaksa', 'mail-lab-dadali', 'mail-lab-client']) expect(await docker(['exec', c, 'cat', '/var/mail-lab-ca/ca.crt'])).toBe(pem);
    const sClient = (args: string[]) =>
      run('sh', ['-c', `openssl s_client ${args.join(' ')} -CAfile '${caFile}' -verify_return_error </dev/null 2>&1 || true`], { timeout: 30_000 }).then((r) => r.stdout);
    for (const [port, host] of [[10465, 'mail.garudayaksa.com'], [10993, 'mail.garudayaksa.com'], [20995, 'mail.dadali.com']] as const) {
      const out = await sClient(['-connect', `127.0.0.1:${port}`, '-verify_hostname', host]);
      expect(out).toContain('Verify return code: 0 (ok)');
    }
    expect(await sClient(['-starttls', 'imap', '-connect', '127.0.0.1:20143', '-verify_hostname', 'mail.dadali.com'])).toContain('Verify return code: 0 (ok)');
    // Inside the lab: the client container, by name, with the CA from the volume.
    const inside = await docker(['exec', 'mail-lab-client', 'sh', '-c', 'openssl s_client -starttls smtp -connect mail.dadali.com:25 -CAfile /var/mail-lab-ca/ca.crt -verify_hostname mail.dadali.com </dev/null 2>&1 || true']);
    expect(inside).toContain('Verify return code: 0 (ok)');
    // swaks with STARTTLS from the client container, verifying the server against the lab CA.
    const subject = `swaks tls ${Date.now()}`;
    const swaks = await docker(['exec', 'mail-lab-client', 'sh', '-c', `swaks --server mail.dadali.com:25 --tls --tls-verify --tls-ca-path /var/mail-lab-ca/ca.crt --from siswa1@garudayaksa.com --to jpri@dadali.com --h-Subject '${subject}' 2>&1 || true`]);
    expect(swaks).toMatch(/=== TLS started with cipher TLSv1\.[23]/);
    expect(swaks).toMatch(/<~ {2}250 2\.6\.0 Ok: queued as/);
    // The client sees the CA certificate and nothing else: no private key of the CA or of a server.
    expect((await docker(['exec', 'mail-lab-client', 'ls', '-A', '/var/mail-lab-ca'])).trim()).toBe('ca.crt');
    expect(await docker(['exec', 'mail-lab-client', 'sh', '-c', 'grep -rl "PRIVATE KEY" /var/mail-lab-ca /var/mail-lab /etc/mail-lab 2>/dev/null || echo none'])).toBe('none\n');
    expect(await docker(['exec', 'mail-lab-dadali', 'ls', '/var/mail-lab-ca'])).toMatch(/ca\.key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test("no open relay from inside the lab either: the client and the other domain's server are refused (swaks)", async () => {
  for (const from of ['mail-lab-client', 'mail-lab-garudayaksa']) {
    const out = await docker(['exec', from, 'sh', '-c', 'swaks --server mail.dadali.com --from siswa1@garudayaksa.com --to siswa2@garudayaksa.com --quit-after RCPT 2>&1 || true']);
    expect(out).toMatch(/<\*\* +554 5\.7\.1 .*Relay access denied/);
  }
  const ok = await docker(['exec', 'mail-lab-client', 'sh', '-c', 'swaks --server mail.dadali.com --from siswa1@garudayaksa.com --to jpri@dadali.com --quit-after RCPT 2>&1 || true']);
  expect(ok).toMatch(/<- +250 2\.1\.5 Accepted/);
}, 60_000);

test('issue 9: deliver, POP3 DELE + QUIT, deliver again: the mailbox file stays rw-r--r-- and every documented reader reads it', async () => {
  const { execFile: ef } = await import('node:child_process');
  const py = (script: string, ...args: string[]) => promisify(ef)('python3', ['-c', script, ...args]).then((r) => r.stdout);
  const first = `mode-1-${Date.now()}`;
  const second = `mode-2-${Date.now()}`;
  await submit('jpri@dadali.com', 'siswa3@dadali.com', first, 'Pertama.\n', 20587);
  await eventually('first delivered', async () => (await subjects('dadali.com', 'siswa3', first)) === 1);
  // A mail program that does not keep mail: RETR and DELE everything, QUIT (the server rewrites the file).
  const quit = await py(
    ['import poplib', 'p = poplib.POP3("127.0.0.1", 20110, timeout=10)', 'p.user("siswa3"); p.pass_("rahasia123")', 'n = len(p.list()[1])', 'for i in range(1, n + 1): p.retr(i); p.dele(i)', 'print(p.quit().decode())'].join('\n'),
  );
  expect(quit).toMatch(/^\+OK/);
  await submit('jpri@dadali.com', 'siswa3@dadali.com', second, 'Kedua.\n', 20587);
  await eventually('second delivered', async () => (await subjects('dadali.com', 'siswa3', second)) === 1);
  const file = '/var/mail-lab/mail/siswa3';
  expect((await docker(['exec', 'mail-lab-dadali', 'stat', '-c', '%a %U', file])).trim()).toBe('644 mail-lab');
  // The worksheets' reading (the container's own user), and root without capabilities, as `docker exec -u root` is here.
  const asUser = await docker(['exec', 'mail-lab-dadali', 'cat', file]);
  expect(asUser).toContain(`Subject: ${second}`);
  expect(asUser).not.toContain(`Subject: ${first}`);
  expect(await docker(['exec', '-u', 'root', 'mail-lab-dadali', 'cat', file])).toBe(asUser);
  // The admin API, and the scenario runner (its exec step greps the file; simplest-mail-server downloads over POP3 first).
  expect((await mail('dadali.com').call(MAIL_API.mailbox, { user: 'siswa3' })).text).toBe(asUser);
  const r = await cli(['scenario', 'simplest-mail-server']);
  expect(r.out).toMatch(/scenarios: 1 passed, 0 failed/);
}, 180_000);
