/**
 * Shared pieces of the property-based tests (fast-check) under test/unit/fuzz:
 * how many cases a property runs, and the one log line per parser that CI
 * shows (`fuzz <parser>: N cases in T s`).
 *
 * `MAIL_LAB_FUZZ_RUNS=N` runs every cheap property N times; properties that
 * cost more per case (the mailbox store on disk, whole lab definitions, DNS
 * zones, MIME trees) run `N * weight` times, their weight given at the call.
 * Without it, each property runs its own default, chosen so that the whole
 * folder finishes in well under 30 s on 2 cores. `MAIL_LAB_FUZZ_SEED=S`
 * replays a run (fast-check prints the seed and path of any failure).
 */
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

afterAll(() => {
  for (const [parser, t] of tallies) console.log(`fuzz ${parser}: ${t.cases} cases in ${(t.ms / 1000).toFixed(2)} s`);
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
