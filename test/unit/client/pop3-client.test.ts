/** The small POP3 client against a scripted server: framing, dot-unstuffing, 8-bit bytes, chunked replies, errors. */
import { createServer, type Server, type Socket } from 'node:net';
import { Pop3Client } from '../../../services/client/src/pop3-client';

type Script = (line: string, write: (s: string | Buffer) => void) => void;

let server: Server;
let port: number;
const seen: string[] = [];

async function serve(script: Script): Promise<void> {
  server = createServer((s: Socket) => {
    s.write('+OK scripted POP3 ready\r\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        seen.push(line);
        script(line, (x) => s.write(x));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
}

const connect = (transcript?: (d: 'C' | 'S', l: string) => void) =>
  Pop3Client.connect({ host: 'pop.test', address: '127.0.0.1', port, timeoutMs: 2000, transcript });

afterEach(async () => {
  seen.length = 0;
  await new Promise((r) => server.close(r));
});

test('RETR: dot-unstuffing, 8-bit bytes kept, terminator split over several writes', async () => {
  const body = Buffer.concat([Buffer.from('Subject: x\r\n\r\n..leading dot\r\n.\u0000.\r\n'), Buffer.from([0xe9, 0xff, 0x0d, 0x0a]), Buffer.from('...\r\nend\r\n')]);
  await serve((line, write) => {
    if (line.startsWith('USER') || line.startsWith('PASS')) write('+OK\r\n');
    else if (line === 'RETR 1') {
      write('+OK 40 octets\r\n');
      write(body.subarray(0, 10));
      setTimeout(() => write(body.subarray(10, body.length - 1)), 20);
      setTimeout(() => write('\n.'), 40);
      setTimeout(() => write('\r\n'), 60);
    } else if (line === 'QUIT') write('+OK bye\r\n');
  });
  const c = await connect();
  await c.login('u@x.com', 'secret');
  const got = await c.retr(1);
  const expected = Buffer.concat([Buffer.from('Subject: x\r\n\r\n.leading dot\r\n\u0000.\r\n'), Buffer.from([0xe9, 0xff, 0x0d, 0x0a]), Buffer.from('..\r\nend\r\n')]);
  expect(got.equals(expected)).toBe(true);
  expect(await c.quit()).toBe('bye');
});

test('LIST, STAT, TOP with an empty multi-line answer, DELE', async () => {
  await serve((line, write) => {
    if (line === 'STAT') write('+OK 2 320\r\n');
    else if (line === 'LIST') write('+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n');
    else if (line === 'TOP 2 0') write('+OK\r\n.\r\n');
    else if (line === 'DELE 2') write('+OK message 2 deleted\r\n');
    else write('+OK\r\n');
  });
  const c = await connect();
  await c.login('u@x.com', 'secret');
  expect(await c.stat()).toEqual({ count: 2, size: 320 });
  expect(await c.list()).toEqual([
    { n: 1, size: 120 },
    { n: 2, size: 200 },
  ]);
  expect((await c.top(2, 0)).length).toBe(0);
  expect(await c.dele(2)).toBe('message 2 deleted');
  expect(seen).toEqual(['USER u@x.com', 'PASS secret', 'STAT', 'LIST', 'TOP 2 0', 'DELE 2']);
  c.close();
});

test('wrong password, mailbox in use, -ERR for a missing message', async () => {
  await serve((line, write) => {
    if (line.startsWith('USER')) write('+OK\r\n');
    else if (line === 'PASS wrong') write('-ERR [AUTH] authentication failed\r\n');
    else if (line === 'PASS busy') write('-ERR [IN-USE] maildrop already locked\r\n');
    else if (line === 'PASS ok') write('+OK\r\n');
    else if (line === 'RETR 9') write('-ERR no such message\r\n');
  });
  const lines: string[] = [];
  const a = await connect((d, l) => lines.push(`${d}: ${l}`));
  await expect(a.login('u@x.com', 'wrong')).rejects.toThrow('login failed for u@x.com: wrong user name or password');
  expect(lines).toContain('C: PASS ********');
  expect(lines.join('\n')).not.toContain('wrong');
  a.close();
  const b = await connect();
  await expect(b.login('u@x.com', 'busy')).rejects.toThrow('the mailbox of u@x.com is in use by another POP3 session');
  b.close();
  const c = await connect();
  await c.login('u@x.com', 'ok');
  await expect(c.retr(9)).rejects.toThrow('the POP3 server refused RETR: -ERR no such message');
  c.close();
});

test('the server hangs up in the middle of an answer', async () => {
  server = createServer((s) => {
    s.write('+OK hi\r\n');
    s.on('data', () => s.end('+OK\r\npart of a mess'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  const c = await connect();
  await expect(c.retr(1)).rejects.toThrow(`pop.test:${port} closed the connection`);
});

test('not a POP3 server', async () => {
  server = createServer((s) => s.write('220 smtp here\r\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  await expect(connect()).rejects.toThrow(`pop.test:${port} is not a POP3 server (it said: 220 smtp here)`);
});
