/**
 * What the separate benches' `main.ts` share: a whole-number option held to
 * its bounds (exit 2 naming them), and running the bench to its printed
 * report and exit status (1 when the report says something failed, 2 when
 * the bench itself could not run).
 */
export function boundedInt(values: Record<string, unknown>, name: string, min: number, max: number): number {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min || v > max) {
    process.stderr.write(`--${name} must be a whole number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return v;
}

/** Prints the report on stdout and exits: 0, 1 when `failed`, 2 (with the reason on stderr) when the bench threw. */
export function runBench<R>(name: string, bench: Promise<R>, format: (r: R) => string, failed: (r: R) => boolean): void {
  bench.then(
    (r) => {
      process.stdout.write(format(r) + '\n');
      process.exit(failed(r) ? 1 : 0);
    },
    (e: Error) => {
      process.stderr.write(`${name} bench failed: ${e.message}\n`);
      process.exit(2);
    },
  );
}
