/** Where the client connects and as whom: options, then environment, then the lab defaults. */
import { addressList, endpointFor, fullAddress, resolveHost } from '../../../services/client/src/endpoint';
import { UsageError } from '../../../services/client/src/errors';

test('bare names get the home domain; full addresses are checked', () => {
  expect(fullAddress('mbrain', { MAIL_LAB_HOME_DOMAIN: 'garudayaksa.com' })).toBe('mbrain@garudayaksa.com');
  expect(fullAddress(' jpri@dadali.com ', {})).toBe('jpri@dadali.com');
  expect(() => fullAddress('mbrain', {})).toThrow(UsageError);
  expect(() => fullAddress('a@b', {})).toThrow('"a@b" is not an e-mail address (user@domain)');
  expect(addressList(['jpri@dadali.com, siswa1', 'siswa2@dadali.com'], { MAIL_LAB_HOME_DOMAIN: 'dadali.com' })).toEqual([
    'jpri@dadali.com',
    'siswa1@dadali.com',
    'siswa2@dadali.com',
  ]);
  expect(addressList(undefined, {})).toEqual([]);
});

test('defaults inside the lab: mail.<domain> and the standard ports', () => {
  const env = { MAIL_LAB_PASSWORD: 'p' };
  expect(endpointFor('submission', 'mbrain@garudayaksa.com', {}, env)).toMatchObject({ host: 'mail.garudayaksa.com', port: 587, user: 'mbrain@garudayaksa.com', password: 'p', timeoutMs: 20_000 });
  expect(endpointFor('pop3', 'jpri@dadali.com', {}, env)).toMatchObject({ host: 'mail.dadali.com', port: 110 });
  expect(endpointFor('imap', 'jpri@DADALI.com', {}, env)).toMatchObject({ host: 'mail.dadali.com', port: 143 });
});

test('environment for the host, options over environment', () => {
  const env = { MAIL_LAB_SERVER: '127.0.0.1', MAIL_LAB_SUBMISSION_PORT: '10587', MAIL_LAB_POP3_PORT: '20110', MAIL_LAB_IMAP_PORT: '20143', MAIL_LAB_PASSWORD: 'env', MAIL_LAB_TIMEOUT: '2.5' };
  expect(endpointFor('submission', 'mbrain@garudayaksa.com', {}, env)).toMatchObject({ host: '127.0.0.1', port: 10587, password: 'env', timeoutMs: 2500 });
  expect(endpointFor('pop3', 'jpri@dadali.com', {}, env)).toMatchObject({ port: 20110 });
  expect(endpointFor('imap', 'jpri@dadali.com', { server: 'localhost', port: 1143, password: 'opt', timeout: 1 }, env)).toMatchObject({
    host: 'localhost',
    port: 1143,
    password: 'opt',
    timeoutMs: 1000,
  });
  expect(() => endpointFor('pop3', 'jpri@dadali.com', {}, { ...env, MAIL_LAB_POP3_PORT: 'pop' })).toThrow('MAIL_LAB_POP3_PORT must be a port number (1-65535), not "pop"');
  expect(() => endpointFor('pop3', 'jpri@dadali.com', {}, { ...env, MAIL_LAB_TIMEOUT: 'x' })).toThrow(UsageError);
});

test('no password: a usage error that says how to give one', () => {
  expect(() => endpointFor('pop3', 'jpri@dadali.com', {}, {})).toThrow(
    'no password for jpri@dadali.com: give it with --password or in the environment variable MAIL_LAB_PASSWORD',
  );
});

test('addresses and names that need no DNS', async () => {
  expect(await resolveHost({ host: '127.0.0.1', timeoutMs: 1000 })).toBe('127.0.0.1');
  expect(await resolveHost({ host: 'localhost', timeoutMs: 1000 })).toBe('127.0.0.1');
});

test('a lab DNS that does not answer', async () => {
  const { createSocket } = await import('node:dgram');
  const silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  const server = `127.0.0.1:${silent.address().port}`;
  try {
    await expect(resolveHost({ host: 'mail.dadali.com', timeoutMs: 300, dnsServer: server })).rejects.toThrow(
      `cannot look up mail.dadali.com: the DNS server at ${server} does not answer (is the lab DNS up?)`,
    );
  } finally {
    silent.close();
  }
});
