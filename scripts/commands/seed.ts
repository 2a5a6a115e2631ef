/**
 * `npx mail-lab seed [--worksheet NAME,…] [--to ADDRESS|students] [--file seed.yaml]`
 * and `npx mail-lab class seed …`: the mail the POP3 and IMAP worksheets
 * expect, delivered into the lab's mailboxes (scripts/seed/seed.ts; the sets:
 * lab-scenarios/seed.yaml).
 */
import type { Command } from 'commander';
import { LabConfigError, formatProblem } from '../../services/core/src/config';
import { defaultSeedFile, loadSeedFile, planSeed, SeedError, seedLab, type SeedSet } from '../seed/seed';
import type { LabTarget } from '../lab-target';
import { classCommand, forEveryLab, type LabStateHelpers } from './every-lab';

interface SeedOptions {
  worksheet?: string;
  to?: string;
  file?: string;
}

const options = (c: Command) =>
  c
    .option('--worksheet <names>', 'only these sets, e.g. pop3-by-hand (comma-separated; default: every set marked default in seed.yaml)')
    .option('--to <address>', 'put the sets into this account instead of the worksheets\' own; `students`: every generated student account (a shared lab)')
    .option('--file <file>', 'the seed file', defaultSeedFile());

export function registerSeedCommands(program: Command, h: LabStateHelpers): void {
  const sets = (o: SeedOptions): SeedSet[] => {
    try {
      return loadSeedFile(o.file);
    } catch (e) {
      if (e instanceof LabConfigError) throw new h.UsageError(e.problems.map(formatProblem).join('\n'));
      throw new h.UsageError(`cannot read the seed file ${o.file}: ${(e as Error).message}`);
    }
  };
  const seed = async (t: LabTarget, o: SeedOptions) => {
    try {
      const plan = planSeed(t.config, sets(o), { worksheets: o.worksheet?.split(',').map((s) => s.trim()).filter(Boolean), to: o.to });
      return await seedLab(t, plan);
    } catch (e) {
      throw e instanceof SeedError ? new h.UsageError(e.message) : e;
    }
  };
  options(program.command('seed'))
    .description('put the mail the POP3 and IMAP worksheets expect into their accounts (delivered through the lab\'s queue like any mail; a message already there is not sent twice)')
    .action(async (opts: SeedOptions) => {
      const t = h.target();
      const r = await seed(t, opts);
      h.out(`lab ${t.lab}: seeded`);
      for (const l of r.lines) h.out(`  ${l}`);
      h.out(`  ${r.delivered} message(s) delivered into the mailboxes${r.skipped ? `, ${r.skipped} already there` : ''}`);
    });
  const cls = classCommand(program);
  if (!cls) return;
  options(cls.command('seed'))
    .description('seed every lab of the class (as `npx mail-lab seed` does in one)')
    .action(async (opts: SeedOptions) => {
      await forEveryLab(h, 'seed', async (t) => {
        const r = await seed(t, opts);
        return { ok: true, line: `seeded: ${r.delivered} message(s) delivered${r.skipped ? `, ${r.skipped} already there` : ''}` };
      });
    });
}
