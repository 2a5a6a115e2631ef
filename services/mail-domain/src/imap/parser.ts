/**
 * The command parser: a frame (command line plus literals) becomes a tag and
 * a `Command` (RFC 3501 section 9 grammar), or a reason for a tagged BAD.
 * Mailbox names are decoded from modified UTF-7 here and `INBOX` is matched
 * case-insensitively (RFC 3501 section 5.1).
 */
import type { Command, CommandName, Parsed } from './commands';
import { Cursor, ParseError } from './cursor';
import { parseFetchAtts } from './fetch-parse';
import type { Frame } from './reader';
import { parseSearchKeys } from './search-parse';
import { parseSequenceSet } from './sequence';
import { decodeMailboxName } from './utf7';
import { badDay, monthIndex, utcTime } from './wire';

const NO_ARGS = new Set(['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT']);
const MAILBOX_ONLY = new Set(['SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'SUBSCRIBE', 'UNSUBSCRIBE']);
const UID_COMMANDS = new Set(['FETCH', 'STORE', 'COPY', 'MOVE', 'SEARCH', 'EXPUNGE']);

export function parseCommand(frame: Pick<Frame, 'texts' | 'literals'>): Parsed {
  const c = new Cursor(frame);
  let tag: string | null = null;
  try {
    // RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">, and an ASTRING-CHAR is 7-bit ASCII (CHAR, %x01-7F).
    tag = c.takeWhile(/[^(){ \x00-\x1f\x7f-\uffff%*"\\+]/, 'a tag');
    c.sp();
    let name = c.atom().toUpperCase();
    let uid = false;
    if (name === 'UID') {
      c.sp();
      name = c.atom().toUpperCase();
      if (!UID_COMMANDS.has(name)) throw new ParseError(`UID ${name} is not a command`);
      uid = true;
    }
    let command: Command;
    try {
      command = parseArguments(c, name, uid);
    } catch (error) {
      if (error instanceof MailboxNameError) error.command = name as CommandName;
      throw error;
    }
    c.expectEnd();
    return { ok: true, tag, command };
  } catch (error) {
    if (error instanceof MailboxNameError) return { ok: false, tag, message: error.message, refusal: { name: error.command, code: 'CANNOT' } };
    return { ok: false, tag, message: error instanceof Error ? error.message : String(error) };
  }
}

/** A well-formed astring that is not valid modified UTF-7: the command is understood, the name refused (NO, not BAD). */
class MailboxNameError extends ParseError {
  command: CommandName = 'SELECT';
}

/** A mailbox argument, decoded (RFC 3501 section 5.1.3); `inbox` in any case is INBOX. */
export function mailbox(c: Cursor): string {
  return normaliseMailbox(decode(c.astring()));
}

export function normaliseMailbox(name: string): string {
  if (name.toUpperCase() === 'INBOX') return 'INBOX';
  if (name.toUpperCase().startsWith('INBOX/')) return 'INBOX' + name.slice(5);
  return name;
}

function decode(name: string): string {
  try {
    return decodeMailboxName(name);
  } catch (error) {
    throw new MailboxNameError(`Invalid mailbox name: ${(error as Error).message}`);
  }
}

function flag(c: Cursor): string {
  if (c.accept('\\')) {
    if (c.accept('*')) return '\\*';
    return '\\' + c.atom();
  }
  return c.atom();
}

/** date-time: `"dd-Mon-yyyy hh:mm:ss +zzzz"` (RFC 3501 section 9). */
function dateTime(c: Cursor): Date {
  const text = c.quoted();
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d+) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  const month = m ? monthIndex(m[2]) : -1;
  const invalid = (why: string) => new ParseError(`Invalid date-time ${JSON.stringify(text)}: ${why}`);
  if (!m || month < 0) throw invalid('expected "dd-Mon-yyyy hh:mm:ss +zzzz", e.g. "07-Feb-2026 13:05:00 +0700"');
  const day = badDay(m[1], month, m[3]);
  if (day) throw invalid(day);
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) throw invalid(`no such time ${m[4]}:${m[5]}:${m[6]}`);
  if (Number(m[9]) > 59) throw invalid(`no such zone ${m[7]}${m[8]}${m[9]}`);
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const utc = utcTime(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  return new Date(utc - offset * 60_000);
}

function sequence(c: Cursor) {
  return parseSequenceSet(c.takeWhile(/[0-9*:,]/, 'a sequence set'));
}

function parseArguments(c: Cursor, name: string, uid: boolean): Command {
  if (NO_ARGS.has(name)) return { name } as Command;
  if (MAILBOX_ONLY.has(name)) {
    c.sp();
    return { name, mailbox: mailbox(c) } as Command;
  }
  switch (name) {
    case 'LOGIN': {
      c.sp();
      const user = c.astring();
      c.sp();
      return { name, user, password: c.astring() };
    }
    case 'AUTHENTICATE': {
      c.sp();
      const mechanism = c.atom().toUpperCase();
      let initial: string | null = null;
      if (c.accept(' ')) initial = c.takeWhile(/[A-Za-z0-9+/=]/, 'an initial response');
      return { name, mechanism, initial };
    }
    case 'RENAME': {
      c.sp();
      const from = mailbox(c);
      c.sp();
      return { name, from, to: mailbox(c) };
    }
    case 'LIST':
    case 'LSUB': {
      c.sp();
      // Lenient: Python's imaplib sends an empty reference unquoted (`LIST  pattern`).
      // Patterns that are not valid modified UTF-7 are kept as they are: they match nothing, LIST still succeeds.
      const reference = c.peek() === ' ' ? '' : decodeMailboxName(c.astring(), true);
      c.sp();
      const quotedOrLiteral = c.peek() === '"' || c.peek() === '{';
      const pattern = quotedOrLiteral ? c.string() : c.takeWhile(/[^(){ \x00-\x1f\x7f"\\]/, 'a mailbox pattern');
      return { name, reference, pattern: decodeMailboxName(pattern, true) };
    }
    case 'STATUS': {
      c.sp();
      const box = mailbox(c);
      c.sp();
      const items = c.list(() => c.atom().toUpperCase());
      for (const item of items) {
        if (!['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN'].includes(item)) throw new ParseError(`Unknown STATUS item ${item}`);
      }
      return { name, mailbox: box, items };
    }
    case 'APPEND': {
      c.sp();
      const box = mailbox(c);
      c.sp();
      let flags: string[] = [];
      let date: Date | null = null;
      if (c.peek() === '(') {
        flags = c.list(() => flag(c));
        c.sp();
      }
      if (c.peek() === '"') {
        date = dateTime(c);
        c.sp();
      }
      if (c.peek() !== '{') throw new ParseError('APPEND needs the message as a literal');
      return { name, mailbox: box, flags, date, message: c.literal() };
    }
    case 'EXPUNGE': {
      if (!uid) return { name, uid, set: null };
      c.sp();
      return { name, uid, set: sequence(c) };
    }
    case 'FETCH': {
      c.sp();
      const set = sequence(c);
      c.sp();
      return { name, uid, set, atts: parseFetchAtts(c) };
    }
    case 'STORE': {
      c.sp();
      const set = sequence(c);
      c.sp();
      const item = c.takeWhile(/[A-Za-z.+-]/, 'a STORE data item').toUpperCase();
      const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
      if (!m) throw new ParseError(`Unknown STORE data item ${item}`);
      c.sp();
      const flags = c.peek() === '(' ? c.list(() => flag(c)) : [flag(c)];
      while (c.accept(' ')) flags.push(flag(c));
      const op = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
      return { name, uid, set, op, silent: Boolean(m[2]), flags };
    }
    case 'COPY':
    case 'MOVE': {
      c.sp();
      const set = sequence(c);
      c.sp();
      return { name, uid, set, mailbox: mailbox(c) };
    }
    case 'SEARCH': {
      c.sp();
      let charset: string | null = null;
      if (c.accept('CHARSET ')) {
        charset = c.astring().toUpperCase();
        c.sp();
      }
      return { name, uid, charset, key: parseSearchKeys(c) };
    }
    case 'ID': {
      c.sp();
      if (c.accept('NIL')) return { name, params: null };
      const flat = c.list(() => c.nstring());
      const params: Array<[string, string | null]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) params.push([flat[i] ?? '', flat[i + 1]]);
      return { name, params };
    }
    case 'ENABLE': {
      const capabilities: string[] = [];
      while (c.accept(' ')) capabilities.push(c.atom().toUpperCase());
      if (capabilities.length === 0) throw new ParseError('ENABLE needs at least one capability');
      return { name, capabilities };
    }
    default:
      throw new ParseError(`Unknown command ${name}`);
  }
}
