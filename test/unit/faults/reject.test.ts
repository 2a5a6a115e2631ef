/** Fault `reject`: RCPT to one local address answers a 5xx, so the sending queue bounces at once with a DSN. */
import { FaultArgumentError, faultFromArgs as faultSpec } from '../../../services/core/src/faults';
import { setFault } from '../../../scripts/faults/apply';
import { eventually, Wire } from '../helpers/test-lab';
import { inbox, port, startFaultLab, submit, withSubject, type FaultLab } from './helpers';

let f: FaultLab;
beforeAll(async () => {
  f = await startFaultLab({ timing: { retryInterval: '1h' } });
});
afterAll(() => f.close());

const reject = (address: string, on: boolean, opts = {}) => setFault(f.target, faultSpec(f.lab.config, 'reject', [address], opts, !on), on);

async function rcpt(to: string): Promise<string> {
  const w = await Wire.connect(port(f.lab, 'dadali.com', 'smtp'));
  try {
    await w.reply();
    await w.send('EHLO pc-siswa');
    await w.send('MAIL FROM:<siswa1@garudayaksa.com>');
    return await w.send(`RCPT TO:<${to}>`);
  } finally {
    w.close();
  }
}

test('RCPT answers the 5xx; the sender gets a DSN at once and nothing stays queued', async () => {
  const r = await reject('jpri@dadali.com', true);
  expect(r.lines[0]).toBe('fault reject jpri@dadali.com applied: RCPT TO:<jpri@dadali.com> answers "552 5.2.2 Mailbox full"');
  expect((await reject('jpri@dadali.com', true)).lines).toEqual(['jpri@dadali.com was already rejected with "552 5.2.2 Mailbox full"; nothing changed']);
  expect(await rcpt('jpri@dadali.com')).toBe('552 5.2.2 Mailbox full');
  expect(await rcpt('siswa1@dadali.com')).toMatch(/^250 /);

  const id = await submit(f.lab, 'mbrain@garudayaksa.com', ['jpri@dadali.com'], 'Kotak penuh');
  const [dsn] = await eventually('bounce notice', async () => {
    const m = withSubject(await inbox(f.lab, 'garudayaksa.com', 'mbrain'), 'Undelivered Mail Returned to Sender');
    return m.length ? m : null;
  });
  expect(dsn).toContain('Final-Recipient: rfc822; jpri@dadali.com\r\nAction: failed\r\nStatus: 5.2.2\r\nRemote-MTA: dns; mail.dadali.com');
  expect(dsn).toMatch(/Diagnostic-Code: smtp; mail\.dadali\.com\[127\.0\.0\.1\]:\d+ said: 552 5\.2\.2 Mailbox full/);
  expect(dsn).toContain(`X-Queue-ID: ${id}`);
  expect(f.lab.domains['garudayaksa.com'].queue.list()).toHaveLength(0);
  expect(withSubject(await inbox(f.lab, 'dadali.com', 'jpri'), 'Kotak penuh')).toHaveLength(0);

  expect((await reject('jpri@dadali.com', false)).changed).toBe(true);
  expect((await reject('jpri@dadali.com', false)).lines).toEqual(['jpri@dadali.com was not being rejected (no reject fault); nothing changed']);
  expect(await rcpt('jpri@dadali.com')).toMatch(/^250 /);
});

test('another code: 550 with the user-unknown text; a given text is used as it is', async () => {
  await reject('siswa2@dadali.com', true, { code: '550' });
  expect(await rcpt('siswa2@dadali.com')).toBe('550 5.1.1 User unknown');
  const r = await reject('siswa2@dadali.com', true, { code: 554, text: '5.7.1 Pesan ditolak oleh guru' });
  expect(r.changed).toBe(true);
  expect(await rcpt('siswa2@dadali.com')).toBe('554 5.7.1 Pesan ditolak oleh guru');
  await reject('siswa2@dadali.com', false);
});

test('bad arguments say what is allowed', () => {
  const spec = (args: string[], opts = {}) => () => faultSpec(f.lab.config, 'reject', args, opts);
  expect(spec(['nobody@dadali.com'])).toThrow(new FaultArgumentError('nobody@dadali.com is neither an account nor an alias of dadali.com', 'address'));
  expect(spec(['jpri@example.org'])).toThrow(/jpri@example\.org is not an address of a lab domain \(garudayaksa\.com, dadali\.com\)/);
  expect(spec(['jpri@dadali.com'], { code: '451' })).toThrow(/--code: the code must be a permanent SMTP reply code from 500 to 559/);
  expect(spec(['jpri@dadali.com'], { text: 'a\r\nb' })).toThrow(/--text: the reply text must be one line/);
  expect(spec(['jpri@dadali.com'], { delay: '5s' })).toThrow(/reject takes --code, --text, not --delay/);
  expect(spec([])).toThrow('reject takes 1 argument: reject <address> [--code 552] [--text "5.2.2 Mailbox full"]');
});

test('the admin API checks too: 400 with the reason', async () => {
  const { request } = await import('node:http');
  const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
    const headers = { authorization: `Bearer ${f.lab.adminToken}`, 'content-type': 'application/json' };
    const req = request({ host: '127.0.0.1', port: port(f.lab, 'dadali.com', 'admin'), path: '/faults/apply', method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ code: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ kind: 'reject', address: 'jpri@dadali.com', code: 250 }));
  });
  expect(status.code).toBe(400);
  expect(JSON.parse(status.body)).toMatchObject({ code: 'bad-argument', field: 'code', error: expect.stringMatching(/the code must be a permanent SMTP reply code/) });
});
