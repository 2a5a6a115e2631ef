/**
 * POP3 command parser: one command line (without CRLF) -> a `Command`
 * union member, with its arguments checked (RFC 1939 section 3 and 9,
 * RFC 2449 CAPA, RFC 2595 STLS). Keywords are case-insensitive; arguments are separated by
 * spaces. Anything malformed comes back as a `ParseFailure` whose text the
 * session sends after `-ERR`; the session then carries on.
 *
 * Also: `maskForLog`, which hides PASS and APOP secrets in transcripts.
 */

export type Command =
  | { readonly name: 'USER'; readonly login: string }
  | { readonly name: 'PASS'; readonly password: string }
  | { readonly name: 'APOP'; readonly login: string; readonly digest: string }
  | { readonly name: 'STAT' }
  | { readonly name: 'LIST'; readonly msg?: number }
  | { readonly name: 'RETR'; readonly msg: number }
  | { readonly name: 'DELE'; readonly msg: number }
  | { readonly name: 'TOP'; readonly msg: number; readonly lines: number }
  | { readonly name: 'NOOP' }
  | { readonly name: 'RSET' }
  | { readonly name: 'UIDL'; readonly msg?: number }
  | { readonly name: 'QUIT' }
  | { readonly name: 'CAPA' }
  | { readonly name: 'STLS' };

export type CommandName = Command['name'];

export type ParseResult = { readonly ok: true; readonly command: Command } | ParseFailure;
export interface ParseFailure {
  readonly ok: false;
  readonly error: string;
}

/** Largest message number or line count we accept; beyond it the argument is nonsense. */
const MAX_NUMBER = 2 ** 31 - 1;
/** RFC 1939 section 3 says 40 characters per argument; we allow more (long `user@domain` logins). */
const MAX_ARGUMENT = 255;

const fail = (error: string): ParseFailure => ({ ok: false, error });
const done = (command: Command): ParseResult => ({ ok: true, command });

/** Parses a message number (>= 1) or a line count (>= 0). */
function parseNumber(text: string, what: string, min: number): number | string {
  if (!/^\d+$/.test(text)) return `${what} must be a number, not "${printable(text)}"`;
  const value = Number(text);
  if (value > MAX_NUMBER) return `${what} ${text} is too large`;
  if (value < min) return min === 1 ? `${what} must be 1 or more (messages are numbered from 1)` : `${what} must be ${min} or more`;
  return value;
}

function arity(keyword: string, args: string[], min: number, max: number, usage: string): string | null {
  if (args.length < min) return `${keyword} needs ${min === max ? '' : 'at least '}${min} argument${min === 1 ? '' : 's'}: ${usage}`;
  if (args.length > max) return max === 0 ? `${keyword} takes no arguments` : `too many arguments: ${usage}`;
  return null;
}

/** Turns one line (without its CRLF) into a command or an error text. */
export function parseCommand(line: string): ParseResult {
  if (line.trim() === '') return fail('empty command');
  const space = line.indexOf(' ');
  // Keywords are ASCII (RFC 1939): upper-case a-z only, so `paß` or `paſs` is not taken for PASS.
  const keyword = (space < 0 ? line : line.slice(0, space)).replace(/[a-z]+/g, (c) => c.toUpperCase());
  const rest = space < 0 ? '' : line.slice(space + 1);
  const args = rest.split(' ').filter((a) => a !== '');
  if (keyword !== 'PASS' && args.some((a) => a.length > MAX_ARGUMENT)) return fail(`argument too long (at most ${MAX_ARGUMENT} characters)`);

  const noArgs = (command: Command) => {
    const problem = arity(keyword, args, 0, 0, keyword);
    return problem ? fail(problem) : done(command);
  };
  const msgArg = (optional: boolean, usage: string): number | undefined | ParseFailure => {
    const problem = arity(keyword, args, optional ? 0 : 1, 1, usage);
    if (problem) return fail(problem);
    if (args.length === 0) return undefined;
    const n = parseNumber(args[0], 'message number', 1);
    return typeof n === 'string' ? fail(n) : n;
  };

  switch (keyword) {
    case 'USER': {
      const problem = arity(keyword, args, 1, 1, 'USER name');
      return problem ? fail(problem) : done({ name: 'USER', login: args[0] });
    }
    case 'PASS': {
      // RFC 1939 section 7: the whole rest of the line is the password, spaces included.
      if (rest === '') return fail('PASS needs 1 argument: PASS password');
      return done({ name: 'PASS', password: rest });
    }
    case 'APOP': {
      const problem = arity(keyword, args, 2, 2, 'APOP name digest');
      if (problem) return fail(problem);
      if (!/^[0-9a-fA-F]{32}$/.test(args[1])) return fail('APOP digest must be 32 hexadecimal digits (MD5 of timestamp and secret)');
      return done({ name: 'APOP', login: args[0], digest: args[1].toLowerCase() });
    }
    case 'STAT':
    case 'NOOP':
    case 'RSET':
    case 'QUIT':
    case 'CAPA':
    case 'STLS':
      return noArgs({ name: keyword });
    case 'LIST':
    case 'UIDL': {
      const msg = msgArg(true, `${keyword} [msg]`);
      if (typeof msg === 'object') return msg;
      return done(msg === undefined ? { name: keyword } : { name: keyword, msg });
    }
    case 'RETR':
    case 'DELE': {
      const msg = msgArg(false, `${keyword} msg`);
      if (typeof msg === 'object') return msg;
      return done({ name: keyword, msg: msg as number });
    }
    case 'TOP': {
      const problem = arity(keyword, args, 2, 2, 'TOP msg lines');
      if (problem) return fail(problem);
      const msg = parseNumber(args[0], 'message number', 1);
      if (typeof msg === 'string') return fail(msg);
      const lines = parseNumber(args[1], 'line count', 0);
      if (typeof lines === 'string') return fail(lines);
      return done({ name: 'TOP', msg, lines });
    }
    default:
      return fail(`unknown command "${printable(secretFree(keyword))}"`);
  }
}

/**
 * A PASS or APOP keyword with the wrong separator (`PASS<TAB>secret`,
 * `PASS<NUL>secret`, `paß secret`) is unknown, and its echo stops after the
 * keyword, so the secret does not reach the reply (or the transcript).
 */
function secretFree(keyword: string): string {
  const lead = leadingSpace(keyword);
  const word = leadingLetters(keyword.slice(lead.length));
  return isSecretKeyword(word) && keyword.length > lead.length + word.length ? lead + word + '...' : keyword;
}

const leadingSpace = (text: string) => /^[\s\x00-\x1f\x7f-\x9f]*/.exec(text)?.[0] ?? '';
const leadingLetters = (text: string) => /^\p{L}*/u.exec(text)?.[0] ?? '';
/** Unicode upper-casing on purpose: whatever reads as PASS or APOP is treated as one. */
const isSecretKeyword = (word: string) => ['PASS', 'APOP'].includes(word.toUpperCase());

/** Keeps error texts on one printable line, whatever the client sent. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? clean.slice(0, 40) + '...' : clean;
}

/** The line as it may appear in a transcript: `PASS ****`, `APOP mbrain ****`. */
export function maskForLog(line: string): string {
  const lead = leadingSpace(line);
  const word = leadingLetters(line.slice(lead.length));
  if (!isSecretKeyword(word)) return line;
  if (word.toUpperCase() === 'PASS') return `${lead}${word} ****`;
  const login = line.slice(lead.length + word.length).split(/[\s\x00-\x1f\x7f-\x9f]+/).find((t) => t !== '') ?? '';
  return `${lead}${word}${login ? ' ' + login : ''} ****`;
}
