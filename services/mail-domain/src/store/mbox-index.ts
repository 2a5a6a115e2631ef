/**
 * The persistent index of one mbox folder (issue 15): a cache file beside
 * the IMAP sidecar, `state/<user>/<folder>.index`, holding for every message
 * what loading the folder would otherwise compute by reading the whole mbox
 * file: its offsets, wire size, content hash (the sidecar's match key), the
 * date of its `From ` line, and its header section in wire form (what
 * ENVELOPE, HEADER.FIELDS and header SEARCHes read). Dovecot's index and
 * cache files are the model.
 *
 * The mbox file stays the single source of truth. The index is valid only
 * for the exact mbox file it was made from: its header records the mbox's
 * size, mtime and inode, the index file's own length and a CRC-32 of all its
 * records; anything else (a hand edit, a crash between the mbox append and
 * the index update, a torn or truncated index write, a deleted index) makes
 * it invalid and it is rebuilt by one streaming pass over the mbox, with
 * memory bounded by the largest message rather than the mailbox.
 *
 * An append adds its records at the end and rewrites the fixed header:
 * O(1) in the size of the mailbox. Layout (little-endian): a 64-octet header
 * (`MLIDX001`, mbox size, mtimeMs, inode, record count, index length as
 * doubles, CRC-32), then per message 72 octets (start, bodyStart, bodyEnd,
 * end, wire size, From-line date as doubles, 20-octet key, header length)
 * followed by the header octets.
 */
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fromMboxBody, parseSeparatorDate, wireSize } from './mbox-format';
import { headerPart } from '../message-headers';
import type { FileStamp } from './folder-state';

const MAGIC = 'MLIDX001';
export const INDEX_HEADER = 64;
const FIXED = 72;
/** Octets read from the mbox per step while scanning it. */
const SCAN_CHUNK = 4 * 1024 * 1024;
/** Octets of records collected before the index writer writes them. */
const WRITE_BATCH = 1024 * 1024;

/** One message of the mbox, as the index knows it. */
export interface IndexRecord {
  start: number;
  bodyStart: number;
  bodyEnd: number;
  end: number;
  /** Wire size (CRLF), as RFC822.SIZE and POP3 report it. */
  size: number;
  /** The date of the `From ` separator line, or NaN when it has none we understand. */
  date: number;
  /** Hash of the stored body: how the sidecar's UIDs and flags find their message. */
  key: string;
  /** Where the header section (wire form) lies in the index file. */
  headAt: number;
  headLen: number;
}

/** What is known about an index file that is valid for the mbox now. */
export interface IndexFile {
  path: string;
  ino: number;
  length: number;
  crc: number;
  count: number;
}

export const hashBody = (body: Buffer) => createHash('sha1').update(body).digest('base64').slice(0, 20);

/** The header section of a stored body in wire form: what `readMany(…, 'header')` returns. */
export const storedHeader = (stored: Buffer): Buffer => fromMboxBody(headerPart(stored, { breaks: 'lf', emptyFirstLine: true, upTo: 'blank' }));

/** A message as found by the scan: offsets, its separator line and its stored body. */
export interface ScannedMessage {
  start: number;
  bodyStart: number;
  bodyEnd: number;
  end: number;
  separator: string;
  body: Buffer;
}

/**
 * Splits an mbox file into messages exactly as `splitMbox` does, reading it
 * in chunks: a message starts at `From ` at the very start of the file or
 * after an empty line (the first `\nFrom ` anywhere when the file has
 * leading garbage). Only the message being assembled is held in memory
 * (and one chunk of `chunkSize` octets).
 */
export async function scanMbox(path: string, onMessage: (m: ScannedMessage) => void | Promise<void>, chunkSize = SCAN_CHUNK): Promise<number> {
  const fh = await fs.open(path, 'r');
  try {
    const w = new ReadWindow(fh, chunkSize, 0);
    let pending = -1; // file offset of the message being assembled
    let scanAt = 0; // file offset where the next search starts
    let first = true;
    const emit = async (start: number, end: number) => {
      const m = w.data().subarray(start - w.base, end - w.base);
      const lineEnd = m.indexOf(0x0a);
      const bodyStart = lineEnd < 0 ? m.length : lineEnd + 1;
      let bodyEnd = m.length;
      if (bodyEnd - bodyStart >= 1 && m[bodyEnd - 1] === 0x0a && (bodyEnd - 2 < bodyStart || m[bodyEnd - 2] === 0x0a)) bodyEnd -= 1;
      await onMessage({ start, bodyStart: start + bodyStart, bodyEnd: start + bodyEnd, end, separator: m.toString('latin1', 0, bodyStart).trimEnd(), body: m.subarray(bodyStart, bodyEnd) });
    };
    for (;;) {
      const more = await w.more();
      let data = w.data();
      if (first && (data.length >= 5 || !more)) {
        first = false;
        if (data.toString('latin1', 0, 5) === 'From ') pending = 0;
      }
      for (;;) {
        const i = data.indexOf('\nFrom ', scanAt - w.base, 'latin1');
        if (i < 0) {
          scanAt = Math.max(scanAt, w.base + data.length - 5);
          break;
        }
        const abs = w.base + i;
        // Accept only separators after an empty line, or the first one anywhere.
        if (!((i > 0 && data[i - 1] === 0x0a) || pending < 0)) {
          scanAt = abs + 1;
          continue;
        }
        if (pending >= 0) await emit(pending, abs + 1);
        data = w.data();
        pending = abs + 1;
        scanAt = pending;
      }
      if (!more) break;
      // Keep only the message being assembled (or, in leading garbage, what a separator spanning the next chunk needs).
      w.drop(pending >= 0 ? pending : Math.max(w.base, w.base + data.length - 8));
    }
    if (pending >= 0) await emit(pending, w.base + w.data().length);
    return w.pos;
  } finally {
    await fh.close();
  }
}

