/**
 * Shared pieces of the property-based tests (fast-check) under test/unit/fuzz:
 * how many cases a property runs, and one summary of the cases run per
 * parser, printed once when every file of this folder has run (as in CI's
 * `npm run test:all`):
 *
 *     fuzz: cases run per parser (8 files, MAIL_LAB_FUZZ_RUNS unset)
 *       dns buildZones                    300 cases    1.40 s
 *       ...
 *       smtp vrfy/expn/help              2000 cases    0.07 s
 *       total                           55340 cases    9.48 s
 *
 * Each file adds its counts to a file of the jest run in the temp directory;
 * the file that completes the folder prints the summary. A run of some of the
 * files prints nothing; `MAIL_LAB_FUZZ_REPORT=<path>` writes the counts so far
 * (JSON) after each file, whether or not the folder is complete.
 *
 * `MAIL_LAB_FUZZ_RUNS=N` runs every cheap property N times; properties that
 * cost more per case (the mailbox store on disk, whole lab definitions, DNS
 * zones, MIME trees) run `N * weight` times, their weight given at the call.
 * Without it, each property runs its own default, chosen so that the whole
 * folder finishes in well under 30 s on 2 cores. `MAIL_LAB_FUZZ_SEED=S`
 * replays a run (fast-check prints the seed and path of any failure).
 */
import { appendFileSync, closeSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';

const envRuns = Number.parseInt(process.env.MAIL_LAB_FUZZ_RUNS ?? '', 10);
const envSeed = Number.parseInt(process.env.MAIL_LAB_FUZZ_SEED ?? '', 10);

/** numRuns for one property: `MAIL_LAB_FUZZ_RUNS * weight` when set, `fallback` otherwise. */
export function fuzzRuns(fallback: number, weight = 1): number {
  return Number.isFinite(envRuns) && envRuns > 0 ? Math.max(1, Math.round(envRuns * weight)) : fallback;
}

interface Tally {
  cases: number;
  ms: number;
}
const tallies = new Map<string, Tally>();

function record(parser: string, details: fc.RunDetails<unknown>, ms: number): void {
  const t = tallies.get(parser) ?? { cases: 0, ms: 0 };
  t.cases += details.numRuns + details.numShrinks;
  t.ms += ms;
  tallies.set(parser, t);
}

function params<Ts>(p: fc.Parameters<Ts> = {}): fc.Parameters<Ts> {
  return Number.isFinite(envSeed) ? { ...p, seed: envSeed } : p;
}

function fail(details: fc.RunDetails<unknown>): never {
  const report = fc.defaultReportMessage(details) ?? 'property failed';
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(`${report}\n\nError: ${cause}`);
}

/** A property, or a function building it (so that building its arbitraries counts in the time). */
type Lazy<P> = P | (() => P);
const force = <P>(p: Lazy<P>): P => (typeof p === 'function' ? (p as () => P)() : p);

/** Runs a synchronous property and counts its cases under `parser`. Throws fast-check's report on failure. */
export function fuzz<Ts>(parser: string, property: Lazy<fc.IProperty<Ts>>, parameters?: fc.Parameters<Ts>): void {
  const start = Date.now();
  const details = fc.check(force(property), params(parameters));
  record(parser, details as fc.RunDetails<unknown>, Date.now() - start);
  if (details.failed) fail(details as fc.RunDetails<unknown>);
}

/** Runs an asynchronous property and counts its cases under `parser`. */
export async function fuzzAsync<Ts>(parser: string, property: Lazy<fc.IAsyncProperty<Ts>>, parameters?: fc.Parameters<Ts>): Promise<void> {
  const start = Date.now();
  const details = await fc.check(force(property), params(parameters));
  record(parser, details as fc.RunDetails<unknown>, Date.now() - start);
  if (details.failed) fail(details as fc.RunDetails<unknown>);
}

/**
 * The jest run's file of counts. Jest runs test files in worker processes
 * (children, with an IPC channel, of the jest process) or, for a single
 * file, in the jest process itself: either way the jest process identifies
 * the run.
 */
const runFile = join(tmpdir(), `mail-lab-fuzz-${process.send ? process.ppid : process.pid}.jsonl`);
/** A record older than this is from an earlier run whose process id was reused. */
const STALE_MS = 6 * 3_600_000;

interface FileRecord {
  file: string;
  at: number;
  tallies: Record<string, Tally>;
}

function readRecords(): FileRecord[] | null {
  let text: string;
  try {
    text = readFileSync(runFile, 'utf8');
  } catch {
    return null;
  }
  // The latest record of each file (jest --watch runs a file again in the same jest process).
  const records = new Map<string, FileRecord>();
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as FileRecord;
      if (Date.now() - r.at < STALE_MS) records.set(r.file, r);
    } catch {
      // an empty or torn line
    }
  }
  return [...records.values()];
}

