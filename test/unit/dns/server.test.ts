/**
 * The lab DNS server on 127.0.0.1, asked by the real `dig` (UDP and TCP) and
 * by Node's own resolver (c-ares), as a sender's MTA would ask it.
 */
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { connect } from 'node:net';
import DNS = require('dns2');
import { memoryLogger } from '../../../services/core/src/logger';
import { startDnsServer, type QueryLogEntry, type StartedDnsServer } from '../../../services/dns/src/server';
import { defaultLab, dig } from './helpers';

function resolverFor(port: number): dnsPromises.Resolver {
  const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

/** Sends one datagram and waits for one reply (or resolves null after `ms`). */
function udpExchange(port: number, payload: Buffer, ms = 500): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: Buffer | null) => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), ms);
    s.on('message', (m) => done(m));
    s.send(payload, port, '127.0.0.1');
  });
}

describe('lab DNS in docker mode', () => {
  let server: StartedDnsServer;
  let port: number;
  const seen: QueryLogEntry[] = [];
  const logger = memoryLogger('info');

  beforeAll(async () => {
    server = await startDnsServer({ config: defaultLab(), mode: 'docker', host: '127.0.0.1', port: 0, logger, onQuery: (e) => seen.push(e) });
    port = server.port;
  });
  afterAll(() => server.close());

  it.each([
    ['dadali.com', 'mail.dadali.com'],
    ['garudayaksa.com', 'mail.garudayaksa.com'],
  ])('answers MX %s with its preference, over UDP and TCP, with the A record as additional', async (domain, host) => {
    for (const transport of ['+notcp', '+tcp']) {
      const r = await dig(port, transport, domain, 'MX');
      expect(r.status).toBe('NOERROR');
      expect(r.flags).toEqual(expect.arrayContaining(['qr', 'aa']));
      expect(r.flags).not.toContain('ra');
      expect(r.answer).toEqual([{ name: `${domain}.`, ttl: 60, type: 'MX', data: `10 ${host}.` }]);
      expect(r.additional.map((x) => `${x.name} ${x.type}`)).toEqual([`${host}. A`]);
    }
    await expect(resolverFor(port).resolveMx(domain)).resolves.toEqual([{ exchange: host, priority: 10 }]);
  });

  it('answers A of the mail hosts and the name server with backbone addresses', async () => {
    const res = resolverFor(port);
    await expect(res.resolve4('mail.garudayaksa.com')).resolves.toEqual(['172.29.25.10']);
    await expect(res.resolve4('mail.dadali.com')).resolves.toEqual(['172.29.25.20']);
    expect((await dig(port, '+tcp', 'ns.dadali.com', 'A')).answer[0].data).toBe('172.29.25.53');
  });

  it('answers PTR of 172.29.25.10 and NXDOMAIN for an unused backbone address', async () => {
    await expect(resolverFor(port).resolvePtr('10.25.29.172.in-addr.arpa')).resolves.toEqual(['mail.garudayaksa.com']);
    expect((await dig(port, '-x', '172.29.25.53')).answer[0].data).toBe('ns.garudayaksa.com.');
    const unknown = await dig(port, '-x', '172.29.25.99');
    expect(unknown.status).toBe('NXDOMAIN');
    expect(unknown.authority[0].type).toBe('SOA');
  });

  it('answers TXT, NS and SOA', async () => {
    const res = resolverFor(port);
    await expect(res.resolveTxt('dadali.com')).resolves.toEqual([['v=spf1 mx -all']]);
    await expect(res.resolveNs('garudayaksa.com')).resolves.toEqual(['ns.garudayaksa.com']);
    await expect(res.resolveSoa('dadali.com')).resolves.toMatchObject({
      nsname: 'ns.dadali.com',
      hostmaster: 'hostmaster.dadali.com',
      refresh: 3600,
      retry: 900,
      expire: 1209600,
      minttl: 60,
    });
    const ns = await dig(port, 'dadali.com', 'NS');
    expect(ns.additional.map((x) => `${x.name} ${x.data}`)).toEqual(['ns.dadali.com. 172.29.25.53']);
  });

  it('answers NXDOMAIN with the SOA in authority for an unknown name in a lab zone', async () => {
    const r = await dig(port, '+tcp', 'nobody.dadali.com', 'A');
    expect(r.status).toBe('NXDOMAIN');
    expect(r.flags).toContain('aa');
    expect(r.answer).toEqual([]);
    expect(r.authority).toEqual([expect.objectContaining({ name: 'dadali.com.', type: 'SOA', ttl: 60 })]);
    await expect(resolverFor(port).resolve4('nobody.dadali.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers NODATA (NOERROR, no answer, SOA in authority) for a type the name lacks', async () => {
    const r = await dig(port, 'mail.dadali.com', 'AAAA');
    expect([r.status, r.answer.length, r.authority[0]?.type]).toEqual(['NOERROR', 0, 'SOA']);
    await expect(resolverFor(port).resolveMx('mail.dadali.com')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('refuses names outside the lab, without recursion', async () => {
    const r = await dig(port, 'example.org', 'A');
    expect(r.status).toBe('REFUSED');
    expect(r.flags).not.toContain('aa');
    expect(r.flags).not.toContain('ra');
    expect(r.answer).toEqual([]);
    await expect(resolverFor(port).resolve4('example.org')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it('refuses zone transfers and other classes, and answers BADVERS to EDNS version 1', async () => {
    await dig(port, 'axfr', 'dadali.com');
    expect(server.queries().at(-1)).toMatchObject({ transport: 'tcp', type: 'AXFR', rcode: 'REFUSED' });
    expect((await dig(port, '-c', 'CH', '-t', 'TXT', '-q', 'version.bind')).status).toBe('REFUSED');
    const badvers = await dig(port, '+edns=1', '+noednsneg', 'dadali.com', 'A');
    expect(badvers.status).toBe('BADVERS');
    expect(server.queries().at(-1)).toMatchObject({ rcode: 'BADVERS' });
  });

  it('is case-insensitive', async () => {
    expect((await dig(port, 'MAIL.DaDaLi.CoM', 'A')).answer.map((a) => a.data)).toEqual(['172.29.25.20']);
    await expect(resolverFor(port).resolveMx('DADALI.COM')).resolves.toEqual([{ exchange: 'mail.dadali.com', priority: 10 }]);
  });

  it('survives malformed packets on UDP and TCP and answers FORMERR when it can', async () => {
    expect(await udpExchange(port, Buffer.from('hello'))).toBeNull();
    // A 12-octet header announcing one question that is not there.
    const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
    const reply = await udpExchange(port, Buffer.concat([header, Buffer.from([0x05, 0x61])]));
    expect(reply).not.toBeNull();
    const parsed = DNS.Packet.parse(reply!);
    expect([parsed.header.id, parsed.header.qr, parsed.header.rcode]).toEqual([0x1234, 1, DNS.Packet.RCODE.FORMERR]);
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.end(Buffer.from([0x00, 0x03, 0xff, 0xff, 0xff])));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
    expect((await dig(port, 'dadali.com', 'MX')).status).toBe('NOERROR');
    expect(logger.lines.join('\n')).toMatch(/malformed message from 127\.0\.0\.1 dropped/);
  });

  it('ignores a message that is itself a response', async () => {
    const p = new DNS.Packet();
    p.header.id = 7;
    p.header.qr = 1;
    p.questions.push(new DNS.Packet.Question('dadali.com', DNS.Packet.TYPE.A, DNS.Packet.CLASS.IN));
    expect(await udpExchange(port, p.toBuffer())).toBeNull();
  });

  it('records every query in the log and the ring', async () => {
    await dig(port, 'dadali.com', 'MX');
    const last = server.queries().at(-1)!;
    expect(last).toMatchObject({ transport: 'udp', client: '127.0.0.1', name: 'dadali.com', type: 'MX', rcode: 'NOERROR', answers: ['10 mail.dadali.com'] });
    expect(last.line).toBe('query MX dadali.com from 127.0.0.1 -> NOERROR 10 mail.dadali.com');
    expect(seen.at(-1)).toEqual(last);
    expect(logger.lines.at(-1)).toMatch(/ info  lab query MX dadali\.com from 127\.0\.0\.1 -> NOERROR 10 mail\.dadali\.com transport=udp$/);
    await dig(port, 'nobody.dadali.com', 'A');
    expect(server.queries().at(-1)).toMatchObject({ name: 'nobody.dadali.com', type: 'A', rcode: 'NXDOMAIN', answers: [] });
  });
});

describe('lab DNS in local mode', () => {
  let server: StartedDnsServer;
  beforeAll(async () => {
    server = await startDnsServer({ config: defaultLab(), mode: 'local', host: '127.0.0.1', port: 0, logger: memoryLogger('warn') });
  });
  afterAll(() => server.close());

  it('answers 127.0.0.1 for every lab host', async () => {
    const res = resolverFor(server.port);
    for (const host of ['mail.garudayaksa.com', 'mail.dadali.com', 'ns.dadali.com', 'www.dadali.com']) {
      await expect(res.resolve4(host)).resolves.toEqual(['127.0.0.1']);
    }
    const mx = await dig(server.port, '+tcp', 'garudayaksa.com', 'MX');
    expect(mx.additional.map((a) => a.data)).toEqual(['127.0.0.1']);
    // resolvePtr, not reverse(): c-ares' reverse() reads /etc/hosts first.
    await expect(res.resolvePtr('1.0.0.127.in-addr.arpa')).resolves.toEqual(['localhost']);
  });
});

describe('server lifecycle', () => {
  it('keeps only the last `keep` queries (here 1000), oldest first', async () => {
    const server = await startDnsServer({ config: defaultLab(), mode: 'docker', host: '127.0.0.1', port: 0, logger: memoryLogger('warn'), keep: 1000 });
    try {
      // In batches, waiting for every reply, so no datagram is lost on the way.
      for (let start = 0; start < 1005; start += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, 1005 - start) }, (_, k) => {
            const p = new DNS.Packet();
            p.header.id = start + k;
            p.questions.push(new DNS.Packet.Question(`host${start + k}.dadali.com`, DNS.Packet.TYPE.A, DNS.Packet.CLASS.IN));
            return udpExchange(server.port, p.toBuffer(), 2000);
          }),
        );
      }
      const q = server.queries();
      expect(q).toHaveLength(1000);
      expect(q[0].name).toBe('host5.dadali.com');
      expect(q[999].name).toBe('host1004.dadali.com');
    } finally {
      await server.close();
    }
  });

  it('fails to start on a port already in use, and closes with a TCP client still connected', async () => {
    const first = await startDnsServer({ config: defaultLab(), mode: 'docker', host: '127.0.0.1', port: 0, logger: memoryLogger('warn') });
    await expect(startDnsServer({ config: defaultLab(), mode: 'docker', host: '127.0.0.1', port: first.port, logger: memoryLogger('warn') })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const idle = connect(first.port, '127.0.0.1');
    await new Promise((r) => idle.once('connect', r));
    idle.on('error', () => undefined);
    const started = Date.now();
    await first.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
