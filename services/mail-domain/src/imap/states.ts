/**
 * Session states (RFC 3501 section 3) and which commands each one allows
 * (RFC 3501 section 6: 6.1 any state, 6.2 not authenticated, 6.3
 * authenticated, 6.4 selected; extensions where their RFCs put them).
 */
import type { CommandName } from './commands';

export type State = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

const ANY: CommandName[] = ['CAPABILITY', 'NOOP', 'LOGOUT', 'ID'];
const NOT_AUTHENTICATED: CommandName[] = [...ANY, 'STARTTLS', 'LOGIN', 'AUTHENTICATE'];
const AUTHENTICATED: CommandName[] = [
  ...ANY,
  'ENABLE',
  'SELECT',
  'EXAMINE',
  'CREATE',
  'DELETE',
  'RENAME',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'LIST',
  'LSUB',
  'STATUS',
  'APPEND',
  'NAMESPACE',
  'IDLE',
];
const SELECTED: CommandName[] = [...AUTHENTICATED, 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE', 'SEARCH', 'FETCH', 'STORE', 'COPY', 'MOVE'];

export const ALLOWED: Record<State, ReadonlySet<CommandName>> = {
  'not-authenticated': new Set(NOT_AUTHENTICATED),
  authenticated: new Set(AUTHENTICATED),
  selected: new Set(SELECTED),
  logout: new Set(),
};

/** Why a command is refused in a state, for the tagged BAD text. */
export function refusal(state: State, name: CommandName): string {
  if (state === 'not-authenticated') return `${name} requires LOGIN or AUTHENTICATE first`;
  if (SELECTED.includes(name) && !AUTHENTICATED.includes(name)) return `${name} requires a selected mailbox (SELECT or EXAMINE first)`;
  if (NOT_AUTHENTICATED.includes(name)) return `${name} is not allowed once authenticated`;
  return `${name} is not allowed in state ${state}`;
}

/**
 * The CAPABILITY list of one session: STARTTLS while it can be used (RFC
 * 3501 6.2.1), and LOGINDISABLED without AUTH=PLAIN while logins are
 * refused because the session is not TLS yet (RFC 3501 6.2.3, 7.2.1).
 */
export function capabilitiesFor(tls: { starttls: boolean; loginDisabled: boolean }): string[] {
  const list = tls.loginDisabled ? CAPABILITIES.filter((c) => c !== 'AUTH=PLAIN') : [...CAPABILITIES];
  list.splice(1, 0, ...(tls.starttls ? ['STARTTLS'] : []), ...(tls.loginDisabled ? ['LOGINDISABLED'] : []));
  return list;
}

export const CAPABILITIES = [
  'IMAP4rev1',
  'LITERAL+',
  'SASL-IR',
  'AUTH=PLAIN',
  'IDLE',
  'UIDPLUS',
  'MOVE',
  'NAMESPACE',
  'SPECIAL-USE',
  'CHILDREN',
  'ID',
  'ENABLE',
  'UNSELECT',
];
