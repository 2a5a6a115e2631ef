/**
 * `npx mail-lab …`: the lab's command line (the contract in docs/architecture.md).
 *
 *   up [--local] [--offline]     build the images and start the lab; returns when every service answers
 *   down [--volumes]             stop it
 *   status                       which services answer, which links are broken, queue sizes
 *   break <domain> <domain>      cut the path between two domains (heal restores it; = fault link)
 *   fault …                      the instructor's faults (commands/faults.ts)
 *   admin-token                  the lab's admin token, alone on a line
 *   events [domain|dns]          the lab's live events, until Ctrl-C (--json, --types)
 *   queue <domain> [--json]      the outbound queue, like mailq
 *   queue-profile <domain> [profile]   show or switch a domain's queue timings (no restart)
 *   flush <domain> [id]          retry now
 *   show|hold|release|delete|expire <domain> <id>   one queued message
 *   scenario <name> | --all      run scenarios from lab-scenarios/scenarios/ (--lang en|id)
 *   validate [file]              check a lab definition (no Docker needed)
 *   hash-password [password]     make a passwordHash for the lab definition
 *   ca [--out file]              the lab CA certificate (PEM) to trust for TLS
 */
import { Command, Option } from 'commander';
import { join, relative } from 'node:path';
import { loadLabConfig, LabConfigError, formatProblem, requireDomain, type LabConfig } from '../services/core/src/config';
import { formatDuration } from '../services/core/src/duration';
import { hashPassword } from '../services/core/src/password';
import { MAIL_API, type QueueProfileInfo } from '../services/core/src/admin/api';
import { isAdminCallError } from '../services/core/src/admin/client';
import { buildImages, composeDown, composeUp, dockerReachable, repoRoot } from './lab-docker';
import { labTarget, runningLocalLab } from './lab-target';
import { dockerTokenCacheFile } from './admin-token';
import { rmSync } from 'node:fs';
import { startLocalLab, stopLocalLab } from './local-lab';
import { probeLab, waitForLab } from './readiness';
import { collectTrace, formatTrace } from './trace';
import { runScenarios, listScenarios } from './scenario/runner';
import { faultStatusLines, registerFaultCommands, registerLinkVerbs } from './commands/faults';
import { linkStates } from './faults/list';
import { registerAdminTokenCommand } from './commands/admin-token';
import { registerEventsCommand } from './commands/events';
import { registerCaCommand } from './commands/ca';
import { chooseLang, isUnknownLanguageError, pick } from './scenario/messages';

const out = (line = '') => process.stdout.write(line + '\n');

class UsageError extends Error {}

function defaultLabFile(): string {
  return process.env.MAIL_LAB_CONFIG ?? join(repoRoot(), 'lab-scenarios', 'lab.yaml');
}

function loadConfig(file = defaultLabFile()): LabConfig {
  try {
    const { config, warnings } = loadLabConfig(file);
    for (const w of warnings) process.stderr.write(formatProblem(w) + '\n');
    return config;
  } catch (e) {
    if (e instanceof LabConfigError) {
      for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
      throw new UsageError(`${relative(process.cwd(), file) || file}: ${e.problems.filter((p) => p.severity === 'error').length} problem(s); nothing was started`);
    }
    throw e;
  }
}

function domainArg(config: LabConfig, name: string): string {
  try {
    return requireDomain(config, name).name;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** An admin call whose "no such id" or bad argument is the user's mistake: exit 2 with the server's words. */
async function callOrUsage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isAdminCallError(e, 'unknown-queue-id') || isAdminCallError(e, 'bad-argument')) throw new UsageError(e.message);
    throw e;
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd());
}

/** `retry every 10s, warn after 30s, return after 1m30s`. */
function timings(p: QueueProfileInfo): string {
  return `retry every ${formatDuration(p.retryInterval)}, warn after ${formatDuration(p.warnAfter)}, return after ${formatDuration(p.returnAfter)}`;
}

/** `queue profile demo: retry every 10s, warn after 30s, return after 1m30s`. */
const profileLine = (p: QueueProfileInfo) => `queue profile ${p.name}: ${timings(p)}`;

const program = new Command();
program.name('mail-lab').description('A containerized e-mail laboratory: DNS, two mail domains and a client.').showHelpAfterError();

