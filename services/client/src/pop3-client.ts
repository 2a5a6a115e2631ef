/**
 * A small POP3 client (RFC 1939) over one net.Socket: USER/PASS, STAT, LIST,
 * UIDL, RETR, TOP, DELE, QUIT. Replies are single `+OK`/`-ERR` lines or, for LIST,
 * UIDL, RETR and TOP, multi-line answers ending with a lone `.`, with the
 * byte-stuffing undone (a line that starts with `..` loses one dot). Bytes
 * are kept as latin1 so 8-bit messages come back unchanged.
 */
import { Socket } from 'node:net';
import { ClientError, loginFailed, networkError, timedOut, type Target } from './errors';
import type { Transcript } from './transcript';

/** The server answered `-ERR`. */
export class Pop3Error extends ClientError {
  constructor(readonly command: string, readonly text: string) {
    super(`the POP3 server refused ${command}: -ERR ${text}`);
  }
}

export interface Pop3Connect extends Target {
  /** The address to connect to (host is only used in messages). */
  address: string;
  transcript?: Transcript;
}

const SHOWN_LINES = 12;

export class Pop3Client {
  private buffer = '';
  private scanFrom = 0;
  private failure: ClientError | null = null;
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: Socket, private readonly target: Pop3Connect) {
    socket.setEncoding('latin1');
    socket.setTimeout(target.timeoutMs, () => this.fail(timedOut(target)));
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.notify();
    });
    socket.on('error', (e) => this.fail(networkError(e, target) ?? new ClientError(`${target.host}:${target.port}: ${e.message}`)));
    socket.on('close', () => this.fail(new ClientError(`${target.host}:${target.port} closed the connection`)));
  }

  /** Connects and reads the greeting. */
  static async connect(target: Pop3Connect): Promise<Pop3Client> {
    const socket = new Socket();
    const client = new Pop3Client(socket, target);
    socket.connect(target.port, target.address);
    try {
      const greeting = await client.line();
      if (!greeting.startsWith('+OK')) throw new ClientError(`${target.host}:${target.port} is not a POP3 server (it said: ${greeting})`);
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  async login(user: string, password: string): Promise<void> {
    try {
      await this.command(`USER ${user}`);
      await this.command(`PASS ${password}`, 'PASS ********');
    } catch (e) {
      if (!(e instanceof Pop3Error)) throw e;
      if (e.text.includes('[IN-USE]')) throw new ClientError(`the mailbox of ${user} is in use by another POP3 session; try again when it ends`);
      throw loginFailed(user);
    }
  }

  async stat(): Promise<{ count: number; size: number }> {
    const [count, size] = (await this.command('STAT')).split(' ').map(Number);
    return { count, size };
  }

  async list(): Promise<{ n: number; size: number }[]> {
    await this.command('LIST');
    const text = (await this.multiline()).toString('latin1');
    return text
      .split('\r\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [n, size] = l.trim().split(/\s+/).map(Number);
        return { n, size };
      });
  }

  /**
   * UIDL (RFC 1939 §7): each message's unique-id, which stays the same in
   * every session as long as the message is on the server; a client that
   * leaves mail on the server remembers these to know what it already has.
   */
  async uidl(): Promise<{ n: number; uid: string }[]> {
    await this.command('UIDL');
    const text = (await this.multiline()).toString('latin1');
    return text
      .split('\r\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [n, uid] = l.trim().split(/\s+/);
        return { n: Number(n), uid };
      });
  }

  async retr(n: number): Promise<Buffer> {
    await this.command(`RETR ${n}`);
    return this.multiline();
  }

  async top(n: number, lines = 0): Promise<Buffer> {
    await this.command(`TOP ${n} ${lines}`);
    return this.multiline();
  }

  async dele(n: number): Promise<string> {
    return this.command(`DELE ${n}`);
  }

  /** QUIT: the server now removes the messages marked with DELE. */
  async quit(): Promise<string> {
    const reply = await this.command('QUIT');
    this.close();
    return reply;
  }

  close(): void {
    this.failure ??= new ClientError('connection closed');
    this.socket.destroy();
  }

  private fail(e: ClientError): void {
    this.failure ??= e;
    this.socket.destroy();
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Sends a command, returns the text after `+OK`, throws Pop3Error on `-ERR`. */
  private async command(line: string, shown = line): Promise<string> {
    if (this.failure) throw this.failure;
    this.target.transcript?.('C', shown);
    this.socket.write(line + '\r\n');
    const reply = await this.line();
    if (reply.startsWith('+OK')) return reply.slice(3).trim();
    throw new Pop3Error(shown.split(' ')[0], reply.replace(/^-ERR ?/, ''));
  }

  private async waitFor<T>(take: () => T | null): Promise<T> {
    for (;;) {
      const v = take();
      if (v !== null) return v;
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  private line(): Promise<string> {
    return this.waitFor(() => {
      const i = this.buffer.indexOf('\r\n');
      if (i < 0) return null;
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      this.scanFrom = 0;
      this.target.transcript?.('S', line);
      return line;
    });
  }

  /** The rest of a multi-line answer, without the final `.` and unstuffed, lines ending CRLF. */
  private multiline(): Promise<Buffer> {
    return this.waitFor(() => {
      let end: number;
      if (this.buffer.startsWith('.\r\n')) end = 0;
      else {
        const i = this.buffer.indexOf('\r\n.\r\n', this.scanFrom);
        if (i < 0) {
          this.scanFrom = Math.max(0, this.buffer.length - 4);
          return null;
        }
        end = i + 2;
      }
      const body = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 3);
      this.scanFrom = 0;
      this.show(body);
      return Buffer.from(body.replace(/(^|\r\n)\./g, '$1'), 'latin1');
    });
  }

  private show(body: string): void {
    const t = this.target.transcript;
    if (!t) return;
    const lines = body === '' ? [] : body.slice(0, -2).split('\r\n');
    for (const l of lines.slice(0, SHOWN_LINES)) t('S', l);
    if (lines.length > SHOWN_LINES) t('S', `... (${lines.length - SHOWN_LINES} more lines)`);
    t('S', '.');
  }
}
