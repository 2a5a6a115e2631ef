/**
 * AUTHORIZATION state commands: USER, PASS, APOP and QUIT (RFC 1939
 * sections 4 and 7). A successful login takes the maildrop lock
 * (`[IN-USE]` when another session holds it), snapshots INBOX and moves the
 * session to TRANSACTION. A failed login is answered `-ERR [AUTH]` after the
 * throttle's delay; after MAX_AUTH_FAILURES the connection is closed.
 * When the lab requires TLS, all three are refused before STLS.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isStoreError } from '../store/types';
import { MAX_AUTH_FAILURES } from '../auth-throttle';
import type { Command } from './command';
import { POP3_FOLDER, once, type Pop3Env, type Pop3State } from './context';
import { Maildrop } from './maildrop';
import { closing, err, ok, type Reply } from './reply';

type AuthCommand = Extract<Command, { name: 'USER' | 'PASS' | 'APOP' | 'QUIT' }>;

export async function handleAuth(cmd: AuthCommand, s: Pop3State, env: Pop3Env): Promise<Reply> {
  if (cmd.name !== 'QUIT' && env.requireTls && !s.tls) {
    s.pendingLogin = null;
    return err(`${cmd.name} refused: logging in over an unencrypted connection is not allowed here; use STLS first`, 'AUTH');
  }
  switch (cmd.name) {
    case 'USER':
      // Same answer for every name, so USER does not reveal which accounts exist.
      s.pendingLogin = cmd.login;
      return ok(`send PASS for ${cmd.login}`);
    case 'PASS': {
      const login = s.pendingLogin;
      if (login === null) return err('give USER before PASS');
      s.pendingLogin = null; // RFC 1939: after a failed PASS the client starts again with USER.
      const user = await env.accounts.verify(login, cmd.password);
      return user ? openMaildrop(user, s, env) : failLogin(s, env, 'authentication failed: wrong user name or password', login);
    }
    case 'APOP':
      return apop(cmd.login, cmd.digest, s, env);
    case 'QUIT':
      return closing(ok(`${env.hostname} POP3 server signing off`));
  }
}

async function apop(login: string, digest: string, s: Pop3State, env: Pop3Env): Promise<Reply> {
  s.pendingLogin = null;
  if (env.apopTimestamp === null) return err('APOP is not offered by this server (use USER and PASS)', 'AUTH');
  const user = env.accounts.localUser(login);
  if (user === null) return failLogin(s, env, 'authentication failed: wrong user name or digest', login);
  const secret = env.accounts.apopSecret(user);
  if (secret === null) return err('APOP is not available for this account', 'AUTH');
  const expected = Buffer.from(createHash('md5').update(env.apopTimestamp + secret, 'utf8').digest('hex'), 'latin1');
  const given = Buffer.from(digest, 'latin1');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return failLogin(s, env, 'authentication failed: wrong user name or digest', login);
  }
  return openMaildrop(user, s, env);
}

async function failLogin(s: Pop3State, env: Pop3Env, text: string, login: string): Promise<Reply> {
  s.authFailures += 1;
  const delay = env.throttle.fail(env.clientAddress, s.authFailures, env.accounts.localUser(login) ?? login);
  env.logger.warn('login failed', { login, failures: s.authFailures, delayMs: delay });
  await env.sleep(delay);
  if (s.authFailures >= MAX_AUTH_FAILURES) {
    return closing(err(`${text}; too many failures, closing the connection`, 'AUTH'));
  }
  return err(text, 'AUTH');
}

/** Lock, snapshot, enter TRANSACTION. */
async function openMaildrop(user: string, s: Pop3State, env: Pop3Env): Promise<Reply> {
  let release: () => void;
  try {
    release = once(env.store.lockMaildrop(user, env.holder));
  } catch (e) {
    if (isStoreError(e, 'LOCKED')) return err('maildrop already locked', 'IN-USE');
    throw e;
  }
  env.throttle.succeed(env.clientAddress, user);
  let messages;
  try {
    messages = (await env.store.snapshot(user, POP3_FOLDER)).messages;
  } catch (e) {
    if (!isStoreError(e, 'NO_SUCH_FOLDER')) {
      release();
      env.logger.error('cannot open maildrop', { user, error: e });
      return err('cannot open the maildrop, try again later', 'SYS/TEMP');
    }
    messages = []; // nothing delivered yet
  }
  if (s.closed) {
    // The client hung up while we were checking: nothing to serve.
    release();
    return err('connection closed');
  }
  s.releaseLock = release;
  s.maildrop = new Maildrop(user, messages);
  s.state = 'TRANSACTION';
  const { count, octets } = s.maildrop.stat();
  env.logger.info('maildrop opened', { user, messages: count, octets });
  return ok(`${user}'s maildrop has ${count} message${count === 1 ? '' : 's'} (${octets} octets)`);
}
