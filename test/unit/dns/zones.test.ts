/**
 * The zone builder and the answering logic, without sockets.
 */
import { answerQuestion } from '../../../services/dns/src/answer';
import { answersText, recordLine } from '../../../services/dns/src/present';
import { buildZones, findZone, splitTxt, type LabZones } from '../../../services/dns/src/zones';
import { customLab, defaultLab } from './helpers';

const texts = (lab: LabZones, name: string, type: string) => answersText(type, answerQuestion(lab, name, type).answers);

describe('buildZones on a small custom lab', () => {
  const lab = buildZones(customLab(), 'docker', { serial: 7 });

  it('makes one forward zone per domain, the backbone reverse zone and the loopback one', () => {
    expect(lab.zones.map((z) => z.origin)).toEqual(['example.test', 'other.test', '8.9.10.in-addr.arpa', '0.0.127.in-addr.arpa']);
    expect(lab.warnings).toEqual([]);
  });

  it('has the SOA, NS and two MX records at the apex of a domain with no records', () => {
    const apex = findZone(lab, 'example.test')!.nodes.get('example.test')!;
    expect(apex.map(recordLine)).toEqual([
      'example.test. 30 IN SOA ns.example.test. hostmaster.example.test. 7 3600 900 1209600 30',
      'example.test. 30 IN NS ns.example.test.',
      'example.test. 30 IN MX 10 mail.example.test.',
      'example.test. 30 IN MX 20 mail.other.test.',
    ]);
  });

  it('gives a domain without explicit mx its mail host at preference 10', () => {
    expect(texts(lab, 'other.test', 'MX')).toEqual(['10 mail.other.test']);
  });

  it('answers MX with the targets’ addresses in the additional section, across lab zones', () => {
    const a = answerQuestion(lab, 'example.test', 'MX');
    expect(a.additional.map(recordLine)).toEqual([
      'mail.example.test. 30 IN A 10.9.8.10',
      'mail.other.test. 30 IN A 10.9.8.20',
    ]);
  });

  it('makes A records for the mail hosts and the name servers, and PTRs for them', () => {
    expect(texts(lab, 'mail.other.test', 'A')).toEqual(['10.9.8.20']);
    expect(texts(lab, 'ns.example.test', 'A')).toEqual(['10.9.8.53']);
    expect(texts(lab, '10.8.9.10.in-addr.arpa', 'PTR')).toEqual(['mail.example.test']);
    expect(texts(lab, '53.8.9.10.in-addr.arpa', 'PTR')).toEqual(['ns.example.test']);
    expect(answerQuestion(lab, '99.8.9.10.in-addr.arpa', 'PTR').rcode).toBe('NXDOMAIN');
    expect(answerQuestion(lab, '9.10.in-addr.arpa', 'PTR').rcode).toBe('REFUSED');
    // Loopback answers in Docker mode too (the containers' health checks connect from 127.0.0.1).
    expect(texts(lab, '1.0.0.127.in-addr.arpa', 'PTR')).toEqual(['localhost']);
  });

  it('answers 127.0.0.1 for every lab host in local mode and keeps the backbone PTRs', () => {
    const local = buildZones(customLab(), 'local');
    for (const host of ['mail.example.test', 'mail.other.test', 'ns.other.test']) expect(texts(local, host, 'A')).toEqual(['127.0.0.1']);
    expect(texts(local, '10.8.9.10.in-addr.arpa', 'PTR')).toEqual(['mail.example.test']);
    expect(texts(local, '1.0.0.127.in-addr.arpa', 'PTR')).toEqual(['localhost']);
  });
});

