/**
 * lab.yaml `tls.requireTls`, both ways. true: AUTH on 587, POP3
 * USER/PASS/APOP and IMAP LOGIN/AUTHENTICATE are refused before TLS with a
 * clear message, and accepted once the session is TLS (real clients:
 * swaks, Python poplib/imaplib, curl). Mail between servers on port 25 is
 * not affected. false (the default, for the telnet exercises): the same
 * plain-text logins work while STARTTLS is offered.
 */
import { startTestLab, Wire, type TestLab } from '../helpers/test-lab';
import { caFile, D, G, PASSWORD, portOf, python, run, submit, waitForMessage } from './helpers';

const plain = (user: string, password = PASSWORD) => Buffer.from(`\0${user}\0${password}`).toString('base64');

/** First chunk the server sends (greeting). */
const greeting = (w: Wire) => new Promise<string>((resolve) => w.socket.once('data', (d) => resolve(String(d))));
/** Sends a line and waits for the next chunk (a one-line answer). */
async function say(w: Wire, line: string): Promise<string> {
  const answer = new Promise<string>((resolve) => w.socket.once('data', (d) => resolve(String(d))));
  w.write(line + '\r\n');
  return (await answer).trimEnd();
}

const POPLIB = `
import poplib, ssl, sys
ca, port, user, password = sys.argv[1:5]
p = poplib.POP3('127.0.0.1', int(port))
try:
    p.user(user)
    print('plain USER accepted')
except poplib.error_proto as e:
    print('plain USER refused:', e.args[0].decode())
p.stls(context=ssl.create_default_context(cafile=ca))
p.user(user)
print('after STLS:', p.pass_(password).decode())
p.quit()
`;

const IMAPLIB = `
import imaplib, ssl, sys
ca, port, user, password = sys.argv[1:5]
m = imaplib.IMAP4('127.0.0.1', int(port))
print('before:', ' '.join(sorted(m.capabilities)))
try:
    m.login(user, password)
    print('plain LOGIN accepted')
    m.logout()
    sys.exit(0)
except imaplib.IMAP4.error as e:
    print('plain LOGIN refused:', e)
m.starttls(ssl_context=ssl.create_default_context(cafile=ca))
print('after:', ' '.join(sorted(m.capabilities)))
print('after STARTTLS:', m.login(user, password)[0])
m.logout()
`;

