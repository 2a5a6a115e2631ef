/**
 * The benchmark's IMAP and POP3 clients: raw sockets on 127.0.0.1, the same
 * code for both servers, doing as little as possible so the time measured is
 * the server's. The IMAP reader is literal-aware (a `{n}` at the end of a
 * line is followed by n octets that are skipped unread), counts untagged
 * responses and keeps only what a command's result needs (SEARCH numbers).
 * The POP3 reader finds the end of a multi-line reply (`CRLF.CRLF`).
 * Every wait has a deadline.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ImapResult {
  /** Tagged status line, e.g. `a3 OK Fetch completed`. */
  status: string;
  ms: number;
  /** Untagged responses (lines starting with `* `). */
  untagged: number;
  /** Octets received for this command. */
  octets: number;
  /** Numbers of the `* SEARCH` responses. */
  search: number[];
}

function connect(port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to 127.0.0.1:${port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Feeds received chunks to whoever waits; fails waits when the socket closes or a deadline passes. */
class Inbox {
  private handler: ((chunk: Buffer) => void) | null = null;
  private held: Buffer[] = [];
  private failure: Error | null = null;
  private fail: ((e: Error) => void) | null = null;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => (this.handler ? this.handler(chunk) : this.held.push(chunk)));
    const closed = (e?: Error) => {
      this.failure = e ?? new Error('connection closed by the server');
      this.fail?.(this.failure);
    };
    socket.on('error', closed);
    socket.on('close', () => closed());
  }

  /** Runs `consume` on every chunk until it returns true. */
  until(consume: (chunk: Buffer) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timeout after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      let done = false;
      const finish = (e?: Error) => {
        done = true;
        clearTimeout(timer);
        this.handler = null;
        this.fail = null;
        if (e) reject(e);
        else resolve();
      };
      this.fail = finish;
      const handler = (chunk: Buffer) => {
        try {
          if (consume(chunk)) finish();
        } catch (e) {
          finish(e as Error);
        }
      };
      this.handler = handler;
      const held = this.held.splice(0);
      for (let i = 0; i < held.length; i++) {
        if (done) {
          this.held.unshift(...held.slice(i));
          break;
        }
        handler(held[i]);
      }
      if (!done && this.failure) finish(this.failure);
    });
  }
}

export class ImapClient {
  private next = 0;
  private constructor(private readonly inbox: Inbox) {}

  static async connect(port: number, timeoutMs = 10_000): Promise<ImapClient> {
    const client = new ImapClient(new Inbox(await connect(port, timeoutMs)));
    let greeting = '';
    await client.inbox.until((c) => (greeting += c.toString('latin1')).includes('\r\n'), timeoutMs, 'the IMAP greeting');
    if (!greeting.startsWith('* OK')) throw new Error(`unexpected IMAP greeting: ${greeting.trim()}`);
    return client;
  }

  /** APPEND with a LITERAL+ literal (RFC 7888; both servers announce it): one write, no continuation round trip. */
  append(mailbox: string, flags: string, message: Buffer, timeoutMs: number): Promise<ImapResult> {
    return this.run(`APPEND ${mailbox} ${flags} {${message.length}+}`, timeoutMs, message);
  }

  /** Sends one command (with `data` as its literal and a CRLF after the line, if given) and reads to its tagged response; throws unless it is OK. */
  async run(command: string, timeoutMs: number, data?: Buffer): Promise<ImapResult> {
    const tag = `b${++this.next}`;
    const result: ImapResult = { status: '', ms: 0, untagged: 0, octets: 0, search: [] };
    let line: Buffer[] = [];
    let literal = 0;
    const endLine = (text: string) => {
      if (text.startsWith('* ')) {
        result.untagged++;
        if (text.startsWith('* SEARCH')) for (const n of text.slice(8).trim().split(' ')) if (n) result.search.push(Number(n));
        const m = /\{(\d+)\}$/.exec(text);
        if (m) literal = Number(m[1]);
        return false;
      }
      const m = /\{(\d+)\}$/.exec(text);
      if (m) {
        literal = Number(m[1]);
        return false;
      }
      if (text.startsWith(tag + ' ')) {
        result.status = text;
        return true;
      }
      return false;
    };
    const consume = (chunk: Buffer): boolean => {
      result.octets += chunk.length;
      let pos = 0;
      while (pos < chunk.length) {
        if (literal > 0) {
          const take = Math.min(literal, chunk.length - pos);
          literal -= take;
          pos += take;
          continue;
        }
        const lf = chunk.indexOf(0x0a, pos);
        if (lf < 0) {
          line.push(chunk.subarray(pos));
          return false;
        }
        line.push(chunk.subarray(pos, lf + 1));
        pos = lf + 1;
        const text = Buffer.concat(line).toString('latin1').replace(/\r?\n$/, '');
        line = [];
        // A literal inside an untagged response continues the same response afterwards.
        if (endLine(text)) return true;
      }
      return false;
    };
    const start = performance.now();
    this.inbox.socket.write(data ? Buffer.concat([Buffer.from(`${tag} ${command}\r\n`), data, Buffer.from('\r\n')]) : `${tag} ${command}\r\n`);
    await this.inbox.until(consume, timeoutMs, `the reply to ${command}`);
    result.ms = performance.now() - start;
    if (!/^\S+ OK/.test(result.status)) throw new Error(`${command}: ${result.status}`);
    return result;
  }

  close(): void {
    this.inbox.socket.destroy();
  }
}

export class Pop3Client {
  private constructor(private readonly inbox: Inbox) {}

  static async connect(port: number, timeoutMs = 10_000): Promise<Pop3Client> {
    const client = new Pop3Client(new Inbox(await connect(port, timeoutMs)));
    const greeting = await client.reply(false, timeoutMs);
    if (!greeting.first.startsWith('+OK')) throw new Error(`unexpected POP3 greeting: ${greeting.first}`);
    return client;
  }

  private async reply(multi: boolean, timeoutMs: number): Promise<{ first: string; octets: number }> {
    let head = '';
    let octets = 0;
    let tail = Buffer.alloc(0);
    let firstDone = false;
    await this.inbox.until(
      (chunk) => {
        octets += chunk.length;
        if (!firstDone) {
          head += chunk.toString('latin1', 0, Math.min(chunk.length, 512));
          const eol = head.indexOf('\r\n');
          if (eol < 0) return false;
          firstDone = true;
          head = head.slice(0, eol);
          if (!multi || !head.startsWith('+OK')) return true;
        }
        // The end of a multi-line reply: CRLF . CRLF (a lone dot line; dot-stuffing keeps others apart).
        const window = Buffer.concat([tail, chunk.length > 8 ? chunk.subarray(chunk.length - 8) : chunk]);
        tail = window.subarray(Math.max(0, window.length - 8));
        return window.includes('\r\n.\r\n');
      },
      timeoutMs,
      'a POP3 reply',
    );
    return { first: head, octets };
  }

  /** Sends a command; `multi` for commands answered with a multi-line reply (RETR, LIST, UIDL). */
  async run(command: string, multi: boolean, timeoutMs: number): Promise<{ first: string; octets: number }> {
    this.inbox.socket.write(command + '\r\n');
    const r = await this.reply(multi, timeoutMs);
    if (!r.first.startsWith('+OK')) throw new Error(`${command.split(' ')[0]}: ${r.first}`);
    return r;
  }

  close(): void {
    this.inbox.socket.destroy();
  }
}
