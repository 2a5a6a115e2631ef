/** Raw-socket framing edge cases: literals, LITERAL+, limits refused before the data, pipelining, transcript, idle timeout. */
import { message, RawClient, startLab, type Lab } from './harness';

let lab: Lab;
afterEach(async () => lab.close());

test('a synchronizing literal above imapMaxLiteral is refused with NO instead of +, and the session goes on', async () => {
  lab = await startLab({ imapMaxLiteral: 2048 });
  const c = await RawClient.connect(lab.port);
  await c.login();
  c.write('a1 APPEND INBOX {5000}\r\n');
  const r = await c.readUntil(/^a1 .*\r\n/m);
  expect(r).toMatch(/^a1 NO \[TOOBIG\] Literal of 5000 octets exceeds the limit of 2048/m);
  expect(r).not.toMatch(/^\+/m);
  expect(await c.command('a2', 'NOOP')).toMatch(/^a2 OK/m);
  c.close();
});

test('a non-synchronizing literal above the limit gets BAD and the connection is closed (RFC 7888)', async () => {
  lab = await startLab({ imapMaxLiteral: 2048 });
  const c = await RawClient.connect(lab.port);
  await c.login();
  c.write('a1 APPEND INBOX {5000+}\r\n' + 'x'.repeat(100));
  expect(await c.readUntil(/^a1 .*\r\n/m)).toMatch(/^a1 BAD \[TOOBIG\]/m);
  await c.waitClosed();
});

test('many literals in one command cannot add up beyond the limit', async () => {
  lab = await startLab({ imapMaxLiteral: 2048, maxLineLength: 1024 });
  const c = await RawClient.connect(lab.port);
  c.write(`a1 LOGIN {2000+}\r\n${'x'.repeat(2000)} {2000}\r\n`);
  const r = await c.readUntil(/^a1 .*\r\n/m);
  expect(r).toMatch(/^a1 NO \[TOOBIG\] Command exceeds 3072 octets in total/m);
  expect(await c.command('a2', 'NOOP')).toMatch(/^a2 OK/m);
  c.close();
});

test('LITERAL+ APPEND needs no continuation; several literals in one command; zero-length literal', async () => {
  lab = await startLab();
  const c = await RawClient.connect(lab.port);
  c.write('a0 LOGIN {6+}\r\nmbrain {10+}\r\nrahasia123\r\n');
  expect(await c.readUntil(/^a0 .*\r\n/m)).toMatch(/^a0 OK/m);
  const msg = message({ subject: 'plus' });
  const r = await c.command('a1', Buffer.concat([Buffer.from(`APPEND INBOX {${msg.length}+}\r\n`), msg, Buffer.from('\r\n')]));
  expect(r).not.toMatch(/^\+/m);
  expect(r).toMatch(/^a1 OK \[APPENDUID \d+ 1\]/m);
  c.write('a2 SELECT {0}\r\n');
  await c.readUntil(/^\+ /m);
  c.write('\r\n');
  expect(await c.readUntil(/^a2 .*\r\n/m)).toMatch(/^a2 NO/m);
  expect(lab.logs.join('\n')).toContain(`C: a1 APPEND INBOX {${msg.length}+}<${msg.length} octets>`);
  expect(lab.logs.join('\n')).not.toContain('Subject: plus');
  c.close();
});

test('a line longer than maxLineLength gets BAD, the rest of it is discarded, the session goes on', async () => {
  lab = await startLab({ maxLineLength: 1024 });
  const c = await RawClient.connect(lab.port);
  c.write(`a1 LOGIN ${'x'.repeat(3000)} y\r\n`);
  expect(await c.readUntil(/^a1 .*\r\n/m)).toMatch(/^a1 BAD Line too long \(limit 1024 octets\)/m);
  expect(await c.command('a2', 'CAPABILITY')).toMatch(/^a2 OK/m);
  c.close();
});

test('pipelined commands are answered in order; bare LF line endings are accepted', async () => {
  lab = await startLab();
  const c = await RawClient.connect(lab.port);
  c.write('p1 LOGIN mbrain rahasia123\np2 SELECT INBOX\r\np3 NOOP\r\np4 BOGUS\r\np5 CAPABILITY\r\n');
  const all = await c.readUntil(/^p5 .*\r\n/m);
  const tags = [...all.matchAll(/^(p\d) (OK|NO|BAD)/gm)].map((m) => `${m[1]} ${m[2]}`);
  expect(tags).toEqual(['p1 OK', 'p2 OK', 'p3 OK', 'p4 BAD', 'p5 OK']);
  c.close();
});

test('the transcript has C:/S: lines with literal bodies summarised and credentials masked', async () => {
  lab = await startLab();
  const c = await RawClient.connect(lab.port);
  await c.login();
  await lab.store.append('mbrain', 'INBOX', message({ subject: 'secret subject' }));
  await c.command('a1', 'SELECT INBOX');
  await c.command('a2', 'FETCH 1 BODY.PEEK[]');
  const log = lab.logs.join('\n');
  expect(log).toMatch(/imap C: L LOGIN "mbrain" \*\*\*\*/);
  expect(log).toMatch(/imap S: \* 1 FETCH \(BODY\[\] \{\d+\}<\d+ octets>\)/);
  expect(log).not.toContain('secret subject');
  expect(log).not.toContain('rahasia123');
  c.close();
});

test('idle timeout from limits.sessionIdle closes a silent session with BYE', async () => {
  lab = await startLab({ sessionIdle: 300 });
  const c = await RawClient.connect(lab.port);
  expect(await c.readUntil(/^\* BYE Autologout/m, 2000)).toBeTruthy();
  await c.waitClosed();
});

test('server.close() says BYE to open sessions, even idling ones, and finishes', async () => {
  lab = await startLab();
  const c = await RawClient.connect(lab.port);
  await c.login();
  c.write('i1 IDLE\r\n');
  await c.readUntil(/^\+ idling/m);
  const closed = new Promise<void>((resolve) => lab.server.close(() => resolve()));
  expect(await c.readUntil(/^\* BYE Server shutting down\r\n/m)).toBeTruthy();
  await closed;
  await c.waitClosed();
});
