/**
 * `class reset|seed|reload`: one command in every numbered lab of this host
 * (scripts/class/labs.ts), a few at a time, a line per lab (its student's
 * name from the roster) and a total; the exit status is 1 when a lab failed.
 */
import type { Command } from 'commander';
import { LabSelectionError, selectLab, type LabChoice } from '../lab-select';
import { labTarget, type LabTarget } from '../lab-target';
import { existingLabs, inPool } from '../class/labs';
import { loadRoster, studentOf } from '../class/roster';
import type { CommandHelpers } from './helpers';

export interface LabStateHelpers extends CommandHelpers {
  /** `--lab`, `--config` and `--engine` as given. */
  choice: () => LabChoice;
}

/** The `class` command of the program (registered by commands/class.ts). */
export function classCommand(program: Command): Command | undefined {
  return program.commands.find((c) => c.name() === 'class');
}

/** Runs `fn` in every lab; `fn` returns the lab's line and whether it went well. */
export async function forEveryLab(h: LabStateHelpers, what: string, fn: (t: LabTarget, n: number) => Promise<{ ok: boolean; line: string }>): Promise<void> {
  const labs = await existingLabs();
  if (!labs.length) throw new h.UsageError('no numbered labs on this host (start them with `npx mail-lab class up --count N`)');
  const roster = loadRoster();
  const t0 = Date.now();
  const results = await inPool(labs, 3, async (n) => {
    const label = `lab ${String(n).padStart(2, '0')}${studentOf(roster, n) ? ` (${studentOf(roster, n)})` : ''}`.padEnd(28);
    try {
      let sel;
      try {
        sel = selectLab({ ...h.choice(), lab: String(n) }, () => undefined);
      } catch (e) {
        throw e instanceof LabSelectionError ? new h.UsageError(e.message) : e;
      }
      const r = await fn(labTarget(sel.config, undefined, { lab: n }), n);
      h.out(`${label} ${r.line}`);
      return r.ok;
    } catch (e) {
      if (e instanceof h.UsageError) throw e;
      h.out(`${label} FAILED: ${(e as Error).message.split('\n')[0]}`);
      return false;
    }
  });
  const ok = results.filter(Boolean).length;
  h.out(`class ${what}: ${ok} of ${labs.length} labs (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (ok < labs.length) process.exitCode = 1;
}
