/**
 * The POP3 session states (RFC 1939 section 3) and the table of which
 * commands each state allows. The session consults `allowed` before it
 * dispatches, so a handler never sees a command in the wrong state.
 */
import type { CommandName } from './command';

export type State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

const TABLE: Record<State, ReadonlySet<CommandName>> = {
  // STLS only here (RFC 2595 section 4).
  AUTHORIZATION: new Set<CommandName>(['USER', 'PASS', 'APOP', 'QUIT', 'CAPA', 'STLS']),
  TRANSACTION: new Set<CommandName>(['STAT', 'LIST', 'RETR', 'DELE', 'TOP', 'NOOP', 'RSET', 'UIDL', 'QUIT', 'CAPA']),
  // UPDATE is entered by QUIT and left by closing the connection: nothing more is read.
  UPDATE: new Set<CommandName>(),
};

export function allowed(state: State, command: CommandName): boolean {
  return TABLE[state].has(command);
}

/** Why a command is refused in a state, for the `-ERR` text. */
export function wrongStateText(state: State, command: CommandName): string {
  if (state === 'AUTHORIZATION') return `${command} is not allowed before login (use USER and PASS, or APOP)`;
  if (state === 'TRANSACTION') return `${command} is not allowed after login (you are already logged in)`;
  return `${command} is not allowed while the session is closing`;
}
