/**
 * `npx mail-lab reload [--config FILE] [--force] [--dry-run]` and
 * `npx mail-lab class reload …`: a changed lab definition taken by the
 * running lab without a restart (scripts/reload/reload.ts). Exit 2 when it
 * is refused (a problem in the file, a change that needs a restart, an
 * account with mail): the running lab is then unchanged.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { chosenLabNumber, defaultLabFile, LabSelectionError } from '../lab-select';
import { labTarget } from '../lab-target';
import { reloadLab, type ReloadOptions } from '../reload/reload';
import { classCommand, forEveryLab, type LabStateHelpers } from './every-lab';

const options = (c: Command) =>
  c
    .option('--force', 'remove accounts that still have mail (their mailbox files stay on disk)')
    .option('--dry-run', 'only say what would change');

export function registerReloadCommands(program: Command, h: LabStateHelpers): void {
  const definition = () => {
    const file = h.choice().config ?? defaultLabFile();
    try {
      const rel = relative(process.cwd(), file);
      return { file, shown: rel && !rel.startsWith('..') ? rel : file, text: readFileSync(file, 'utf8') };
    } catch (e) {
      throw new h.UsageError(`cannot read the lab definition ${file}: ${(e as Error).message}`);
    }
  };
  /** Lab N as the new definition places it: its admin ports (changing them needs a restart anyway). */
  const run = (n: number, text: string, shown: string, o: ReloadOptions) => reloadLab(n, (placed) => labTarget(placed, undefined, { lab: n }), text, shown, o);
  options(program.command('reload'))
    .description('apply a changed lab definition (lab.yaml or --config) to the running lab without a restart: accounts, aliases, MX and other DNS records, backup MX (relayDomains), queue profiles; ports, domains and the network need a restart')
    .action(async (opts: { force?: boolean; dryRun?: boolean }) => {
      let n: number;
      try {
        n = chosenLabNumber(h.choice());
      } catch (e) {
        throw e instanceof LabSelectionError ? new h.UsageError(e.message) : e;
      }
      const d = definition();
      h.out(`lab ${n}: reload ${d.shown}`);
      const r = await run(n, d.text, d.shown, opts);
      for (const l of r.lines) h.out(`  ${l}`);
      if (r.exit) process.exitCode = r.exit;
    });
  const cls = classCommand(program);
  if (!cls) return;
  options(cls.command('reload'))
    .description('reload the lab definition in every lab of the class (as `npx mail-lab reload` does in one)')
    .action(async (opts: { force?: boolean; dryRun?: boolean }) => {
      const d = definition();
      await forEveryLab(h, 'reload', async (_t, n) => {
        const r = await run(n, d.text, d.shown, opts);
        const why = r.lines.filter((l) => !/ warning: /.test(l) && !r.changes.includes(l) && !l.startsWith('nothing was changed')).map((l) => l.trim());
        const last = r.exit ? why.join('; ') : r.changes.length ? `${r.changes.length} change(s) taken in ${r.applyMs} ms` : 'nothing to change';
        return { ok: r.exit === 0, line: r.exit ? `NOT reloaded: ${last}` : last };
      });
    });
}
