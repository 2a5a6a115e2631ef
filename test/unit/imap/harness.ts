/**
 * Test harness for the IMAP server: a real mbox store on a temp directory,
 * the real account directory, the server on 127.0.0.1 port 0, a memory
 * logger for transcripts, and a raw-socket client for byte-level tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainConfig } from '../../../services/core/src/config';
import { memoryLogger } from '../../../services/core/src/logger';
import { createAccountDirectory } from '../../../services/mail-domain/src/accounts';
import { createImapServer } from '../../../services/mail-domain/src/imap/server';
import { createMailStore, type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';

export const PASSWORD = 'rahasia123';

export interface Lab {
  port: number;
  server: net.Server;
  store: MboxMailStore;
  logs: string[];
  dataDir: string;
  close(): Promise<void>;
}

export interface LabOptions {
  maxLineLength?: number;
  imapMaxLiteral?: number;
  sessionIdle?: number;
  /** Failed-login delay base; short by default so tests with a wrong password stay fast. */
  authFailureDelayMs?: number;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const dataDir = await mkdtemp(join(tmpdir(), 'imap-test-'));
  const domain = {
    name: 'garudayaksa.com',
    accounts: [
      { user: 'mbrain', name: 'Marsel', password: PASSWORD },
      { user: 'siswa1', password: PASSWORD },
    ],
    aliases: {},
  } as unknown as DomainConfig;
  const accounts = createAccountDirectory(domain);
  const store = createMailStore({ dataDir, users: accounts.users(), sidecarDelayMs: 10 });
  await store.init();
  const logger = memoryLogger('debug');
  const server = createImapServer({
    store,
    accounts,
    hostname: 'mail.garudayaksa.com',
    logger,
    limits: {
      maxLineLength: options.maxLineLength ?? 4096,
      imapMaxLiteral: options.imapMaxLiteral ?? 1024 * 1024,
      sessionIdle: options.sessionIdle ?? 60_000,
    },
    authFailureDelayMs: options.authFailureDelayMs ?? 10,
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    server,
    store,
    logs: logger.lines,
    dataDir,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.flush();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A message in wire form. */
export function message(opts: { from?: string; to?: string; subject?: string; body?: string; date?: string; extra?: string } = {}): Buffer {
  const lines = [
    `From: ${opts.from ?? 'Joko Priyono <jpri@dadali.com>'}`,
    `To: ${opts.to ?? 'Marsel <mbrain@garudayaksa.com>'}`,
    `Subject: ${opts.subject ?? 'Hello'}`,
    `Date: ${opts.date ?? 'Tue, 24 Nov 2026 10:00:00 +0700'}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@dadali.com>`,
    ...(opts.extra ? [opts.extra] : []),
    '',
    opts.body ?? 'Hi Marsel,\r\nhow are you?\r\n',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** A raw IMAP client: write bytes, read lines, run tagged commands. */
export class RawClient {
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    await client.readUntil(/^\* OK .*\r\n/m);
    return client;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until the received text matches, returns it all and clears the buffer. */
  async readUntil(re: RegExp, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.buffer)) {
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${re}; got ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const text = this.buffer;
    this.buffer = '';
    return text;
  }

  /** Sends `tag command` and returns everything up to and including the tagged response. */
  async command(tag: string, command: string | Buffer): Promise<string> {
    this.write(typeof command === 'string' ? `${tag} ${command}\r\n` : Buffer.concat([Buffer.from(`${tag} `), command]));
    return this.readUntil(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm'));
  }

  async login(user = 'mbrain'): Promise<void> {
    const r = await this.command('L', `LOGIN ${user} ${PASSWORD}`);
    if (!/^L OK/m.test(r)) throw new Error(r);
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.closed) throw new Error('connection still open');
  }

  close(): void {
    this.socket.destroy();
  }
}
