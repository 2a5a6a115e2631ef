/**
 * The autoconfig file over real HTTP: fetched with curl from a mail domain's
 * admin port (the host's door: no token, the address used and the lab's host
 * ports) and from the lab-network server of the Docker lab (port 80 there,
 * a free port here: mail.<domain> and the standard ports), parsed by
 * Python's XML parser; everything else on the admin port still needs the
 * token.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createAutoconfigServer } from '../../../services/mail-domain/src/autoconfig/http';
import { startTestLab, type TestLab } from '../helpers/test-lab';

const run = promisify(execFile);
jest.setTimeout(60_000);

interface Fetched {
  status: number;
  type: string;
  body: string;
}

/** curl -s: status, content type and body. */
async function curl(url: string, ...args: string[]): Promise<Fetched> {
  const { stdout } = await run('curl', ['-s', '--max-time', '10', '-w', '\n%{http_code} %{content_type}', ...args, url]);
  const at = stdout.lastIndexOf('\n');
  const [status, ...type] = stdout.slice(at + 1).split(' ');
  return { status: Number(status), type: type.join(' '), body: stdout.slice(0, at) };
}

/** The settings in the file, read by a real XML parser (Python's ElementTree). */
async function parse(xml: string): Promise<{ id: string; servers: Record<string, string>[] }> {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
p = root.find('emailProvider')
out = []
for s in list(p.findall('incomingServer')) + list(p.findall('outgoingServer')):
    d = {'type': s.get('type')}
    for c in s:
        if c.tag != 'pop3': d[c.tag] = c.text
    leave = s.find('pop3/leaveMessagesOnServer')
    if leave is not None: d['leaveMessagesOnServer'] = leave.text
    out.append(d)
print(json.dumps({'id': p.get('id'), 'version': root.get('version'), 'servers': out}))
`;
  const child = execFile('python3', ['-c', script]);
  child.stdin!.end(xml);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise((r) => child.once('close', r));
  if (err) throw new Error(err);
  return JSON.parse(out);
}

const server = (type: string, hostname: string, port: number, extra: Record<string, string> = {}) => ({
  type,
  hostname,
  port: String(port),
  socketType: 'STARTTLS',
  username: '%EMAILADDRESS%',
  authentication: 'password-cleartext',
  ...extra,
});

describe('on the admin port (the host side), TLS lab', () => {
  let lab: TestLab;
  let base: string;
  let ports: TestLab['config']['domains'][number]['ports'];
  beforeAll(async () => {
    lab = await startTestLab({ tls: true });
    ports = lab.config.domains.find((d) => d.name === 'dadali.com')!.ports;
    base = `http://127.0.0.1:${ports.admin}`;
  });
  afterAll(() => lab?.close());

  test.each(['/mail/config-v1.1.xml?emailaddress=jpri%40dadali.com', '/.well-known/autoconfig/mail/config-v1.1.xml'])(
    'GET %s without a token: IMAP, POP3 (kept on the server), submission at 127.0.0.1 and the host ports',
    async (path) => {
      const r = await curl(base + path);
      expect([r.status, r.type]).toEqual([200, 'application/xml; charset=utf-8']);
      expect(await parse(r.body)).toEqual({
        id: 'dadali.com',
        version: '1.1',
        servers: [server('imap', '127.0.0.1', ports.imap), server('pop3', '127.0.0.1', ports.pop3, { leaveMessagesOnServer: 'true' }), server('smtp', '127.0.0.1', ports.submission)],
      });
      expect(r.body).toContain("For a mail program on the computer that runs the lab");
      expect(r.body).toContain('<descr lang="id">Untuk program e-mail di komputer yang menjalankan lab');
    },
  );

  test('names the host the program used when it is localhost or an address, else 127.0.0.1', async () => {
    const local = await parse((await curl(`http://localhost:${ports.admin}/mail/config-v1.1.xml`)).body);
    expect(local.servers.map((s) => s.hostname)).toEqual(['localhost', 'localhost', 'localhost']);
    const forged = await curl(`${base}/mail/config-v1.1.xml`, '-H', 'Host: <evil>"name');
    expect((await parse(forged.body)).servers.map((s) => s.hostname)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  test('describes only its own domain; HEAD has no body; other methods get 405', async () => {
    const other = await curl(`${base}/mail/config-v1.1.xml?emailaddress=mbrain%40garudayaksa.com`);
    expect([other.status, other.body]).toEqual([404, 'no mail settings here for "mbrain@garudayaksa.com": ask that domain\'s server: autoconfig.garudayaksa.com\n']);
    const garuda = lab.config.domains.find((d) => d.name === 'garudayaksa.com')!.ports;
    expect((await parse((await curl(`http://127.0.0.1:${garuda.admin}/mail/config-v1.1.xml?emailaddress=mbrain%40garudayaksa.com`)).body)).servers[0]).toMatchObject({ hostname: '127.0.0.1', port: String(garuda.imap) });
    const head = await curl(`${base}/mail/config-v1.1.xml`, '-I');
    expect(head.status).toBe(200);
    expect(head.body).toMatch(/^content-length: \d{3,}\r?$/im);
    expect(head.body).not.toContain('<clientConfig');
    const post = await curl(`${base}/mail/config-v1.1.xml`, '-X', 'POST', '-i');
    expect(post.status).toBe(405);
    expect(post.body).toMatch(/^allow: GET, HEAD\r?$/im);
  });

  test('everything else still needs the admin token', async () => {
    for (const path of ['/queue', '/mailbox/jpri', '/ca', '/events', '/.well-known/autoconfig/', '/mail/', '/mail/config-v1.1.xml/../queue', '/mail/config-v1.1.xml.bak', '/nowhere']) {
      const r = await curl(base + path, '--path-as-is');
      expect([path, r.status]).toEqual([path, 401]);
    }
    const faults = await curl(`${base}/faults/apply`, '-X', 'POST', '-d', '{"kind":"server-down","domain":"dadali.com"}');
    expect(faults.status).toBe(401);
    expect((await curl(`${base}/health`)).status).toBe(200);
    expect((await curl(`${base}/queue`, '-H', `Authorization: Bearer ${lab.adminToken}`)).status).toBe(200);
  });
});

describe('on the lab network (port 80 of the mail host in Docker)', () => {
  let lab: TestLab;
  let http: Server;
  let url: string;
  beforeAll(async () => {
    lab = await startTestLab();
    http = createAutoconfigServer({ config: lab.config, domain: 'dadali.com', tls: false });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => http.close(r));
    await lab?.close();
  });

  test('mail.<domain> and the standard ports; plain without TLS, and it says so', async () => {
    const r = await curl(`${url}/mail/config-v1.1.xml?emailaddress=siswa1%40dadali.com`, '-H', 'Host: autoconfig.dadali.com');
    expect(r.status).toBe(200);
    const plain = { socketType: 'plain' };
    expect((await parse(r.body)).servers).toEqual([
      server('imap', 'mail.dadali.com', 143, plain),
      server('pop3', 'mail.dadali.com', 110, { ...plain, leaveMessagesOnServer: 'true' }),
      server('smtp', 'mail.dadali.com', 587, plain),
    ]);
    expect(r.body).toContain('passwords travel in clear text');
    expect(r.body).toContain('on the lab network (the client container)');
  });

  test('serves nothing else: no admin route, not even with a token', async () => {
    for (const path of ['/health', '/queue', '/']) {
      const r = await curl(url + path, '-H', `Authorization: Bearer ${lab.adminToken}`);
      expect([path, r.status, r.body]).toEqual([path, 404, 'only the mail settings are served here: GET /mail/config-v1.1.xml?emailaddress=<you>@dadali.com\n']);
    }
  });
});
