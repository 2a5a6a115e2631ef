/**
 * Bare POP3 and IMAP over a socket for the crash tests: send a line, wait
 * for a reply, nothing hidden. The replies are kept as text (latin1).
 */
import { Socket } from 'node:net';

export class LineClient {
  private buffer = '';
  private closed = false;
  private waiters: (() => void)[] = [];
  private tag = 0;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.waiters.splice(0).forEach((w) => w());
    });
    const end = () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      s.once('error', reject);
      s.connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(new LineClient(s));
      });
    });
  }

  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  /** Waits until the text received since the last wait matches `done`; returns that text and consumes it. */
  async until(done: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = done.exec(this.buffer);
      if (m) {
        const text = this.buffer.slice(0, m.index + m[0].length);
        this.buffer = this.buffer.slice(m.index + m[0].length);
        return text;
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${done}; got: ${this.buffer.slice(0, 300)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply matching ${done} within ${timeoutMs} ms; got: ${this.buffer.slice(0, 300)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** POP3: one command, its status line (and, for listings, everything up to the final dot). */
  async pop(line: string, multi = false): Promise<string> {
    this.send(line);
    const first = await this.until(/^[+-][^\r\n]*\r\n/m);
    if (!first.startsWith('+OK') || !multi) return first;
    return first + (await this.until(/\r\n\.\r\n/));
  }

  /** IMAP: one tagged command; resolves with everything up to its tagged status line; rejects on NO/BAD. */
  async imap(command: string, timeoutMs?: number): Promise<string> {
    const tag = `t${++this.tag}`;
    this.send(`${tag} ${command}`);
    const text = await this.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`), timeoutMs);
    if (!new RegExp(`(^|\\r\\n)${tag} OK`).test(text)) throw new Error(`IMAP ${command} failed: ${text.slice(-300)}`);
    return text;
  }

  close(): void {
    this.socket.destroy();
  }
}
