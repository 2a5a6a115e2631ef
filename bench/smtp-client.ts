/**
 * A minimal SMTP client for the benchmarks: one TCP connection, one command
 * at a time (no pipelining, the same for every server we measure), every
 * reply awaited with a timeout. It speaks just enough of RFC 5321 to send
 * a message (EHLO, AUTH PLAIN, MAIL, RCPT, DATA with dot-stuffing, RSET,
 * QUIT) and returns the final reply to DATA together with the moment it
 * arrived, which is what the latency benchmark measures from.
 */
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Reply {
  code: number;
  text: string;
  /** performance.now() when the last line of the reply arrived. */
  at: number;
}

export class SmtpReplyError extends Error {
  constructor(
    readonly command: string,
    readonly reply: Reply,
  ) {
    super(`${command} -> ${reply.code} ${reply.text.split('\r\n').pop()}`);
  }
}

export class SmtpClient {
  private buffer = '';
  private lines: string[] = [];
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private ready: Reply[] = [];
  private failure: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (d: string) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  /** Connects and reads the 220 greeting. */
  static connect(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<SmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.connect(port, host, () => {
        clearTimeout(timer);
        const client = new SmtpClient(socket, timeoutMs);
        client.next('greeting').then((r) => {
          if (r.code !== 220) {
            client.close();
            reject(new SmtpReplyError('greeting', r));
          } else resolve(client);
        }, reject);
      });
    });
  }

  private onData(d: string): void {
    this.buffer += d;
    let i: number;
    while ((i = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      this.lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply: Reply = { code: Number(line.slice(0, 3)), text: this.lines.map((l) => l.slice(4)).join('\r\n'), at: performance.now() };
        this.lines = [];
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          clearTimeout(w.timer);
          w.resolve(reply);
        } else this.ready.push(reply);
      }
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      clearTimeout(w.timer);
      w.reject(e);
    }
  }

  private next(what: string): Promise<Reply> {
    const queued = this.ready.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`no reply to ${what} within ${this.timeoutMs} ms`));
        this.socket.destroy();
      }, this.timeoutMs);
      this.waiting = { resolve, reject, timer };
    });
  }

  /** Sends one command line; resolves with its reply; rejects unless the code is `expect`. */
  async command(line: string, expect: number): Promise<Reply> {
    this.socket.write(line + '\r\n');
    const verb = line.split(' ')[0];
    const r = await this.next(verb);
    if (Math.floor(r.code / 100) !== Math.floor(expect / 100)) throw new SmtpReplyError(verb, r);
    return r;
  }

  ehlo(name: string): Promise<Reply> {
    return this.command(`EHLO ${name}`, 250);
  }

  authPlain(user: string, password: string): Promise<Reply> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`, 235);
  }

  /** One transaction: MAIL, RCPT (each), DATA; the final reply is returned (250 or thrown). */
  async send(from: string, to: string[], message: Buffer): Promise<Reply> {
    await this.command(`MAIL FROM:<${from}>`, 250);
    for (const rcpt of to) await this.command(`RCPT TO:<${rcpt}>`, 250);
    await this.command('DATA', 354);
    this.socket.write(dotStuff(message));
    this.socket.write('.\r\n');
    const r = await this.next('end of DATA');
    if (r.code !== 250) throw new SmtpReplyError('DATA', r);
    return r;
  }

  /** QUIT (bounded) and close. */
  async quit(): Promise<void> {
    try {
      await this.command('QUIT', 221);
    } catch {
      // the connection is closed either way
    }
    this.close();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** RFC 5321 4.5.2: a line starting with "." gets another; the message must end with CRLF. */
export function dotStuff(message: Buffer): Buffer {
  let text = message.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}

/**
 * A test message of exactly `size` octets (CRLF lines), with a marker
 * header and a last body line naming `id`, so that a watcher knows when the
 * whole message is in a mailbox file.
 */
export function benchMessage(o: { id: string; from: string; to: string; size: number }): Buffer {
  const head =
    `From: Bench <${o.from}>\r\nTo: <${o.to}>\r\nSubject: mail-lab bench ${o.id}\r\n` +
    `Message-ID: <${o.id}@bench.invalid>\r\nDate: ${new Date().toUTCString().replace('GMT', '+0000')}\r\nX-Bench-Id: ${o.id}\r\n\r\n`;
  const tail = `${endMarker(o.id)}\r\n`;
  let body = '';
  const filler = 'The quick brown fox jumps over the lazy dog; mail-lab measures itself. 0123456789';
  let room = o.size - head.length - tail.length;
  while (room > 2) {
    const n = Math.min(room - 2, 76);
    body += filler.slice(0, n) + '\r\n';
    room -= n + 2;
  }
  return Buffer.from(head + body + tail, 'latin1');
}

/** The last body line of a bench message: seen in the mailbox means all of it is there. */
export const endMarker = (id: string) => `end of bench message ${id}`;
