/** The POP3 server (RFC 1939, RFC 2449): what the rest of mail-domain imports. */
export { createPop3Server, type Pop3ServerOptions } from './server';
