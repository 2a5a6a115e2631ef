/**
 * Watching mbox files from outside the server, the way a student watches
 * `tail -f`: a source hands out the bytes appended since an offset (from
 * the file itself, or from the admin API when the file is inside a
 * container we cannot read), a watcher wakes on fs.watch events and on a
 * short poll and notices when a marker line appears, and a counter counts
 * the messages ("From " separator lines; mboxrd quotes body lines that
 * start with "From ", so every one is a message).
 */
import { watch, type FSWatcher, promises as fs } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { DomainConfig } from '../services/core/src/config';
import { MAIL_API } from '../services/core/src/admin/api';
import type { LabTarget } from '../scripts/lab-target';

export interface MboxSource {
  /** What this is, for messages. */
  readonly label: string;
  /** Local file path when fs.watch can be used. */
  readonly path?: string;
  /** Bytes after `offset` and the current size (smaller than offset: the file was cut or rewritten). */
  readFrom(offset: number): Promise<{ size: number; chunk: string }>;
}

export function fileSource(path: string): MboxSource {
  return {
    label: path,
    path,
    async readFrom(offset) {
      let fh;
      try {
        fh = await fs.open(path, 'r');
      } catch {
        return { size: 0, chunk: '' };
      }
      try {
        const { size } = await fh.stat();
        if (size <= offset) return { size, chunk: '' };
        const buf = Buffer.alloc(size - offset);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        return { size: offset + bytesRead, chunk: buf.subarray(0, bytesRead).toString('latin1') };
      } finally {
        await fh.close();
      }
    },
  };
}

/** The INBOX through `GET /mailbox/:user` (the whole file each time; for the Docker lab). */
export function adminSource(target: LabTarget, domain: DomainConfig, user: string): MboxSource {
  return {
    label: `admin API of ${domain.name}, mailbox ${user}`,
    async readFrom(offset) {
      const { text } = await target.mail(domain.name).call(MAIL_API.mailbox, { user });
      const size = Buffer.byteLength(text, 'latin1');
      return { size, chunk: size > offset ? text.slice(offset) : '' };
    },
  };
}

const SEPARATOR = '\nFrom ';

/** Counts messages in an mbox source incrementally. */
export class MboxCounter {
  private offset = 0;
  private carry = '';
  count = 0;

  constructor(readonly source: MboxSource) {}

  /** Reads what was appended and returns the message count so far. */
  async update(): Promise<number> {
    const { size, chunk } = await this.source.readFrom(this.offset);
    if (size < this.offset) {
      this.offset = 0;
      this.carry = '';
      this.count = 0;
      return this.update();
    }
    if (!chunk) return this.count;
    const text = (this.offset === 0 ? '\n' : this.carry) + chunk;
    for (let i = text.indexOf(SEPARATOR); i >= 0; i = text.indexOf(SEPARATOR, i + 1)) this.count++;
    this.carry = text.slice(-(SEPARATOR.length - 1));
    this.offset = size;
    return this.count;
  }
}

/**
 * Resolves `waitFor(marker)` with performance.now() at the first check that
 * sees the marker in bytes appended after `start()`. Checks on every
 * fs.watch event and every `pollMs`.
 */
export class MboxWatcher {
  private offset = 0;
  private carry = '';
  private readonly pending = new Map<string, { resolve: (t: number) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private poller: NodeJS.Timeout | null = null;
  private fsWatcher: FSWatcher | null = null;
  private checking = false;
  private again = false;

  constructor(
    readonly source: MboxSource,
    private readonly pollMs = 5,
  ) {}

  async start(): Promise<void> {
    this.offset = (await this.source.readFrom(Number.MAX_SAFE_INTEGER)).size;
    this.poller = setInterval(() => void this.check(), this.pollMs);
    if (this.source.path) {
      try {
        this.fsWatcher = watch(this.source.path, () => void this.check());
      } catch {
        // polling alone still works
      }
    }
  }

  stop(): void {
    if (this.poller) clearInterval(this.poller);
    this.fsWatcher?.close();
    for (const [marker, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`stopped while waiting for ${marker}`));
    }
    this.pending.clear();
  }

  waitFor(marker: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(marker);
        reject(new Error(`"${marker}" did not appear in ${this.source.label} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(marker, { resolve, reject, timer });
      void this.check();
    });
  }

  private async check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.again = false;
        const { size, chunk } = await this.source.readFrom(this.offset);
        const at = performance.now();
        if (size < this.offset) {
          this.offset = 0;
          this.carry = '';
          this.again = true;
          continue;
        }
        if (!chunk) continue;
        const text = this.carry + chunk;
        for (const [marker, p] of this.pending) {
          if (!text.includes(marker)) continue;
          clearTimeout(p.timer);
          this.pending.delete(marker);
          p.resolve(at);
        }
        this.carry = text.slice(-200);
        this.offset = size;
      } while (this.again);
    } catch {
      // a failed read is retried by the next poll
    } finally {
      this.checking = false;
    }
  }
}
