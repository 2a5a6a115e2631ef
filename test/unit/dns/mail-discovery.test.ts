/**
 * What a mail program asks the lab DNS to set itself up: the RFC 6186 SRV
 * records of each domain (container ports in Docker, the lab's host ports
 * without Docker) and the A record of autoconfig.<domain>, asked by the real
 * `dig` over UDP and TCP and by Node's resolver (c-ares), on a real server.
 */
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import DNS = require('dns2');
import { memoryLogger } from '../../../services/core/src/logger';
import { deriveLab } from '../../../services/core/src/labs';
import { startDnsServer, type StartedDnsServer } from '../../../services/dns/src/server';
import { buildZones } from '../../../services/dns/src/zones';
import { customLab, defaultLab, dig } from './helpers';

const SERVICES = ['_submission._tcp', '_submissions._tcp', '_imap._tcp', '_imaps._tcp', '_pop3._tcp', '_pop3s._tcp'];

describe('Docker mode: the lab network, standard ports', () => {
  let server: StartedDnsServer;
  beforeAll(async () => {
    server = await startDnsServer({ config: defaultLab(), mode: 'docker', host: '127.0.0.1', port: 0, logger: memoryLogger('info') });
  });
  afterAll(() => server.close());

  it.each([
    ['_submission._tcp', '0 1 587'],
    ['_submissions._tcp', '0 1 465'],
    ['_imap._tcp', '0 1 143'],
    ['_imaps._tcp', '0 1 993'],
    ['_pop3._tcp', '10 1 110'],
    ['_pop3s._tcp', '10 1 995'],
  ])('SRV %s.dadali.com -> mail.dadali.com (%s), UDP and TCP, the target address as additional', async (service, rdata) => {
    for (const transport of ['+notcp', '+tcp']) {
      const r = await dig(server.port, transport, 'SRV', `${service}.dadali.com`);
      expect(r.status).toBe('NOERROR');
      expect(r.flags).toContain('aa');
      expect(r.answer).toEqual([{ name: `${service}.dadali.com.`, ttl: 60, type: 'SRV', data: `${rdata} mail.dadali.com.` }]);
      expect(r.additional).toEqual([{ name: 'mail.dadali.com.', ttl: 60, type: 'A', data: '172.29.25.20' }]);
    }
  });

  it('answers Node’s resolver as a mail program would ask, for both domains', async () => {
    const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${server.port}`]);
    await expect(r.resolveSrv('_imap._tcp.garudayaksa.com')).resolves.toEqual([{ name: 'mail.garudayaksa.com', port: 143, priority: 0, weight: 1 }]);
    await expect(r.resolveSrv('_submission._tcp.garudayaksa.com')).resolves.toEqual([{ name: 'mail.garudayaksa.com', port: 587, priority: 0, weight: 1 }]);
    await expect(r.resolve4('autoconfig.garudayaksa.com')).resolves.toEqual(['172.29.25.10']);
  });

  it('gives autoconfig.<domain> the mail host’s address; other names under _tcp stay NXDOMAIN, other types NODATA', async () => {
    expect((await dig(server.port, 'autoconfig.dadali.com', 'A')).answer).toEqual([{ name: 'autoconfig.dadali.com.', ttl: 60, type: 'A', data: '172.29.25.20' }]);
    expect((await dig(server.port, 'SRV', '_smtp._tcp.dadali.com')).status).toBe('NXDOMAIN');
    const nodata = await dig(server.port, '_imap._tcp.dadali.com', 'A');
    expect([nodata.status, nodata.answer, nodata.authority.map((x) => x.type)]).toEqual(['NOERROR', [], ['SOA']]);
    // _tcp.dadali.com exists only because names below it do: NODATA, not NXDOMAIN (RFC 8020).
    expect((await dig(server.port, 'SRV', '_tcp.dadali.com')).status).toBe('NOERROR');
  });

  it('writes the SRV target without name compression (RFC 2782), which a strict parser needs', async () => {
    const query = new DNS.Packet();
    query.header.id = 4242;
    query.header.rd = 0;
    query.questions.push(new DNS.Packet.Question('_imap._tcp.dadali.com', DNS.Packet.TYPE.SRV, DNS.Packet.CLASS.IN));
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = createSocket('udp4');
      const timer = setTimeout(() => (s.close(), reject(new Error('no reply'))), 2000);
      s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m)));
      s.send(query.toBuffer(), server.port, '127.0.0.1');
    });
    const target = Buffer.from('\x04mail\x06dadali\x03com\x00', 'latin1');
    const rdataStart = reply.indexOf(Buffer.from([0, 0, 0, 1, 0, 143])); // priority 0, weight 1, port 143
    expect(rdataStart).toBeGreaterThan(0);
    expect(reply.subarray(rdataStart + 6, rdataStart + 6 + target.length)).toEqual(target);
    // And the packet still decodes (dns2's own decoder follows any pointers elsewhere).
    expect(DNS.Packet.parse(reply).answers[0]).toMatchObject({ target: 'mail.dadali.com', port: 143, priority: 0, weight: 1 });
  });

  it('logs the SRV answer in presentation form', async () => {
    await dig(server.port, 'SRV', '_pop3._tcp.garudayaksa.com');
    expect(server.queries().at(-1)).toMatchObject({ type: 'SRV', rcode: 'NOERROR', answers: ['10 1 110 mail.garudayaksa.com'] });
  });
});

describe('no-Docker mode: loopback and the lab’s host ports', () => {
  let server: StartedDnsServer;
  beforeAll(async () => {
    server = await startDnsServer({ config: deriveLab(defaultLab(), 53), mode: 'local', host: '127.0.0.1', port: 0, logger: memoryLogger('info') });
  });
  afterAll(() => server.close());

  it('points every service at the port the lab really listens on (lab 53: +5300)', async () => {
    const got: Record<string, string> = {};
    for (const service of SERVICES) got[service] = (await dig(server.port, '+tcp', 'SRV', `${service}.dadali.com`)).answer[0]?.data;
    expect(got).toEqual({
      '_submission._tcp': '0 1 25887 mail.dadali.com.',
      '_submissions._tcp': '0 1 25765 mail.dadali.com.',
      '_imap._tcp': '0 1 25443 mail.dadali.com.',
      '_imaps._tcp': '0 1 26293 mail.dadali.com.',
      '_pop3._tcp': '10 1 25410 mail.dadali.com.',
      '_pop3s._tcp': '10 1 26295 mail.dadali.com.',
    });
    expect((await dig(server.port, 'autoconfig.garudayaksa.com', 'A')).answer[0]?.data).toBe('127.0.0.1');
  });
});

describe('the zone builder', () => {
  it('leaves implicit-TLS services out when the definition gives them no port', () => {
    const lab = buildZones(customLab(), 'docker');
    const names = [...lab.zones[0].nodes.keys()].filter((n) => n.startsWith('_'));
    expect(names).toEqual(['_submission._tcp.example.test', '_imap._tcp.example.test', '_pop3._tcp.example.test']);
    expect(lab.warnings).toEqual([]);
  });

  it('keeps a name the definition uses itself (its CNAME autoconfig wins over ours)', () => {
    const lab = buildZones(customLab(['{ name: autoconfig, type: CNAME, value: www.example.test }', '{ name: www, type: A, value: 10.9.8.30 }']), 'docker');
    expect(lab.zones[0].nodes.get('autoconfig.example.test')!.map((r) => r.data)).toEqual([{ type: 'CNAME', target: 'www.example.test' }]);
    expect(lab.zones[1].nodes.get('autoconfig.other.test')!.map((r) => r.data)).toEqual([{ type: 'A', address: '10.9.8.20' }]);
    expect(lab.warnings).toEqual([]);
  });
});