describe('records from the definition', () => {
  const config = customLab([
    '{ name: "@", type: TXT, value: "v=spf1 mx -all" }',
    '{ name: webmail, type: CNAME, value: mail.example.test }',
    '{ name: loop1, type: CNAME, value: loop2.example.test }',
    '{ name: loop2, type: CNAME, value: loop1.example.test }',
    '{ name: away, type: CNAME, value: www.example.org }',
    '{ name: _dmarc.deep, type: TXT, value: "v=DMARC1; p=none" }',
    '{ name: www.other.test., type: A, value: 10.9.8.20 }',
    '{ name: files, type: A, value: 10.9.8.30 }',
    '{ name: mail, type: CNAME, value: elsewhere.example.test }',
    `{ name: long, type: TXT, value: "${'x'.repeat(300)}" }`,
  ]);
  const lab = buildZones(config, 'docker');

  it('puts @ at the apex, relative names in the zone, absolute names where they belong', () => {
    expect(texts(lab, 'example.test', 'TXT')).toEqual(['"v=spf1 mx -all"']);
    expect(texts(lab, '_dmarc.deep.example.test', 'TXT')).toEqual(['"v=DMARC1; p=none"']);
    expect(texts(lab, 'www.other.test', 'A')).toEqual(['10.9.8.20']);
  });

  it('follows a CNAME inside the lab and stops at one leaving it or looping', () => {
    expect(texts(lab, 'webmail.example.test', 'A')).toEqual(['CNAME mail.example.test', '10.9.8.10']);
    expect(texts(lab, 'webmail.example.test', 'CNAME')).toEqual(['mail.example.test']);
    expect(texts(lab, 'away.example.test', 'A')).toEqual(['CNAME www.example.org']);
    const loop = answerQuestion(lab, 'loop1.example.test', 'A');
    expect(loop.rcode).toBe('NOERROR');
    expect(loop.answers).toHaveLength(2);
  });

  it('drops a CNAME that shares its name with other data, with a warning', () => {
    expect(texts(lab, 'mail.example.test', 'A')).toEqual(['10.9.8.10']);
    expect(lab.warnings.join('\n')).toMatch(/mail\.example\.test: a CNAME cannot coexist/);
  });

  it('gives extra A records in the backbone a PTR unless the address has one', () => {
    expect(texts(lab, '30.8.9.10.in-addr.arpa', 'PTR')).toEqual(['files.example.test']);
    expect(texts(lab, '20.8.9.10.in-addr.arpa', 'PTR')).toEqual(['mail.other.test']);
  });

  it('splits long TXT values into 255-octet strings', () => {
    expect(splitTxt('x'.repeat(300)).map((s) => s.length)).toEqual([255, 45]);
    expect(splitTxt('é'.repeat(200)).map((s) => Buffer.byteLength(s))).toEqual([254, 146]);
    expect(answerQuestion(lab, 'long.example.test', 'TXT').answers[0].data).toEqual({ type: 'TXT', text: ['x'.repeat(255), 'x'.repeat(45)] });
  });

  it('answers NODATA for an empty non-terminal, NXDOMAIN below it', () => {
    const ent = answerQuestion(lab, 'deep.example.test', 'A');
    expect([ent.rcode, ent.answers.length, ent.authority[0]?.data.type]).toEqual(['NOERROR', 0, 'SOA']);
    expect(answerQuestion(lab, 'x.deep.example.test', 'A').rcode).toBe('NXDOMAIN');
  });
});

describe('answerQuestion on the default lab', () => {
  const lab = buildZones(defaultLab(), 'docker');

  it('is case-insensitive and ignores a trailing dot', () => {
    expect(texts(lab, 'MAIL.DaDaLi.COM.', 'A')).toEqual(['172.29.25.20']);
  });

  it('gives NXDOMAIN with the SOA (negative TTL = min(SOA TTL, MINIMUM)) inside a zone', () => {
    const a = answerQuestion(lab, 'nobody.dadali.com', 'A');
    expect(a).toMatchObject({ rcode: 'NXDOMAIN', authoritative: true, answers: [] });
    expect(a.authority.map(recordLine)).toEqual([expect.stringMatching(/^dadali\.com\. 60 IN SOA ns\.dadali\.com\. hostmaster\.dadali\.com\. \d+ 3600 900 1209600 60$/)]);
  });

  it('refuses names outside every lab zone, without authority', () => {
    expect(answerQuestion(lab, 'example.org', 'A')).toEqual({ rcode: 'REFUSED', authoritative: false, answers: [], authority: [], additional: [] });
    expect(answerQuestion(lab, 'com', 'NS').rcode).toBe('REFUSED');
    expect(answerQuestion(lab, 'notdadali.com', 'A').rcode).toBe('REFUSED');
  });

  it('answers ANY with every RRset of the name', () => {
    expect(texts(lab, 'dadali.com', 'ANY').map((t) => t.split(' ')[0])).toEqual(['SOA', 'NS', 'MX', 'TXT']);
  });
});
