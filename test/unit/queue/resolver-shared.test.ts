/**
 * The mail domain's lab resolver against the real lab DNS (dns2 on a loopback
 * port): questions asked at the same moment share one query (a draining queue
 * asks the MX once, not once per delivery), and nothing is kept afterwards,
 * so a DNS fault set by the instructor shows in the very next lookup.
 */
import { createLogger } from '../../../services/core/src/logger';
import { startDnsServer, type StartedDnsServer } from '../../../services/dns/src/server';
import { labResolver } from '../../../services/mail-domain/src/resolver';
import { defaultLab } from '../dns/helpers';

let dns: StartedDnsServer;

beforeAll(async () => {
  dns = await startDnsServer({ config: defaultLab(), mode: 'local', host: '127.0.0.1', port: 0, logger: createLogger({ level: 'error', write: () => undefined }) });
});
afterAll(() => dns.close());

const asked = (name: string, type: string) => dns.queries().filter((q) => q.name.toLowerCase() === name && q.type === type).length;

test('twenty MX lookups at once are one query; each caller gets its own copy of the answer', async () => {
  const r = labResolver(`127.0.0.1:${dns.port}`);
  const before = asked('dadali.com', 'MX');
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => r.resolveMx(i % 2 ? 'dadali.com' : 'DADALI.com')));
  expect(asked('dadali.com', 'MX') - before).toBe(1);
  for (const a of answers) expect(a.map((m) => m.exchange)).toEqual(['mail.dadali.com']);
  answers[0][0].exchange = 'changed by one caller';
  expect(answers[1][0].exchange).toBe('mail.dadali.com');
  const hosts = await Promise.all(Array.from({ length: 5 }, () => r.resolve4('mail.dadali.com')));
  expect(new Set(hosts.map((h) => h.join()))).toEqual(new Set(['127.0.0.1']));
});

test('an answer is not kept: the next lookup asks again and sees a fault set meanwhile', async () => {
  const r = labResolver(`127.0.0.1:${dns.port}`, 500);
  const before = asked('dadali.com', 'MX');
  await r.resolveMx('dadali.com');
  await r.resolveMx('dadali.com');
  expect(asked('dadali.com', 'MX') - before).toBe(2);
  dns.faults.setServfail('dadali.com', true);
  try {
    await expect(r.resolveMx('dadali.com')).rejects.toMatchObject({ code: 'ESERVFAIL' });
  } finally {
    dns.faults.setServfail('dadali.com', false);
  }
  await expect(r.resolveMx('dadali.com')).resolves.toHaveLength(1);
});