/**
 * A file read forward through one buffer that is reused (and grows only for
 * a message larger than it): no large buffer per chunk for the collector
 * and the allocator to deal with. `data()` holds the octets from file
 * offset `base` on.
 */
class ReadWindow {
  private buf: Buffer;
  private len = 0;
  /** Next file offset to read. */
  pos: number;

  constructor(
    private readonly fh: FileHandle,
    private readonly chunk: number,
    public base: number,
  ) {
    this.buf = Buffer.allocUnsafe(chunk * 2);
    this.pos = base;
  }

  data(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Reads the next chunk (up to file offset `limit`) after what is held; false at the end. */
  async more(limit = Infinity): Promise<boolean> {
    const want = Math.min(this.chunk, limit - this.pos);
    if (want <= 0) return false;
    if (this.len + want > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + want));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    const { bytesRead } = await this.fh.read(this.buf, this.len, want, this.pos);
    this.len += bytesRead;
    this.pos += bytesRead;
    return bytesRead > 0;
  }

  /** Forgets the octets before file offset `to`. */
  drop(to: number): void {
    const n = to - this.base;
    if (n <= 0) return;
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    this.base = to;
  }
}

/** The index record of a scanned message; `headAt` is set when it is written. */
export function recordOf(m: Pick<ScannedMessage, 'start' | 'bodyStart' | 'bodyEnd' | 'end' | 'separator' | 'body'>): { record: IndexRecord; head: Buffer } {
  const head = storedHeader(m.body);
  const date = parseSeparatorDate(m.separator)?.getTime() ?? NaN;
  return {
    record: { start: m.start, bodyStart: m.bodyStart, bodyEnd: m.bodyEnd, end: m.end, size: wireSize(m.body), date, key: hashBody(m.body), headAt: 0, headLen: head.length },
    head,
  };
}

function encode(r: IndexRecord, head: Buffer): Buffer {
  const b = Buffer.alloc(FIXED + head.length);
  [r.start, r.bodyStart, r.bodyEnd, r.end, r.size, r.date].forEach((v, i) => b.writeDoubleLE(v, i * 8));
  b.write(r.key.padEnd(20).slice(0, 20), 48, 20, 'latin1');
  b.writeUInt32LE(head.length, 68);
  head.copy(b, FIXED);
  return b;
}

function headerBlock(stamp: FileStamp, count: number, length: number, crc: number): Buffer {
  const b = Buffer.alloc(INDEX_HEADER);
  b.write(MAGIC, 0, 'latin1');
  [stamp.size, stamp.mtimeMs, stamp.ino, count, length].forEach((v, i) => b.writeDoubleLE(v, 8 + i * 8));
  b.writeUInt32LE(crc >>> 0, 48);
  return b;
}

/**
 * Writes a new index (a temp file renamed over the old one at `finish`, so
 * a reader sees the old or the new one), record by record in large writes.
 * `add` sets each record's `headAt`.
 */
export class IndexWriter {
  private length = INDEX_HEADER;
  private crc = 0;
  private count = 0;
  private batch: Buffer[] = [];
  private batchLength = 0;
  private written = INDEX_HEADER;

  private constructor(
    private readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(path: string): Promise<IndexWriter> {
    const tmp = `${path}.tmp-${process.pid}`;
    return new IndexWriter(path, tmp, await fs.open(tmp, 'w', 0o600));
  }

  async add(record: IndexRecord, head: Buffer): Promise<void> {
    const data = encode(record, head);
    record.headAt = this.length + FIXED;
    this.crc = crc32(data, this.crc);
    this.length += data.length;
    this.count++;
    this.batch.push(data);
    this.batchLength += data.length;
    if (this.batchLength >= WRITE_BATCH) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.batch.length) return;
    const data = Buffer.concat(this.batch);
    this.batch = [];
    this.batchLength = 0;
    await this.fh.write(data, 0, data.length, this.written);
    this.written += data.length;
  }

