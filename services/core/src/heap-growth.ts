/**
 * How far V8 lets a service's heap grow past what survived its last full
 * garbage collection before it collects again. V8's own choice is up to four
 * times the survivors on a fast machine: a mail domain serving a 100,000-
 * message INBOX (about 130 MB live) peaked at 470-490 MB resident while a
 * client listed and searched it, most of it garbage waiting for a collection
 * (issue 15: the aim is 250 MB). A service calls `limitHeapGrowth()` first
 * thing in its main, so every way of starting it (the containers, swarm,
 * Kubernetes, `up --local`, the benches) gets the same setting. It is a V8
 * flag node refuses in NODE_OPTIONS, hence set from inside the process
 * (V8 reads it each time it sets the next collection's limit).
 *
 * MAIL_LAB_HEAP_GROWTH (a percent from 1 to 300, or `v8` for V8's own
 * choice) overrides it, for measuring.
 */
import { setFlagsFromString } from 'node:v8';

/** The heap may grow by this percent of the survivors before the next full collection. */
export const HEAP_GROWING_PERCENT = 30;

/** The V8 flag for `percent`, or null for V8's own choice; throws on a value that is neither. */
export function heapGrowthFlag(setting: string | undefined): string | null {
  if (setting === undefined || setting === '') return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  if (setting === 'v8') return null;
  const percent = Number(setting);
  if (!Number.isInteger(percent) || percent < 1 || percent > 300) {
    throw new Error(`MAIL_LAB_HEAP_GROWTH must be a whole percent from 1 to 300, or v8 for V8's own choice (it is "${setting}")`);
  }
  return `--heap-growing-percent=${percent}`;
}

/** Applies MAIL_LAB_HEAP_GROWTH (default HEAP_GROWING_PERCENT) to this process's V8. */
export function limitHeapGrowth(env: NodeJS.ProcessEnv = process.env): void {
  const flag = heapGrowthFlag(env.MAIL_LAB_HEAP_GROWTH);
  if (flag) setFlagsFromString(flag);
}
