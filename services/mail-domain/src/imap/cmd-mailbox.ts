/**
 * Mailbox commands of the authenticated state (RFC 3501 section 6.3):
 * SELECT / EXAMINE with their untagged FLAGS, EXISTS, RECENT, UNSEEN,
 * UIDVALIDITY, UIDNEXT and PERMANENTFLAGS; CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, STATUS, and APPEND with APPENDUID (RFC 4315).
 */
import type { Command, CommandOf } from './commands';
import { failure, no, ok, type Result } from './result';
import type { Session } from './session';
import { encodeMailboxName } from './utf7';
import { MailboxView, SYSTEM_FLAGS } from './view';
import { raw } from './wire';

type Cmd<N extends Command['name']> = CommandOf<N>;


export async function select(s: Session, _tag: string, cmd: Cmd<'SELECT' | 'EXAMINE'>): Promise<Result> {
  const user = s.user!;
  // RFC 3501 6.3.1: a SELECT, even a failing one, first deselects the current mailbox.
  s.view = null;
  s.state = 'authenticated';
  const readOnly = cmd.name === 'EXAMINE';
  let snap;
  try {
    snap = await s.ctx.store.snapshot(user, cmd.mailbox);
  } catch (error) {
    return failure(error, s.log);
  }
  const view = new MailboxView(user, cmd.mailbox, readOnly, snap.uidValidity, snap, s.ctx.recent);
  const { flags, permanent } = view.flagLists();
  s.untagged([raw('FLAGS'), flags.map(raw)]);
  s.writeText(`* OK [PERMANENTFLAGS (${permanent.join(' ')})] Flags permitted`);
  s.untagged([snap.messages.length, raw('EXISTS')]);
  s.untagged([view.recent.size, raw('RECENT')]);
  const firstUnseen = snap.messages.findIndex((m) => !m.flags.includes('\\Seen'));
  if (firstUnseen >= 0) s.writeText(`* OK [UNSEEN ${firstUnseen + 1}] First unseen message`);
  s.writeText(`* OK [UIDVALIDITY ${snap.uidValidity}] UIDs valid`);
  s.writeText(`* OK [UIDNEXT ${snap.uidNext}] Predicted next UID`);
  s.view = view;
  s.state = 'selected';
  return ok(`${cmd.name} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

export async function create(s: Session, _tag: string, cmd: Cmd<'CREATE'>): Promise<Result> {
  // RFC 3501 6.3.3: a trailing separator only declares the intent to create children.
  const name = cmd.mailbox.replace(/\/+$/, '');
  if (name === 'INBOX') return no('INBOX always exists', 'ALREADYEXISTS');
  if (name === '') return no('Empty mailbox name', 'CANNOT');
  if (/[*%]/.test(name)) return no('Mailbox names cannot contain the LIST wildcards * and %', 'CANNOT');
  try {
    await s.ctx.store.createFolder(s.user!, name);
  } catch (error) {
    return failure(error, s.log);
  }
  return ok('CREATE completed');
}

export async function remove(s: Session, _tag: string, cmd: Cmd<'DELETE'>): Promise<Result> {
  if (cmd.mailbox === 'INBOX') return no('INBOX cannot be deleted', 'CANNOT');
  try {
    await s.ctx.store.deleteFolder(s.user!, cmd.mailbox);
  } catch (error) {
    return failure(error, s.log);
  }
  return ok('DELETE completed');
}

export async function rename(s: Session, _tag: string, cmd: Cmd<'RENAME'>): Promise<Result> {
  try {
    await s.ctx.store.renameFolder(s.user!, cmd.from, cmd.to);
  } catch (error) {
    return failure(error, s.log);
  }
  return ok('RENAME completed');
}

export async function subscribe(s: Session, _tag: string, cmd: Cmd<'SUBSCRIBE' | 'UNSUBSCRIBE'>): Promise<Result> {
  try {
    await s.ctx.store.setSubscribed(s.user!, cmd.mailbox, cmd.name === 'SUBSCRIBE');
  } catch (error) {
    return failure(error, s.log);
  }
  return ok(`${cmd.name} completed`);
}

export async function status(s: Session, _tag: string, cmd: Cmd<'STATUS'>): Promise<Result> {
  let snap;
  try {
    snap = await s.ctx.store.snapshot(s.user!, cmd.mailbox);
  } catch (error) {
    return failure(error, s.log);
  }
  const seen = s.ctx.recent.seen(s.user!, cmd.mailbox, snap.uidValidity);
  const values: Record<string, number> = {
    MESSAGES: snap.messages.length,
    RECENT: snap.messages.filter((m) => m.uid > seen).length,
    UIDNEXT: snap.uidNext,
    UIDVALIDITY: snap.uidValidity,
    UNSEEN: snap.messages.filter((m) => !m.flags.includes('\\Seen')).length,
  };
  s.untagged([raw('STATUS'), encodeMailboxName(cmd.mailbox), cmd.items.flatMap((item) => [raw(item), values[item]])]);
  return ok('STATUS completed');
}

/** Wire form for the store: CRLF line endings (a bare LF from a client becomes CRLF). */
export function toCrlf(message: Buffer): Buffer {
  if (!message.includes(0x0a)) return message;
  const text = message.toString('latin1');
  return /(^|[^\r])\n/.test(text) ? Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1') : message;
}

export async function append(s: Session, _tag: string, cmd: Cmd<'APPEND'>): Promise<Result> {
  const user = s.user!;
  // System flags are case-insensitive (RFC 3501 section 2.3.2): store them in their canonical case, as STORE does.
  const flags: string[] = [];
  for (const flag of cmd.flags) {
    if (flag.toLowerCase() === '\\recent') continue;
    if (!flag.startsWith('\\')) {
      flags.push(flag);
      continue;
    }
    const system = SYSTEM_FLAGS.find((f) => f.toLowerCase() === flag.toLowerCase());
    if (!system) return no(`Unknown system flag ${flag}`);
    flags.push(system);
  }
  if (cmd.message.length === 0) return no('Empty message');
  let info;
  let uidValidity;
  try {
    info = await s.ctx.store.append(user, cmd.mailbox, toCrlf(cmd.message), { flags, internalDate: cmd.date ?? undefined });
    uidValidity = (await s.ctx.store.snapshot(user, cmd.mailbox)).uidValidity;
  } catch (error) {
    return failure(error, s.log, 'TRYCREATE');
  }
  if (s.view && s.view.folder === cmd.mailbox) s.view.dirty = true;
  return ok('APPEND completed', `APPENDUID ${uidValidity} ${info.uid}`);
}