  /** Writes the header for the mbox `stamp` and puts the index in place. */
  async finish(stamp: FileStamp): Promise<IndexFile> {
    try {
      await this.flush();
      await this.fh.write(headerBlock(stamp, this.count, this.length, this.crc), 0, INDEX_HEADER, 0);
    } finally {
      await this.fh.close();
    }
    await fs.rename(this.tmp, this.path);
    const ino = (await fs.stat(this.path)).ino;
    return { path: this.path, ino, length: this.length, crc: this.crc, count: this.count };
  }

  /** Throws the temp file away (the mbox changed while it was read). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await fs.unlink(this.tmp).catch(() => undefined);
  }
}

/** Writes a new index for `stamp` from records and their header sections (see IndexWriter). */
export async function writeIndex(path: string, stamp: FileStamp, items: Iterable<{ record: IndexRecord; head: Buffer }>): Promise<IndexFile> {
  const w = await IndexWriter.create(path);
  try {
    for (const { record, head } of items) await w.add(record, head);
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.finish(stamp);
}

/**
 * Builds the index of an mbox file by one streaming pass over it. When the
 * file changed during the pass (a hand edit), the records are still
 * returned but no index is kept (`file` null): the next load tries again.
 */
export async function buildIndex(mboxPath: string, indexPath: string, stamp: FileStamp): Promise<{ file: IndexFile | null; records: IndexRecord[] }> {
  const w = await IndexWriter.create(indexPath);
  const records: IndexRecord[] = [];
  try {
    await scanMbox(mboxPath, async (m) => {
      const { record, head } = recordOf(m);
      records.push(record);
      await w.add(record, head);
    });
  } catch (e) {
    await w.abort();
    throw e;
  }
  const after = await fs.stat(mboxPath).catch(() => null);
  if (!after || after.size !== stamp.size || after.mtimeMs !== stamp.mtimeMs || after.ino !== stamp.ino) {
    await w.abort();
    return { file: null, records };
  }
  return { file: await w.finish(stamp), records };
}

/**
 * Adds records at the end of a valid index and moves its header to the new
 * mbox stamp: the records first, then the header, so a crash in between
 * leaves an index whose length does not match (rebuilt on the next load).
 */
export async function appendIndex(file: IndexFile, stamp: FileStamp, items: Array<{ record: IndexRecord; head: Buffer }>): Promise<IndexFile> {
  const parts: Buffer[] = [];
  let length = file.length;
  let crc = file.crc;
  for (const { record, head } of items) {
    const data = encode(record, head);
    record.headAt = length + FIXED;
    crc = crc32(data, crc);
    length += data.length;
    parts.push(data);
  }
  const fh = await fs.open(file.path, 'r+');
  try {
    const st = await fh.stat();
    if (st.ino !== file.ino || st.size !== file.length) throw new Error('index file changed under us');
    const data = Buffer.concat(parts);
    await fh.write(data, 0, data.length, file.length);
    const count = file.count + items.length;
    await fh.write(headerBlock(stamp, count, length, crc), 0, INDEX_HEADER, 0);
    return { ...file, length, crc, count };
  } finally {
    await fh.close();
  }
}

/**
 * Reads an index if it is valid for the mbox file with `stamp` (magic,
 * stamp, length and CRC all match), streaming it: the header sections are
 * checked but not kept. Null when missing or invalid.
 */
export async function readIndex(path: string, stamp: FileStamp): Promise<{ file: IndexFile; records: IndexRecord[] } | null> {
  let fh: FileHandle;
  try {
    fh = await fs.open(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    const head = Buffer.alloc(INDEX_HEADER);
    if ((await fh.read(head, 0, INDEX_HEADER, 0)).bytesRead !== INDEX_HEADER || head.toString('latin1', 0, 8) !== MAGIC) return null;
    const [size, mtimeMs, ino, count, length] = [0, 1, 2, 3, 4].map((i) => head.readDoubleLE(8 + i * 8));
    const crcWanted = head.readUInt32LE(48);
    if (size !== stamp.size || mtimeMs !== stamp.mtimeMs || ino !== stamp.ino || length !== st.size) return null;
    const records: IndexRecord[] = [];
    let crc = 0;
    const w = new ReadWindow(fh, SCAN_CHUNK, INDEX_HEADER);
    let at = INDEX_HEADER; // file offset of the next record
    while (at < length) {
      if (!(await w.more(length))) return null; // a record cut short
      const data = w.data();
      let off = at - w.base;
      while (data.length - off >= FIXED && data.length - off >= FIXED + data.readUInt32LE(off + 68)) {
        const headLen = data.readUInt32LE(off + 68);
        const total = FIXED + headLen;
        crc = crc32(data.subarray(off, off + total), crc);
        const d = (i: number) => data.readDoubleLE(off + i * 8);
        records.push({ start: d(0), bodyStart: d(1), bodyEnd: d(2), end: d(3), size: d(4), date: d(5), key: data.toString('latin1', off + 48, off + 68).trimEnd(), headAt: w.base + off + FIXED, headLen });
        off += total;
      }
      at = w.base + off;
      w.drop(at);
    }
    if ((crc >>> 0) !== crcWanted || records.length !== count) return null;
    return { file: { path, ino: st.ino, length, crc: crcWanted, count }, records };
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}
