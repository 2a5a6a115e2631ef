/**
 * Group commit of appends to one folder. Appends that wait for the folder's
 * turn (the user's mutex) are written together when the turn comes: one
 * journal, one write, one fsync of the mbox file, one index and sidecar
 * record (mbox-store's appendMany); each caller is answered only after that
 * fsync, so "stored" still means "on disk". With 20 deliveries at once into
 * a handful of mailboxes, the four fsyncs of every single append were what
 * limited a queue's drain (issue 15 §4). One batch holds at most
 * `maxCount` messages and `maxBytes` octets (the first always goes); the
 * rest wait for the next turn, which is taken at once.
 */

interface Pending<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface AppendBatchOptions<I, R> {
  /** Runs `work` in the user's turn (the store's mutex). */
  turn: (user: string, work: () => Promise<void>) => Promise<void>;
  /** Writes the items of one batch, in order; one result per item. */
  write: (user: string, folder: string, items: I[]) => Promise<R[]>;
  /** The size of an item, octets. */
  bytes: (item: I) => number;
  /** @default 64 */
  maxCount?: number;
  /** @default 16 MiB */
  maxBytes?: number;
}

export class AppendBatcher<I, R> {
  private readonly waiting = new Map<string, Pending<I, R>[]>();
  private readonly maxCount: number;
  private readonly maxBytes: number;

  constructor(private readonly o: AppendBatchOptions<I, R>) {
    this.maxCount = o.maxCount ?? 64;
    this.maxBytes = o.maxBytes ?? 16 * 1024 * 1024;
  }

  /** Appends `item` to `folder` of `user`, with whatever else waits for the same folder. */
  add(user: string, folder: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const key = `${user}\0${folder}`;
      const list = this.waiting.get(key);
      if (list) {
        list.push({ item, resolve, reject });
        return;
      }
      this.waiting.set(key, [{ item, resolve, reject }]);
      this.schedule(user, folder, key);
    });
  }

  private schedule(user: string, folder: string, key: string): void {
    void this.o.turn(user, () => this.flush(user, folder, key));
  }

  /** In the user's turn: writes the first batch of what waits; what is left gets the next turn. */
  private async flush(user: string, folder: string, key: string): Promise<void> {
    const list = this.waiting.get(key) ?? [];
    let n = 0;
    let size = 0;
    while (n < list.length && n < this.maxCount) {
      const b = this.o.bytes(list[n].item);
      if (n > 0 && size + b > this.maxBytes) break;
      size += b;
      n++;
    }
    const batch = list.splice(0, n);
    if (list.length) this.schedule(user, folder, key);
    else this.waiting.delete(key);
    if (!batch.length) return;
    try {
      const out = await this.o.write(user, folder, batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(out[i]));
    } catch (e) {
      batch.forEach((p) => p.reject(e));
    }
  }
}
