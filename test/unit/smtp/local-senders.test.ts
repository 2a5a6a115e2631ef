/**
 * `smtp.localSenders: require-auth` on a whole lab: what a student typing
 * on port 25 sees, that mail between the domains and bounces still flow,
 * and the known cost (as with SPF): forwarding by an alias back into the
 * sender's own domain is refused there and bounces.
 */
import nodemailer from 'nodemailer';
import { eventually, startTestLab, Wire, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
const ports = (d: string) => lab.config.domains.find((x) => x.name === d)!.ports;

beforeAll(async () => {
  lab = await startTestLab();
  lab.config.smtp.localSenders = 'require-auth';
  // An alias of garudayaksa.com that forwards to a user of dadali.com.
  lab.config.domains.find((d) => d.name === 'garudayaksa.com')!.aliases.tamu = ['siswa2@dadali.com'];
  for (const d of lab.config.domains) {
    await lab.stopDomain(d.name);
    await lab.startDomain(d.name);
  }
});
afterAll(() => lab?.close());

async function submit(from: string, to: string, subject: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: ports(from.split('@')[1]).submission, secure: false, ignoreTLS: true, auth: { user: from, pass: 'rahasia123' } });
  await transport.sendMail({ from, to, subject, text: 'Halo!' });
  transport.close();
}

async function inbox(domain: string, user: string): Promise<string[]> {
  const store = lab.domains[domain].store;
  const snap = await store.snapshot(user, 'INBOX');
  return Promise.all(snap.messages.map(async (m) => (await store.read(user, 'INBOX', m.uid))!.toString()));
}

test('typed on port 25: a forged local sender gets 550 5.7.1 saying what to do; the session goes on with another sender', async () => {
  const w = await Wire.connect(ports('garudayaksa.com').smtp);
  await w.reply();
  await w.send('HELO pc-siswa');
  expect(await w.send('MAIL FROM:<budi@garudayaksa.com>')).toBe('550 5.7.1 <budi@garudayaksa.com>: senders of garudayaksa.com must log in (submission on port 587)');
  expect(await w.send('RCPT TO:<mbrain@garudayaksa.com>')).toMatch(/^503 /); // no transaction was started
  expect(await w.send('MAIL FROM:<siswa1@dadali.com>')).toMatch(/^250 /);
  expect(await w.send('RCPT TO:<mbrain@garudayaksa.com>')).toMatch(/^250 /);
  expect(await w.send('RSET')).toMatch(/^250 /);
  expect(await w.send('MAIL FROM:<>')).toMatch(/^250 /);
  expect(await w.send('QUIT')).toMatch(/^221 /);
  w.close();
});

test('mail between the domains and bounces still arrive', async () => {
  await submit('mbrain@garudayaksa.com', 'jpri@dadali.com', 'Antar domain');
  await eventually('delivery at dadali', async () => (await inbox('dadali.com', 'jpri')).some((m) => m.includes('\r\nSubject: Antar domain\r\n')));
  await submit('mbrain@garudayaksa.com', 'tidakada@dadali.com', 'Salah alamat');
  const bounce = await eventually('the bounce at garudayaksa', async () => (await inbox('garudayaksa.com', 'mbrain')).find((m) => m.includes('tidakada@dadali.com')));
  expect(bounce).toMatch(/^Return-Path: <>\r\n/m);
});

test('forwarding into the sender\'s own domain (alias tamu@garudayaksa.com -> siswa2@dadali.com) is refused there and bounces to the sender', async () => {
  await submit('siswa1@dadali.com', 'tamu@garudayaksa.com', 'Lewat alias');
  const bounce = await eventually('the bounce at dadali', async () => (await inbox('dadali.com', 'siswa1')).find((m) => m.includes('must log in')));
  expect(bounce).toMatch(/senders of dadali\.com must log in/);
  expect((await inbox('dadali.com', 'siswa2')).some((m) => m.includes('Lewat alias'))).toBe(false);
});
