/**
 * The trace journal: what happened to each message on this server, for
 * `mail-lab trace <message-id>`. One JSON object per line in
 * `<dataDir>/trace.jsonl`: the SMTP session that brought a message in (its
 * wire transcript, passwords already masked by smtp-server), the queue's
 * record once the message is done (every attempt, with the MX answers used
 * and the outbound transcript), and each time a POP3 or IMAP user read it.
 * Diagnostic data: appended without fsync, the events of one turn of the
 * event loop together; rotated to `trace.jsonl.1` past `maxBytes`.
 */
import { appendFileSync, existsSync, promises as fsp, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { headerPart } from '../message-headers';
import { turnBatch } from '../../../core/src/turn-batch';
import type { SessionEvent } from './sessions';
import type { ActivityMark } from '../../../core/src/admin/api';

/** A self-check (`npx mail-lab scenario`) started or ended: its records are the runner's, not a student's. Kept as the admin API serves it. */
export type MarkEvent = ActivityMark;

/** What happened to one message (found by `find`). */
export type MessageTraceEvent =
  | { kind: 'smtp-in'; time: string; domain: string; queueId: string; messageId?: string; subject?: string; port: number; peer: string; helo?: string; user?: string; transcript: string[] }
  | { kind: 'queue'; time: string; domain: string; queueId: string; messageId?: string; entry: unknown }
  | { kind: 'retrieved'; time: string; domain: string; messageId?: string; protocol: 'pop3' | 'imap'; user: string; folder: string; uid: number };

export type TraceEvent = MessageTraceEvent | SessionEvent | MarkEvent;

export class TraceJournal {
  private readonly file: string;
  private readonly listeners = new Set<(event: TraceEvent) => void>();
  /** Octets in the file as this journal wrote them (null: read it from the file at the next add). */
  private size: number | null = null;
  /** The lines of this turn, appended at its end (or at `flush`), with the rotation first. */
  private readonly lines = turnBatch((text) => this.append(text), Infinity);

  constructor(dataDir: string, private readonly maxBytes = 50 * 1024 * 1024) {
    this.file = join(dataDir, 'trace.jsonl');
  }

  /** Calls `listener` with every event added from now on (the live event stream); returns the unsubscribe. */
  subscribe(listener: (event: TraceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(event: TraceEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure is not the journal's.
      }
    }
    this.lines.push(JSON.stringify(event));
  }

  /**
   * Writes the events added since the last write, in one append: a busy queue adds several per
   * message, and an open, write and close of the file each cost it a syscall on the event loop.
   * Called at the end of every turn that added events, before every read of the journal, and on
   * exit, so a reader in this process never misses an event added before it asked.
   */
  flush(): void {
    this.lines.flush();
  }

  private append(text: string): void {
    try {
      // The size is read from the file once, then counted (a stat per event cost a busy queue a syscall per line).
      if (this.size === null) this.size = existsSync(this.file) ? statSync(this.file).size : 0;
      if (this.size > this.maxBytes) {
        renameSync(this.file, this.file + '.1');
        this.size = 0;
      }
      appendFileSync(this.file, text);
      this.size += Buffer.byteLength(text);
    } catch {
      // A trace is a teaching aid: never let it break mail delivery.
      this.size = null;
    }
  }

  /**
   * Every event of the given kinds from `since` on, oldest first (the rotated file, then the
   * current one): the records `npx mail-lab check` reads. Lines of other kinds and older lines
   * are skipped before parsing (kind and time are the first two fields of every line).
   */
  async since(since: Date | undefined, kinds: readonly TraceEvent['kind'][]): Promise<TraceEvent[]> {
    // A session that ended as the question came (the student's QUIT, then `check` at once) is
    // recorded when the server sees its connection close, a few milliseconds later: give it 10 ms.
    await new Promise((r) => setTimeout(r, 10));
    this.flush();
    const wanted = kinds.map((k) => `{"kind":"${k}","time":"`);
    const after = since?.toISOString();
    const out: TraceEvent[] = [];
    for (const f of [this.file + '.1', this.file]) {
      let text: string;
      try {
        text = await fsp.readFile(f, 'utf8');
      } catch {
        continue;
      }
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        const prefix = wanted.find((w) => text.startsWith(w, start));
        if (prefix && (!after || text.slice(start + prefix.length, start + prefix.length + 24) >= after)) {
          try {
            out.push(JSON.parse(text.slice(start, end)) as TraceEvent);
          } catch {
            // A line cut by a crash: skip it.
          }
        }
        start = end + 1;
      }
    }
    return out;
  }

  /** Events about a message, by Message-ID (with or without <>) or queue id, oldest first. */
  find(id: string): MessageTraceEvent[] {
    this.flush();
    const wanted = id.replace(/^<|>$/g, '');
    const out: MessageTraceEvent[] = [];
    const queueIds = new Set<string>([wanted]);
    for (const f of [this.file + '.1', this.file]) {
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      // Cheap pre-filter: only lines that mention the id are parsed.
      let pos = 0;
      while ((pos = text.indexOf(wanted, pos)) >= 0) {
        const start = text.lastIndexOf('\n', pos) + 1;
        const end = text.indexOf('\n', pos);
        const line = text.slice(start, end < 0 ? undefined : end);
        pos = end < 0 ? text.length : end;
        try {
          const e = JSON.parse(line) as TraceEvent;
          if (e.kind === 'session' || e.kind === 'mark') continue;
          if (e.messageId?.replace(/^<|>$/g, '') === wanted || ('queueId' in e && queueIds.has(e.queueId))) {
            out.push(e);
            if ('queueId' in e) queueIds.add(e.queueId);
          }
        } catch {
          // A line cut by a crash: skip it.
        }
      }
    }
    return out;
  }
}

/** The Message-ID and Subject from a message's header section. */
export function messageIdentity(message: Buffer): { messageId?: string; subject?: string } {
  const head = message.subarray(0, 16 * 1024).toString('latin1');
  const headers = headerPart(head, { breaks: 'any', upTo: 'fields' }).replace(/\r?\n[ \t]+/g, ' ');
  const messageId = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(headers)?.[1];
  const subject = /^Subject:[ \t]*(.*)$/im.exec(headers)?.[1]?.trim();
  return { messageId, subject };
}
