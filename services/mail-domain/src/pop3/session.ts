/**
 * One POP3 session, independent of sockets: it holds the State, checks
 * each parsed command against the state table, dispatches to the command
 * group (auth / transaction / capa) and returns a Reply. The connection
 * (server.ts) feeds it lines in order and writes the replies.
 */
import { randomBytes } from 'node:crypto';
import { handleAuth } from './auth';
import { handleCapa } from './capa';
import { parseCommand } from './command';
import { initialState, type Pop3Env, type Pop3State } from './context';
import type { LineEvent } from './line-reader';
import { err, ok, type Reply } from './reply';
import { allowed, wrongStateText } from './state';
import { handleTransaction } from './transaction';

/** An RFC 1939 section 7 timestamp, unique per greeting: `<pid.time.random@host>`. */
export function apopTimestamp(hostname: string): string {
  return `<${process.pid}.${Date.now()}.${randomBytes(4).toString('hex')}@${hostname}>`;
}

export class Pop3Session {
  readonly state: Pop3State = initialState();

  constructor(private readonly env: Pop3Env) {}

  greeting(): Reply {
    const stamp = this.env.apopTimestamp ? ` ${this.env.apopTimestamp}` : '';
    return ok(`${this.env.hostname} POP3 server ready${stamp}`);
  }

  async handle(event: LineEvent): Promise<Reply> {
    if (event.kind === 'overlong') return err(`line too long (more than ${event.limit} octets), command ignored`);
    const parsed = parseCommand(event.text);
    if (!parsed.ok) return err(parsed.error);
    const cmd = parsed.command;
    if (!allowed(this.state.state, cmd.name)) return err(wrongStateText(this.state.state, cmd.name));
    try {
      switch (cmd.name) {
        case 'CAPA':
          return handleCapa(this.env.tlsOffered && !this.state.tls);
        case 'STLS':
          if (!this.env.tlsOffered) return err('STLS is not available on this server');
          if (this.state.tls) return err('this session is already TLS');
          return { ...ok('Begin TLS negotiation'), starttls: true };
        case 'USER':
        case 'PASS':
        case 'APOP':
          return await handleAuth(cmd, this.state, this.env);
        case 'QUIT':
          return this.state.state === 'AUTHORIZATION'
            ? await handleAuth(cmd, this.state, this.env)
            : await handleTransaction(cmd, this.state, this.env);
        default:
          return await handleTransaction(cmd, this.state, this.env);
      }
    } catch (e) {
      this.env.logger.error('command failed', { command: cmd.name, error: e });
      return err(`${cmd.name} failed because of a server error, try again`, 'SYS/TEMP');
    }
  }

  /**
   * The connection is gone (hang-up, idle timeout): leave without UPDATE, so
   * nothing is deleted, and release the lock. A QUIT already in UPDATE
   * finishes its expunge and releases the lock itself.
   */
  disconnect(reason: string): void {
    if (this.state.closed) return;
    this.state.closed = true;
    if (this.state.state === 'TRANSACTION') {
      const marked = this.state.maildrop?.deletedUids().length ?? 0;
      this.env.logger.info('session ended without QUIT, nothing deleted', { reason, unmarked: marked });
      this.state.releaseLock?.();
      this.state.releaseLock = null;
    }
  }
}
