/**
 * TRANSACTION state commands (RFC 1939 section 5): STAT, LIST, RETR, DELE,
 * TOP, NOOP, RSET, UIDL and QUIT. They work on the session's `Maildrop`
 * snapshot; DELE only marks. QUIT enters UPDATE, expunges the marked UIDs
 * from the store (which rewrites the mbox file atomically), releases the
 * lock and closes.
 */
import { headerEnd } from '../message-headers';
import type { Command } from './command';
import { POP3_FOLDER, type Pop3Env, type Pop3State } from './context';
import type { Maildrop } from './maildrop';
import { closing, err, ok, type Reply } from './reply';

type TransactionCommand = Extract<Command, { name: 'STAT' | 'LIST' | 'RETR' | 'DELE' | 'TOP' | 'NOOP' | 'RSET' | 'UIDL' | 'QUIT' }>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function handleTransaction(cmd: TransactionCommand, s: Pop3State, env: Pop3Env): Promise<Reply> {
  const drop = s.maildrop as Maildrop; // set whenever the state is TRANSACTION
  switch (cmd.name) {
    case 'STAT': {
      const { count, octets } = drop.stat();
      return ok(`${count} ${octets}`);
    }
    case 'LIST':
    case 'UIDL': {
      const value = (info: { size: number; uniqueId: string }) => (cmd.name === 'LIST' ? String(info.size) : info.uniqueId);
      if (cmd.msg !== undefined) {
        const found = drop.lookup(cmd.msg);
        return found.ok ? ok(`${cmd.msg} ${value(found.info)}`) : err(found.error);
      }
      const live = drop.live();
      const lines = live.map((m) => `${m.msg} ${value(m.info)}`);
      if (cmd.name === 'UIDL') return { kind: 'lines', text: 'unique-id listing follows', lines };
      const { octets } = drop.stat();
      return { kind: 'lines', text: `${plural(live.length, 'message')} (${octets} octets)`, lines };
    }
    case 'RETR':
    case 'TOP': {
      const found = drop.lookup(cmd.msg);
      if (!found.ok) return err(found.error);
      const raw = await env.store.read(drop.user, POP3_FOLDER, found.info.uid);
      if (raw === null) return err(`message ${cmd.msg} was removed from the mailbox by another client`, 'SYS/TEMP');
      if (cmd.name === 'RETR') return { kind: 'message', text: `${found.info.size} octets`, body: raw };
      return { kind: 'message', text: `top of message ${cmd.msg} follows`, body: topOfMessage(raw, cmd.lines) };
    }
    case 'DELE': {
      const found = drop.lookup(cmd.msg);
      if (!found.ok) return err(found.error);
      drop.markDeleted(cmd.msg);
      return ok(`message ${cmd.msg} deleted`);
    }
    case 'NOOP':
      return ok('');
    case 'RSET': {
      drop.reset();
      const { count, octets } = drop.stat();
      return ok(`maildrop has ${plural(count, 'message')} (${octets} octets)`);
    }
    case 'QUIT':
      return update(drop, s, env);
  }
}

/** The UPDATE state: remove the marked messages, release the lock, sign off. */
async function update(drop: Maildrop, s: Pop3State, env: Pop3Env): Promise<Reply> {
  s.state = 'UPDATE';
  const uids = drop.deletedUids();
  try {
    const removed = uids.length ? await env.store.expunge(drop.user, POP3_FOLDER, uids) : [];
    const left = drop.stat().count;
    env.logger.info('maildrop updated', { user: drop.user, deleted: removed.length, left });
    return closing(ok(`${env.hostname} POP3 server signing off (${plural(removed.length, 'message')} deleted, ${left} left)`));
  } catch (e) {
    env.logger.error('update failed', { user: drop.user, error: e });
    return closing(err('some deleted messages could not be removed', 'SYS/TEMP'));
  } finally {
    s.releaseLock?.();
    s.releaseLock = null;
  }
}

/**
 * TOP: the header, the blank line, and the first `lines` lines of the body
 * (all of them if there are fewer). A message without a blank line is all
 * header.
 */
export function topOfMessage(raw: Buffer, lines: number): Buffer {
  const text = raw.toString('latin1');
  const blank = headerEnd(text, { breaks: 'any', emptyFirstLine: true }); // an empty header is a blank first line
  if (!blank) return raw;
  const headEnd = blank.bodyStart;
  let end = headEnd;
  for (let i = 0; i < lines && end < text.length; i++) {
    const lf = text.indexOf('\n', end);
    end = lf < 0 ? text.length : lf + 1;
  }
  return raw.subarray(0, end);
}
