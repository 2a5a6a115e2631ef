/**
 * TLS with real third-party clients against the in-process lab (tls on,
 * requireTls false): swaks STARTTLS on 587 with AUTH and on 25, openssl
 * s_client with STARTTLS (smtp, pop3, imap) and on the implicit-TLS ports,
 * curl with --ssl-reqd and pop3s:// / imaps://, Python's imaplib and poplib.
 * Every client verifies the server against the lab CA.
 */
import { startTestLab, Wire, type TestLab } from '../helpers/test-lab';
import { caFile, D, G, PASSWORD, portOf, python, run, sClient, submit, waitForMessage } from './helpers';

let lab: TestLab;

beforeAll(async () => {
  lab = await startTestLab({ tls: true });
  await submit(lab, `siswa1@${G}`, [`siswa2@${G}`], 'Surat untuk dibaca lewat TLS');
  await waitForMessage(lab, G, 'siswa2', 'Surat untuk dibaca lewat TLS');
}, 30_000);
afterAll(() => lab.close());

describe('swaks --tls', () => {
  test('submission 587: STARTTLS, then AUTH, and the message arrives with ESMTPSA', async () => {
    const r = await run('swaks', [
      '--server', `127.0.0.1:${portOf(lab, G, 'submission')}`,
      '--tls', '--tls-verify', '--tls-ca-path', caFile(lab), '--tls-sni', `mail.${G}`,
      '--auth', 'PLAIN', '--auth-user', `mbrain@${G}`, '--auth-password', PASSWORD,
      '--from', `mbrain@${G}`, '--to', `siswa3@${G}`, '--header', 'Subject: swaks lewat 587',
    ]);
    expect(r.code).toBe(0);
    expect(r.all).toMatch(/-> STARTTLS/);
    expect(r.all).toMatch(/<- {2}220 .*Ready to start TLS/);
    expect(r.all).toMatch(/=== TLS started with cipher TLSv1\.[23]/);
    expect(r.all).toMatch(/=== TLS peer DN="\/CN=mail\.garudayaksa\.com\//);
    expect(r.all).toMatch(/<~ {2}235 .*Authentication successful/);
    const msg = await waitForMessage(lab, G, 'siswa3', 'swaks lewat 587');
    expect(msg).toMatch(/^Received: from \S+ \(localhost \[127\.0\.0\.1\]\)\r\n\tby mail\.garudayaksa\.com \(mail-lab\) with ESMTPSA id /m);
  });

  test('SMTP 25: STARTTLS without AUTH, Received says ESMTPS (RFC 3848)', async () => {
    const r = await run('swaks', [
      '--server', `127.0.0.1:${portOf(lab, D, 'smtp')}`,
      '--tls', '--tls-verify', '--tls-ca-path', caFile(lab), '--tls-sni', `mail.${D}`,
      '--from', `mbrain@${G}`, '--to', `jpri@${D}`, '--header', 'Subject: swaks lewat 25',
    ]);
    expect(r.code).toBe(0);
    expect(r.all).toMatch(/=== TLS started with cipher TLSv1\.[23]/);
    expect(r.all).toMatch(/<~ {2}250 .*queued as/);
    const msg = await waitForMessage(lab, D, 'jpri', 'swaks lewat 25');
    expect(msg).toMatch(/^Received: from \S+ \(localhost \[127\.0\.0\.1\]\)\r\n\tby mail\.dadali\.com \(mail-lab\) with ESMTPS id /m);
  });

  test('implicit TLS on the smtps port (465 in the containers), with AUTH', async () => {
    const r = await run('swaks', [
      '--server', `127.0.0.1:${portOf(lab, D, 'smtps')}`,
      '--tls-on-connect', '--tls-verify', '--tls-ca-path', caFile(lab), '--tls-sni', `mail.${D}`,
      '--auth', 'LOGIN', '--auth-user', `jpri@${D}`, '--auth-password', PASSWORD,
      '--from', `jpri@${D}`, '--to', `siswa1@${D}`, '--header', 'Subject: swaks lewat 465',
    ]);
    expect(r.code).toBe(0);
    expect(r.all).toMatch(/=== TLS started with cipher TLSv1\.[23]/);
    expect(r.all).toMatch(/<~ {2}235 /);
    const msg = await waitForMessage(lab, D, 'siswa1', 'swaks lewat 465');
    expect(msg).toMatch(/by mail\.dadali\.com \(mail-lab\) with ESMTPSA id /);
  });
});

describe('openssl s_client verifies against the lab CA', () => {
  test.each([
    ['smtp', 'smtp'],
    ['submission', 'smtp'],
    ['pop3', 'pop3'],
    ['imap', 'imap'],
  ] as const)('-starttls on the %s port', async (kind, proto) => {
    const r = await sClient(lab, G, kind, proto, proto === 'imap' ? 'a1 CAPABILITY\na2 LOGOUT\n' : proto === 'pop3' ? 'CAPA\nQUIT\n' : 'EHLO pc\nQUIT\n');
    expect(r.all).toContain('Verify return code: 0 (ok)');
    // The session goes on over TLS, and STARTTLS is no longer offered there.
    expect(r.stdout).toMatch(proto === 'imap' ? /^a1 OK /m : proto === 'pop3' ? /^\+OK capability list follows/m : /^250-PIPELINING/m);
    expect(r.stdout).not.toMatch(/STARTTLS|^STLS/m);
    expect(r.all).toMatch(/subject=CN ?= ?mail\.garudayaksa\.com/);
    expect(r.all).toMatch(/issuer=CN ?= ?mail-lab CA/);
  });

  test.each(['smtps', 'imaps', 'pop3s'] as const)('-connect to the %s port (implicit TLS)', async (kind) => {
    const r = await sClient(lab, D, kind, undefined, kind === 'imaps' ? 'a1 LOGOUT\n' : 'QUIT\n');
    expect(r.all).toContain('Verify return code: 0 (ok)');
    expect(r.all).toMatch(/subject=CN ?= ?mail\.dadali\.com/);
    // The greeting comes over TLS.
    expect(r.stdout).toMatch(kind === 'smtps' ? /^220 mail\.dadali\.com /m : kind === 'imaps' ? /^\* OK \[CAPABILITY IMAP4rev1 /m : /^\+OK mail\.dadali\.com POP3/m);
  });
});

describe('curl', () => {
  const curl = (url: string, extra: string[] = []) => run('curl', ['-sS', '-v', '--cacert', caFile(lab), '-u', `siswa2@${G}:${PASSWORD}`, ...extra, url]);

  test('pop3:// with --ssl-reqd (STLS) and pop3s://', async () => {
    for (const r of [await curl(`pop3://127.0.0.1:${portOf(lab, G, 'pop3')}/1`, ['--ssl-reqd']), await curl(`pop3s://127.0.0.1:${portOf(lab, G, 'pop3s')}/1`)]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/SSL connection using TLSv1\.[23]/);
      expect(r.stdout).toContain('Subject: Surat untuk dibaca lewat TLS');
    }
    expect((await curl(`pop3://127.0.0.1:${portOf(lab, G, 'pop3')}/`, ['--ssl-reqd'])).stderr).toMatch(/> STLS/);
  });

  test('imap:// with --ssl-reqd (STARTTLS) and imaps://', async () => {
    for (const r of [
      await curl(`imap://127.0.0.1:${portOf(lab, G, 'imap')}/INBOX;UID=1`, ['--ssl-reqd']),
      await curl(`imaps://127.0.0.1:${portOf(lab, G, 'imaps')}/INBOX;UID=1`),
    ]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/SSL connection using TLSv1\.[23]/);
      expect(r.stdout).toContain('Subject: Surat untuk dibaca lewat TLS');
    }
  });

  test('a client that does not trust the lab CA refuses the server', async () => {
    const r = await run('curl', ['-sS', '--cacert', '/dev/null', '-u', `siswa2@${G}:${PASSWORD}`, `pop3s://127.0.0.1:${portOf(lab, G, 'pop3s')}/`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/certificate|SSL/i);
  });
});

describe('Python imaplib and poplib with an ssl context trusting the lab CA', () => {
  const SCRIPT = `
import imaplib, poplib, ssl, sys
ca, imap, imaps, pop, pops, user, password = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=ca)
def show(name, version, count):
    print(name, version, count)

m = imaplib.IMAP4('127.0.0.1', int(imap))
assert 'STARTTLS' in m.capabilities, m.capabilities
m.starttls(ssl_context=ctx)
assert 'STARTTLS' not in m.capabilities, m.capabilities
m.login(user, password)
typ, data = m.select('INBOX')
show('IMAP4.starttls', m.sock.version(), data[0].decode())
m.logout()

m = imaplib.IMAP4_SSL('127.0.0.1', int(imaps), ssl_context=ctx)
m.login(user, password)
typ, data = m.select('INBOX')
show('IMAP4_SSL', m.sock.version(), data[0].decode())
m.logout()

p = poplib.POP3('127.0.0.1', int(pop))
assert 'STLS' in p.capa(), p.capa()
p.stls(context=ctx)
assert 'STLS' not in p.capa(), p.capa()
p.user(user)
p.pass_(password)
show('POP3.stls', p.sock.version(), p.stat()[0])
p.quit()

p = poplib.POP3_SSL('127.0.0.1', int(pops), context=ctx)
p.user(user)
p.pass_(password)
show('POP3_SSL', p.sock.version(), p.stat()[0])
p.quit()
`;

  test('IMAP4.starttls, IMAP4_SSL, POP3.stls, POP3_SSL log in and see the message', async () => {
    const r = await python(SCRIPT, [caFile(lab), portOf(lab, G, 'imap'), portOf(lab, G, 'imaps'), portOf(lab, G, 'pop3'), portOf(lab, G, 'pop3s'), `siswa2@${G}`, PASSWORD]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const [i, name] of ['IMAP4.starttls', 'IMAP4_SSL', 'POP3.stls', 'POP3_SSL'].entries()) {
      expect(lines[i]).toMatch(new RegExp(`^${name.replace('.', '\\.')} TLSv1\\.[23] 1$`));
    }
  });
});

describe('the wire, by hand', () => {
  test('EHLO offers STARTTLS before TLS only; HELP lists it; IMAP and POP3 advertise it', async () => {
    const s = await Wire.connect(portOf(lab, G, 'smtp'));
    await s.reply();
    expect(await s.send('EHLO pc')).toMatch(/^250-STARTTLS$/m);
    expect(await s.send('HELP')).toMatch(/STARTTLS/);
    expect(await s.send('STARTTLS x')).toMatch(/^501 /);
    s.close();

    const i = await Wire.connect(portOf(lab, G, 'imap'));
    const greeting = await new Promise<string>((resolve) => i.socket.once('data', (d) => resolve(String(d))));
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 STARTTLS LITERAL\+ SASL-IR AUTH=PLAIN /);
    expect(greeting).not.toMatch(/LOGINDISABLED/);
    i.close();

    const p = await Wire.connect(portOf(lab, G, 'pop3'));
    await new Promise((resolve) => p.socket.once('data', resolve));
    p.write('CAPA\r\n');
    const capa = await new Promise<string>((resolve) => {
      let text = '';
      p.socket.on('data', (d) => {
        text += String(d);
        if (text.endsWith('\r\n.\r\n')) resolve(text);
      });
    });
    expect(capa).toMatch(/^STLS\r$/m);
    p.close();
  });

  test('plain-text commands pipelined behind STLS are dropped, not run inside TLS', async () => {
    const r = await run(
      'openssl',
      ['s_client', '-starttls', 'pop3', '-connect', `127.0.0.1:${portOf(lab, G, 'pop3')}`, '-CAfile', caFile(lab), '-quiet', '-verify_return_error'],
      'CAPA\r\nQUIT\r\n',
    );
    // openssl sent STLS itself; what we typed afterwards went over TLS and was answered there.
    expect(r.stdout).toMatch(/^\+OK capability list follows/m);
    expect(r.stdout).not.toMatch(/^STLS/m);

    const w = await Wire.connect(portOf(lab, G, 'pop3'));
    await new Promise((resolve) => w.socket.once('data', resolve));
    w.write('STLS\r\nUSER mbrain\r\n');
    const answer = await new Promise<string>((resolve) => w.socket.once('data', (d) => resolve(String(d))));
    expect(answer).toBe('+OK Begin TLS negotiation\r\n');
    // USER was not answered in plain text: the next thing the server expects is a TLS ClientHello.
    const more = await Promise.race([new Promise<string>((resolve) => w.socket.once('data', (d) => resolve(String(d)))), new Promise<string>((r) => setTimeout(() => r('silence'), 300))]);
    expect(more).toBe('silence');
    w.close();
  });
});
