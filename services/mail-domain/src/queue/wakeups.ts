/**
 * When the queue must next look at each message (its next delivery attempt,
 * its delay warning, its return), kept so that finding what is due costs
 * O(log n) per message due, not a scan of the whole queue: a queue of
 * 100,000 deferred messages behind a broken link must not spend a pass over
 * all of them every time one attempt ends (Postfix's qmgr keeps its
 * deferred queue apart for the same reason).
 *
 * A binary min-heap of (time, id) plus the one current time per id; an id
 * planned again leaves its old heap node behind, skipped when it surfaces
 * (lazy deletion), and the heap is rebuilt when stale nodes outnumber the
 * live ones.
 */
export class Wakeups {
  private heap: { at: number; id: string }[] = [];
  private readonly at = new Map<string, number>();

  /** Plans `id` for `time` (ms since epoch), or forgets it (null: nothing to do for it until planned again). */
  set(id: string, time: number | null): void {
    if (time === null || !Number.isFinite(time)) {
      this.at.delete(id);
      return;
    }
    if (this.at.get(id) === time) return;
    this.at.set(id, time);
    this.push({ at: time, id });
    if (this.heap.length > 1024 && this.heap.length > 2 * this.at.size) this.rebuild();
  }

  /** The earliest planned time, or null when nothing is planned. */
  next(): number | null {
    this.dropStale();
    return this.heap.length ? this.heap[0].at : null;
  }

  /** The ids due at `now` (earliest first), forgotten here: the caller plans them again after their attempt. */
  due(now: number): string[] {
    const out: string[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) return out;
      this.pop();
      this.at.delete(top.id);
      out.push(top.id);
    }
  }

  get size(): number {
    return this.at.size;
  }

  private dropStale(): void {
    while (this.heap.length && this.at.get(this.heap[0].id) !== this.heap[0].at) this.pop();
  }

  private rebuild(): void {
    this.heap = [...this.at].map(([id, at]) => ({ at, id }));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(node: { at: number; id: string }): void {
    const h = this.heap;
    h.push(node);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].at <= h[i].at) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      this.down(0);
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].at < h[m].at) m = l;
      if (r < h.length && h[r].at < h[m].at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
}
