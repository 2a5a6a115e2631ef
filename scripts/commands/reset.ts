/**
 * `npx mail-lab reset [--mailboxes] [--queues] [--faults]` and
 * `npx mail-lab class reset …`: back to the class-start state without a
 * restart and without a new CA (scripts/reset/reset.ts says what is done
 * and what is kept). No option: all three.
 */
import type { Command } from 'commander';
import { resetLab, resetParts, type ResetParts } from '../reset/reset';
import { classCommand, forEveryLab, type LabStateHelpers } from './every-lab';

const options = (c: Command) =>
  c
    .option('--mailboxes', 'empty every account: INBOX, Sent, Drafts, Trash emptied, other folders deleted (UIDs keep growing)')
    .option('--queues', 'drop every queued message (nobody is told) and put the queue profile of the lab definition back')
    .option('--faults', 'clear every fault and heal every link');

export function registerResetCommands(program: Command, h: LabStateHelpers): void {
  options(program.command('reset'))
    .description('back to the class-start state without a restart: mailboxes emptied, queues emptied, faults cleared (no option: all three); the lab CA, the accounts and passwords stay')
    .action(async (opts: Partial<ResetParts>) => {
      const t = h.target();
      const r = await resetLab(t, resetParts(opts));
      h.out(`lab ${t.lab}: reset`);
      for (const l of r.lines) h.out(`  ${l}`);
    });
  const cls = classCommand(program);
  if (!cls) return;
  options(cls.command('reset'))
    .description('reset every lab of the class (as `npx mail-lab reset` does in one)')
    .action(async (opts: Partial<ResetParts>) => {
      await forEveryLab(h, 'reset', async (t) => {
        const r = await resetLab(t, resetParts(opts));
        return { ok: true, line: `reset: ${r.faults} fault(s) cleared, ${r.dropped} queued message(s) dropped, ${r.removed} message(s) removed from mailboxes` };
      });
    });
}
