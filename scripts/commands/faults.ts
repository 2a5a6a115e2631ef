/**
 * `npx mail-lab fault …` (and `break`/`heal`, the friendly verbs of fault
 * `link`): the instructor's faults on the running lab. The kinds and their
 * argument rules are services/core/src/faults.ts; scripts/faults/ applies,
 * lists and clears them; scripts/cli.ts registers these commands.
 *
 *   fault dns-down                               the lab DNS stops answering (lookups time out)
 *   fault dns-servfail <domain>                  SERVFAIL for names in one lab domain
 *   fault server-down <domain> [--all]           port 25 refuses connections; the rest keeps working
 *                                                (--all: every mail port; the whole server is down to mail programs)
 *   fault greylist <domain> [--delay 60s]        451 4.7.1 for the first attempt of each triplet
 *   fault greet-delay <domain> [--delay 5s]      port 25 waits before its greeting; early talkers get 421
 *   fault reject <address> [--code 552 --text "5.2.2 Mailbox full"]
 *   fault slow-link <domain> <domain> [--rate 64kbit] [--delay 500ms] [--loss 10%]   (Docker only)
 *   fault isolate <domain>                       the domain is cut off from the lab backbone entirely
 *   fault link <domain> <domain>                 the path between two domains is cut (= break; clear = heal)
 *   fault clear <kind> [args…] | fault clear all
 *   fault list [--json]
 *
 * Applying a fault twice or clearing one that is not there says "already …"
 * and exits 0; bad arguments say what is allowed and exit 2.
 */
import type { Command } from 'commander';
import type { CommandHelpers } from './helpers';
import type { LabTarget } from '../lab-target';
import { FAULT_KINDS, FAULT_USAGE, FaultArgumentError, faultFromArgs, type FaultOptions } from '../../services/core/src/faults';
import { isAdminCallError } from '../../services/core/src/admin/client';
import { setFault, type FaultResult } from '../faults/apply';
import { clearAllFaults, faultLines, listFaults } from '../faults/list';
import { translateErrorText } from '../i18n/errors';

const allFaultUsage = () => FAULT_KINDS.map((k) => FAULT_USAGE[k]).join(' | ');

export type FaultCommandHelpers = CommandHelpers;

/** The active faults as lines for `status` (never throws). */
export async function faultStatusLines(target: LabTarget): Promise<string[]> {
  try {
    return faultLines(await listFaults(target));
  } catch (e) {
    return [`faults: unknown (${(e as Error).message})`];
  }
}

/** `break` / `heal`: the friendly verbs of fault `link`. */
export function registerLinkVerbs(program: Command, h: FaultCommandHelpers): void {
  for (const action of ['break', 'heal'] as const) {
    program
      .command(action)
      .argument('<domain1>')
      .argument('<domain2>')
      .description(action === 'break' ? 'cut the path between two domains (each keeps its local mail); the same as `fault link`' : 'restore the path between two domains; the same as `fault clear link`')
      .action(async (a: string, b: string) => {
        const target = h.target();
        let spec;
        try {
          spec = faultFromArgs(target.config, 'link', [a, b], {}, action === 'heal');
        } catch (e) {
          throw e instanceof FaultArgumentError ? new h.UsageError(e.message.replace(/^link takes .*$/, 'name two different domains')) : e;
        }
        for (const l of (await setFault(target, spec, action === 'break')).lines) h.out(l);
      });
  }
}