/** Cases and time per parser, summed over the files' records. */
function merge(records: FileRecord[]): Map<string, Tally> {
  const sum = new Map<string, Tally>();
  for (const r of records) {
    for (const [parser, t] of Object.entries(r.tallies)) {
      const s = sum.get(parser) ?? { cases: 0, ms: 0 };
      sum.set(parser, { cases: s.cases + t.cases, ms: s.ms + t.ms });
    }
  }
  return new Map([...sum].sort(([a], [b]) => a.localeCompare(b)));
}

function summary(parsers: Map<string, Tally>, files: number): string {
  const width = Math.max(5, ...[...parsers.keys()].map((p) => p.length));
  const line = (name: string, t: Tally) => `  ${name.padEnd(width)} ${String(t.cases).padStart(8)} cases ${(t.ms / 1000).toFixed(2).padStart(7)} s`;
  const total = [...parsers.values()].reduce((a, t) => ({ cases: a.cases + t.cases, ms: a.ms + t.ms }), { cases: 0, ms: 0 });
  const runs = process.env.MAIL_LAB_FUZZ_RUNS ? `MAIL_LAB_FUZZ_RUNS=${process.env.MAIL_LAB_FUZZ_RUNS}` : 'MAIL_LAB_FUZZ_RUNS unset';
  return [`fuzz: cases run per parser (${files} files, ${runs})`, ...[...parsers].map(([p, t]) => line(p, t)), line('total', total)].join('\n') + '\n';
}

/** Removes the files of earlier runs that ran only some of the files (their jest process is gone). */
function sweep(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^mail-lab-fuzz-(\d+)\.jsonl$/.exec(name);
    if (!m || join(tmpdir(), name) === runFile) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), name), { force: true });
    }
  }
}

afterAll(() => {
  sweep();
  const file = basename(expect.getState().testPath ?? 'unknown');
  appendFileSync(runFile, JSON.stringify({ file, at: Date.now(), tallies: Object.fromEntries(tallies) }) + '\n');
  const records = readRecords() ?? [];
  const done = new Set(records.map((r) => r.file));
  const expected = readdirSync(__dirname).filter((f) => f.endsWith('.test.ts'));
  const complete = expected.every((f) => done.has(f));
  const report = process.env.MAIL_LAB_FUZZ_REPORT;
  if (report) {
    const parsers = Object.fromEntries(merge(records));
    writeFileSync(report, JSON.stringify({ runs: process.env.MAIL_LAB_FUZZ_RUNS ?? null, files: [...done].sort(), complete, parsers }, null, 2) + '\n');
  }
  if (!complete) return;
  // Two files finishing together may both see the folder complete: the one that creates the marker prints.
  const marker = runFile + '.done';
  try {
    closeSync(openSync(marker, 'wx'));
  } catch {
    return;
  }
  const final = readRecords(); // null: another file printed and cleaned up just before the marker was made
  if (final) process.stdout.write('\n' + summary(merge(final), final.length));
  rmSync(runFile, { force: true });
  rmSync(marker, { force: true });
});

/** Byte strings that favour the octets parsers care about (CR, LF, NUL, space, `>`, `.`, 8-bit). */
export const interestingBytes = (maxLength = 200): fc.Arbitrary<Buffer> =>
  fc
    .array(
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
        { weight: 2, arbitrary: fc.constantFrom(0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3e, 0x2e, 0x3a) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
      { maxLength },
    )
    .map((a) => Buffer.from(a));

/** Text made of the given tokens and arbitrary characters (for parsers that care about syntax). */
export const tokenText = (tokens: readonly string[], maxLength = 40): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...tokens) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) }), { maxLength })
    .map((parts) => parts.join(''));
