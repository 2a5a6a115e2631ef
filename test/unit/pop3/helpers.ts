/**
 * Test fixtures for the POP3 server: an account directory built from a
 * lab-style domain (hashed and plain passwords), a real mbox store on a
 * temp directory, a server on 127.0.0.1 port 0, and a raw socket client
 * that reads exact bytes (so CRLF and dot-stuffing can be checked).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountConfig, DomainConfig } from '../../../services/core/src/config';
import { memoryLogger } from '../../../services/core/src/logger';
import { hashPassword } from '../../../services/core/src/password';
import { createAccountDirectory, type AccountDirectory } from '../../../services/mail-domain/src/accounts';
import { createPop3Server, type Pop3ServerOptions } from '../../../services/mail-domain/src/pop3';
import { createMailStore, type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';
import type { MailStore } from '../../../services/mail-domain/src/store/types';

export const DOMAIN = 'lab.test';
export const HOST = 'mail.lab.test';
export const PASSWORD = 'rahasia123';
/** mbrain and siswa2 have scrypt hashes (like the shipped lab); siswa1 has a plain password (APOP works). */
export const USERS = ['mbrain', 'siswa1', 'siswa2'];

let hashed: Promise<string> | undefined;

export async function makeAccounts(options: { plain?: boolean } = {}): Promise<AccountDirectory> {
  hashed ??= hashPassword(PASSWORD, 1024);
  const hash = await hashed;
  const accounts: AccountConfig[] = [
    { user: 'mbrain', name: 'Marsel', passwordHash: hash },
    options.plain === false ? { user: 'siswa1', passwordHash: hash } : { user: 'siswa1', password: PASSWORD },
    { user: 'siswa2', passwordHash: hash },
  ];
  const domain: DomainConfig = {
    name: DOMAIN,
    mailHost: HOST,
    address: '10.0.0.10',
    ports: { smtp: 10025, submission: 10587, pop3: 10110, imap: 10143, admin: 10080 },
    mx: [{ host: HOST, preference: 10 }],
    records: [],
    accounts,
    aliases: {},
  };
  return createAccountDirectory(domain);
}

export interface TempStore {
  store: MboxMailStore;
  dir: string;
  mboxSize(user: string): number;
  cleanup(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'mail-lab-pop3-'));
  const store = createMailStore({ dataDir: dir, users: USERS, sidecarDelayMs: 5 });
  await store.init();
  return {
    store,
    dir,
    mboxSize: (user) => statSync(store.mboxPath(user, 'INBOX')).size,
    cleanup: async () => {
      await store.flush();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A message in wire form (CRLF) from text written with LF. */
export const wire = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
export const message = (subject: string, body = 'Halo.\n') =>
  wire(`From: jpri@dadali.com\nTo: mbrain@${DOMAIN}\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@dadali.com>\n\n${body}`);

export interface StartedServer {
  port: number;
  server: net.Server;
  logger: ReturnType<typeof memoryLogger>;
  connect(): Promise<RawClient>;
  close(): Promise<void>;
}

export async function startServer(
  store: MailStore,
  accounts: AccountDirectory,
  overrides: Partial<Omit<Pop3ServerOptions, 'store' | 'accounts' | 'logger'>> = {},
): Promise<StartedServer> {
  const logger = memoryLogger('debug');
  const server = createPop3Server({
    store,
    accounts,
    hostname: HOST,
    logger,
    limits: { maxLineLength: 512, sessionIdle: 60_000 },
    authFailureDelayMs: 5,
    ...overrides,
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const clients: RawClient[] = [];
  return {
    port,
    server,
    logger,
    connect: async () => {
      const c = await RawClient.connect(port);
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A POP3 client on a raw socket that hands back exact bytes. */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        this.waiter?.();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Waits until the received bytes contain `terminator`; returns everything up to and including it. */
  async readUntil(terminator: string, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.buffer.indexOf(terminator, 0, 'latin1');
      if (at >= 0) {
        const out = this.buffer.subarray(0, at + terminator.length).toString('latin1');
        this.buffer = this.buffer.subarray(at + terminator.length);
        return out;
      }
      if (this.ended) throw new Error(`connection closed while waiting for ${JSON.stringify(terminator)}; got ${JSON.stringify(this.buffer.toString('latin1'))}`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${JSON.stringify(terminator)}; got ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** One response line, without its CRLF. */
  async line(): Promise<string> {
    return (await this.readUntil('\r\n')).slice(0, -2);
  }

  /** The rest of a multi-line response after its status line: raw, including the final `.` CRLF. */
  async multi(): Promise<string> {
    const first = await this.readUntil('\r\n');
    if (first === '.\r\n') return first;
    return first + (await this.readUntil('\r\n.\r\n'));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a command line and returns the status line. */
  async cmd(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.line();
  }

  /** Sends a command expecting a multi-line answer; returns status and raw body. */
  async cmdMulti(line: string): Promise<{ status: string; body: string }> {
    const status = await this.cmd(line);
    if (!status.startsWith('+OK')) return { status, body: '' };
    return { status, body: await this.multi() };
  }

  async login(user: string, password = PASSWORD): Promise<string> {
    const u = await this.cmd(`USER ${user}`);
    if (!u.startsWith('+OK')) return u;
    return this.cmd(`PASS ${password}`);
  }

  /** Bytes received but not yet read. */
  pending(): string {
    return this.buffer.toString('latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Waits for a condition that other code makes true asynchronously. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