describe('requireTls: true', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab({ tls: { requireTls: true } });
  }, 30_000);
  afterAll(() => lab.close());

  test('submission 587: AUTH before STARTTLS is 530 5.7.0; swaks --tls logs in and sends', async () => {
    const w = await Wire.connect(portOf(lab, G, 'submission'));
    await w.reply();
    expect(await w.send('EHLO pc')).toMatch(/^250-STARTTLS$/m);
    expect(await w.send(`AUTH PLAIN ${plain(`mbrain@${G}`)}`)).toBe('530 5.7.0 Must issue a STARTTLS command first');
    expect(await w.send('AUTH LOGIN')).toBe('530 5.7.0 Must issue a STARTTLS command first');
    expect(await w.send('MAIL FROM:<mbrain@garudayaksa.com>')).toMatch(/^530 /);
    w.close();

    const refused = await run('swaks', ['--server', `127.0.0.1:${portOf(lab, G, 'submission')}`, '--auth', 'PLAIN', '--auth-user', `mbrain@${G}`, '--auth-password', PASSWORD, '--from', `mbrain@${G}`, '--to', `siswa4@${G}`]);
    expect(refused.code).not.toBe(0);
    expect(refused.all).toMatch(/<\*\* 530 5\.7\.0 Must issue a STARTTLS command first/);

    const ok = await run('swaks', [
      '--server', `127.0.0.1:${portOf(lab, G, 'submission')}`, '--tls', '--tls-verify', '--tls-ca-path', caFile(lab), '--tls-sni', `mail.${G}`,
      '--auth', 'PLAIN', '--auth-user', `mbrain@${G}`, '--auth-password', PASSWORD,
      '--from', `mbrain@${G}`, '--to', `siswa4@${G}`, '--header', 'Subject: wajib TLS',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.all).toMatch(/<~ {2}235 /);
    expect(await waitForMessage(lab, G, 'siswa4', 'wajib TLS')).toMatch(/with ESMTPSA id /);
  });

  test('the implicit-TLS submission port needs no STARTTLS', async () => {
    const r = await run('swaks', [
      '--server', `127.0.0.1:${portOf(lab, D, 'smtps')}`, '--tls-on-connect', '--tls-verify', '--tls-ca-path', caFile(lab), '--tls-sni', `mail.${D}`,
      '--auth', 'PLAIN', '--auth-user', `jpri@${D}`, '--auth-password', PASSWORD, '--from', `jpri@${D}`, '--to', `siswa4@${D}`, '--header', 'Subject: wajib TLS 465',
    ]);
    expect(r.code).toBe(0);
    await waitForMessage(lab, D, 'siswa4', 'wajib TLS 465');
  });

  test('port 25 still takes mail from other servers in plain text, and cross-domain mail goes over TLS', async () => {
    const w = await Wire.connect(portOf(lab, D, 'smtp'));
    await w.reply();
    await w.send('EHLO mail.example');
    expect(await w.send('MAIL FROM:<someone@garudayaksa.com>')).toMatch(/^250 /);
    expect(await w.send('RCPT TO:<jpri@dadali.com>')).toMatch(/^250 /);
    expect(await w.send('DATA')).toMatch(/^354 /);
    expect(await w.send('Subject: tanpa TLS di port 25\r\n\r\nhalo\r\n.')).toMatch(/^250 /);
    w.close();
    expect(await waitForMessage(lab, D, 'jpri', 'tanpa TLS di port 25')).toMatch(/by mail\.dadali\.com \(mail-lab\) with ESMTP id /);

    // The student's client must use TLS for AUTH, so here nodemailer would be refused; swaks with --tls submits.
    const r = await run('swaks', [
      '--server', `127.0.0.1:${portOf(lab, G, 'submission')}`, '--tls', '--tls-ca-path', caFile(lab), '--tls-verify', '--tls-sni', `mail.${G}`,
      '--auth', 'PLAIN', '--auth-user', `mbrain@${G}`, '--auth-password', PASSWORD, '--from', `mbrain@${G}`, '--to', `jpri@${D}`, '--header', 'Subject: antar domain wajib TLS',
    ]);
    expect(r.code).toBe(0);
    expect(await waitForMessage(lab, D, 'jpri', 'antar domain wajib TLS')).toMatch(/from mail\.garudayaksa\.com \(localhost \[127\.0\.0\.1\]\)\r\n\tby mail\.dadali\.com \(mail-lab\) with ESMTPS id /);
  });

  test('POP3: USER, PASS and APOP get -ERR [AUTH] ... use STLS first; poplib logs in after stls()', async () => {
    const w = await Wire.connect(portOf(lab, G, 'pop3'));
    await greeting(w);
    expect(await say(w, 'USER mbrain')).toBe('-ERR [AUTH] USER refused: logging in over an unencrypted connection is not allowed here; use STLS first');
    expect(await say(w, 'PASS rahasia123')).toMatch(/^-ERR \[AUTH\] PASS refused: .*use STLS first$/);
    expect(await say(w, 'APOP mbrain 0123456789abcdef0123456789abcdef')).toMatch(/^-ERR \[AUTH\] APOP refused: .*use STLS first$/);
    w.close();

    const r = await python(POPLIB, [caFile(lab), portOf(lab, G, 'pop3'), `mbrain@${G}`, PASSWORD]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^plain USER refused: -ERR \[AUTH\] USER refused: .*use STLS first$/m);
    expect(r.stdout).toMatch(/^after STLS: \+OK mbrain's maildrop has \d+ messages?/m);

    // curl insists on TLS with --ssl-reqd and then logs in.
    const c = await run('curl', ['-sS', '--ssl-reqd', '--cacert', caFile(lab), '-u', `mbrain@${G}:${PASSWORD}`, `pop3://127.0.0.1:${portOf(lab, G, 'pop3')}/`]);
    expect(c.code).toBe(0);
  });

  test('IMAP: LOGINDISABLED before TLS, LOGIN and AUTHENTICATE get NO [PRIVACYREQUIRED]; imaplib logs in after starttls()', async () => {
    const w = await Wire.connect(portOf(lab, G, 'imap'));
    const hello = await greeting(w);
    expect(hello).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED /);
    expect(hello).not.toMatch(/AUTH=PLAIN/);
    expect(await say(w, 'a1 LOGIN mbrain rahasia123')).toBe('a1 NO [PRIVACYREQUIRED] LOGIN over an unencrypted connection is not allowed here: use STARTTLS first');
    expect(await say(w, `a2 AUTHENTICATE PLAIN ${plain('mbrain')}`)).toMatch(/^a2 NO \[PRIVACYREQUIRED\] AUTHENTICATE over an unencrypted connection/);
    expect(await say(w, 'a3 SELECT INBOX')).toMatch(/^a3 BAD /);
    w.close();

    const r = await python(IMAPLIB, [caFile(lab), portOf(lab, G, 'imap'), `mbrain@${G}`, PASSWORD]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^before: .*LOGINDISABLED.*STARTTLS/m);
    expect(r.stdout).toMatch(/^plain LOGIN refused: .*PRIVACYREQUIRED/m);
    expect(r.stdout).toMatch(/^after: (?!.*LOGINDISABLED)(?!.*STARTTLS).*AUTH=PLAIN/m);
    expect(r.stdout).toMatch(/^after STARTTLS: OK$/m);

    const c = await run('curl', ['-sS', '--ssl-reqd', '--cacert', caFile(lab), '-u', `mbrain@${G}:${PASSWORD}`, `imap://127.0.0.1:${portOf(lab, G, 'imap')}/`]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/INBOX/);
  });

  test('POP3S and IMAPS: logged in at once (TLS from the first byte)', async () => {
    const r = await python(
      `
import imaplib, poplib, ssl, sys
ca, imaps, pop3s, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca)
m = imaplib.IMAP4_SSL('127.0.0.1', int(imaps), ssl_context=ctx)
assert 'LOGINDISABLED' not in m.capabilities and 'STARTTLS' not in m.capabilities, m.capabilities
print(m.login(user, password)[0]); m.logout()
p = poplib.POP3_SSL('127.0.0.1', int(pop3s), context=ctx)
assert 'STLS' not in p.capa(), p.capa()
p.user(user); print(p.pass_(password).decode()[:3]); p.quit()
`,
      [caFile(lab), portOf(lab, G, 'imaps'), portOf(lab, G, 'pop3s'), `mbrain@${G}`, PASSWORD],
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['OK', '+OK']);
  });
});

