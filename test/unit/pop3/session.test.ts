/**
 * The session state machine without sockets, on the in-memory FakeStore,
 * for the store faults a real mbox store does not produce on demand:
 * a message removed by another client, a failing expunge, an unreadable
 * maildrop, a hang-up while the login is still being checked.
 */
import { memoryLogger } from '../../../services/core/src/logger';
import type { AccountDirectory } from '../../../services/mail-domain/src/accounts';
import { AuthThrottle } from '../../../services/mail-domain/src/auth-throttle';
import type { Pop3Env } from '../../../services/mail-domain/src/pop3/context';
import { encode, type Reply } from '../../../services/mail-domain/src/pop3/reply';
import { Pop3Session } from '../../../services/mail-domain/src/pop3/session';
import { FakeStore } from './fake-store';
import { makeAccounts, PASSWORD } from './helpers';

let accounts: AccountDirectory;
beforeAll(async () => {
  accounts = await makeAccounts();
});

function session(store: FakeStore, overrides: Partial<Pop3Env> = {}) {
  const env: Pop3Env = {
    store,
    accounts,
    hostname: 'mail.lab.test',
    throttle: new AuthThrottle({ baseDelayMs: 1 }),
    logger: memoryLogger(),
    clientAddress: '192.0.2.1',
    holder: 'test',
    apopTimestamp: '<1.2@mail.lab.test>',
    sleep: async () => undefined,
    ...overrides,
  };
  const s = new Pop3Session(env);
  const say = async (line: string) => text(await s.handle({ kind: 'line', text: line }));
  return { s, say, env };
}
const text = (r: Reply) => encode(r).bytes.toString('latin1');

test('state changes: AUTHORIZATION -> TRANSACTION -> UPDATE', async () => {
  const store = new FakeStore(['mbrain']);
  store.add('mbrain', 'Subject: a\n\nx\n');
  const { s, say } = session(store);
  expect(s.state.state).toBe('AUTHORIZATION');
  expect(await say('USER mbrain')).toBe('+OK send PASS for mbrain\r\n');
  expect(await say(`PASS ${PASSWORD}`)).toMatch(/^\+OK mbrain's maildrop has 1 message/);
  expect(s.state.state).toBe('TRANSACTION');
  expect(store.locks.get('mbrain')).toBe('test');
  const quit = await s.handle({ kind: 'line', text: 'QUIT' });
  expect(quit.close).toBe(true);
  expect(s.state.state).toBe('UPDATE');
  expect(store.locks.size).toBe(0);
  expect(await say('NOOP')).toBe('-ERR NOOP is not allowed while the session is closing\r\n');
});

test('a message removed by another client meanwhile: RETR and TOP say so, others go on', async () => {
  const store = new FakeStore(['mbrain']);
  const a = store.add('mbrain', 'Subject: a\n\nx\n');
  store.add('mbrain', 'Subject: b\n\ny\n');
  const { say } = session(store);
  await say('USER mbrain');
  await say(`PASS ${PASSWORD}`);
  store.remove('mbrain', a.uid);
  expect(await say('RETR 1')).toBe('-ERR [SYS/TEMP] message 1 was removed from the mailbox by another client\r\n');
  expect(await say('TOP 1 0')).toBe('-ERR [SYS/TEMP] message 1 was removed from the mailbox by another client\r\n');
  expect(await say('RETR 2')).toBe('+OK 17 octets\r\nSubject: b\r\n\r\ny\r\n.\r\n');
  expect(await say('DELE 1')).toBe('+OK message 1 deleted\r\n');
  expect(await say('QUIT')).toBe('+OK mail.lab.test POP3 server signing off (0 messages deleted, 1 left)\r\n');
});

test('a failing expunge: -ERR [SYS/TEMP], connection closed, lock released, messages kept', async () => {
  const store = new FakeStore(['mbrain']);
  store.add('mbrain', 'Subject: a\n\nx\n');
  store.failExpunge = true;
  const { say, env } = session(store);
  await say('USER mbrain');
  await say(`PASS ${PASSWORD}`);
  await say('DELE 1');
  expect(await say('QUIT')).toBe('-ERR [SYS/TEMP] some deleted messages could not be removed\r\n');
  expect(store.locks.size).toBe(0);
  expect(store.messages.get('mbrain')).toHaveLength(1);
  expect((env.logger as ReturnType<typeof memoryLogger>).lines.join('\n')).toContain('update failed');
});

test('an unreadable maildrop: -ERR [SYS/TEMP] and no lock kept; a missing INBOX is an empty maildrop', async () => {
  const store = new FakeStore(['mbrain']);
  store.failSnapshot = 'IO';
  const { s, say } = session(store);
  await say('USER mbrain');
  expect(await say(`PASS ${PASSWORD}`)).toBe('-ERR [SYS/TEMP] cannot open the maildrop, try again later\r\n');
  expect(s.state.state).toBe('AUTHORIZATION');
  expect(store.locks.size).toBe(0);
  store.failSnapshot = 'NO_SUCH_FOLDER';
  await say('USER mbrain');
  expect(await say(`PASS ${PASSWORD}`)).toBe("+OK mbrain's maildrop has 0 messages (0 octets)\r\n");
});

test('a hang-up while the password is being checked leaves no lock behind', async () => {
  const store = new FakeStore(['mbrain']);
  const { s, say } = session(store);
  await say('USER mbrain');
  const pending = say(`PASS ${PASSWORD}`);
  s.disconnect('connection closed');
  await pending;
  expect(s.state.state).toBe('AUTHORIZATION');
  expect(store.locks.size).toBe(0);
});

test('a hang-up in TRANSACTION releases the lock and deletes nothing', async () => {
  const store = new FakeStore(['mbrain']);
  store.add('mbrain', 'Subject: a\n\nx\n');
  const { s, say } = session(store);
  await say('USER mbrain');
  await say(`PASS ${PASSWORD}`);
  await say('DELE 1');
  s.disconnect('connection closed');
  expect(store.locks.size).toBe(0);
  expect(store.messages.get('mbrain')).toHaveLength(1);
});

test('the failure delay doubles and is capped; the third failure closes', async () => {
  const delays: number[] = [];
  const store = new FakeStore(['mbrain']);
  const { s } = session(store, { throttle: new AuthThrottle({ baseDelayMs: 1000 }), sleep: async (ms) => void delays.push(ms) });
  const replies: Reply[] = [];
  for (let i = 0; i < 3; i++) {
    await s.handle({ kind: 'line', text: 'USER mbrain' });
    replies.push(await s.handle({ kind: 'line', text: 'PASS wrong' }));
  }
  expect(delays).toEqual([1000, 2000, 4000]);
  expect(replies.map((r) => r.close ?? false)).toEqual([false, false, true]);
});

test('the per-address count: a new session from the same address starts where the last left off, others do not', () => {
  let now = 0;
  const th = new AuthThrottle({ baseDelayMs: 1000, now: () => now });
  expect([th.fail('a', 1), th.fail('a', 2), th.fail('a', 3)]).toEqual([1000, 2000, 4000]);
  expect(th.fail('a', 1)).toBe(4000);
  expect(th.fail('b', 1)).toBe(1000);
  now += 16 * 60_000;
  expect(th.fail('a', 1)).toBe(1000);
  th.succeed('a');
  expect(th.fail('a', 1)).toBe(1000);
});