program
  .command('validate')
  .argument('[file]', 'lab definition', undefined)
  .description('check a lab definition against its schema (no Docker needed)')
  .action((file?: string) => {
    const config = loadConfig(file);
    out(`${file ?? relative(process.cwd(), defaultLabFile())}: valid`);
    for (const d of config.domains) out(`  ${d.name}: ${d.accounts.length} accounts, ${Object.keys(d.aliases).length} aliases, MX ${d.mx.map((m) => `${m.preference} ${m.host}`).join(', ')}`);
    out(`  queue profile "${config.profile}": retry every ${formatDuration(config.timing.retryInterval)}, warn after ${formatDuration(config.timing.warnAfter)}, return after ${formatDuration(config.timing.returnAfter)}`);
  });

program
  .command('hash-password')
  .argument('[password]', 'the password (read from standard input when omitted)')
  .description('print a scrypt passwordHash for the lab definition')
  .action(async (password?: string) => {
    let pw = password;
    if (pw === undefined) {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      pw = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    }
    if (!pw) throw new UsageError('give a non-empty password');
    out(await hashPassword(pw));
  });

program
  .command('up')
  .description('build the images (offline when no registry is reachable) and start the lab')
  .option('--local', 'no Docker: start the services as plain Node processes on 127.0.0.1')
  .addOption(new Option('--offline', 'build the base image locally even if a registry is reachable'))
  .option('--no-build', 'do not build the images first')
  .option('--timeout <seconds>', 'how long to wait for every service to answer', '90')
  .action(async (opts: { local?: boolean; offline?: boolean; build: boolean; timeout: string }) => {
    const file = defaultLabFile();
    const config = loadConfig(file);
    const started = Date.now();
    if (opts.local) {
      // Something else on the contract ports (the Docker lab, another copy) would answer the
      // readiness probes in our place while our processes fail to bind: refuse, and say which.
      const taken = (await probeLab(config, 500)).filter((p) => p.ok);
      if (taken.length) {
        throw new UsageError(`these lab ports already answer, so a lab is already running (\`npx mail-lab status\`; stop it with \`npx mail-lab down\`): ${taken.map((p) => `${p.service} ${p.target}`).join(', ')}`);
      }
      out('starting the lab without Docker (plain Node processes on 127.0.0.1)');
      await startLocalLab(config, file, out);
    } else {
      const local = runningLocalLab();
      if (local) throw new UsageError(`a no-Docker lab is running on the lab ports (PIDs ${Object.values(local.pids).join(', ')}); stop it first with \`npx mail-lab down\``);
      if (!(await dockerReachable())) {
        throw new UsageError('no Docker engine answers. Start one (as root: `bash scripts/docker-engine.sh`), or run the lab without Docker: `npx mail-lab up --local`');
      }
      if (opts.build) {
        out('building the images');
        await buildImages({ offline: opts.offline ? true : 'auto', log: (l) => out('  ' + l) });
      }
      out('starting the compose lab');
      await composeUp((l) => out('  ' + l));
    }
    out('waiting for every service to answer');
    const { elapsedMs, probes } = await waitForLab(config, Number(opts.timeout) * 1000, out);
    for (const line of table([['service', 'address', 'answer'], ...probes.map((p) => [p.service, p.target, p.detail])])) out('  ' + line);
    out(`lab is up (${opts.local ? 'no-Docker' : 'Docker'} mode): every service answered ${(elapsedMs / 1000).toFixed(1)} s after start (${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
  });

program
  .command('down')
  .description('stop the lab')
  .option('--volumes', 'also delete the mailboxes and queues')
  .action(async (opts: { volumes?: boolean }) => {
    if (runningLocalLab()) {
      await stopLocalLab(out, opts.volumes);
      out('no-Docker lab stopped');
      return;
    }
    if (!(await dockerReachable())) throw new UsageError('no lab is running (no no-Docker lab, and no Docker engine answers)');
    await composeDown({ volumes: opts.volumes }, (l) => out('  ' + l));
    // The volumes held the admin token: the host's copy of it goes with them.
    if (opts.volumes) rmSync(dockerTokenCacheFile(), { force: true });
    out('lab stopped');
  });

program
  .command('status')
  .description('which services answer, which links are broken, queue sizes')
  .action(async () => {
    const config = loadConfig();
    const target = labTarget(config);
    out(`mode: ${target.mode === 'local' ? 'no-Docker (local processes)' : 'Docker'}`);
    const probes = await probeLab(config);
    for (const line of table([['service', 'address', 'state', 'answer'], ...probes.map((p) => [p.service, p.target, p.ok ? 'up' : 'DOWN', p.detail])])) out('  ' + line);
    try {
      for (const l of await linkStates(target)) out(`  link ${l.a} <-> ${l.b}: ${l.broken ? 'BROKEN' : 'ok'}`);
    } catch (e) {
      out(`  links: unknown (${(e as Error).message})`);
    }
    for (const l of await faultStatusLines(target)) out(`  ${l}`);
    for (const d of config.domains) {
      try {
        const q = await target.mail(d.name).call(MAIL_API.queue);
        const p = await target.mail(d.name).call(MAIL_API.queueProfile).catch(() => null);
        out(`  queue ${d.name}: ${q.length} message(s)${p ? `, ${profileLine(p)}` : ''}`);
      } catch {
        out(`  queue ${d.name}: unreachable`);
      }
    }
    if (probes.some((p) => !p.ok)) process.exitCode = 1;
  });

program
  .command('queue')
  .argument('<domain>')
  .option('--json', 'machine-readable')
  .description("list a domain's outbound queue, like mailq")
  .action(async (domain: string, opts: { json?: boolean }) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const target = labTarget(config);
    const q = await target.mail(d).call(MAIL_API.queue);
    if (opts.json) {
      out(JSON.stringify(q, null, 2));
      return;
    }
    const p = await target.mail(d).call(MAIL_API.queueProfile).catch(() => null);
    if (p) out(`${profileLine(p)}`);
    if (!q.length) {
      out(`mail queue of ${d} is empty`);
      return;
    }
    const now = Date.now();
    const rows = [['id', 'size', 'age', 'sender', 'recipients', 'attempts', 'next attempt', 'last error']];
    for (const e of q) {
      rows.push([
        e.id + (e.held ? '!' : ''),
        String(e.size),
        formatDuration(e.ageMs),
        e.from || '<>',
        e.recipients.filter((r) => r.status === 'pending').map((r) => r.address).join(','),
        String(e.attempts),
        e.nextAttempt ? `in ${formatDuration(Math.max(0, Date.parse(e.nextAttempt) - now))}` : '-',
        e.lastError ?? '',
      ]);
    }
    for (const line of table(rows)) out(line);
    out(`-- ${q.length} message(s) in the queue of ${d}`);
  });

program
  .command('queue-profile')
  .argument('<domain>')
  .argument('[profile]', 'a profile of the lab definition (profiles: in lab.yaml); omit it to see the one in force')
  .option('--json', 'machine-readable')
  .description("show or switch a domain's queue timings at run time: retry interval, delay warning, return (no restart)")
  // Bad usage (missing domain, extra argument, unknown option) exits 2, like the other usage errors.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .action(async (domain: string, profile: string | undefined, opts: { json?: boolean }) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const names = Object.keys(config.profiles);
    if (profile !== undefined && !Object.hasOwn(config.profiles, profile)) throw new UsageError(`unknown queue profile "${profile}"; lab.yaml has: ${names.join(', ')}`);
    const target = labTarget(config);
    if (profile === undefined) {
      const p = await target.mail(d).call(MAIL_API.queueProfile);
      if (opts.json) {
        out(JSON.stringify(p, null, 2));
        return;
      }
      out(`${d}: ${profileLine(p)}`);
      out(`  profiles: ${p.available.join(', ')} (switch: npx mail-lab queue-profile ${d} <profile>)`);
      return;
    }
    let r;
    try {
      r = await target.mail(d).call(MAIL_API.setQueueProfile, { name: profile });
    } catch (e) {
      // The server knows the profiles of the lab.yaml it started with, which may differ from this one.
      if (isAdminCallError(e, 'unknown-profile')) throw new UsageError(`${d}: ${e.message}`);
      throw e;
    }
    if (opts.json) {
      out(JSON.stringify(r, null, 2));
      return;
    }
    out(r.changed ? `${d}: queue profile ${r.previous} -> ${r.profile.name}: ${timings(r.profile)}` : `${d} already uses queue profile ${r.profile.name}; nothing changed`);
    if (r.changed && r.queued) out(`  ${r.queued} message(s) in the queue take the new timings: warning and return count from their arrival, the next attempt from the last one (moved for ${r.rescheduled})`);
  });

program
  .command('show')
  .argument('<domain>')
  .argument('<id>', 'queue id (see `mail-lab queue <domain>`)')
  .option('--json', 'machine-readable')
  .description('one queued (or recently finished) message with its attempt history')
  .action(async (domain: string, id: string, opts: { json?: boolean }) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const e = await callOrUsage(() => labTarget(config).mail(d).call(MAIL_API.queueEntry, { id }));
    if (opts.json) {
      out(JSON.stringify(e, null, 2));
      return;
    }
    out(`${e.id}  ${e.size} octets  from ${e.from || '<>'}  arrived ${e.arrival}${e.held ? '  (HELD)' : ''}`);
    for (const r of e.recipients) out(`  to ${r.address}: ${r.status}, ${r.attempts} attempt(s)${r.nextAttempt ? `, next ${r.nextAttempt}` : ''}${r.lastError ? `, last error: ${r.lastError}` : ''}`);
    out('  history:');
    for (const h of e.history) {
      out(`    ${h.time}  ${h.result.padEnd(9)} ${h.recipients.join(',')}  ${h.detail}`);
      if (h.mx) out(`      MX: ${h.mx.map((m) => `${m.priority} ${m.exchange}`).join(', ')}${h.host ? `; talked to ${h.host}` : ''}${h.tls ? `, TLS: ${h.tls}` : ''}`);
    }
    if (!e.history.length) out('    (no attempt yet)');
  });

for (const [action, help] of [
  ['hold', 'stop delivery attempts of a queued message (like postsuper -h)'],
  ['release', 'let a held message go again, at once (like postsuper -H)'],
  ['delete', 'delete a queued message without telling anyone (like postsuper -d)'],
  ['expire', 'return a queued message to its sender now (like postsuper -e)'],
] as const) {
  program
    .command(action)
    .argument('<domain>')
    .argument('<id>', 'queue id (see `mail-lab queue <domain>`)')
    .description(help)
    .action(async (domain: string, id: string) => {
      const config = loadConfig();
      const d = domainArg(config, domain);
      const r = await callOrUsage(() => labTarget(config).mail(d).call(MAIL_API.queueAction, { id, action }));
      out(r.result === 'already' ? `${id} was already ${action === 'hold' ? 'held' : 'released'}; nothing changed` : `${id}: ${r.result}`);
    });
}

program
  .command('flush')
  .argument('<domain>')
  .argument('[id]', 'one message only')
  .description('retry queued mail now')
  .action(async (domain: string, id?: string) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const r = await callOrUsage(() => labTarget(config).mail(d).call(MAIL_API.flush, { id }));
    out(r.flushed.length ? `retrying now: ${r.flushed.join(', ')}` : `the queue of ${d} is empty; nothing to flush`);
  });

program
  .command('trace')
  .argument('<message-id>', 'the Message-ID header (with or without <>), or a queue id')
  .option('--json', 'machine-readable')
  .option('--brief', 'without the wire transcripts')
  .description("a message's whole path: submission, DNS answers, each SMTP hop, queue attempts, mailbox, who read it")
  .action(async (id: string, opts: { json?: boolean; brief?: boolean }) => {
    const config = loadConfig();
    const items = await collectTrace(labTarget(config), id);
    if (opts.json) {
      out(JSON.stringify(items, null, 2));
      return;
    }
    for (const line of formatTrace(id, items, !opts.brief)) out(line);
    if (!items.length) process.exitCode = 1;
  });

program
  .command('scenario')
  .argument('[names...]', 'scenario names (see --list)')
  .option('--all', 'run every scenario')
  .option('--list', 'list the scenarios')
  .option('--lang <lang>', 'language of the texts and messages: en or id (default: $MAIL_LAB_LANG, else id when $LANG starts with id, else en)')
  .description('run self-checking scenarios against the running lab')
  .action(async (names: string[], opts: { all?: boolean; list?: boolean; lang?: string }) => {
    let lang;
    try {
      lang = chooseLang(opts.lang, process.env);
    } catch (e) {
      throw isUnknownLanguageError(e) ? new UsageError(e.message) : e;
    }
    if (opts.list) {
      for (const s of listScenarios()) out(`${s.name.padEnd(24)} ${pick(s.title, lang)}`);
      return;
    }
    if (!opts.all && !names.length) throw new UsageError('name a scenario (see `npx mail-lab scenario --list`) or use --all');
    const config = loadConfig();
    const ok = await runScenarios(labTarget(config), opts.all ? listScenarios().map((s) => s.name) : names, out, lang);
    if (!ok) process.exitCode = 1;
  });

registerLinkVerbs(program, { loadConfig, out, UsageError });
registerFaultCommands(program, { loadConfig, out, UsageError });
registerAdminTokenCommand(program, { loadConfig, out, UsageError });
registerEventsCommand(program, { loadConfig, out, UsageError });
registerCaCommand(program, { loadConfig, out, UsageError });

program.parseAsync(process.argv).catch((e: Error) => {
  if (e instanceof LabConfigError) {
    // A broken lab definition or scenario file: every problem with its place, no stack trace.
    for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
    process.exit(2);
  }
  process.stderr.write(`mail-lab: ${e instanceof UsageError ? e.message : (e.stack ?? e.message)}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
