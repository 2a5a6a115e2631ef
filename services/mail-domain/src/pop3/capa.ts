/**
 * CAPA (RFC 2449): what this server really supports, in both states.
 * STLS (RFC 2595) is listed while it can be used: the server has a
 * certificate and the session is not TLS yet.
 * Not listed, because not implemented: SASL (the AUTH command),
 * LOGIN-DELAY (no enforced wait between logins). `EXPIRE NEVER` holds
 * because the server never deletes mail on its own; only DELE+QUIT (or an
 * IMAP client) removes messages.
 */
import type { Reply } from './reply';

export const CAPABILITIES: readonly string[] = [
  'TOP',
  'UIDL',
  'USER',
  'RESP-CODES',
  'AUTH-RESP-CODE',
  'PIPELINING',
  'EXPIRE NEVER',
  'IMPLEMENTATION mail-lab',
];

export function handleCapa(stls = false): Reply {
  return { kind: 'lines', text: 'capability list follows', lines: stls ? [...CAPABILITIES, 'STLS'] : CAPABILITIES };
}
