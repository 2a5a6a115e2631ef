/**
 * How far V8 lets a service's heap grow past what survived its last full
 * garbage collection before it collects again. V8's own choice is up to four
 * times the survivors on a fast machine: a mail domain serving a 100,000-
 * message INBOX (about 130 MB live) peaked at 470-490 MB resident while a
 * client listed and searched it, most of it garbage waiting for a collection
 * (issue 15: the aim is 250 MB). A fixed 30 % everywhere met that but made a
 * small heap collect so often that a 10,000-message folder's header listing
 * and POP3 RETR ran half as fast. So the growth allowed is a headroom in
 * bytes (HEADROOM_BYTES) rather than a fraction: generous for a small heap,
 * HEAP_GROWING_PERCENT for a large one (growingPercent).
 *
 * A service calls `limitHeapGrowth()` first thing in its main, so every way
 * of starting it (the containers, swarm, Kubernetes, `up --local`, the
 * benches) gets the same setting. It is a V8 flag node refuses in
 * NODE_OPTIONS, hence set from inside the process; V8 reads it each time it
 * sets the next collection's limit.
 *
 * MAIL_LAB_HEAP_GROWTH (a percent from 1 to 300 for a fixed limit at every
 * size, or `v8` for V8's own choice always) overrides it, for measuring.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** A large heap may grow by this percent of the survivors before the next full collection. */
export const HEAP_GROWING_PERCENT = 30;
/** A small heap may grow by this much (and at most by MAX_GROWING_PERCENT) before the next full collection. */
export const HEADROOM_BYTES = 32 * 1024 * 1024;
/**
 * The most a small heap may grow, in percent (V8's own goes to four times).
 * A setting applies from the collection after the one that chose it, so a
 * heap that grows fast in one long task (a queue of 100,000 messages read at
 * start) grows by what was chosen while it was small: with 300 % that start
 * left 418 MiB resident, with 100 % 326 MiB, as with a fixed 30 %.
 */
export const MAX_GROWING_PERCENT = 100;

/** What a MAIL_LAB_HEAP_GROWTH value asks for. */
export type HeapGrowth = { kind: 'auto' } | { kind: 'v8' } | { kind: 'fixed'; percent: number };

/** Reads MAIL_LAB_HEAP_GROWTH; throws, naming it, on a value that is none of the three. */
export function heapGrowthSetting(setting: string | undefined): HeapGrowth {
  if (setting === undefined || setting === '') return { kind: 'auto' };
  if (setting === 'v8') return { kind: 'v8' };
  const percent = Number(setting);
  if (!Number.isInteger(percent) || percent < 1 || percent > 300) {
    throw new Error(`MAIL_LAB_HEAP_GROWTH must be a whole percent from 1 to 300, or v8 for V8's own choice (it is "${setting}")`);
  }
  return { kind: 'fixed', percent };
}

/**
 * The growth allowed after a full collection that left `survivors` bytes:
 * HEADROOM_BYTES, as a percent of the survivors, but never under
 * HEAP_GROWING_PERCENT nor over MAX_GROWING_PERCENT.
 */
export function growingPercent(survivors: number): number {
  const percent = Math.ceil((HEADROOM_BYTES / Math.max(survivors, 1)) * 100);
  return Math.min(MAX_GROWING_PERCENT, Math.max(HEAP_GROWING_PERCENT, percent));
}

/**
 * Applies MAIL_LAB_HEAP_GROWTH to this process's V8. Under the automatic
 * setting it sets the growth after every full collection from what
 * survived it (growingPercent). V8 sets the next collection's limit as a
 * collection ends, before this hears of it, so each setting applies one
 * collection later; the percent changes little from one to the next.
 */
export function limitHeapGrowth(env: NodeJS.ProcessEnv = process.env): void {
  const growth = heapGrowthSetting(env.MAIL_LAB_HEAP_GROWTH);
  if (growth.kind === 'fixed') setFlagsFromString(`--heap-growing-percent=${growth.percent}`);
  if (growth.kind !== 'auto') return;
  let current = 0;
  const apply = (survivors: number) => {
    const percent = growingPercent(survivors);
    if (percent !== current) setFlagsFromString(`--heap-growing-percent=${(current = percent)}`);
  };
  apply(getHeapStatistics().used_heap_size);
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
      apply(getHeapStatistics().used_heap_size);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}