export function registerFaultCommands(program: Command, h: FaultCommandHelpers): void {
  const run = (fn: (target: LabTarget) => Promise<FaultResult | void>) => async () => {
    const target = h.target();
    try {
      const r = await fn(target);
      if (r) for (const l of r.lines) h.out(l);
    } catch (e) {
      if (e instanceof FaultArgumentError) throw new h.UsageError(e.message);
      // The server refused the arguments (a rule it knows better, e.g. slow-link without Docker).
      if (isAdminCallError(e) && (e.code === 'bad-argument' || e.code === 'unsupported' || e.code === 'unknown-domain')) throw new h.UsageError(e.message);
      if (e instanceof h.UsageError) throw e;
      process.stderr.write(`mail-lab: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  };
  const apply = (kind: string, args: string[], opts: FaultOptions = {}) => run((t) => setFault(t, faultFromArgs(t.config, kind, args, opts), true));

  const fault = program
    .command('fault')
    .description(`apply one of the instructor's faults to the running lab (\`fault clear <kind> …\` removes it, \`fault list\` shows them): ${allFaultUsage()}`)
    // Bad usage (missing argument, unknown option or fault) exits 2, like the other usage errors.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

  fault.command('dns-down').description('the lab DNS stops answering: queries are logged and dropped, lookups time out, senders defer').action(() => apply('dns-down', [])());
  fault
    .command('dns-servfail')
    .argument('<domain>', 'a lab domain')
    .description('the lab DNS answers SERVFAIL for every name in one lab domain; senders defer, not bounce')
    .action((domain: string) => apply('dns-servfail', [domain])());
  fault
    .command('server-down')
    .argument('<domain>', 'a lab domain')
    .description("the domain's SMTP port 25 stops listening (connection refused); 587, POP3, IMAP and its queue keep working")
    .option('--all', 'every mail port stops listening (25, 587, 465, POP3, IMAP and their TLS ports): the mail server is down for mail programs too; the queue and the admin API keep working')
    .action((domain: string, opts: { all?: boolean }) => apply('server-down', [domain], opts.all ? { all: true } : {})());
  fault
    .command('greylist')
    .argument('<domain>', 'a lab domain')
    .option('--delay <duration>', 'how long a new (client IP, sender, recipient) triplet is refused with 451 (default 60s)')
    .description('greylisting on port 25: the first attempt of each triplet gets "451 4.7.1 Greylisted, try again in N s"')
    .action((domain: string, opts: FaultOptions) => apply('greylist', [domain], opts)());
  fault
    .command('greet-delay')
    .argument('<domain>', 'a lab domain')
    .option('--delay <duration>', 'how long port 25 waits before its greeting, 1ms to 60s (default 5s)')
    .description('early-talker detection on port 25: the greeting comes late, and a client that talks first gets "421 You talk too soon"')
    .action((domain: string, opts: FaultOptions) => apply('greet-delay', [domain], opts)());
  fault
    .command('reject')
    .argument('<address>', 'a local address, e.g. jpri@dadali.com')
    .option('--code <code>', 'the 5xx reply code, 500 to 559 (default 552)')
    .option('--text <text>', 'the reply text (default "5.2.2 Mailbox full")')
    .description('RCPT TO that address answers the given 5xx (mailbox full, user unknown …): the sender bounces at once')
    .action((address: string, opts: FaultOptions) => apply('reject', [address], opts)());
  fault
    .command('slow-link')
    .argument('<domain1>')
    .argument('<domain2>')
    .option('--rate <rate>', 'bandwidth, e.g. 64kbit (the default when no option is given)')
    .option('--delay <duration>', 'added delay, e.g. 500ms (needs netem in the kernel)')
    .option('--loss <percent>', 'packet loss, e.g. 10%')
    .description('Docker lab only: a slow, lossy path between two mail containers (tc netem, or tbf + iptables without netem)')
    .action((a: string, b: string, opts: FaultOptions) => apply('slow-link', [a, b], opts)());
  fault
    .command('isolate')
    .argument('<domain>', 'a lab domain')
    .description('cut one domain off from the lab backbone entirely (no DNS, no other domain, no client container); its mail waits in the queues, its published ports still answer on this machine')
    .action((domain: string) => apply('isolate', [domain])());
  fault
    .command('link')
    .argument('<domain1>')
    .argument('<domain2>')
    .description('cut the path between two domains, like `npx mail-lab break` (each keeps its local mail; `fault clear link` or `heal` restores it)')
    .action((a: string, b: string) => apply('link', [a, b])());
  fault
    .command('clear')
    .argument('<kind>', `${FAULT_KINDS.join(' | ')} | all`)
    .argument('[args...]', 'the same arguments as when the fault was applied (without options)')
    .description('remove a fault (`fault clear all` removes every one)')
    .action((kind: string, args: string[]) =>
      run((t) => (kind === 'all' && !args.length ? clearAllFaults(t) : setFault(t, faultFromArgs(t.config, kind, args, {}, true), false)))(),
    );
  fault
    .command('list')
    .option('--json', 'machine-readable')
    .description('the active faults')
    .action((opts: { json?: boolean }) =>
      run(async (t) => {
        const r = await listFaults(t);
        if (opts.json) h.out(JSON.stringify(r, null, 2));
        else for (const l of faultLines(r)) h.out(translateErrorText(l, h.lang()));
        if (r.unknown.length) process.exitCode = 1;
      })(),
    );
}