describe('requireTls: false (the default)', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab({ tls: true });
  }, 30_000);
  afterAll(() => lab.close());

  test('STARTTLS is offered, but plain-text AUTH, USER/PASS and LOGIN work as in the telnet exercises', async () => {
    const s = await Wire.connect(portOf(lab, G, 'submission'));
    await s.reply();
    expect(await s.send('EHLO pc')).toMatch(/^250-STARTTLS$/m);
    expect(await s.send(`AUTH PLAIN ${plain(`mbrain@${G}`)}`)).toMatch(/^235 /);
    s.close();
    await submit(lab, `mbrain@${G}`, [`siswa5@${G}`], 'tanpa TLS boleh');
    expect(await waitForMessage(lab, G, 'siswa5', 'tanpa TLS boleh')).toMatch(/with ESMTPA id /);

    const p = await Wire.connect(portOf(lab, G, 'pop3'));
    await greeting(p);
    expect(await say(p, 'USER siswa5')).toBe('+OK send PASS for siswa5');
    expect(await say(p, 'PASS rahasia123')).toMatch(/^\+OK siswa5's maildrop has 1 message/);
    p.close();

    const i = await Wire.connect(portOf(lab, G, 'imap'));
    const hello = await greeting(i);
    expect(hello).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 STARTTLS LITERAL\+ SASL-IR AUTH=PLAIN /);
    expect(hello).not.toMatch(/LOGINDISABLED/);
    expect(await say(i, 'a1 LOGIN siswa5 rahasia123')).toMatch(/^a1 OK \[CAPABILITY IMAP4rev1 LITERAL\+ /);
    i.close();

    const r = await python(POPLIB, [caFile(lab), portOf(lab, G, 'pop3'), `siswa5@${G}`, PASSWORD]);
    expect(r.stdout).toMatch(/^plain USER accepted$/m);
    const m = await python(IMAPLIB, [caFile(lab), portOf(lab, G, 'imap'), `siswa5@${G}`, PASSWORD]);
    expect(m.stdout).toMatch(/^plain LOGIN accepted$/m);
  });
});
